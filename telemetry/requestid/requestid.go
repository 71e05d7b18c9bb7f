// Package requestid carries the id of the HTTP request being served, so
// that logs, error extensions and the response header all name it. An
// incoming X-Request-Id is kept when it is sane (at most 128 characters of
// letters, digits, '.', '_' and '-'); otherwise a new one is generated.
//
// It imports nothing of the gateway, so any package may read the id.
package requestid

import (
	"context"

	"github.com/google/uuid"
)

// Header is the HTTP header that carries the id, in and out.
const Header = "X-Request-Id"

// maxLen bounds an incoming id.
const maxLen = 128

type ctxKey struct{}

// With returns a context that carries id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id With put in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Pick returns incoming when it is a sane id, else a new random one.
func Pick(incoming string) string {
	if valid(incoming) {
		return incoming
	}
	return uuid.NewString()
}

// valid reports whether id is 1 to maxLen characters of [A-Za-z0-9._-].
func valid(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
