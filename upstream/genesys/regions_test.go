package genesys

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

func TestRegionURLs(t *testing.T) {
	tests := []struct {
		domain, api, login string
	}{
		{"mypurecloud.com", "https://api.mypurecloud.com", "https://login.mypurecloud.com"},
		{"mypurecloud.ie", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"},
		{"usw2.pure.cloud", "https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud"},
		{"mypurecloud.com.au", "https://api.mypurecloud.com.au", "https://login.mypurecloud.com.au"},
		{"use2.us-gov-pure.cloud", "https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud"},
		{"edee1.eusc-pure.cloud", "https://api.edee1.eusc-pure.cloud", "https://login.edee1.eusc-pure.cloud"},
		{" MyPureCloud.DE ", "https://api.mypurecloud.de", "https://login.mypurecloud.de"},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			api, login, err := RegionURLs(tc.domain)
			require.NoError(t, err)
			assert.Equal(t, tc.api, api)
			assert.Equal(t, tc.login, login)
			_, err = New(api, nil)
			assert.NoError(t, err)
		})
	}
}

func TestRegionURLsUnknown(t *testing.T) {
	for _, domain := range []string{"", "eu-west-1", "api.mypurecloud.com", "evil.example.com", "mypurecloud.com/x"} {
		api, login, err := RegionURLs(domain)
		var ie *upstream.InputError
		require.ErrorAs(t, err, &ie, domain)
		assert.ErrorIs(t, err, upstream.ErrInvalidInput)
		assert.Empty(t, api)
		assert.Empty(t, login)
		assert.Contains(t, err.Error(), "mypurecloud.ie")
	}
}

func TestRegions(t *testing.T) {
	r := Regions()
	assert.Len(t, r, 18)
	assert.True(t, slices.IsSorted(r))
	assert.Contains(t, r, "mypurecloud.jp")
	r[0] = "changed"
	assert.NotEqual(t, "changed", Regions()[0])
}
