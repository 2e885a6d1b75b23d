package bus_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// Subscribe delivers the concrete event type to a typed handler.
func ExampleSubscribe() {
	b := bus.New()
	sub := bus.Subscribe(b, func(_ context.Context, ev *event.ExecutionStarted) error {
		fmt.Println("started", ev.ExecutionID, ev.WorkflowName)
		return nil
	})
	defer sub.Close()

	_ = b.Publish(context.Background(), &event.ExecutionStarted{ExecutionID: "exec-1", WorkflowName: "triage"})
	_ = b.Publish(context.Background(), &event.NodeStarted{ExecutionID: "exec-1", NodeID: "fetch"}) // not subscribed
	// Output: started exec-1 triage
}

// Publish delivers synchronously, in subscription order; a handler may
// publish, and the nested event is delivered before Publish returns.
func ExampleBus_Publish() {
	b := bus.New()
	bus.Subscribe(b, func(ctx context.Context, ev *event.NodeFailed) error {
		fmt.Println("node failed:", ev.NodeID)
		// Publish with the handler's ctx so the depth limit applies.
		return b.Publish(ctx, &event.ExecutionFailed{ExecutionID: ev.ExecutionID, ErrorMessage: ev.ErrorMessage})
	})
	b.SubscribeCategory(event.CategoryExecution, func(_ context.Context, ev event.Event) error {
		fmt.Println("execution event:", ev.WireName())
		return nil
	})

	err := b.Publish(context.Background(), &event.NodeFailed{ExecutionID: "exec-1", NodeID: "fetch", ErrorMessage: "timeout"})
	fmt.Println("error:", err)
	for _, ev := range b.History(nil) {
		fmt.Println("history:", ev.WireName())
	}
	// Output:
	// node failed: fetch
	// execution event: ExecutionFailedEvent
	// error: <nil>
	// history: NodeFailedEvent
	// history: ExecutionFailedEvent
}

// A failing handler does not fail Publish; it is logged and counted.
func ExampleBus_Stats() {
	logger, _ := newLogger()
	b := bus.New(bus.WithLogger(logger))
	b.SubscribeAll(func(context.Context, event.Event) error { return errors.New("disk full") }, bus.Name("archiver"))
	b.SubscribeAll(func(context.Context, event.Event) error { panic("bug") })
	b.SubscribeAll(func(context.Context, event.Event) error { return nil })

	err := b.Publish(context.Background(), &event.ExecutionStarted{ExecutionID: "exec-1"})
	st := b.Stats()
	fmt.Println(err, st.Published, st.Delivered, st.Failed, st.Panics)
	// Output: <nil> 1 1 1 1
}

// Recent queries the history ring newest first.
func ExampleBus_Recent() {
	b := bus.New(bus.WithHistory(100))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, node := range []string{"plan", "search", "write", "review"} {
		ev := &event.NodeCompleted{ExecutionID: "exec-1", NodeID: node}
		ev.Timestamp = t0.Add(time.Duration(i) * time.Minute)
		_ = b.Publish(context.Background(), ev)
	}
	for _, ev := range b.Recent(bus.RecentQuery{Since: t0.Add(time.Minute), Limit: 2}) {
		fmt.Println(ev.(*event.NodeCompleted).NodeID)
	}
	// Output:
	// review
	// write
}

// An asynchronous subscription runs its handler on its own goroutine, fed by
// a bounded queue; Close drains it.
func ExampleAsync() {
	b := bus.New()
	sub := b.SubscribeAll(func(_ context.Context, ev event.Event) error {
		fmt.Println("async:", ev.WireName())
		return nil
	}, bus.Async(64, bus.Block), bus.Name("exporter"))

	_ = b.Publish(context.Background(), &event.ExecutionStarted{ExecutionID: "exec-1"})
	_ = b.Publish(context.Background(), &event.ExecutionCompleted{ExecutionID: "exec-1"})
	sub.Close() // waits for the queue to drain
	fmt.Println("delivered:", sub.Stats().Delivered)
	// Output:
	// async: ExecutionStartedEvent
	// async: ExecutionCompletedEvent
	// delivered: 2
}

// A SourceBridge publishes another system's events on the bus.
func ExampleNewSourceBridge() {
	src := newOutside() // some outside event source with Subscribe
	b := bus.New()
	bus.Subscribe(b, func(_ context.Context, ev *event.CheckpointCreated) error {
		fmt.Println("checkpoint", ev.CheckpointID, "of", ev.ExecutionID)
		return nil
	})
	br := bus.NewSourceBridge(b, src, func(msg any) (event.Event, bool) {
		m, ok := msg.(agentCheckpoint)
		if !ok {
			return nil, false
		}
		return &event.CheckpointCreated{ExecutionID: fmt.Sprint("session-", m.SessionID), CheckpointID: fmt.Sprint(m.CheckpointID)}, true
	})
	_ = br.Enable()
	src.emit(agentCheckpoint{CheckpointID: 4, SessionID: 2})
	_ = br.Disable()
	src.emit(agentCheckpoint{CheckpointID: 5, SessionID: 2}) // not bridged
	// Output: checkpoint 4 of session-2
}
