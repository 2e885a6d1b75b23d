package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

func started(id string) *event.ExecutionStarted {
	return &event.ExecutionStarted{ExecutionID: id}
}

func completed(id string) *event.ExecutionCompleted {
	return &event.ExecutionCompleted{ExecutionID: id}
}

func nodeStarted(id string) *event.NodeStarted {
	return &event.NodeStarted{ExecutionID: id, NodeID: "n1"}
}

func checkpoint(id string) *event.CheckpointCreated {
	return &event.CheckpointCreated{ExecutionID: id, CheckpointID: "cp"}
}

func TestSubscribeTyped(t *testing.T) {
	b := bus.New()
	var got []string
	bus.Subscribe(b, func(_ context.Context, ev *event.ExecutionStarted) error {
		got = append(got, ev.ExecutionID) // no type assertion needed
		return nil
	})
	ctx := context.Background()
	for _, ev := range []event.Event{started("a"), completed("x"), nodeStarted("y"), started("b")} {
		if err := b.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("typed handler got %v, want %v", got, want)
	}
}

func TestSubscriptionSelection(t *testing.T) {
	evs := []event.Event{started("1"), completed("2"), nodeStarted("3"), checkpoint("4"), started("5")}
	tests := []struct {
		name      string
		subscribe func(b *bus.Bus, h bus.Handler) *bus.Subscription
		want      []string
	}{
		{"one type", func(b *bus.Bus, h bus.Handler) *bus.Subscription {
			return b.SubscribeTypes([]*event.Type{(*event.ExecutionStarted)(nil).Type()}, h)
		}, []string{"ExecutionStartedEvent", "ExecutionStartedEvent"}},
		{"set of types", func(b *bus.Bus, h bus.Handler) *bus.Subscription {
			return b.SubscribeTypes([]*event.Type{(*event.ExecutionCompleted)(nil).Type(), (*event.CheckpointCreated)(nil).Type()}, h)
		}, []string{"ExecutionCompletedEvent", "CheckpointCreated"}},
		{"category execution", func(b *bus.Bus, h bus.Handler) *bus.Subscription {
			return b.SubscribeCategory(event.CategoryExecution, h)
		}, []string{"ExecutionStartedEvent", "ExecutionCompletedEvent", "ExecutionStartedEvent"}},
		{"category node", func(b *bus.Bus, h bus.Handler) *bus.Subscription {
			return b.SubscribeCategory(event.CategoryNode, h)
		}, []string{"NodeStartedEvent"}},
		{"all", func(b *bus.Bus, h bus.Handler) *bus.Subscription {
			return b.SubscribeAll(h)
		}, []string{"ExecutionStartedEvent", "ExecutionCompletedEvent", "NodeStartedEvent", "CheckpointCreated", "ExecutionStartedEvent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New()
			var got []string
			sub := tt.subscribe(b, func(_ context.Context, ev event.Event) error {
				got = append(got, ev.WireName())
				return nil
			})
			if err := b.PublishAll(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if st := sub.Stats(); st.Delivered != uint64(len(tt.want)) {
				t.Fatalf("sub stats delivered %d, want %d", st.Delivered, len(tt.want))
			}
		})
	}
}

func TestDeliveryOrderIsSubscriptionOrder(t *testing.T) {
	b := bus.New()
	var tr trace
	rec := func(name string) bus.Handler {
		return func(context.Context, event.Event) error { tr.add(name); return nil }
	}
	b.SubscribeAll(rec("all-1"))
	bus.Subscribe(b, func(context.Context, *event.ExecutionStarted) error { tr.add("typed-2"); return nil })
	b.SubscribeCategory(event.CategoryExecution, rec("cat-3"))
	b.SubscribeTypes([]*event.Type{(*event.ExecutionStarted)(nil).Type()}, rec("set-4"))
	b.SubscribeAll(rec("all-5"))
	if err := b.Publish(context.Background(), started("x")); err != nil {
		t.Fatal(err)
	}
	want := []string{"all-1", "typed-2", "cat-3", "set-4", "all-5"}
	if got := tr.list(); !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestCloseIsIdempotentAndExact(t *testing.T) {
	b := bus.New()
	n := 0
	h := func(context.Context, event.Event) error { n++; return nil }
	s1 := b.SubscribeAll(h)
	s2 := b.SubscribeAll(h) // same function, independent subscription
	if s1.ID() == s2.ID() {
		t.Fatal("two subscriptions share an id")
	}
	if got := b.SubscriberCount(nil); got != 2 {
		t.Fatalf("SubscriberCount = %d, want 2", got)
	}
	ctx := context.Background()
	_ = b.Publish(ctx, started("1"))
	if n != 2 {
		t.Fatalf("after first publish n = %d, want 2", n)
	}
	s1.Close()
	s1.Close() // idempotent
	if !s1.Closed() || s2.Closed() {
		t.Fatalf("Closed: s1=%v s2=%v, want true false", s1.Closed(), s2.Closed())
	}
	if got := b.SubscriberCount(nil); got != 1 {
		t.Fatalf("SubscriberCount after close = %d, want 1", got)
	}
	_ = b.Publish(ctx, started("2"))
	if n != 3 {
		t.Fatalf("after close n = %d, want 3", n)
	}
	if s2.Stats().Delivered != 2 || s1.Stats().Delivered != 1 {
		t.Fatalf("stats s1=%+v s2=%+v", s1.Stats(), s2.Stats())
	}
	s2.Close()
	if got := b.SubscriberCount(nil); got != 0 {
		t.Fatalf("SubscriberCount after closing both = %d, want 0", got)
	}
	if st := b.Stats(); st.Delivered != 3 || st.Published != 2 || st.Subscriptions != 0 {
		t.Fatalf("bus stats %+v", st)
	}
}

func TestSubscriberCount(t *testing.T) {
	b := bus.New()
	h := func(context.Context, event.Event) error { return nil }
	typStarted := (*event.ExecutionStarted)(nil).Type()
	typNode := (*event.NodeStarted)(nil).Type()
	if b.SubscriberCount(nil) != 0 || b.SubscriberCount(typStarted) != 0 {
		t.Fatal("fresh bus has subscribers")
	}
	b.SubscribeTypes([]*event.Type{typStarted}, h)
	b.SubscribeCategory(event.CategoryExecution, h)
	b.SubscribeAll(h)
	tests := []struct {
		typ  *event.Type
		want int
	}{{nil, 3}, {typStarted, 3}, {typNode, 1}}
	for _, tt := range tests {
		if got := b.SubscriberCount(tt.typ); got != tt.want {
			t.Errorf("SubscriberCount(%v) = %d, want %d", tt.typ, got, tt.want)
		}
	}
}

func TestNestedPublishIsDepthFirst(t *testing.T) {
	b := bus.New()
	var tr trace
	bus.Subscribe(b, func(ctx context.Context, ev *event.ExecutionStarted) error {
		tr.add("A1")
		if err := b.Publish(ctx, completed(ev.ExecutionID)); err != nil {
			return err
		}
		tr.add("A1-end")
		return nil
	})
	bus.Subscribe(b, func(context.Context, *event.ExecutionStarted) error { tr.add("A2"); return nil })
	bus.Subscribe(b, func(context.Context, *event.ExecutionCompleted) error { tr.add("B1"); return nil })
	if err := b.Publish(context.Background(), started("x")); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.list(), []string{"A1", "B1", "A1-end", "A2"}; !slices.Equal(got, want) {
		t.Fatalf("delivery %v, want %v", got, want)
	}
	var names []string
	for _, ev := range b.History(nil) {
		names = append(names, ev.WireName())
	}
	if want := []string{"ExecutionStartedEvent", "ExecutionCompletedEvent"}; !slices.Equal(names, want) {
		t.Fatalf("history %v, want %v", names, want)
	}
}

func TestDepthLimit(t *testing.T) {
	tests := []struct{ limit int }{{1}, {5}, {bus.DefaultMaxDepth}, {bus.MaxMaxDepth}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			logger, _ := newLogger()
			b := bus.New(bus.WithMaxDepth(tt.limit), bus.WithHistory(0), bus.WithLogger(logger))
			calls := 0
			var last error
			// A handler that republishes forever: the limit must stop it.
			bus.Subscribe(b, func(ctx context.Context, ev *event.ExecutionStarted) error {
				calls++
				err := b.Publish(ctx, ev)
				if err != nil {
					last = err
				}
				return err
			})
			if err := b.Publish(context.Background(), started("loop")); err != nil {
				t.Fatalf("root publish: %v", err)
			}
			if calls != tt.limit {
				t.Fatalf("handler ran %d times, want %d", calls, tt.limit)
			}
			if !errors.Is(last, bus.ErrMaxDepth) {
				t.Fatalf("deepest publish returned %v, want ErrMaxDepth", last)
			}
			// Only the deepest handler sees ErrMaxDepth; the ones above it get
			// nil from their nested publish, as a handler failure never fails
			// Publish.
			if st := b.Stats(); st.Published != uint64(tt.limit) || st.Failed != 1 || st.Delivered != uint64(tt.limit-1) {
				t.Fatalf("stats %+v, want %d published, 1 failed", st, tt.limit)
			}
		})
	}
}

