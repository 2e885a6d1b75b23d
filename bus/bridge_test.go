package bus_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"weak"

	"go.uber.org/goleak"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// outside is a small event bus of another library, global and unsynchronised
// in the reference; here it is safe for concurrent use. It keeps strong
// references to its handlers, like the reference's AgentGit bus.
type outside struct {
	mu       sync.Mutex
	next     int
	handlers map[int]func(any)
	failWith error
}

func newOutside() *outside { return &outside{handlers: map[int]func(any){}} }

func (o *outside) Subscribe(h func(any)) (func(), error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failWith != nil {
		return nil, o.failWith
	}
	o.next++
	id := o.next
	o.handlers[id] = h
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		delete(o.handlers, id)
	}, nil
}

func (o *outside) emit(msg any) {
	o.mu.Lock()
	hs := make([]func(any), 0, len(o.handlers))
	for _, h := range o.handlers {
		hs = append(hs, h)
	}
	o.mu.Unlock()
	for _, h := range hs {
		h(msg)
	}
}

func (o *outside) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.handlers)
}

// agentCheckpoint is a message of the outside bus.
type agentCheckpoint struct {
	CheckpointID int
	SessionID    int
}

func translateAgent(msg any) (event.Event, bool) {
	m, ok := msg.(agentCheckpoint)
	if !ok {
		return nil, false
	}
	return &event.CheckpointCreated{
		ExecutionID:  "session-" + strconv.Itoa(m.SessionID),
		CheckpointID: strconv.Itoa(m.CheckpointID),
	}, true
}

func TestSourceBridge(t *testing.T) {
	src := newOutside()
	b := bus.New()
	var got []string
	bus.Subscribe(b, func(_ context.Context, ev *event.CheckpointCreated) error {
		got = append(got, ev.ExecutionID+"/"+ev.CheckpointID)
		return nil
	})
	br := bus.NewSourceBridge(b, src, translateAgent)
	if br.Enabled() {
		t.Fatal("new bridge is enabled")
	}
	for range 2 { // enabling twice equals once
		if err := br.Enable(); err != nil {
			t.Fatal(err)
		}
	}
	if !br.Enabled() || src.count() != 1 {
		t.Fatalf("enabled %v, source handlers %d, want true 1", br.Enabled(), src.count())
	}
	src.emit(agentCheckpoint{CheckpointID: 7, SessionID: 3})
	src.emit("not an agent event")
	if len(got) != 1 || got[0] != "session-3/7" {
		t.Fatalf("bridged %v", got)
	}
	for range 2 {
		if err := br.Disable(); err != nil {
			t.Fatal(err)
		}
	}
	if br.Enabled() || src.count() != 0 {
		t.Fatalf("after disable: enabled %v, source handlers %d", br.Enabled(), src.count())
	}
	src.emit(agentCheckpoint{CheckpointID: 8})
	if len(got) != 1 {
		t.Fatal("disabled bridge still publishes")
	}
	if b.SubscriberCount(nil) != 1 {
		t.Fatalf("bridge changed the bus's subscriptions")
	}
}

func TestSourceBridgeDisableRemovesOnlyItsOwn(t *testing.T) {
	src := newOutside()
	b1, b2 := bus.New(), bus.New()
	br1 := bus.NewSourceBridge(b1, src, translateAgent)
	br2 := bus.NewSourceBridge(b2, src, translateAgent)
	if err := errors.Join(br1.Enable(), br2.Enable()); err != nil {
		t.Fatal(err)
	}
	foreign := 0
	unsub, _ := src.Subscribe(func(any) { foreign++ })
	defer unsub()
	if err := br1.Disable(); err != nil {
		t.Fatal(err)
	}
	if src.count() != 2 {
		t.Fatalf("source handlers %d, want 2", src.count())
	}
	src.emit(agentCheckpoint{CheckpointID: 1})
	if len(b1.History(nil)) != 0 || len(b2.History(nil)) != 1 || foreign != 1 {
		t.Fatalf("b1 %d b2 %d foreign %d, want 0 1 1", len(b1.History(nil)), len(b2.History(nil)), foreign)
	}
	_ = br2.Disable()
}

func TestSourceBridgeEnableError(t *testing.T) {
	src := newOutside()
	src.failWith = errors.New("source offline")
	br := bus.NewSourceBridge(bus.New(), src, translateAgent)
	if err := br.Enable(); err == nil || !errors.Is(err, src.failWith) {
		t.Fatalf("Enable = %v, want the source's error wrapped", err)
	}
	if br.Enabled() {
		t.Fatal("bridge enabled after a failed Enable")
	}
}

// collect runs the garbage collector until p is cleared and the source has
// no handlers, or gives up after a bounded number of rounds.
func collect(p weak.Pointer[bus.Bus], src *outside) bool {
	for range 100 {
		runtime.GC()
		runtime.Gosched()
		if p.Value() == nil && src.count() == 0 {
			return true
		}
	}
	return false
}

