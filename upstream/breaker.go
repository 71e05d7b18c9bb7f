package upstream

import (
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Outcomes of one attempt as the breaker counts them (nil is a success).
var (
	// errFailed is a 5xx answer or a transport failure.
	errFailed = errors.New("upstream call failed")
	// errExcluded is an attempt that says nothing about the upstream's
	// health: the caller went away, or the call was never made.
	errExcluded = errors.New("upstream call not counted")
)

// breaker is the circuit breaker of one upstream (sony/gobreaker): it opens
// after a run of consecutive failures, fails fast while open, and after the
// open timeout lets one probe through, whose success closes it again. A nil
// *breaker is a disabled one.
type breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
}

// newBreaker returns a breaker that opens after failures consecutive
// failures and probes after openTimeout, telling changed of each change of
// state; failures <= 0 disables it.
func newBreaker(name string, failures int, openTimeout time.Duration, changed func(from, to string)) *breaker {
	if failures <= 0 {
		return nil
	}
	return &breaker{cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     openTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			changed(from.String(), to.String())
		},
	})}
}

// allow asks to make one call. When the breaker is open (or half-open with
// its probe under way) it returns an error; otherwise done must be called
// with the call's outcome: nil, errFailed or errExcluded.
func (b *breaker) allow() (done func(error), err error) {
	if b == nil {
		return func(error) {}, nil
	}
	return b.cb.Allow()
}

// state is "closed", "half-open", "open" or "disabled".
func (b *breaker) state() string {
	if b == nil {
		return "disabled"
	}
	return b.cb.State().String()
}
