package budgetbench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TableHeader is the header of the Markdown table Row writes.
const TableHeader = `| contender | sent | answered without error | answered / min | refused | failed | marked stale | upstream calls (genesys + usergroups) | calls / answered | longest invisible change (all answers / unmarked) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
`

// Row is the result as a row of TableHeader's table.
func (r Result) Row() string {
	pct := func(n int) string { return fmt.Sprintf("%d (%.1f %%)", n, 100*float64(n)/float64(max(r.Sent, 1))) }
	perAnswer := "n/a"
	if r.Answered > 0 {
		perAnswer = fmt.Sprintf("%.3f", float64(r.GenesysCalls+r.UsergroupCalls)/float64(r.Answered))
	}
	return fmt.Sprintf("| %s | %d | %s | %.0f | %s | %s | %d | %d + %d | %s | %s / %s |\n", r.Contender, r.Sent,
		pct(r.Answered), float64(r.Answered)/r.Duration.Minutes(), pct(r.Refused), pct(r.Failed), r.Stale,
		r.GenesysCalls, r.UsergroupCalls, perAnswer, r.MaxInvisible.Round(100*time.Millisecond),
		r.MaxInvisibleFresh.Round(100*time.Millisecond))
}

// PerOpLine is the answered share of each kind of request, one line.
func (r Result) PerOpLine() string {
	var parts []string
	for op := range numOps {
		parts = append(parts, fmt.Sprintf("%s %d/%d", opNames[op], r.PerOp[op].Answered, r.PerOp[op].Sent))
	}
	line := r.Contender + " answered per kind: " + strings.Join(parts, ", ") + fmt.Sprintf("; actor changes: %d", r.Changes)
	whys := make([]string, 0, len(r.Why))
	for why, n := range r.Why {
		whys = append(whys, fmt.Sprintf("%s %d", why, n))
	}
	slices.Sort(whys)
	if len(whys) > 0 {
		line += "; not answered: " + strings.Join(whys, ", ")
	}
	return line
}
