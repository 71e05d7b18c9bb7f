// Package image tests the container image: its build context, and the
// repository's Dockerfile built and the image run in demo mode when a
// container engine that works is on the machine (Docker with a running
// daemon, or Podman; otherwise that test says why it skips).
package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engine is a container engine that builds and runs images (both answer
// the same commands used here).
type engine string

// findEngine returns the first engine that works, or why none does.
func findEngine(ctx context.Context) (engine, string) {
	var why []string
	for _, name := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(name); err != nil {
			why = append(why, name+": not installed")
			continue
		}
		// `info` needs the engine itself (Docker's daemon), not only the CLI.
		ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ictx, name, "info")
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		if err == nil {
			return engine(name), ""
		}
		why = append(why, fmt.Sprintf("%s: %s", name, firstLine(stderr.Bytes(), err)))
	}
	if _, err := exec.LookPath("buildah"); err == nil {
		why = append(why, "buildah: can build the image but not run it")
	}
	return "", strings.Join(why, "; ")
}

func firstLine(out []byte, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
		return line
	}
	return err.Error()
}

// run runs the engine with args and returns its trimmed output.
func (e engine) run(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, string(e), args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", e, strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

func TestImageBuildsAndServesInDemoMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	eng, why := findEngine(ctx)
	if eng == "" {
		ci := ""
		if os.Getenv("CI") == "true" {
			ci = " This CI run has no container engine either, so it skips here too;"
		}
		t.Skipf("no container engine that works (%s).%s run it where `docker info` or `podman info` succeeds.", why, ci)
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "groupdir/gateway:imagetest-" + hex.EncodeToString(suffix)

	eng.run(ctx, t, "build", "-t", tag, "-f", filepath.Join(repo, "Dockerfile"), repo)
	t.Cleanup(func() { _ = exec.Command(string(eng), "rmi", "-f", tag).Run() })
	assert.Equal(t, "nonroot:nonroot", eng.run(ctx, t, "image", "inspect", "--format", "{{.Config.User}}", tag))

	// Demo mode: no upstream variable, in-process emulators; the port is
	// published on loopback only.
	id := eng.run(ctx, t, "run", "-d", "-p", "127.0.0.1::8080", tag)
	t.Cleanup(func() { _ = exec.Command(string(eng), "rm", "-f", id).Run() })
	hostPort := strings.Fields(eng.run(ctx, t, "port", id, "8080/tcp"))[0]
	base := "http://" + strings.Replace(hostPort, "0.0.0.0", "127.0.0.1", 1)

	c := &http.Client{Timeout: 2 * time.Second}
	healthy := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !healthy; {
		if resp, err := c.Get(base + "/healthz"); err == nil {
			healthy = resp.StatusCode == http.StatusOK
			_ = resp.Body.Close()
		}
		if !healthy {
			time.Sleep(200 * time.Millisecond)
		}
	}
	require.True(t, healthy, "/healthz within 60 s; logs:\n%s", eng.run(ctx, t, "logs", id))

	resp, err := c.Post(base+"/query", "application/json",
		bytes.NewReader([]byte(`{"query":"{ groups(pageSize: 3) { entities { id name } } }"}`)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Data struct {
			Groups struct{ Entities []struct{ ID, Name string } }
		}
		Errors []any
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Empty(t, body.Errors)
	assert.Len(t, body.Data.Groups.Entities, 3)
}

// The build context (.dockerignore, read with the matcher Docker itself
// uses) holds what `go build .` reads, the module files and the sources and
// embedded files of every package of this module the gateway imports, and
// leaves out tests, docs, bench data, node_modules and .git.
func TestBuildContextHoldsWhatTheBuildNeedsOnly(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(repo, ".dockerignore"))
	require.NoError(t, err)
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	inContext := func(rel string) bool {
		ignored, err := pm.MatchesOrParentMatches(rel)
		require.NoError(t, err)
		return !ignored
	}

	needed := []string{"go.mod", "go.sum", "Dockerfile"}
	out, err := exec.Command("go", "list", "-C", repo, "-deps",
		"-f", `{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, abs := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(repo, abs)
		require.NoError(t, err)
		needed = append(needed, rel)
	}
	require.Greater(t, len(needed), 50, "go list named the gateway's files")
	for _, rel := range needed {
		assert.True(t, inContext(rel), "the build needs %s: .dockerignore must not leave it out", rel)
	}

	left := func(rel string) bool {
		parts := strings.Split(filepath.ToSlash(rel), "/")
		switch {
		case strings.HasSuffix(rel, "_test.go"), strings.HasSuffix(rel, ".md"):
			return true
		case parts[0] == ".git" || parts[0] == "bench":
			return true
		}
		for _, p := range parts {
			if p == "testdata" || p == "node_modules" {
				return true
			}
		}
		return false
	}
	checked := 0
	require.NoError(t, filepath.WalkDir(repo, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(repo, path)
		if err == nil && left(rel) {
			checked++
			assert.False(t, inContext(rel), "%s is in the build context", rel)
		}
		return err
	}))
	assert.Greater(t, checked, 50, "test files, docs and bench data were found")
}
