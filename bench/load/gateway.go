package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/procfs"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/emukit"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// emulators are both upstream emulators, served on loopback by this
// process: their CPU is the load tool's, not the gateway's.
type emulators struct {
	genesys    *genesysemu.Server
	usergroups *usergroupsemu.Server
	servers    []*http.Server
	env        []string // the gateway's upstream settings
}

// startEmulators starts both emulators, seeded with size, each answering
// after latency.
func startEmulators(latency time.Duration) (*emulators, error) {
	clientID, secret, key := "load", randomHex(), randomHex()
	e := &emulators{
		genesys: genesysemu.New(genesysemu.Options{Size: size, ClientID: clientID, ClientSecret: secret,
			Latency: latency}),
		usergroups: usergroupsemu.New(usergroupsemu.Options{Size: size, CompanyID: demodata.CompanyID,
			IntegrationKey: key, Latency: latency}),
	}
	for _, k := range e.kits() {
		k.KeepDetails(false)
	}
	gURL, err := e.serve(e.genesys)
	if err != nil {
		return nil, err
	}
	uURL, err := e.serve(e.usergroups)
	if err != nil {
		e.close()
		return nil, err
	}
	e.env = []string{"GENESYS_API_URL=" + gURL, "GENESYS_LOGIN_URL=" + gURL, "GENESYS_CLIENT_ID=" + clientID,
		"GENESYS_CLIENT_SECRET=" + secret, "USERGROUP_API_URL=" + uURL,
		"USERGROUP_COMPANY_ID=" + strconv.FormatInt(demodata.CompanyID, 10), "USERGROUP_INTEGRATION_KEY=" + key}
	return e, nil
}

func (e *emulators) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	e.servers = append(e.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

func (e *emulators) kits() []*emukit.Kit {
	return []*emukit.Kit{e.genesys.Kit(), e.usergroups.Kit()}
}

// resetCalls forgets the calls counted so far.
func (e *emulators) resetCalls() {
	for _, k := range e.kits() {
		k.Reset()
	}
}

// calls returns the API calls since the last reset (token requests are
// not API calls).
func (e *emulators) calls() int {
	n := -e.genesys.Kit().Count("POST /oauth/token")
	for _, k := range e.kits() {
		n += k.Count("")
	}
	return n
}

func (e *emulators) close() {
	for _, s := range e.servers {
		_ = s.Close()
	}
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// gatewaySettings are the gateway's settings besides the upstreams: those
// of bench/gateway/contender.conf (production mode, client-side rate limits
// off, the read cache off so that every request does its work, 512 upstream
// connections), so both harnesses measure the same configuration.
var gatewaySettings = []string{"AUTH_MODE=none", "GATEWAY_ENV=production", "LOG_LEVEL=warn",
	"GENESYS_RATE_LIMIT_PER_MINUTE=0", "USERGROUP_RATE_LIMIT_PER_MINUTE=0", "AUTH_RATE_LIMIT_PER_MINUTE=0",
	"GATEWAY_CALLER_REQUESTS_PER_MINUTE=0", "UPSTREAM_READ_CACHE_TTL=0", "UPSTREAM_MAX_CONCURRENCY=512"}

// passedOn are the variables of this process the gateway inherits (the Go
// runtime's settings, to experiment with); nothing else is inherited.
var passedOn = []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG"}

// buildGateway builds the gateway of the repository at repo into dir, as
// bench/gateway/contender.conf does; flags are more go build flags.
func buildGateway(ctx context.Context, repo, dir string, stderr io.Writer, flags ...string) (string, error) {
	bin := filepath.Join(dir, "gateway")
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"build", "-trimpath"}, flags...), "-o", bin, ".")...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = repo, stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the gateway: %w", err)
	}
	return bin, nil
}

// gateway is the running gateway process.
type gateway struct {
	cmd    *exec.Cmd
	proc   procfs.Proc
	url    string // the GraphQL endpoint
	exited chan struct{}
	log    string // its output
}

// startGateway starts bin on a free loopback port against the emulators
// and waits (at most 30 s) until /healthz answers.
func startGateway(bin, logPath string, e *emulators) (*gateway, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	env := append(append([]string{"LISTEN_ADDR=" + addr}, e.env...), gatewaySettings...)
	for _, v := range passedOn {
		if val, ok := os.LookupEnv(v); ok {
			env = append(env, v+"="+val)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, err
	}
	g := &gateway{cmd: cmd, url: "http://" + addr + "/query", exited: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(g.exited)
	}()
	if g.proc, err = procfs.NewProc(cmd.Process.Pid); err == nil {
		err = g.waitHealthy("http://"+addr+"/healthz", 30*time.Second)
	}
	if err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (g *gateway) waitHealthy(url string, limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-g.exited:
			return fmt.Errorf("the gateway exited at start (its output: %s)", g.log)
		default:
		}
		if resp, err := c.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the gateway did not answer /healthz within %s (its output: %s)", limit, g.log)
}

// stop ends the gateway: SIGTERM, then SIGKILL after 10 s.
func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// cpu returns the gateway's CPU time so far (user + system, /proc/<pid>/stat).
func (g *gateway) cpu() (time.Duration, error) { return procCPU(g.proc) }

// resetPeakRSS restarts the gateway's peak RSS (VmHWM) from its current
// RSS, by writing 5 to /proc/<pid>/clear_refs; false when the kernel does
// not allow it (the peak then runs from the start).
func (g *gateway) resetPeakRSS() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", g.proc.PID), []byte("5"), 0) == nil
}

// peakRSS returns the gateway's peak resident set size (VmHWM) in bytes.
func (g *gateway) peakRSS() (uint64, error) {
	st, err := g.proc.NewStatus()
	return st.VmHWM, err
}

func procCPU(p procfs.Proc) (time.Duration, error) {
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return time.Duration(st.CPUTime() * float64(time.Second)), nil
}

// selfCPU returns this process's CPU time so far.
func selfCPU() (time.Duration, error) {
	p, err := procfs.Self()
	if err != nil {
		return 0, errors.Join(errors.New("/proc is needed"), err)
	}
	return procCPU(p)
}
