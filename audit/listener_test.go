package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// oneOfEach returns a fresh event of every type of the catalog.
func oneOfEach() []event.Event {
	var out []event.Event
	for _, typ := range event.Types() {
		out = append(out, event.Stamp(typ.New()))
	}
	return out
}

func publish(t *testing.T, b *bus.Bus, evs ...event.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := b.Publish(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListenerTypes(t *testing.T) {
	started := (*event.ExecutionStarted)(nil).Type()
	completed := (*event.ExecutionCompleted)(nil).Type()
	tests := []struct {
		name    string
		opts    []audit.ListenerOption
		subs    int
		entries int
	}{
		{"all by default", nil, 1, event.NumTypes},
		{"chosen set", []audit.ListenerOption{audit.WithTypes(started, completed, started)}, 1, 2},
		{"empty set means none", []audit.ListenerOption{audit.WithTypes()}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New()
			defer b.Close()
			tr := audit.NewTrail("", "")
			l := audit.NewListener(tr, tt.opts...)
			l.Attach(b)
			if got := b.SubscriberCount(nil); got != tt.subs {
				t.Fatalf("%d subscriptions, want %d", got, tt.subs)
			}
			publish(t, b, oneOfEach()...)
			if tr.Len() != tt.entries {
				t.Fatalf("%d entries, want %d", tr.Len(), tt.entries)
			}
			if l.Bus() != b {
				t.Fatal("Bus() is not the attached bus")
			}
		})
	}
}

func TestListenerAttachDetach(t *testing.T) {
	b1, b2 := bus.New(), bus.New()
	defer b1.Close()
	defer b2.Close()
	tr := audit.NewTrail("", "")
	l := audit.NewListener(tr)
	ev := func() event.Event { return event.Stamp(&event.NodeStarted{NodeName: "n"}) }

	l.Detach() // not attached: no-op
	l.Attach(b1)
	l.Attach(b1) // re-attach detaches first: still one subscription
	if n := b1.SubscriberCount(nil); n != 1 {
		t.Fatalf("%d subscriptions after re-attach", n)
	}
	publish(t, b1, ev())
	if tr.Len() != 1 {
		t.Fatalf("%d entries", tr.Len())
	}
	l.Attach(b2) // moves to b2
	if b1.SubscriberCount(nil) != 0 || b2.SubscriberCount(nil) != 1 || l.Bus() != b2 {
		t.Fatal("attach to another bus did not detach from the first")
	}
	publish(t, b1, ev())
	publish(t, b2, ev())
	if tr.Len() != 2 {
		t.Fatalf("%d entries, want 2", tr.Len())
	}
	l.Detach()
	l.Detach()
	publish(t, b2, ev())
	if tr.Len() != 2 || b2.SubscriberCount(nil) != 0 || l.Bus() != nil {
		t.Fatal("detach did not stop recording")
	}

	// Two listeners on one trail both record.
	l2 := audit.NewListener(tr)
	l.Attach(b1)
	l2.Attach(b1)
	publish(t, b1, ev())
	if tr.Len() != 4 {
		t.Fatalf("%d entries, want 4", tr.Len())
	}
}

type failingSink struct{ err error }

func (s failingSink) Record(context.Context, audit.Entry) error { return s.err }

func TestListenerSinkError(t *testing.T) {
	b := bus.New(bus.WithLogger(quiet))
	defer b.Close()
	boom := errors.New("boom")
	l := audit.NewListener(failingSink{boom})
	l.Attach(b)
	// The publisher does not see the error; the bus counts it.
	publish(t, b, event.Stamp(&event.NodeStarted{}), event.Stamp(&event.NodeFailed{}))
	if st := b.Stats(); st.Failed != 2 {
		t.Fatalf("bus counted %d failures, want 2", st.Failed)
	}
}

func TestListenerIntoRecorder(t *testing.T) {
	b := bus.New(bus.WithLogger(quiet))
	defer b.Close()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})
	l := audit.NewListener(rec)
	l.Attach(b)
	evs := oneOfEach()
	publish(t, b, evs...)
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := store.Count(context.Background())
	if err != nil || n != int64(len(evs)) {
		t.Fatalf("count %d %v, want %d", n, err, len(evs))
	}
	// A closed recorder refuses entries; the bus counts the failure.
	publish(t, b, evs[0])
	if b.Stats().Failed != 1 {
		t.Fatal("closed recorder error not returned to the bus")
	}
}
