package bus_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// TestConcurrentPublishWithChurn publishes 8 x 10,000 events from 8
// goroutines while 4 others subscribe and unsubscribe continuously. Every
// subscription live for the whole run must receive exactly the events it
// selects, once each; churned subscriptions never receive more than was
// published.
func TestConcurrentPublishWithChurn(t *testing.T) {
	const (
		publishers = 8
		perPub     = 10_000
		churners   = 4
	)
	b := bus.New()
	type counted struct {
		sub  *bus.Subscription
		n    atomic.Int64
		want int64
	}
	var stable []*counted
	add := func(want int64, subscribe func(h bus.Handler) *bus.Subscription) {
		c := &counted{want: want}
		c.sub = subscribe(func(context.Context, event.Event) error { c.n.Add(1); return nil })
		stable = append(stable, c)
	}
	// Even publishers send ExecutionStarted, odd ones NodeStarted.
	total := int64(publishers * perPub)
	half := total / 2
	add(total, func(h bus.Handler) *bus.Subscription { return b.SubscribeAll(h) })
	add(half, func(h bus.Handler) *bus.Subscription { return b.SubscribeCategory(event.CategoryExecution, h) })
	add(half, func(h bus.Handler) *bus.Subscription { return b.SubscribeCategory(event.CategoryNode, h) })
	typed := &counted{want: half}
	typed.sub = bus.Subscribe(b, func(context.Context, *event.ExecutionStarted) error { typed.n.Add(1); return nil })
	stable = append(stable, typed)
	add(total, func(h bus.Handler) *bus.Subscription {
		return b.SubscribeTypes([]*event.Type{(*event.ExecutionStarted)(nil).Type(), (*event.NodeStarted)(nil).Type()}, h)
	})

	var churned atomic.Int64
	stop := make(chan struct{})
	var churn sync.WaitGroup
	for range churners {
		churn.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n atomic.Int64
				s := b.SubscribeAll(func(context.Context, event.Event) error { n.Add(1); return nil })
				s2 := bus.Subscribe(b, func(context.Context, *event.NodeStarted) error { n.Add(1); return nil })
				s3 := b.SubscribeAll(func(context.Context, event.Event) error { n.Add(1); return nil }, bus.Async(16, bus.DropNewest))
				s4 := b.SubscribeAll(func(context.Context, event.Event) error { n.Add(1); return nil }, bus.Async(16, bus.Block))
				s.Close()
				s2.Close()
				s3.Close()
				s4.Close()
				if n.Load() > total*4 {
					t.Errorf("churned subscription got %d events", n.Load())
				}
				churned.Add(1)
			}
		})
	}

	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			var ev event.Event = event.Stamp(started("p"))
			if p%2 == 1 {
				ev = event.Stamp(nodeStarted("p"))
			}
			ctx := context.Background()
			for range perPub {
				if err := b.Publish(ctx, ev); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	pubs.Wait()
	close(stop)
	churn.Wait()

	for i, c := range stable {
		if got := c.n.Load(); got != c.want {
			t.Errorf("stable subscription %d (%s) got %d events, want %d", i, c.sub.Name(), got, c.want)
		}
		if st := c.sub.Stats(); int64(st.Delivered) != c.want {
			t.Errorf("stable subscription %d stats delivered %d, want %d", i, st.Delivered, c.want)
		}
	}
	if st := b.Stats(); st.Published != uint64(total) || st.Subscriptions != len(stable) {
		t.Errorf("bus stats %+v, want %d published, %d subscriptions", st, total, len(stable))
	}
	if b.SubscriberCount(nil) != len(stable) {
		t.Errorf("SubscriberCount %d, want %d", b.SubscriberCount(nil), len(stable))
	}
	if churned.Load() == 0 {
		t.Error("churn goroutines never ran")
	}
	t.Logf("%d subscribe/close cycles during the run", churned.Load())
}
