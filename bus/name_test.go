package bus_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// TestSubscriptionsSharingAName: a name is a label for logs and stats, not
// an identity. Two subscriptions with the same Name are independent:
// closing one neither unsubscribes nor retires the other, for every kind
// of subscription, synchronous or not, and through a SinkBridge.
func TestSubscriptionsSharingAName(t *testing.T) {
	ctx := context.Background()
	kinds := []struct {
		name string
		sub  func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func()
	}{
		{"Subscribe", func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func() {
			return bus.Subscribe(b, func(context.Context, *event.NodeStarted) error { n.Add(1); return nil }, opts...).Close
		}},
		{"SubscribeTypes", func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func() {
			return b.SubscribeTypes([]*event.Type{(*event.NodeStarted)(nil).Type()}, count(n), opts...).Close
		}},
		{"SubscribeCategory", func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func() {
			return b.SubscribeCategory(event.CategoryNode, count(n), opts...).Close
		}},
		{"SubscribeAll", func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func() {
			return b.SubscribeAll(count(n), opts...).Close
		}},
		{"SinkBridge", func(b *bus.Bus, n *atomic.Int64, opts ...bus.SubOption) func() {
			br := bus.NewSinkBridge(b, nil, count(n), opts...)
			if err := br.Enable(); err != nil {
				panic(err)
			}
			return func() { br.Disable() }
		}},
	}
	for _, k := range kinds {
		for _, async := range []bool{false, true} {
			name := k.name + "/sync"
			opts := []bus.SubOption{bus.Name("shared")}
			if async {
				name = k.name + "/async"
				opts = append(opts, bus.Async(8, bus.Block))
			}
			for _, order := range []string{"close first", "close second"} {
				t.Run(name+"/"+order, func(t *testing.T) {
					b := bus.New()
					defer b.Close()
					var n [2]atomic.Int64
					closers := [2]func(){k.sub(b, &n[0], opts...), k.sub(b, &n[1], opts...)}
					closed, kept := 0, 1
					if order == "close second" {
						closed, kept = 1, 0
					}
					if got := b.Stats().Subscriptions; got != 2 {
						t.Fatalf("%d live subscriptions, want 2", got)
					}
					publish := func(n int) {
						for range n {
							if err := b.Publish(ctx, event.New[event.NodeStarted]()); err != nil {
								t.Fatal(err)
							}
						}
					}
					publish(3)
					closers[closed]()
					closers[closed]() // idempotent: still only that one
					// Churn: another subscription comes and goes, rebuilding
					// the routing table from the bus's list.
					b.SubscribeAll(func(context.Context, event.Event) error { return nil }).Close()
					publish(5)
					if got := b.Stats().Subscriptions; got != 1 {
						t.Fatalf("after closing one: %d live subscriptions, want 1", got)
					}
					closers[kept]()
					if got := b.Stats().Subscriptions; got != 0 {
						t.Fatalf("after closing both: %d live subscriptions, want 0", got)
					}
					if n[closed].Load() != 3 || n[kept].Load() != 8 {
						t.Fatalf("the closed one received %d (want 3), the other %d (want 8)", n[closed].Load(), n[kept].Load())
					}
					if got := b.Stats().Delivered; got != 11 {
						t.Fatalf("Delivered = %d, want 11", got)
					}
				})
			}
		}
	}
}

func count(n *atomic.Int64) bus.Handler {
	return func(context.Context, event.Event) error { n.Add(1); return nil }
}