func TestDepthCarriedThroughDerivedContext(t *testing.T) {
	logger, _ := newLogger()
	b := bus.New(bus.WithMaxDepth(3), bus.WithLogger(logger))
	type key struct{}
	calls := 0
	var last error
	bus.Subscribe(b, func(ctx context.Context, ev *event.ExecutionStarted) error {
		calls++
		if ctx.Value(key{}) != "v" {
			t.Error("handler context lost the publisher's value")
		}
		ctx, cancel := context.WithTimeout(ctx, time.Hour) // a derived context keeps the depth
		defer cancel()
		if err := b.Publish(ctx, ev); err != nil {
			last = err
		}
		return nil
	})
	_ = b.Publish(context.WithValue(context.Background(), key{}, "v"), started("x"))
	if calls != 3 || !errors.Is(last, bus.ErrMaxDepth) {
		t.Fatalf("calls %d last %v, want 3 and ErrMaxDepth", calls, last)
	}
}

func TestSubscribeAndCloseInsideHandler(t *testing.T) {
	b := bus.New()
	var tr trace
	var self *bus.Subscription
	self = b.SubscribeAll(func(ctx context.Context, ev event.Event) error {
		tr.add("self:" + ev.WireName())
		self.Close() // unsubscribe itself from inside its handler
		b.SubscribeAll(func(context.Context, event.Event) error {
			tr.add("late:" + ev.WireName())
			return nil
		})
		return nil
	})
	ctx := context.Background()
	if err := b.Publish(ctx, started("1")); err != nil {
		t.Fatal(err)
	}
	// The subscription made during the delivery of event 1 sees only later events.
	if err := b.Publish(ctx, completed("2")); err != nil {
		t.Fatal(err)
	}
	want := []string{"self:ExecutionStartedEvent", "late:ExecutionStartedEvent"}
	if got := tr.list(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCloseDuringDispatchStopsLaterDelivery(t *testing.T) {
	b := bus.New()
	var second *bus.Subscription
	n := 0
	b.SubscribeAll(func(context.Context, event.Event) error { second.Close(); return nil })
	second = b.SubscribeAll(func(context.Context, event.Event) error { n++; return nil })
	_ = b.Publish(context.Background(), started("1"))
	if n != 0 {
		t.Fatalf("subscription closed before its turn was still called %d times", n)
	}
}

func TestHandlerFailureIsolation(t *testing.T) {
	tests := []struct {
		name     string
		handler  bus.Handler
		msg      string
		attr     string
		contains string
		failed   uint64
		panics   uint64
	}{
		{"error", func(context.Context, event.Event) error { return errors.New("boom") },
			"bus: handler failed", "error", "boom", 1, 0},
		{"panic", func(context.Context, event.Event) error { panic("kaboom") },
			"bus: handler panicked", "panic", "kaboom", 0, 1},
		{"panic with error", func(context.Context, event.Event) error { panic(fmt.Errorf("wrapped: %w", context.Canceled)) },
			"bus: handler panicked", "panic", "wrapped", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, rec := newLogger()
			b := bus.New(bus.WithLogger(logger))
			before, after := 0, 0
			b.SubscribeAll(func(context.Context, event.Event) error { before++; return nil })
			bad := b.SubscribeAll(tt.handler, bus.Name("flaky"))
			b.SubscribeAll(func(context.Context, event.Event) error { after++; return nil })
			ev := started("x")
			ev.ID = "evt-1"
			if err := b.Publish(context.Background(), ev); err != nil {
				t.Fatalf("Publish failed because of a handler: %v", err)
			}
			if before != 1 || after != 1 {
				t.Fatalf("other handlers ran before=%d after=%d, want 1 1", before, after)
			}
			if st := bad.Stats(); st.Failed != tt.failed || st.Panics != tt.panics || st.Delivered != 0 {
				t.Fatalf("sub stats %+v", st)
			}
			if st := b.Stats(); st.Failed != tt.failed || st.Panics != tt.panics || st.Delivered != 2 {
				t.Fatalf("bus stats %+v", st)
			}
			lines := rec.all()
			if len(lines) != 1 {
				t.Fatalf("got %d log records, want 1: %+v", len(lines), lines)
			}
			l := lines[0]
			if l.Msg != tt.msg || l.Attrs["event_type"] != "ExecutionStartedEvent" ||
				l.Attrs["event_id"] != "evt-1" || l.Attrs["subscription"] != "flaky" ||
				!strings.Contains(l.Attrs[tt.attr], tt.contains) {
				t.Fatalf("log record %+v", l)
			}
		})
	}
}

func TestPublishErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	closed := bus.New()
	closed.Close()
	tests := []struct {
		name string
		bus  *bus.Bus
		ctx  context.Context
		ev   event.Event
		want error
	}{
		{"nil event", bus.New(), context.Background(), nil, bus.ErrNilEvent},
		{"cancelled context", bus.New(), cancelled, started("x"), context.Canceled},
		{"closed bus", closed, context.Background(), started("x"), bus.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			tt.bus.SubscribeAll(func(context.Context, event.Event) error { n++; return nil })
			err := tt.bus.Publish(tt.ctx, tt.ev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Publish = %v, want %v", err, tt.want)
			}
			if n != 0 || len(tt.bus.History(nil)) != 0 || tt.bus.Stats().Published != 0 {
				t.Fatalf("a rejected event was delivered (%d) or recorded", n)
			}
		})
	}
}

