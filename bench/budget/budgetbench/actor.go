package budgetbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/groupdir/gateway/upstream/demodata"
)

// actor changes the probe group's description straight on the Genesys
// emulator (as the admin UI or another service would), with its own token,
// so its calls spend no budget of the endpoint under test.
type actor struct {
	url, token string
	client     *http.Client

	mu    sync.Mutex
	made  []time.Time // when change i+1 ("rev-<i+1>") was answered
	calls int
}

func newActor(ctx context.Context, u *Upstreams) (*actor, error) {
	tok, err := u.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &actor{url: u.GenesysURL + "/api/v2/groups/" + demodata.GroupID(probe), token: tok,
		client: &http.Client{Timeout: 5 * time.Second}}, nil
}

// run makes one change every every until ctx ends.
func (a *actor) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.change(ctx)
	}
}

// change reads the group's version and writes the next revision.
func (a *actor) change(ctx context.Context) {
	var g struct {
		Version int `json:"version"`
	}
	if a.do(ctx, http.MethodGet, nil, &g) != nil {
		return
	}
	a.mu.Lock()
	rev := len(a.made) + 1
	a.mu.Unlock()
	body := map[string]any{"version": g.Version, "description": fmt.Sprintf("rev-%d", rev)}
	if a.do(ctx, http.MethodPut, body, nil) != nil {
		return
	}
	a.mu.Lock()
	a.made = append(a.made, time.Now())
	a.mu.Unlock()
}

func (a *actor) do(ctx context.Context, method string, body, out any) error {
	a.mu.Lock()
	a.calls++
	a.mu.Unlock()
	var b bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&b).Encode(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url, &b)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("actor: %s answered %d", method, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// changes returns when each change was made and the calls the actor made.
func (a *actor) changes() ([]time.Time, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.made...), a.calls
}
