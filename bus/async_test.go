package bus_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// gated returns a handler that counts events after gate is closed.
func gated(gate <-chan struct{}, n *atomic.Int64) bus.Handler {
	return func(context.Context, event.Event) error {
		<-gate
		n.Add(1)
		return nil
	}
}

func TestAsyncBlockWaitsUntilDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, rec := newLogger()
		b := bus.New(bus.WithLogger(logger))
		gate := make(chan struct{})
		var n atomic.Int64
		sub := b.SubscribeAll(gated(gate, &n), bus.Async(1, bus.Block), bus.Name("slow"))
		ctx := context.Background()
		if err := b.Publish(ctx, started("1")); err != nil { // taken by the worker, which then waits on gate
			t.Fatal(err)
		}
		synctest.Wait()
		if err := b.Publish(ctx, started("2")); err != nil { // fills the queue
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := b.Publish(tctx, started("3")) // waits for room until the deadline
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Publish on a full Block queue = %v, want DeadlineExceeded", err)
		}
		if st := sub.Stats(); st.Dropped != 1 {
			t.Fatalf("dropped %d, want 1", st.Dropped)
		}
		close(gate)
		sub.Close()
		if got := n.Load(); got != 2 {
			t.Fatalf("handled %d, want 2", got)
		}
		if st := b.Stats(); st.Dropped != 1 || st.Delivered != 2 {
			t.Fatalf("bus stats %+v", st)
		}
		lines := rec.all()
		if len(lines) != 1 || lines[0].Msg != "bus: event dropped" || lines[0].Attrs["subscription"] != "slow" || lines[0].Attrs["policy"] != "block" {
			t.Fatalf("log %+v", lines)
		}
	})
}

func TestAsyncBlockWaitsForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bus.New()
		gate := make(chan struct{})
		var n atomic.Int64
		sub := b.SubscribeAll(gated(gate, &n), bus.Async(1, bus.Block))
		ctx := context.Background()
		_ = b.Publish(ctx, started("1"))
		synctest.Wait()
		_ = b.Publish(ctx, started("2"))
		go func() {
			time.Sleep(time.Second)
			close(gate) // room appears while the publisher waits
		}()
		if err := b.Publish(ctx, started("3")); err != nil {
			t.Fatalf("Publish = %v, want it to wait for room", err)
		}
		sub.Close()
		if got := n.Load(); got != 3 || sub.Stats().Dropped != 0 {
			t.Fatalf("handled %d dropped %d, want 3 0", got, sub.Stats().Dropped)
		}
	})
}

func TestAsyncDropNewestCountsEveryDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bus.New()
		gate := make(chan struct{})
		var n atomic.Int64
		sub := b.SubscribeAll(gated(gate, &n), bus.Async(2, bus.DropNewest))
		ctx := context.Background()
		_ = b.Publish(ctx, started("1"))
		synctest.Wait() // the worker holds event 1
		for i := 2; i <= 10; i++ {
			if err := b.Publish(ctx, started("x")); err != nil {
				t.Fatalf("DropNewest publish returned %v", err)
			}
		}
		close(gate)
		sub.Close()
		if got, st := n.Load(), sub.Stats(); got != 3 || st.Dropped != 7 || st.Delivered != 3 {
			t.Fatalf("handled %d stats %+v, want 3 handled, 7 dropped", got, st)
		}
		if b.Stats().Dropped != 7 {
			t.Fatalf("bus dropped %d, want 7", b.Stats().Dropped)
		}
	})
}

func TestAsyncCloseDrainsQueue(t *testing.T) {
	b := bus.New()
	gate := make(chan struct{})
	var n atomic.Int64
	sub := b.SubscribeAll(gated(gate, &n), bus.Async(100, bus.Block))
	for range 50 {
		_ = b.Publish(context.Background(), started("x"))
	}
	close(gate)
	sub.Close()
	if got := n.Load(); got != 50 {
		t.Fatalf("after Close handled %d, want 50", got)
	}
	sub.Close() // idempotent, returns at once
	_ = b.Publish(context.Background(), started("late"))
	if got := n.Load(); got != 50 {
		t.Fatalf("closed async subscription handled a later event")
	}
}

