package bus_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// TestPublishDoesNotAllocate pins the zero-allocation hot path: publishing a
// stamped event with history on or off, to typed, category and async
// subscriptions, and nested publishes from a handler.
func TestPublishDoesNotAllocate(t *testing.T) {
	nop := func(context.Context, event.Event) error { return nil }
	tests := []struct {
		name  string
		setup func(b *bus.Bus)
	}{
		{"no subscribers", func(*bus.Bus) {}},
		{"typed", func(b *bus.Bus) {
			bus.Subscribe(b, func(context.Context, *event.ExecutionStarted) error { return nil })
		}},
		{"category and all", func(b *bus.Bus) {
			b.SubscribeCategory(event.CategoryExecution, nop)
			b.SubscribeAll(nop)
		}},
		{"nested publish", func(b *bus.Bus) {
			nested := &event.NodeStarted{ExecutionID: "x"}
			event.Stamp(nested)
			bus.Subscribe(b, func(ctx context.Context, _ *event.ExecutionStarted) error {
				return b.Publish(ctx, nested)
			})
			bus.Subscribe(b, func(context.Context, *event.NodeStarted) error { return nil })
		}},
		{"async drop-newest", func(b *bus.Bus) {
			b.SubscribeAll(nop, bus.Async(1024, bus.DropNewest))
		}},
		{"async handler publishes", func(b *bus.Bus) {
			nested := &event.NodeStarted{ExecutionID: "x"}
			event.Stamp(nested)
			bus.Subscribe(b, func(ctx context.Context, _ *event.ExecutionStarted) error {
				return b.Publish(ctx, nested)
			}, bus.Async(1024, bus.DropNewest))
			bus.Subscribe(b, func(context.Context, *event.NodeStarted) error { return nil })
		}},
	}
	for _, tt := range tests {
		for _, hist := range []int{0, bus.DefaultHistory} {
			b := bus.New(bus.WithHistory(hist), bus.WithLogger(slog.New(slog.DiscardHandler)))
			tt.setup(b)
			ev := event.Stamp(&event.ExecutionStarted{ExecutionID: "x"})
			ctx := context.Background()
			_ = b.Publish(ctx, ev) // warm the context caches
			if n := testing.AllocsPerRun(1000, func() { _ = b.Publish(ctx, ev) }); n != 0 {
				t.Errorf("%s, history %d: %v allocs per Publish, want 0", tt.name, hist, n)
			}
			b.Close()
		}
	}
}
