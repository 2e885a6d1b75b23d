package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/wtbdev/wtb/event"
)

// MaxQueueSize is the largest queue Async accepts.
const MaxQueueSize = 1 << 20

// Overflow is what an asynchronous subscription does with an event when its
// queue is full.
type Overflow int

const (
	// Block makes the publisher wait for room, at most until its context is
	// done; then the event is dropped for this subscription, counted, logged,
	// and Publish returns an error wrapping the context's error.
	Block Overflow = iota
	// DropNewest drops the event being published for this subscription and
	// counts the drop; the publisher does not wait.
	DropNewest
)

// String returns "block" or "drop-newest".
func (o Overflow) String() string {
	switch o {
	case Block:
		return "block"
	case DropNewest:
		return "drop-newest"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// Async makes a subscription asynchronous: Publish puts the event in a queue
// of queueSize events, and one goroutine per subscription runs the handler
// for each queued event in order. policy says what happens when the queue is
// full. The handler's ctx carries the publisher's values and nesting depth
// but not its cancellation. Close drains the queue and stops the goroutine.
//
// A handler of a Block subscription must not publish events that route back
// to its own subscription: with a full queue it would wait for itself.
//
// Async panics if queueSize is not between 1 and MaxQueueSize or policy is
// unknown.
func Async(queueSize int, policy Overflow) SubOption {
	if queueSize < 1 || queueSize > MaxQueueSize {
		panic(fmt.Sprintf("bus: Async(%d, %v): queue size must be between 1 and %d", queueSize, policy, MaxQueueSize))
	}
	if policy != Block && policy != DropNewest {
		panic(fmt.Sprintf("bus: Async(%d, %v): unknown overflow policy", queueSize, policy))
	}
	return func(c *subConfig) { c.queueSize, c.policy = queueSize, policy }
}

type asyncItem struct {
	ctx context.Context
	ev  event.Event
}

type asyncQueue struct {
	mu      sync.RWMutex // senders hold it shared; stop holds it exclusively
	stopped bool
	q       chan asyncItem
	policy  Overflow
	done    chan struct{}
}

func newAsyncQueue(b *Bus, s *Subscription, size int, policy Overflow) *asyncQueue {
	a := &asyncQueue{q: make(chan asyncItem, size), policy: policy, done: make(chan struct{})}
	go a.run(b, s)
	return a
}

func (a *asyncQueue) run(b *Bus, s *Subscription) {
	defer close(a.done)
	for it := range a.q {
		b.call(it.ctx, s, it.ev)
	}
}

// stop closes the queue once no sender is inside it; run then drains it.
func (a *asyncQueue) stop() {
	a.mu.Lock()
	a.stopped = true
	close(a.q)
	a.mu.Unlock()
}

// enqueue hands ev to an asynchronous subscription following its policy.
func (b *Bus) enqueue(ctx, hctx context.Context, s *Subscription, ev event.Event) error {
	a := s.async
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.stopped {
		return nil
	}
	it := asyncItem{ctx: hctx, ev: ev}
	select {
	case a.q <- it:
		return nil
	default:
	}
	if a.policy == DropNewest {
		b.drop(ctx, s, ev, nil)
		return nil
	}
	select {
	case a.q <- it:
		return nil
	case <-ctx.Done():
		err := fmt.Errorf("bus: async subscription %s: queue full: %w", s.name, ctx.Err())
		b.drop(ctx, s, ev, err)
		return err
	}
}

func (b *Bus) drop(ctx context.Context, s *Subscription, ev event.Event, err error) {
	s.dropped.Add(1)
	b.dropped.Add(1)
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	b.log().LogAttrs(ctx, level, "bus: event dropped",
		slog.String("event_type", ev.WireName()),
		slog.String("event_id", ev.EventID()),
		slog.String("subscription", s.name),
		slog.String("policy", s.async.policy.String()),
		slog.Any("error", err))
}
