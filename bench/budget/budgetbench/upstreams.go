// Package budgetbench is the budget benchmark: emulators that enforce
// Genesys-like upstream budgets, a mix of simulated frontend users sent at
// a fixed rate to a GraphQL endpoint (the gateway or a peer), an actor that
// changes data upstream behind the endpoint's back, and the figures: answers
// without error, refusals and failures, upstream calls per answer, and how
// long a change stays invisible. bench/budget (make budget) runs it against
// a gateway or Tailcall process; the gateway's tests run it briefly
// in-process so that it cannot rot.
package budgetbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// Credentials of the emulators (benchmark values, not secrets).
const (
	ClientID       = "budget-bench-client"
	ClientSecret   = "budget-bench-secret"
	IntegrationKey = "budget-bench-integration-key"
)

// Budgets are the upstream budgets the emulators enforce.
type Budgets struct {
	// GenesysPerMinute is each Genesys token's calls per minute.
	GenesysPerMinute int
	// UsergroupPerMinute is the integration key's calls per minute.
	UsergroupPerMinute int
}

// Upstreams are the two emulators on loopback ports.
type Upstreams struct {
	Genesys    *genesysemu.Server
	Usergroups *usergroupsemu.Server
	// GenesysURL and UsergroupURL are their base URLs.
	GenesysURL, UsergroupURL string
	servers                  []*http.Server
}

// StartUpstreams starts both emulators (demodata.Demo) with budgets b.
func StartUpstreams(b Budgets) (*Upstreams, error) {
	u := &Upstreams{
		Genesys: genesysemu.New(genesysemu.Options{Size: demodata.Demo, ClientID: ClientID, ClientSecret: ClientSecret,
			RateLimit: b.GenesysPerMinute}),
		Usergroups: usergroupsemu.New(usergroupsemu.Options{Size: demodata.Demo, IntegrationKey: IntegrationKey,
			RateLimit: b.UsergroupPerMinute}),
	}
	u.Genesys.Kit().KeepDetails(false)
	u.Usergroups.Kit().KeepDetails(false)
	var err error
	if u.GenesysURL, err = u.serve(u.Genesys); err == nil {
		u.UsergroupURL, err = u.serve(u.Usergroups)
	}
	if err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

func (u *Upstreams) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	u.servers = append(u.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the emulators.
func (u *Upstreams) Close() {
	for _, s := range u.servers {
		_ = s.Close()
	}
}

// Calls returns the calls both emulators received (refused ones included).
func (u *Upstreams) Calls() (genesys, usergroups int) {
	for _, n := range u.Genesys.Kit().CountsByRoute() {
		genesys += n
	}
	for _, n := range u.Usergroups.Kit().CountsByRoute() {
		usergroups += n
	}
	return genesys, usergroups
}

// GatewayEnv is the gateway's configuration for these upstreams, with the
// gateway's own limiters set to the emulators' budgets and each simulated
// user told apart by X-Forwarded-For.
func (u *Upstreams) GatewayEnv(b Budgets) map[string]string {
	return map[string]string{
		"GENESYS_API_URL": u.GenesysURL, "GENESYS_LOGIN_URL": u.GenesysURL,
		"GENESYS_CLIENT_ID": ClientID, "GENESYS_CLIENT_SECRET": ClientSecret,
		"USERGROUP_API_URL": u.UsergroupURL, "USERGROUP_COMPANY_ID": fmt.Sprint(demodata.CompanyID),
		"USERGROUP_INTEGRATION_KEY":       IntegrationKey,
		"GENESYS_RATE_LIMIT_PER_MINUTE":   fmt.Sprint(b.GenesysPerMinute),
		"USERGROUP_RATE_LIMIT_PER_MINUTE": fmt.Sprint(b.UsergroupPerMinute),
		"AUTH_MODE":                       "none", "GATEWAY_ENV": "development", "AUTH_TRUSTED_PROXY_HOPS": "1",
	}
}

// Token gets a Genesys token with the client credentials (a peer that
// cannot run the grant itself is given one; the actor uses its own, so its
// calls do not spend the endpoint's budget).
func (u *Upstreams) Token(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.GenesysURL+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(ClientID, ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil || t.AccessToken == "" {
		return "", errors.Join(errors.New("no token from the emulator"), err)
	}
	return t.AccessToken, nil
}