func TestAsyncRunsInOrderOffThePublisher(t *testing.T) {
	b := bus.New()
	type key struct{}
	var got []string
	var values, errs atomic.Int64
	sub := b.SubscribeAll(func(ctx context.Context, ev event.Event) error {
		got = append(got, ev.(*event.ExecutionStarted).ExecutionID)
		if ctx.Value(key{}) == "v" {
			values.Add(1)
		}
		if ctx.Err() != nil {
			errs.Add(1)
		}
		return nil
	}, bus.Async(16, bus.Block))
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	for _, id := range []string{"a", "b", "c"} {
		_ = b.Publish(ctx, started(id))
	}
	cancel() // the handlers still see a live context
	sub.Close()
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("order %v", got)
	}
	if values.Load() != 3 || errs.Load() != 0 {
		t.Fatalf("values %d cancelled %d, want 3 0", values.Load(), errs.Load())
	}
}

func TestAsyncKeepsNestingDepth(t *testing.T) {
	type key struct{}
	tests := []struct {
		name string
		wrap func(context.Context) context.Context
	}{
		{"handler context", func(ctx context.Context) context.Context { return ctx }},
		{"derived context", func(ctx context.Context) context.Context { return context.WithValue(ctx, key{}, 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, _ := newLogger()
			b := bus.New(bus.WithMaxDepth(4), bus.WithLogger(logger))
			var calls atomic.Int64
			var depthErr atomic.Bool
			var sub *bus.Subscription
			sub = b.SubscribeAll(func(ctx context.Context, ev event.Event) error {
				calls.Add(1)
				if _, ok := ctx.Deadline(); ok || ctx.Done() != nil {
					t.Error("async handler context carries the publisher's cancellation")
				}
				err := b.Publish(tt.wrap(ctx), started("again")) // loops through its own queue
				if errors.Is(err, bus.ErrMaxDepth) {
					depthErr.Store(true)
					go sub.Close()
				}
				return err
			}, bus.Async(8, bus.DropNewest))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			_ = b.Publish(ctx, started("x"))
			for !sub.Closed() {
				runtime.Gosched()
			}
			sub.Close()
			if calls.Load() != 4 || !depthErr.Load() {
				t.Fatalf("async loop ran %d times (depth error %v), want 4 and ErrMaxDepth", calls.Load(), depthErr.Load())
			}
		})
	}
}

// workers counts the goroutines running an async subscription's queue.
func workers() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "created by github.com/wtbdev/wtb/bus.newAsyncQueue")
}

// settleWorkers waits, at most 5 s, until the number of queue goroutines
// equals want, and returns the last count.
func settleWorkers(want int) int {
	n := workers()
	for deadline := time.Now().Add(5 * time.Second); n != want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		n = workers()
	}
	return n
}

func TestAsyncGoroutinesStop(t *testing.T) {
	// Queue goroutines of subscriptions closed by earlier tests may still be
	// returning: start from none.
	if n := settleWorkers(0); n != 0 {
		t.Fatalf("%d queue goroutines left running by earlier tests", n)
	}
	b := bus.New()
	var subs []*bus.Subscription
	for range 20 {
		subs = append(subs, b.SubscribeAll(func(context.Context, event.Event) error { return nil }, bus.Async(4, bus.Block)))
	}
	running := workers()
	for _, s := range subs {
		s.Close()
	}
	if running != 20 {
		t.Fatalf("%d queue goroutines for 20 async subscriptions", running)
	}
	// A worker signals Close just before it returns; give the returns a
	// bounded time.
	if after := settleWorkers(0); after != 0 {
		t.Fatalf("%d queue goroutines after Close", after)
	}
}
