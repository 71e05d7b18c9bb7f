package upstream

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// redactedText replaces whatever Redact and RedactSecrets remove.
const redactedText = "[redacted]"

// minFragment is the shortest run of a secret's characters RedactSecrets
// removes when only part of the secret is echoed (a cut or wrapped copy).
const minFragment = 8

// Patterns Redact removes from upstream text, whatever the secrets are.
var (
	// A URL's query string (a "?" followed by name=value pairs).
	queryPattern = regexp.MustCompile(`\?[^\s"'<>?]*=[^\s"'<>]*`)
	// An Authorization header's credentials.
	authPattern = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]+`)
	// A JWT (three base64url parts, the first a JSON object).
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	// A credential-like field in a form, JSON or query text.
	fieldPattern = regexp.MustCompile(`(?i)\b(integration_?key|company_?id|client_?secret|client_?id|access_?token|refresh_?token|password|apikey|api_key)(\\?["']?\s*(?:=|:|%3D)\s*\\?["']?)[^\s"'&,;}\\]+`)
)

// Redact removes from s, upstream text on its way to a log, what must
// never be logged whatever the credentials are: URL query strings, bearer
// and basic credentials, JWTs and the values of credential-like fields
// (IntegrationKey=…, "CompanyId": …, client_secret=…, access_token=…).
func Redact(s string) string {
	s = queryPattern.ReplaceAllString(s, "?"+redactedText)
	s = authPattern.ReplaceAllString(s, "${1} "+redactedText)
	s = jwtPattern.ReplaceAllString(s, redactedText)
	return fieldPattern.ReplaceAllString(s, "${1}${2}"+redactedText)
}

// RedactSecrets removes every copy of each secret from s: as it is, in any
// letter case, query-, path-, JSON-, hex- or base64-encoded, and any run of
// at least 8 of its characters in one of these forms (a cut copy). A secret
// of only digits (a company id) is removed where it is not part of a longer
// number.
func RedactSecrets(s string, secrets ...string) string {
	lower := asciiLower(s)
	masked := make([]bool, len(s))
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		if isDigits(secret) {
			markNumber(lower, secret, masked)
			continue
		}
		for _, form := range encodings(secret) {
			markFragments(lower, asciiLower(form), masked)
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !masked[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString(redactedText)
		for i+1 < len(s) && masked[i+1] {
			i++
		}
	}
	return b.String()
}

// encodings are the forms a secret may be echoed in.
func encodings(secret string) []string {
	raw := []byte(secret)
	quoted, _ := json.Marshal(secret)
	return []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		string(quoted[1 : len(quoted)-1]),
		hex.EncodeToString(raw),
		base64.StdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
	}
}

// markFragments marks in masked every place of s where a run of at least
// minFragment bytes of form (or all of a shorter form) occurs.
func markFragments(s, form string, masked []bool) {
	n := min(minFragment, len(form))
	for i := 0; i+n <= len(form); i++ {
		window := form[i : i+n]
		for off := 0; ; {
			j := strings.Index(s[off:], window)
			if j < 0 {
				break
			}
			for k := off + j; k < off+j+n; k++ {
				masked[k] = true
			}
			off += j + 1
		}
	}
}

// markNumber marks in masked every occurrence of the digits num in s that
// is not part of a longer number.
func markNumber(s, num string, masked []bool) {
	for off := 0; ; {
		j := strings.Index(s[off:], num)
		if j < 0 {
			return
		}
		start, end := off+j, off+j+len(num)
		if (start == 0 || !isDigit(s[start-1])) && (end == len(s) || !isDigit(s[end])) {
			for k := start; k < end; k++ {
				masked[k] = true
			}
		}
		off = start + 1
	}
}

// asciiLower lower-cases ASCII letters only, so that byte offsets stay put.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
