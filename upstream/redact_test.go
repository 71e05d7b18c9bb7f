package upstream

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /api/v2/usergroup?CompanyId=61234&IntegrationKey=abc&format=json failed", "GET /api/v2/usergroup?[redacted] failed"},
		{"sent Authorization: Bearer abc.def-ghi", "sent Authorization: Bearer [redacted]"},
		{"basic Z2F0ZXdheTpzZWNyZXQ= refused", "basic [redacted] refused"},
		{"token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here", "token [redacted] here"},
		{`{"CompanyId":61234,"IntegrationKey":"k3y"}`, `{"CompanyId":[redacted],"IntegrationKey":"[redacted]"}`},
		{"client_secret=s3cret&grant_type=client_credentials", "client_secret=[redacted]&grant_type=client_credentials"},
		{"is this a question? yes", "is this a question? yes"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Redact(tt.in), tt.in)
	}
}

func TestRedactSecrets(t *testing.T) {
	const key = "CANARYugkey8b21d4e0aa/+="
	for _, form := range []string{
		key, strings.ToLower(key), strings.ToUpper(key), url.QueryEscape(key), url.PathEscape(key),
		hex.EncodeToString([]byte(key)), base64.StdEncoding.EncodeToString([]byte(key)),
		base64.URLEncoding.EncodeToString([]byte(key)), key[2:12], key[10:],
	} {
		got := RedactSecrets("before "+form+" after", key)
		assert.Equal(t, "before [redacted] after", got, form)
	}
	assert.Equal(t, "company [redacted], not 161234 or 612345", RedactSecrets("company 61234, not 161234 or 612345", "61234"))
	assert.Equal(t, "short CANARYu", RedactSecrets("short CANARYu", key), "fewer than 8 characters of it stay")
}
