package genesys

import (
	"context"
	"net/http"
	"os"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/groupdir/gateway/upstream"
)

// pageCopies is how many times a benchmark repeats the entities of a
// testdata page (20 entities each) to build a page of 100.
const pageCopies = 5

// repeatedPage reads a testdata page and returns it with its entities
// repeated pageCopies times, the envelope kept.
func repeatedPage(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(tb, err)
	var page map[string]jsontext.Value
	require.NoError(tb, jsonv2.Unmarshal(data, &page))
	var entities []jsontext.Value
	require.NoError(tb, jsonv2.Unmarshal(page["entities"], &entities))
	all := make([]jsontext.Value, 0, len(entities)*pageCopies)
	for range pageCopies {
		all = append(all, entities...)
	}
	page["entities"], err = jsonv2.Marshal(all)
	require.NoError(tb, err)
	out, err := jsonv2.Marshal(page, jsonv2.Deterministic(true))
	require.NoError(tb, err)
	return out
}

// searchPage is the groups of testdata/groups20.json, repeated, as a page
// of group search results.
func searchPage(tb testing.TB) []byte {
	tb.Helper()
	var groups struct {
		Entities []jsontext.Value `json:"entities"`
	}
	require.NoError(tb, jsonv2.Unmarshal(repeatedPage(tb, "groups20.json"), &groups))
	out, err := jsonv2.Marshal(map[string]any{
		"total": 1234, "pageCount": 13, "pageSize": len(groups.Entities), "pageNumber": 1,
		"currentPage": "/api/v2/groups/search?q64=abc", "nextPage": "/api/v2/groups/search?q64=def",
		"types": []string{"groups"}, "results": groups.Entities,
	}, jsonv2.Deterministic(true))
	require.NoError(tb, err)
	return out
}

// benchServer returns a client whose every GET is answered with body.
func benchServer(b testing.TB, body []byte) *Client {
	b.Helper()
	c, mux := setup(b)
	mux.HandleFunc("GET /api/v2/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return c
}

// BenchmarkGetGroupMembers100 is GetGroupMembers of a 100-user page (~68 KB)
// through an httptest server: request, read, decode.
func BenchmarkGetGroupMembers100(b *testing.B) {
	c := benchServer(b, repeatedPage(b, "members20.json"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetGroupMembers(ctx, groupID, MembersOptions{PageSize: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetGroups100 is GetGroups of a 100-group page (~66 KB) through an
// httptest server.
func BenchmarkGetGroups100(b *testing.B) { benchGetGroups(b, context.Background()) }

// BenchmarkGetGroups100Selected is BenchmarkGetGroups100 for a caller that
// reads the groups' names and member counts, as W1 does (fastGroupPage).
func BenchmarkGetGroups100Selected(b *testing.B) {
	benchGetGroups(b, WithFields(context.Background(), NewFields(nil, []string{"name", "memberCount"})))
}

// benchGetGroups measures GetGroups of a 100-group page with ctx.
func benchGetGroups(b *testing.B, ctx context.Context) {
	c := benchServer(b, repeatedPage(b, "groups20.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetGroups(ctx, GetGroupsOptions{PageSize: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDecode measures upstream.Decode alone of data into a fresh T: with json v2's reflection
// ("jsonv2") and with the client's hand-written unmarshalers ("hand").
func benchDecode[T any](b *testing.B, data []byte) {
	for _, bc := range []struct {
		name string
		opts []jsonv2.Options
	}{{"jsonv2", nil}, {"hand", []jsonv2.Options{unmarshalOptions}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var v T
				if _, err := upstream.Decode(data, &v, bc.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeMembers100(b *testing.B) {
	benchDecode[UserEntityListing](b, repeatedPage(b, "members20.json"))
}

// BenchmarkDecodeMembersExpanded100 decodes members sent with
// expand=presence,routingStatus,dateLastLogin: two raw parts per user.
func BenchmarkDecodeMembersExpanded100(b *testing.B) {
	benchDecode[UserEntityListing](b, repeatedPage(b, "members20-expanded.json"))
}

func BenchmarkDecodeGroups100(b *testing.B) {
	benchDecode[GroupEntityListing](b, repeatedPage(b, "groups20.json"))
}

// BenchmarkDecodeSearch100 decodes a page of 100 group search results.
func BenchmarkDecodeSearch100(b *testing.B) { benchDecode[GroupsSearchResponse](b, searchPage(b)) }

// BenchmarkDecodeMembersSelected decodes a 100-user page for a query that
// shows the members' names and e-mails, as the side-by-side benchmark's W3
// does: through jsontext ("usual") and with fastUserPage ("fast").
func BenchmarkDecodeMembersSelected(b *testing.B) {
	benchSelected(b, repeatedPage(b, "members20.json"), NewFields([]string{"name", "email"}, nil), fastUserPage)
}

// BenchmarkDecodeMembersShown decodes a 100-user page for a query that
// shows most of the members' plain fields, as the side-by-side benchmark's
// W4 does (name, e-mail, title, department, state, chat, division).
func BenchmarkDecodeMembersShown(b *testing.B) {
	f := NewFields([]string{"name", "email", "title", "department", "state", "chat", "division"}, nil)
	benchSelected(b, repeatedPage(b, "members20.json"), f, fastUserPage)
}

// BenchmarkDecodeGroupsSelected decodes a 100-group page for a query that
// shows the groups' names and member counts, as the side-by-side
// benchmark's W1 does: through jsontext ("usual") and with fastGroupPage
// ("fast").
func BenchmarkDecodeGroupsSelected(b *testing.B) {
	benchSelected(b, repeatedPage(b, "groups20.json"), NewFields(nil, []string{"name", "memberCount"}), fastGroupPage)
}

// benchSelected measures the decoding of data, a page of 100 L, reading
// f's members: through jsontext ("usual") and with fast ("fast").
func benchSelected[L any](b *testing.B, data []byte, f Fields, fast func([]byte, Fields, int, *L) bool) {
	opts := newUnmarshalOptions(f, func(string) {})
	b.Run("usual", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v L
			if _, err := upstream.Decode(data, &v, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		// v is declared once: &v escapes through fast, a func value.
		var v, zero L
		for b.Loop() {
			v = zero
			if !fast(data, f, 100, &v) {
				b.Fatal("the fast decoding gave up")
			}
		}
	})
}
