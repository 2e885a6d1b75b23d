package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// A commit by one process wakes the watch of another process on the same
// schema, and not the watch of another schema; LastSeq follows the log.
func TestWatchAcrossStores(t *testing.T) {
	ctx := testCtx(t)
	dsn, schema := pgtest.NewSchema(t)
	_, other := pgtest.NewSchema(t)
	a := openSchema(t, dsn, schema, Options{})
	b := openSchema(t, dsn, schema, Options{})
	c := openSchema(t, dsn, other, Options{})
	if a.Channel() != b.Channel() || a.Channel() == c.Channel() {
		t.Fatalf("channels %q %q %q: want one per schema", a.Channel(), b.Channel(), c.Channel())
	}

	wakes := func(st *Store) (chan struct{}, func()) {
		ch := make(chan struct{}, 100)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- st.Watch(wctx, func() { ch <- struct{}{} }) }()
		select {
		case <-ch: // watching
		case <-time.After(10 * time.Second):
			t.Fatal("no first wake-up")
		}
		return ch, func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v, want context.Canceled", err)
			}
		}
	}
	wb, stopB := wakes(b)
	defer stopB()
	wc, stopC := wakes(c)
	defer stopC()

	if seq, err := b.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("LastSeq of an empty store = %d, %v", seq, err)
	}
	for i := range 3 {
		batch := []audit.Entry{entry(fmt.Sprintf("w-%d-a", i), "x"), entry(fmt.Sprintf("w-%d-b", i), "x")}
		if _, err := a.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wb:
		case <-time.After(10 * time.Second):
			t.Fatalf("commit %d did not wake the other store's watch", i)
		}
		seq, err := b.LastSeq(ctx)
		if err != nil || seq != batch[1].Seq {
			t.Fatalf("LastSeq = %d, %v; want %d", seq, err, batch[1].Seq)
		}
	}
	select {
	case <-wc:
		t.Fatal("a commit in another schema woke the watch")
	case <-time.After(200 * time.Millisecond):
	}
}
