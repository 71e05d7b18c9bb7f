package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fragment cycles once crashed gqlgen with a fatal stack overflow that no
// recover() catches (design/hardening.md, trap 1). The gateway that answers
// them runs in a child process (this test binary, re-executed), so that a
// regression fails this test instead of killing the test binary.
const (
	cycleChildEnv  = "GATEWAY_FRAGMENT_CYCLE_CHILD"
	cycleAddrLine  = "FRAGMENT-CYCLE-CHILD "
	cycleCallsPath = "/test/upstream-calls"
)

func TestFragmentCyclesInAChildProcess(t *testing.T) {
	if os.Getenv(cycleChildEnv) != "" {
		t.Skip("this is the child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFragmentCycleChildServer$", "-test.count=1")
	child.Env = append(os.Environ(), cycleChildEnv+"=1")
	stdin, err := child.StdinPipe()
	require.NoError(t, err)
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	child.Stderr = &stderr
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	base := childAddress(t, stdout, exited, child)

	for name, query := range map[string]string{"self-spreading": selfSpreadingFragment, "A→B→A": fragmentCycleAB} {
		start := time.Now()
		status, body := childPost(t, base+"/query", query)
		t.Logf("%s: answered %d in %v", name, status, time.Since(start))
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, body, codeValidationFailed)
	}
	status, body := childPost(t, base+"/query", "{ __typename }")
	assert.Equal(t, http.StatusOK, status, "the child still serves: %s", body)
	assert.JSONEq(t, `{"genesys":0,"usergroups":0}`, childGet(t, base+cycleCallsPath), "no upstream call")
	select {
	case err := <-exited:
		t.Fatalf("the child died: %v\n%s", err, stderr.String())
	default:
	}

	require.NoError(t, stdin.Close()) // the child stops when its stdin closes
	select {
	case err := <-exited:
		require.NoError(t, err, stderr.String())
	case <-ctx.Done():
		t.Fatal("the child did not stop")
	}
}

// childAddress reads the child's base URL from its first line of output and
// then waits for it to exit in the background (into exited).
func childAddress(t testing.TB, stdout io.Reader, exited chan error, child *exec.Cmd) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), cycleAddrLine); ok {
				lines <- addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- child.Wait()
	}()
	select {
	case addr := <-lines:
		return addr
	case err := <-exited:
		t.Fatalf("the child exited before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the child did not start")
	}
	return ""
}

func childPost(t *testing.T, url, query string) (int, string) {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaGraphQLResponse)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the child must answer")
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func childGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// TestFragmentCycleChildServer is the child of
// TestFragmentCyclesInAChildProcess: a demo gateway on loopback, plus the
// emulators' call counts at cycleCallsPath, serving until stdin closes.
func TestFragmentCycleChildServer(t *testing.T) {
	if os.Getenv(cycleChildEnv) == "" {
		t.Skip("runs only as the child of TestFragmentCyclesInAChildProcess")
	}
	e := setup(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/", e.gw.Handler())
	mux.HandleFunc(cycleCallsPath, func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int{"genesys": e.genesysKit().Count(""), "usergroups": e.usergroupsKit().Count("")})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fmt.Println(cycleAddrLine + srv.URL)
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Log(err)
	}
}
