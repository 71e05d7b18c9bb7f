package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/ide"
)

// TestIDEDefaultTabsWorkInDemo runs every query the IDE opens with on the
// demo data: a first visit must show data, not errors.
func TestIDEDefaultTabsWorkInDemo(t *testing.T) {
	e := setup(t, nil)
	for i, tab := range ide.DefaultTabs() {
		var vars map[string]any
		if tab.Variables != "" {
			require.NoError(t, json.Unmarshal([]byte(tab.Variables), &vars), "tab %d", i)
		}
		r := e.post(tab.Query, vars)
		require.Equal(t, http.StatusOK, r.Status, "tab %d", i)
		assert.Empty(t, r.Errors, "tab %d", i)
		assert.NotEmpty(t, r.Data, "tab %d", i)
	}
}

// TestIDEOffInProduction checks GATEWAY_ENV and GATEWAY_IDE decide whether
// / serves the IDE.
func TestIDEOffInProduction(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		status int
	}{
		{"development", nil, http.StatusOK},
		{"production", map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"}, http.StatusNotFound},
		{"production, turned on", map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none", "GATEWAY_IDE": "true"}, http.StatusOK},
		{"development, turned off", map[string]string{"GATEWAY_IDE": "false"}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.env)
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", "identity") // the package tests cover gzip
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			if tt.status == http.StatusOK {
				assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
				assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "connect-src 'self'")
			}
		})
	}
}
