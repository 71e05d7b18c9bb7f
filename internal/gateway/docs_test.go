package gateway

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// TestDocsLinks checks every relative link of README.md and docs/*.md: the
// file or folder it names exists, and its #anchor is the GitHub slug of a
// heading of the Markdown file it points to. The README is split by topic
// into docs/, so a renamed heading or a moved file must not leave a dead link.
func TestDocsLinks(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	files = append([]string{filepath.Join(root, "README.md")}, files...)

	anchors := map[string]map[string]bool{} // Markdown file → its heading slugs
	links := map[string][]string{}          // Markdown file → its link destinations
	for _, f := range files {
		anchors[f], links[f] = parseMarkdown(t, f)
	}
	checked := 0
	for _, f := range files {
		for _, dest := range links[f] {
			u, err := url.Parse(dest)
			if !assert.Truef(t, err == nil, "%s: link %q does not parse: %v", rel(root, f), dest, err) ||
				u.Scheme != "" || u.Host != "" {
				continue // external links are not checked
			}
			target := f
			if u.Path != "" {
				target = filepath.Join(filepath.Dir(f), filepath.FromSlash(u.Path))
				_, err := os.Stat(target)
				if !assert.Truef(t, err == nil, "%s: link %q: %s does not exist", rel(root, f), dest, rel(root, target)) {
					continue
				}
			}
			checked++
			if u.Fragment == "" {
				continue
			}
			slugs, ok := anchors[target]
			if !ok && strings.HasSuffix(target, ".md") {
				slugs, _ = parseMarkdown(t, target)
				anchors[target] = slugs
			}
			assert.Truef(t, slugs[u.Fragment], "%s: link %q: %s has no heading with the anchor #%s",
				rel(root, f), dest, rel(root, target), u.Fragment)
		}
	}
	require.Greater(t, checked, 20, "the README and docs/ link to each other")
}

// TestGitHubSlug pins the anchor rule the link check relies on.
func TestGitHubSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Trusted documents (production allow-list)": "trusted-documents-production-allow-list",
		"Deploying with deploy/":                    "deploying-with-deploy",
		"@defer":                                    "defer",
		"Set-up on a fresh machine":                 "set-up-on-a-fresh-machine",
		"Idempotency_Key v2.0":                      "idempotency_key-v20",
	} {
		require.Equal(t, want, githubSlug(heading), heading)
	}
}

// parseMarkdown returns the anchors of the file's headings (GitHub's slugs,
// a repeated one numbered -1, -2, … as GitHub does) and its link and image
// destinations. Links inside code spans and code blocks are not links.
func parseMarkdown(t *testing.T, path string) (map[string]bool, []string) {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	slugs, seen := map[string]bool{}, map[string]int{}
	var dests []string
	require.NoError(t, ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			slug := githubSlug(plainText(n, src))
			if k := seen[slug]; k > 0 {
				slugs[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				slugs[slug] = true
			}
			seen[slug]++
		case *ast.Link:
			dests = append(dests, string(n.Destination))
		case *ast.Image:
			dests = append(dests, string(n.Destination))
		}
		return ast.WalkContinue, nil
	}))
	return slugs, dests
}

// plainText is the text of a heading as GitHub slugs it: the characters of its
// text and code spans, without Markdown syntax.
func plainText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			b.Write(t.Segment.Value(src))
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// githubSlug is GitHub's anchor of a heading: lower case, every character
// other than a letter, a digit, a space, '-' or '_' dropped, spaces turned
// into '-'.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rel names path relative to the module root in failure messages.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}
