package upstream

import "sync"

// Retry budget: retries may add about retryBudgetRatio of the successful
// calls, plus a small reserve, so that a failing upstream never sees its
// load multiplied by the retries (the idea of Finagle's RetryBudget and
// Envoy's retry budgets, without a clock so that it is deterministic).
const (
	// retryBudgetRatio is what one successful call adds to the budget.
	retryBudgetRatio = 0.2
	// retryBudgetMax is the budget at start and its ceiling: the retries
	// a failure storm may spend before successes earn more.
	retryBudgetMax = 10
)

// retryBudget is a bucket of retries: a success deposits retryBudgetRatio,
// a retry withdraws one.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
}

func newRetryBudget() *retryBudget { return &retryBudget{tokens: retryBudgetMax} }

// deposit records a successful call.
func (b *retryBudget) deposit() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.tokens+retryBudgetRatio, retryBudgetMax)
}

// withdraw takes one retry from the budget, if there is one.
func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