func TestPublishStampsMissingIDAndTime(t *testing.T) {
	b := bus.New()
	ev := started("x")
	if err := b.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" || ev.Timestamp.IsZero() || ev.Timestamp.Location() != time.UTC {
		t.Fatalf("event not stamped: id %q time %v", ev.ID, ev.Timestamp)
	}
	kept := started("y")
	kept.ID = "fixed"
	kept.Timestamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = b.Publish(context.Background(), kept)
	if kept.ID != "fixed" || !kept.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("existing id/time overwritten: %q %v", kept.ID, kept.Timestamp)
	}
}

func TestPublishAllStopsAtFirstError(t *testing.T) {
	b := bus.New()
	n := 0
	b.SubscribeAll(func(context.Context, event.Event) error { n++; return nil })
	err := b.PublishAll(context.Background(), []event.Event{started("1"), nil, started("3")})
	if !errors.Is(err, bus.ErrNilEvent) || !strings.Contains(err.Error(), "event 1") {
		t.Fatalf("PublishAll = %v, want ErrNilEvent at event 1", err)
	}
	if n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
}

func TestBusCloseClosesSubscriptions(t *testing.T) {
	b := bus.New()
	s := b.SubscribeAll(func(context.Context, event.Event) error { return nil })
	a := b.SubscribeAll(func(context.Context, event.Event) error { return nil }, bus.Async(4, bus.Block))
	b.Close()
	b.Close()
	if !s.Closed() || !a.Closed() || b.SubscriberCount(nil) != 0 {
		t.Fatal("Close left subscriptions open")
	}
	late := b.SubscribeAll(func(context.Context, event.Event) error { return nil })
	if !late.Closed() || b.SubscriberCount(nil) != 0 {
		t.Fatal("subscription after Close is live")
	}
}

