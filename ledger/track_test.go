package ledger

import (
	"fmt"
	"testing"
)

// TestRunTracksEvict: over the bound, the run that started first loses its
// entries (and later ones are not kept), then its mark goes; an entry out
// of seq order makes its run partial; the bytes counted return to 0 once
// every run is dropped.
func TestRunTracksEvict(t *testing.T) {
	bound := 3*runBytes("a") + 6*leafSize
	tr := newRunTracks(bound)
	add := func(id string, seq int64) {
		t.Helper()
		tr.add(id, seq, Hash{byte(seq)})
		tr.evict()
		if tr.bytes > bound {
			t.Fatalf("%d bytes kept, bound %d", tr.bytes, bound)
		}
	}
	kept := func(id string) int { return len(tr.upTo(id, 1<<60)) }
	add("a", 1)
	add("b", 2)
	add("a", 3)
	add("c", 4)
	if kept("a") != 2 || kept("b") != 1 || kept("c") != 1 {
		t.Fatalf("kept a %d, b %d, c %d; want 2, 1, 1", kept("a"), kept("b"), kept("c"))
	}
	add("c", 5)
	add("c", 6) // c's slice grows to room for 4: over the bound
	if kept("a") != 0 || !tr.runs["a"].partial || kept("b") != 1 || kept("c") != 3 {
		t.Fatalf("kept a %d, b %d, c %d; want a dropped (partial), 1, 3", kept("a"), kept("b"), kept("c"))
	}
	add("a", 7)
	if kept("a") != 0 {
		t.Fatal("an entry of a partial run kept")
	}
	if got := tr.upTo("c", 5); len(got) != 2 || got[1].seq != 5 || got[1].leaf != (Hash{5}) {
		t.Fatalf("upTo(c, 5): %v", got)
	}
	add("b", 2) // not after b's last
	if kept("b") != 0 || !tr.runs["b"].partial {
		t.Fatal("an entry out of seq order left its run kept")
	}
	for _, id := range []string{"a", "b", "c"} {
		tr.drop(id)
	}
	if tr.bytes != 0 || len(tr.runs) != 0 {
		t.Fatalf("%d bytes, %d runs after every run is dropped", tr.bytes, len(tr.runs))
	}
}

// TestRunTracksQueue: as runs come and go, the queue of runs stays within
// twice the runs kept (and 64) when a run is added.
func TestRunTracksQueue(t *testing.T) {
	tr := newRunTracks(1 << 30)
	for i := range 10000 {
		id := fmt.Sprint(i)
		tr.add(id, int64(i+1), Hash{})
		if len(tr.queue) > 2*len(tr.runs)+64 {
			t.Fatalf("queue of %d for %d runs", len(tr.queue), len(tr.runs))
		}
		if i >= 10 {
			tr.drop(fmt.Sprint(i - 10))
		}
	}
}
