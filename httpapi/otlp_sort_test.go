package httpapi

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// TestSortByExecution checks the order of a request's entries against a
// plain stable sort, and that each event stays beside its entry.
func TestSortByExecution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		n := rng.IntN(40)
		execs := 1 + rng.IntN(5)
		entries := make([]audit.Entry, n)
		events := make([]event.Event, n)
		first := map[string]int{}
		for i := range entries {
			ev := nodeStarted("x-"+strconv.Itoa(rng.IntN(execs)), "n")
			ev.ID = strconv.Itoa(i)
			ev.Timestamp = base.Add(time.Duration(rng.IntN(8)) * time.Millisecond)
			events[i], entries[i] = ev, audit.FromEvent(ev)
			if _, ok := first[ev.ExecutionID]; !ok {
				first[ev.ExecutionID] = len(first)
			}
		}
		want := slices.Clone(entries)
		slices.SortStableFunc(want, func(a, b audit.Entry) int {
			if d := first[a.ExecutionID] - first[b.ExecutionID]; d != 0 {
				return d
			}
			return a.Timestamp.Compare(b.Timestamp)
		})
		sortByExecution(events, entries)
		for i := range entries {
			if entries[i].EventID != want[i].EventID {
				t.Fatalf("round %d: entry %d is %s, want %s", round, i, entries[i].EventID, want[i].EventID)
			}
			if events[i].EventID() != entries[i].EventID {
				t.Fatalf("round %d: event %d is %s beside entry %s", round, i, events[i].EventID(), entries[i].EventID)
			}
		}
	}
}
