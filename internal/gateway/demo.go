package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
	"github.com/groupdir/gateway/upstream/genesysemu"
	"github.com/groupdir/gateway/upstream/usergroupsemu"
)

// demo runs both emulators in the process, each on its own loopback port,
// so that demo mode drives the real clients over real HTTP: exactly the
// code paths production uses.
type demo struct {
	genesys    *genesysemu.Server
	usergroups *usergroupsemu.Server
	servers    []*http.Server
	// GenesysURL and UsergroupURL are the emulators' base URLs.
	GenesysURL, UsergroupURL string
}

// demoCallerTokens are the Genesys user tokens the demo emulator accepts,
// to try AUTH_MODE=genesys (docs/auth.md): one
// holding every directory permission, one that may only read.
var demoCallerTokens = map[string][]string{
	"demo-admin-token":  {"directory:*:*"},
	"demo-reader-token": {"directory:group:view"},
}

// startDemo starts the emulators, seeded with size, and fills cfg with
// their URLs and freshly generated credentials. tokenTTL is the lifetime of
// the Genesys emulator's tokens (zero: its default); callerTokens are the
// user tokens it accepts, with their permissions (nil: demoCallerTokens).
func startDemo(cfg *Config, size demodata.Size, tokenTTL time.Duration, callerTokens map[string][]string) (*demo, error) {
	if callerTokens == nil {
		callerTokens = demoCallerTokens
	}
	cfg.GenesysClientID, cfg.GenesysSecret = "demo-client", randomSecret()
	cfg.UsergroupCompanyID, cfg.UsergroupKey = demodata.CompanyID, randomSecret()
	d := &demo{
		genesys: genesysemu.New(genesysemu.Options{Size: size, ClientID: cfg.GenesysClientID, ClientSecret: cfg.GenesysSecret,
			TokenTTL: tokenTTL, Tokens: callerTokens}),
		usergroups: usergroupsemu.New(usergroupsemu.Options{Size: size, CompanyID: cfg.UsergroupCompanyID,
			IntegrationKey: cfg.UsergroupKey}),
	}
	var err error
	if d.GenesysURL, err = d.serve(d.genesys); err != nil {
		return nil, err
	}
	if d.UsergroupURL, err = d.serve(d.usergroups); err != nil {
		d.close()
		return nil, err
	}
	cfg.GenesysAPIURL, cfg.GenesysLoginURL, cfg.UsergroupURL = d.GenesysURL, d.GenesysURL, d.UsergroupURL
	return d, nil
}

func (d *demo) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	d.servers = append(d.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err) // a loopback listener that fails is a broken machine
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// quiet stops the emulators from keeping the details of every call (tests
// read them; a long demo session must not accumulate them).
func (d *demo) quiet() {
	d.genesys.Kit().KeepDetails(false)
	d.usergroups.Kit().KeepDetails(false)
}

func (d *demo) close() {
	// Idle keep-alive connections close at once; a request still running
	// gets a short grace, then its connection is closed.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range d.servers {
		if s.Shutdown(ctx) != nil {
			_ = s.Close()
		}
	}
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