// TestDiscardedBusIsCollected is the reference's EVT-001: a bus dropped
// while its bridge is enabled must be collected, and its handler removed
// from the outside source.
func TestDiscardedBusIsCollected(t *testing.T) {
	src := newOutside()
	var br *bus.SourceBridge
	var sink *bus.SinkBridge
	p := func() weak.Pointer[bus.Bus] {
		b := bus.New()
		for i := range 100 { // a bus with a full-ish history and a subscriber
			_ = b.Publish(context.Background(), started(strconv.Itoa(i)))
		}
		b.SubscribeAll(func(context.Context, event.Event) error { return nil })
		br = bus.NewSourceBridge(b, src, translateAgent)
		sink = bus.NewSinkBridge(b, nil, func(context.Context, event.Event) error { return nil })
		if err := errors.Join(br.Enable(), sink.Enable()); err != nil {
			t.Fatal(err)
		}
		return weak.Make(b)
	}()
	if src.count() != 1 {
		t.Fatalf("source handlers %d, want 1", src.count())
	}
	src.emit(agentCheckpoint{CheckpointID: 1})
	if !collect(p, src) {
		t.Fatalf("bus kept alive (collected: %v) or source handler left behind (%d)", p.Value() == nil, src.count())
	}
	src.emit(agentCheckpoint{CheckpointID: 2}) // nothing to deliver to, no panic
	if err := br.Enable(); !errors.Is(err, bus.ErrBusGone) {
		t.Fatalf("Enable after collection = %v, want ErrBusGone", err)
	}
	if err := br.Disable(); err != nil {
		t.Fatal(err)
	}
	if sink.Enabled() || !errors.Is(sink.Enable(), bus.ErrBusGone) || sink.Disable() != nil {
		t.Fatal("sink bridge of a collected bus")
	}
}

func TestSinkBridge(t *testing.T) {
	b := bus.New()
	var got []string
	br := bus.NewSinkBridge(b, []*event.Type{(*event.NodeStarted)(nil).Type()}, func(_ context.Context, ev event.Event) error {
		got = append(got, ev.WireName())
		return nil
	}, bus.Name("sink"))
	_ = br.Enable()
	_ = br.Enable()
	if b.SubscriberCount(nil) != 1 {
		t.Fatalf("subscriptions %d after enabling twice, want 1", b.SubscriberCount(nil))
	}
	_ = b.PublishAll(context.Background(), []event.Event{started("1"), nodeStarted("2")})
	_ = br.Disable()
	_ = br.Disable()
	_ = b.Publish(context.Background(), nodeStarted("3"))
	if len(got) != 1 || got[0] != "NodeStartedEvent" || b.SubscriberCount(nil) != 0 || br.Enabled() {
		t.Fatalf("got %v, subscriptions %d", got, b.SubscriberCount(nil))
	}
}

// TestBridgeCyclesDoNotAccumulate enables and disables bridges 10,000 times:
// subscriber counts on the bus and the source, and the goroutines, end where
// they started.
func TestBridgeCyclesDoNotAccumulate(t *testing.T) {
	src := newOutside()
	b := bus.New()
	b.SubscribeAll(func(context.Context, event.Event) error { return nil })
	source := bus.NewSourceBridge(b, src, translateAgent)
	sink := bus.NewSinkBridge(b, nil, func(context.Context, event.Event) error { return nil })
	asyncSink := bus.NewSinkBridge(b, nil, func(context.Context, event.Event) error { return nil }, bus.Async(8, bus.DropNewest))
	bridges := []bus.Bridge{source, sink, asyncSink}

	subsBefore, before := b.SubscriberCount(nil), goleak.IgnoreCurrent()
	for i := range 10_000 {
		for _, br := range bridges {
			if err := br.Enable(); err != nil {
				t.Fatal(err)
			}
		}
		if i%1000 == 0 {
			src.emit(agentCheckpoint{CheckpointID: i})
			if got := b.SubscriberCount(nil); got != subsBefore+2 {
				t.Fatalf("cycle %d: %d subscriptions while enabled, want %d", i, got, subsBefore+2)
			}
		}
		for _, br := range bridges {
			if err := br.Disable(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := b.SubscriberCount(nil); got != subsBefore {
		t.Fatalf("subscriptions %d after cycles, want %d", got, subsBefore)
	}
	if src.count() != 0 {
		t.Fatalf("source handlers %d after cycles, want 0", src.count())
	}
	// A disabled asynchronous sink has handled its queue and closed its done
	// channel, but its goroutine may still be returning; goleak's retries
	// wait for that, and fail if a cycle really left one behind.
	if err := goleak.Find(before); err != nil {
		t.Fatalf("goroutines left after cycles: %v", err)
	}
	if got := len(b.History(nil)); got != 10 {
		t.Fatalf("bridged %d events, want 10", got)
	}
}
