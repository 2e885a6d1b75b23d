package bus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// BenchmarkPublish measures one synchronous publish of a pre-stamped event to
// 0, 1 and 10 subscribers that increment a counter, with the history ring on
// (default size) and off.
func BenchmarkPublish(b *testing.B) {
	for _, hist := range []struct {
		name string
		size int
	}{{"history=off", 0}, {"history=on", bus.DefaultHistory}} {
		for _, subs := range []int{0, 1, 10} {
			b.Run(fmt.Sprintf("subs=%d/%s", subs, hist.name), func(b *testing.B) {
				bs := bus.New(bus.WithHistory(hist.size))
				var n int64
				for range subs {
					bus.Subscribe(bs, func(_ context.Context, _ *event.ExecutionStarted) error {
						n++
						return nil
					})
				}
				ev := event.Stamp(&event.ExecutionStarted{ExecutionID: "exec-1"})
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					_ = bs.Publish(ctx, ev)
				}
				if want := int64(b.N * subs); subs > 0 && n < want {
					b.Fatalf("delivered %d, want at least %d", n, want)
				}
			})
		}
	}
}

// BenchmarkPublishParallel publishes from GOMAXPROCS goroutines at once to
// one and ten subscribers. The handlers do nothing, so that only the bus's
// own shared state is contended; the deliveries are checked with the
// subscriptions' own counters.
func BenchmarkPublishParallel(b *testing.B) {
	for _, hist := range []struct {
		name string
		size int
	}{{"history=off", 0}, {"history=on", bus.DefaultHistory}} {
		for _, subs := range []int{1, 10} {
			b.Run(fmt.Sprintf("subs=%d/%s", subs, hist.name), func(b *testing.B) {
				bs := bus.New(bus.WithHistory(hist.size))
				var all []*bus.Subscription
				for range subs {
					all = append(all, bus.Subscribe(bs, func(_ context.Context, _ *event.ExecutionStarted) error {
						return nil
					}))
				}
				ev := event.Stamp(&event.ExecutionStarted{ExecutionID: "exec-1"})
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						_ = bs.Publish(ctx, ev)
					}
				})
				for _, s := range all {
					if got := s.Stats().Delivered; got != uint64(b.N) {
						b.Fatalf("delivered %d, want %d", got, b.N)
					}
				}
			})
		}
	}
}

// BenchmarkPublishNested measures a publish whose handler publishes a second
// event (two deliveries, one nested), history off.
func BenchmarkPublishNested(b *testing.B) {
	bs := bus.New(bus.WithHistory(0))
	var n int64
	nested := event.Stamp(&event.NodeStarted{ExecutionID: "exec-1"})
	bus.Subscribe(bs, func(ctx context.Context, _ *event.ExecutionStarted) error {
		return bs.Publish(ctx, nested)
	})
	bus.Subscribe(bs, func(context.Context, *event.NodeStarted) error { n++; return nil })
	ev := event.Stamp(&event.ExecutionStarted{ExecutionID: "exec-1"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = bs.Publish(ctx, ev)
	}
	if n != int64(b.N) {
		b.Fatalf("nested deliveries %d, want %d", n, b.N)
	}
}

// BenchmarkPublishAsync measures publishing to one asynchronous subscription
// (queue of 1024, Block). The publisher waits whenever the queue is full, so
// over many events the rate is that of the queue and its goroutine; at most
// 1024 events are still queued when the timer stops.
func BenchmarkPublishAsync(b *testing.B) {
	bs := bus.New(bus.WithHistory(0))
	var n atomic.Int64
	sub := bus.Subscribe(bs, func(context.Context, *event.ExecutionStarted) error {
		n.Add(1)
		return nil
	}, bus.Async(1024, bus.Block))
	ev := event.Stamp(&event.ExecutionStarted{ExecutionID: "exec-1"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = bs.Publish(ctx, ev)
	}
	sub.Close() // drains the queue
	if n.Load() != int64(b.N) {
		b.Fatalf("handled %d, want %d", n.Load(), b.N)
	}
}
