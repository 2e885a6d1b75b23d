// Package workload defines the comparison benchmarks of wtb's bus against
// Watermill's GoChannel and asaskevich/EventBus: the same pre-built event is
// published to 1 or to 10 subscribers that each increment a counter, and one
// operation is one event published and received by every subscriber.
//
// Two delivery modes are compared:
//
//   - sync: Publish returns after every subscriber has handled the event.
//     wtb's bus and EventBus call the handlers in the publisher's goroutine;
//     GoChannel (which always delivers through channels to a goroutine per
//     subscriber) is configured with BlockPublishUntilSubscriberAck.
//   - async: Publish only queues the event; each subscriber drains its own
//     queue on its own goroutine, and the benchmark waits until every
//     subscriber has received all b.N events. wtb uses Async(1024, Block),
//     EventBus SubscribeAsync (one goroutine per event), GoChannel an output
//     buffer of 1024.
package workload

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	evbus "github.com/asaskevich/EventBus"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// QueueSize is the per-subscriber buffer of the async variants.
const QueueSize = 1024

// Case is one benchmark of the comparison.
type Case struct {
	// Library is "wtb", "EventBus" or "Watermill".
	Library string
	// Mode is "sync" or "async".
	Mode string
	// Subscribers is the number of subscribers, 1 or 10.
	Subscribers int
	// Run is the benchmark function.
	Run func(b *testing.B)
}

// Name returns "<mode>/subs=<n>/<library>".
func (c Case) Name() string {
	return c.Mode + "/subs=" + itoa(c.Subscribers) + "/" + c.Library
}

func itoa(n int) string {
	if n == 10 {
		return "10"
	}
	return string(rune('0' + n))
}

// SubscriberCounts are the fan-outs measured.
var SubscriberCounts = []int{1, 10}

// Cases lists every benchmark: for each mode and fan-out, wtb, EventBus and
// Watermill, in that order.
func Cases() []Case {
	var out []Case
	for _, mode := range []string{"sync", "async"} {
		for _, n := range SubscriberCounts {
			out = append(out,
				Case{"wtb", mode, n, wtbBench(mode, n)},
				Case{"EventBus", mode, n, eventBusBench(mode, n)},
				Case{"Watermill", mode, n, watermillBench(mode, n)},
			)
		}
	}
	return out
}

// newEvent returns the pre-built event every benchmark publishes.
func newEvent() *event.ExecutionStarted {
	ev := &event.ExecutionStarted{ExecutionID: "exec-1", WorkflowID: "wf-1", WorkflowName: "triage"}
	event.Stamp(ev)
	return ev
}

// waitAll spins until every counter reaches want.
func waitAll(counters []atomic.Int64, want int64) {
	for i := range counters {
		for counters[i].Load() < want {
			runtime.Gosched()
		}
	}
}

func check(b *testing.B, counters []atomic.Int64, want int64) {
	for i := range counters {
		if got := counters[i].Load(); got != want {
			b.Fatalf("subscriber %d received %d events, want %d", i, got, want)
		}
	}
}

func wtbBench(mode string, subs int) func(b *testing.B) {
	return func(b *testing.B) {
		bs := bus.New(bus.WithHistory(0))
		defer bs.Close()
		counters := make([]atomic.Int64, subs)
		var opts []bus.SubOption
		if mode == "async" {
			opts = append(opts, bus.Async(QueueSize, bus.Block))
		}
		for i := range subs {
			c := &counters[i]
			bus.Subscribe(bs, func(context.Context, *event.ExecutionStarted) error {
				c.Add(1)
				return nil
			}, opts...)
		}
		ev := newEvent()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := bs.Publish(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		waitAll(counters, int64(b.N))
		b.StopTimer()
		check(b, counters, int64(b.N))
	}
}

func eventBusBench(mode string, subs int) func(b *testing.B) {
	return func(b *testing.B) {
		eb := evbus.New()
		counters := make([]atomic.Int64, subs)
		for i := range subs {
			c := &counters[i]
			fn := func(*event.ExecutionStarted) { c.Add(1) }
			var err error
			if mode == "async" {
				err = eb.SubscribeAsync("execution", fn, false)
			} else {
				err = eb.Subscribe("execution", fn)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		ev := newEvent()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			eb.Publish("execution", ev)
		}
		eb.WaitAsync()
		waitAll(counters, int64(b.N))
		b.StopTimer()
		check(b, counters, int64(b.N))
	}
}

func watermillBench(mode string, subs int) func(b *testing.B) {
	return func(b *testing.B) {
		gc := gochannel.NewGoChannel(gochannel.Config{
			OutputChannelBuffer:            QueueSize,
			BlockPublishUntilSubscriberAck: mode == "sync",
		}, watermill.NopLogger{})
		counters := make([]atomic.Int64, subs)
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		for i := range subs {
			msgs, err := gc.Subscribe(ctx, "execution")
			if err != nil {
				b.Fatal(err)
			}
			c := &counters[i]
			wg.Go(func() {
				for m := range msgs {
					c.Add(1)
					m.Ack()
				}
			})
		}
		payload, err := json.Marshal(newEvent())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := gc.Publish("execution", message.NewMessage("evt-1", payload)); err != nil {
				b.Fatal(err)
			}
		}
		waitAll(counters, int64(b.N))
		b.StopTimer()
		check(b, counters, int64(b.N))
		cancel()
		_ = gc.Close()
		wg.Wait()
	}
}
