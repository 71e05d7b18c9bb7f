package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
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

// screenshotPath is where the browser test leaves its picture of the IDE for
// review (build/ is not tracked).
var screenshotPath = filepath.Join(repoRoot, "build", "ide", "screenshot.png")

// chromium returns the path of Debian's chromium. Without it the browser
// test skips, except under CI (CI set), where it must run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing: .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is missing: install it to run the browser test (Debian: sudo apt-get install -y chromium)")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile, bounded by
// timeout, and returns its tab's context.
func newBrowser(t *testing.T, path string, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(func() { // before t.TempDir's removal: the browser has exited then
		cancelTab()
		cancelAlloc()
		cancel()
	})
	return ctx
}

// pageLog records what a page asked for and what went wrong in it.
type pageLog struct {
	mu       sync.Mutex
	requests []pageRequest
	problems []string
}

// pageRequest is one request of the page.
type pageRequest struct {
	URL, Authorization string
}

// listen records the page's requests (but data: URLs), uncaught exceptions and errors
// (console errors, blocked or failed loads, Content-Security-Policy reports).
func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if strings.HasPrefix(ev.Request.URL, "data:") {
			return // inline: nothing leaves the page
		}
		r := pageRequest{URL: ev.Request.URL}
		for name, v := range ev.Request.Headers {
			if strings.EqualFold(name, "Authorization") {
				r.Authorization = fmt.Sprint(v)
			}
		}
		l.requests = append(l.requests, r)
	case *runtime.EventExceptionThrown:
		l.problems = append(l.problems, "exception: "+ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			args := make([]string, len(ev.Args))
			for i, a := range ev.Args {
				args[i] = describe(a)
			}
			l.problems = append(l.problems, "console.error: "+strings.Join(args, " "))
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			l.problems = append(l.problems, "log: "+ev.Entry.Text)
		}
	}
}

// describe returns the text of a JavaScript value.
func describe(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return o.Description
}

func (l *pageLog) snapshot() (requests []pageRequest, problems []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pageRequest(nil), l.requests...), append([]string(nil), l.problems...)
}

// innerTextContains is a JavaScript predicate: the element's text contains
// the string.
func innerTextContains(selector, text string) string {
	return fmt.Sprintf(`(document.querySelector(%s)?.innerText ?? '').includes(%s)`,
		strconv.Quote(selector), strconv.Quote(text))
}

// TestIDEInBrowser opens the IDE of a demo-mode gateway in headless
// chromium, types an Authorization header, runs the default query and checks
// the demo data shows in the result pane, the schema documentation loaded,
// the header was sent, and no request left for another host. It leaves a
// screenshot in build/ide/screenshot.png.
func TestIDEInBrowser(t *testing.T) {
	path := chromium(t)
	e := setup(t, nil)
	want := e.post(ide.DefaultTabs()[0].Query, nil)
	require.Empty(t, want.Errors)
	entities, _ := dig(want.Data, "groups", "entities").([]any)
	require.NotEmpty(t, entities)
	firstName, _ := dig(entities[0], "name").(string)
	require.NotEmpty(t, firstName)

	const authorization = "Bearer typed-in-the-ide"
	ctx := newBrowser(t, path, 60*time.Second)
	var seen pageLog
	require.NoError(t, chromedp.Listen(ctx, seen.listen))
	poll := func(predicate string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
		poll(innerTextContains(".graphiql-query-editor", "groups(pageSize: 5)")),
		poll(`document.querySelector('.graphiql-doc-explorer-root-type')?.offsetWidth > 0`),
		chromedp.Click(chromedp.CSS(`section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror-lines`)),
		chromedp.KeyEvent(`{"Authorization": "`+authorization+`"}`), // the editor closes brackets; typing over them keeps the text
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		poll(innerTextContains(".result-window", firstName)),
	)
	saveScreenshot(t, ctx)
	requests, problems := seen.snapshot()
	require.NoError(t, err, "requests: %q, problems: %q", requests, problems)

	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".result-window")))
	require.NoError(t, err)
	for _, entity := range entities {
		assert.Contains(t, result, dig(entity, "name"), "the result pane shows every demo group")
	}
	assert.Empty(t, problems, "the page logged errors")
	assertOwnHost(t, e.srv.URL, requests)
	assert.True(t, slices.ContainsFunc(requests, func(r pageRequest) bool {
		return strings.HasSuffix(r.URL, "/query") && r.Authorization == authorization
	}), "the typed Authorization header was sent: %q", requests)
}

// assertOwnHost checks that every request the page made went to the
// gateway, and that the page and the GraphQL endpoint were among them.
func assertOwnHost(t *testing.T, gatewayURL string, requests []pageRequest) {
	t.Helper()
	gw, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	paths := map[string]bool{}
	for _, r := range requests {
		u, err := url.Parse(r.URL)
		require.NoError(t, err, r.URL)
		assert.Equal(t, gw.Host, u.Host, "a request left for another host: %.100s", r.URL)
		paths[u.Path] = true
	}
	assert.True(t, paths["/"] && paths["/query"], "requests seen: %q", requests)
}

// saveScreenshot writes the tab's viewport to screenshotPath; a test that
// failed still leaves its picture.
func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
	require.NoError(t, os.WriteFile(screenshotPath, png, 0o644))
	abs, _ := filepath.Abs(screenshotPath)
	t.Logf("screenshot: %s", abs)
}