func TestInvalidArgumentsPanic(t *testing.T) {
	b := bus.New()
	h := func(context.Context, event.Event) error { return nil }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"negative history", func() { bus.WithHistory(-1) }, "WithHistory(-1)"},
		{"huge history", func() { bus.WithHistory(bus.MaxHistory + 1) }, "WithHistory"},
		{"zero depth", func() { bus.WithMaxDepth(0) }, "WithMaxDepth(0)"},
		{"zero queue", func() { bus.Async(0, bus.Block) }, "Async(0"},
		{"bad policy", func() { bus.Async(1, bus.Overflow(9)) }, "unknown overflow policy"},
		{"nil handler", func() { b.SubscribeAll(nil) }, "nil handler"},
		{"nil typed handler", func() { bus.Subscribe[*event.NodeStarted](b, nil) }, "nil handler"},
		{"interface type", func() {
			bus.Subscribe(b, func(context.Context, event.Event) error { return nil })
		}, "concrete event type"},
		{"no types", func() { b.SubscribeTypes(nil, h) }, "no types"},
		{"nil type", func() { b.SubscribeTypes([]*event.Type{nil}, h) }, "nil type"},
		{"unknown category", func() { b.SubscribeCategory("nope", h) }, `unknown category "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Fatalf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
	if b.SubscriberCount(nil) != 0 {
		t.Fatal("a rejected subscription was registered")
	}
}

func TestConsecutiveFailuresAreAllIsolated(t *testing.T) {
	logger, rec := newLogger()
	b := bus.New(bus.WithLogger(logger))
	var tr trace
	kinds := []string{"panic", "panic", "ok", "error", "panic", "ok"}
	for i, k := range kinds {
		b.SubscribeAll(func(context.Context, event.Event) error {
			tr.add(fmt.Sprint(i))
			switch k {
			case "panic":
				panic(k)
			case "error":
				return errors.New(k)
			}
			return nil
		})
	}
	for range 2 {
		if err := b.Publish(context.Background(), started("x")); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(tr.list(), ""), "012345012345"; got != want {
		t.Fatalf("handlers ran %q, want %q", got, want)
	}
	if st := b.Stats(); st.Panics != 6 || st.Failed != 2 || st.Delivered != 4 {
		t.Fatalf("stats %+v, want 6 panics, 2 failed, 4 delivered", st)
	}
	if n := len(rec.all()); n != 8 {
		t.Fatalf("%d log records, want 8", n)
	}
}
