// Command budget runs the budget benchmark (package budgetbench) against
// the gateway and, when given a Tailcall binary, against Tailcall with the
// same budgets, mix, actor and cache lifetime, and prints one Markdown
// table. Each contender gets fresh emulators (fresh budget windows).
//
//	go build -o /tmp/gateway . && go run ./bench/budget -gateway /tmp/gateway [-tailcall path] [-duration 60s]
//
// `make budget` does that (TAILCALL=path adds Tailcall).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groupdir/gateway/bench/budget/budgetbench"
	"github.com/groupdir/gateway/upstream/demodata"
)

func main() {
	gateway := flag.String("gateway", "", "the gateway binary (go build -o …; optional with -tailcall)")
	tailcall := flag.String("tailcall", "", "a tailcall launcher (optional)")
	tailcallDir := flag.String("tailcall-config", "bench/budget/tailcall", "the Tailcall configuration folder")
	duration := flag.Duration("duration", time.Minute, "how long requests are sent")
	rate := flag.Float64("rate", 40, "requests per second")
	users := flag.Int("users", 60, "simulated users (X-Forwarded-For)")
	genesysBudget := flag.Int("genesys-budget", 300, "Genesys calls per token per minute")
	usergroupBudget := flag.Int("usergroup-budget", 300, "Usergroup calls per minute")
	ttl := flag.Duration("ttl", 5*time.Second, "the gateway's read cache TTL and Tailcall's @cache maxAge")
	stale := flag.Duration("stale", 30*time.Second, "the gateway's UPSTREAM_READ_CACHE_STALE")
	maxAge := flag.Duration("tailcall-max-age", 0, "Tailcall's @cache maxAge (0: -ttl)")
	writeRate := flag.Float64("write-rate", 0, "writes per second sent apart from the reads, which -rate then counts alone (0: writes are 2 % of -rate)")
	actorEvery := flag.Duration("actor", 2*time.Second, "how often the actor changes data upstream")
	flag.Parse()
	if *gateway == "" && *tailcall == "" {
		log.Fatal("-gateway or -tailcall is required")
	}
	if *maxAge == 0 {
		*maxAge = *ttl
	}
	budgets := budgetbench.Budgets{GenesysPerMinute: *genesysBudget, UsergroupPerMinute: *usergroupBudget}
	opts := budgetbench.Options{Rate: *rate, WriteRate: *writeRate, Duration: *duration, Users: *users, ActorEvery: *actorEvery, Seed: 18}
	writes := "2 % of them writes"
	if *writeRate > 0 {
		writes = fmt.Sprintf("reads, and %.2f writes/s", *writeRate)
	}
	fmt.Printf("budgets: Genesys %d calls/min per token, Usergroup %d calls/min; mix: %.0f req/s (%s) for %s from %d users; gateway cache TTL %s + stale %s, Tailcall maxAge %s; actor every %s\n\n",
		*genesysBudget, *usergroupBudget, *rate, writes, *duration, *users, *ttl, *stale, *maxAge, *actorEvery)
	var rows, notes []string
	var contenders []func(*budgetbench.Upstreams, int) (*exec.Cmd, budgetbench.Dialect, error)
	if *gateway != "" {
		contenders = append(contenders, func(u *budgetbench.Upstreams, port int) (*exec.Cmd, budgetbench.Dialect, error) {
			cmd := exec.Command(*gateway)
			cmd.Env = os.Environ()
			for k, v := range u.GatewayEnv(budgets) {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, "LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(port), "UPSTREAM_READ_CACHE_TTL="+ttl.String(),
				"UPSTREAM_READ_CACHE_STALE="+stale.String(), "LOG_LEVEL=warn")
			return cmd, budgetbench.Gateway, nil
		})
	}
	if *tailcall != "" {
		contenders = append(contenders, func(u *budgetbench.Upstreams, port int) (*exec.Cmd, budgetbench.Dialect, error) {
			dir, err := tailcallConfig(*tailcallDir, u, port, *maxAge)
			if err != nil {
				return nil, budgetbench.Dialect{}, err
			}
			cmd := exec.Command(*tailcall, "start", "tailcall.yml")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TAILCALL_TRACKER=false", "TAILCALL_LOG_LEVEL=warn")
			return cmd, budgetbench.Tailcall, nil
		})
	}
	for _, start := range contenders {
		row, note, err := runOne(start, budgets, opts)
		if err != nil {
			log.Fatal(err)
		}
		rows, notes = append(rows, row), append(notes, note)
	}
	fmt.Print(budgetbench.TableHeader + strings.Join(rows, "") + "\n" + strings.Join(notes, "\n") + "\n")
}

// runOne starts fresh emulators and one contender, drives the mix and
// stops both.
func runOne(start func(*budgetbench.Upstreams, int) (*exec.Cmd, budgetbench.Dialect, error), budgets budgetbench.Budgets,
	opts budgetbench.Options) (string, string, error) {
	ups, err := budgetbench.StartUpstreams(budgets)
	if err != nil {
		return "", "", err
	}
	defer ups.Close()
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	cmd, dialect, err := start(ups, port)
	if err != nil {
		return "", "", err
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	defer stop(cmd)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if dialect.Name == "gateway" {
		url += "/query"
	} else {
		url += "/graphql"
	}
	if err := waitUp(url); err != nil {
		return "", "", fmt.Errorf("%s: %w", dialect.Name, err)
	}
	opts.URL, opts.Dialect, opts.Upstreams = url, dialect, ups
	ctx, cancel := context.WithTimeout(context.Background(), opts.Duration+2*time.Minute)
	defer cancel()
	res, err := budgetbench.Run(ctx, opts)
	if err != nil {
		return "", "", err
	}
	return res.Row(), res.PerOpLine(), nil
}

// tailcallConfig copies the Tailcall configuration into a temporary folder
// with its placeholders filled in.
func tailcallConfig(src string, u *budgetbench.Upstreams, port int, ttl time.Duration) (string, error) {
	token, err := u.Token(context.Background())
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "budget-tailcall-")
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer("@PORT@", strconv.Itoa(port), "@GENESYS_URL@", u.GenesysURL, "@USERGROUP_URL@", u.UsergroupURL,
		"@GENESYS_TOKEN@", token, "@COMPANY_ID@", strconv.FormatInt(demodata.CompanyID, 10),
		"@INTEGRATION_KEY@", budgetbench.IntegrationKey, "@MAX_AGE_MS@", strconv.FormatInt(ttl.Milliseconds(), 10))
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, d.Name()), []byte(r.Replace(string(b))), 0o600)
	})
	return dir, err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitUp waits, at most 30 s, until url answers a GraphQL request.
func waitUp(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("did not answer within 30 s")
}

// stop ends the contender: TERM, then KILL after 10 s.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
