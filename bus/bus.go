package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/wtbdev/wtb/event"
)

// Limits and defaults of a Bus.
const (
	// DefaultHistory is the number of events the history ring keeps unless
	// WithHistory says otherwise.
	DefaultHistory = 1000
	// MaxHistory is the largest history size WithHistory accepts.
	MaxHistory = 1 << 20
	// DefaultMaxDepth is the nesting depth limit unless WithMaxDepth says
	// otherwise: a handler may publish, whose handlers may publish, and so on,
	// DefaultMaxDepth levels deep.
	DefaultMaxDepth = 32
	// MaxMaxDepth is the largest depth limit WithMaxDepth accepts. It keeps
	// the goroutine stack of a runaway publish loop small.
	MaxMaxDepth = 4096
)

// Sentinel errors returned by Publish and PublishAll; test with errors.Is.
var (
	// ErrNilEvent is returned when a nil event is published.
	ErrNilEvent = errors.New("bus: nil event")
	// ErrMaxDepth is returned by a nested Publish that would exceed the
	// bus's nesting depth limit (see WithMaxDepth).
	ErrMaxDepth = errors.New("bus: nested publish depth limit exceeded")
	// ErrClosed is returned by Publish after Close.
	ErrClosed = errors.New("bus: closed")
)

// Handler receives the events of a subscription. The ctx it receives carries
// the nesting depth: a handler that publishes must pass this ctx (or one
// derived from it) to Publish for the depth limit to apply. A returned error
// is logged and counted; it never reaches the publisher.
type Handler func(ctx context.Context, ev event.Event) error

// Bus is an in-process event bus. The zero value is not usable; create one
// with New. A Bus is safe for concurrent use.
type Bus struct {
	// Read by every publish.
	snap     atomic.Pointer[snapshot]
	rootCtx  atomic.Pointer[depthCtx]
	closed   atomic.Bool
	maxDepth int
	logger   *slog.Logger
	hist     *ring // nil when history is disabled

	// Written by every publish (when history is off), kept off the cache
	// line above so that publishers on other cores do not invalidate it.
	_         [64]byte
	published atomic.Uint64 // used only when hist == nil
	_         [56]byte

	failed  atomic.Uint64
	panics  atomic.Uint64
	dropped atomic.Uint64

	mu      sync.Mutex // serialises subscription changes
	subs    []*Subscription
	nextID  uint64
	retired SubscriptionStats // counters of closed subscriptions
}

// Option configures a Bus in New.
type Option func(*config)

type config struct {
	history  int
	maxDepth int
	logger   *slog.Logger
}

// WithHistory sets the number of recent events kept in the history ring.
// 0 disables history. It panics if n is negative or larger than MaxHistory.
func WithHistory(n int) Option {
	if n < 0 || n > MaxHistory {
		panic(fmt.Sprintf("bus: WithHistory(%d): size must be between 0 and %d", n, MaxHistory))
	}
	return func(c *config) { c.history = n }
}

// WithMaxDepth sets how deeply publishes may nest (a handler publishing from
// within a delivery). A Publish made at depth n fails with ErrMaxDepth. It
// panics if n is below 1 or above MaxMaxDepth.
func WithMaxDepth(n int) Option {
	if n < 1 || n > MaxMaxDepth {
		panic(fmt.Sprintf("bus: WithMaxDepth(%d): depth must be between 1 and %d", n, MaxMaxDepth))
	}
	return func(c *config) { c.maxDepth = n }
}

// WithLogger sets the logger for handler failures, panics and drops. The
// default (or nil) is slog.Default() at the time of logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// New returns a Bus with a history of DefaultHistory events and a depth limit
// of DefaultMaxDepth, changed by opts. Invalid options panic when they are
// constructed (WithHistory(-1) panics), naming the option and the value.
func New(opts ...Option) *Bus {
	c := config{history: DefaultHistory, maxDepth: DefaultMaxDepth}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	b := &Bus{maxDepth: c.maxDepth, logger: c.logger}
	if c.history > 0 {
		b.hist = newRing(c.history)
	}
	b.snap.Store(&snapshot{})
	return b
}

// Publish delivers ev synchronously, in the caller's goroutine, to every
// subscription matching its type that was live when Publish began, in
// subscription order. A missing event id or timestamp is filled in first
// (event.Stamp) and the event is appended to the history before any handler
// runs, so a nested publish appears after its cause.
//
// Publish returns an error only when ev is nil (ErrNilEvent), the bus is
// closed (ErrClosed), ctx is already done (the error wraps ctx.Err(); nothing
// is published), the nesting depth limit is reached (ErrMaxDepth), or an
// asynchronous subscription with the Block policy could not take the event
// before ctx was done (the error wraps ctx.Err(); the other subscriptions
// still receive the event). A failing or panicking handler never makes
// Publish fail: the failure is logged and counted in Stats.
//
// ev must be a non-nil pointer to an event of the catalog; handlers share it
// and must not modify it.
func (b *Bus) Publish(ctx context.Context, ev event.Event) error {
	if ev == nil {
		return ErrNilEvent
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: publish %s: %w", ev.WireName(), err)
	}
	if b.closed.Load() {
		return ErrClosed
	}
	// The handler context: from the one-entry cache of the last root
	// context (the common case: a publisher reusing its context), else from
	// the publisher's own handler context, else new.
	hctx := b.rootCtx.Load()
	if hctx == nil || hctx.Context != ctx {
		var err error
		if hctx, err = b.handlerCtx(ctx, ev); err != nil {
			return err
		}
	}
	event.Stamp(ev)
	if b.hist != nil {
		b.hist.add(ev)
	} else {
		b.published.Add(1)
	}
	subs := b.snap.Load().byType[ev.Type().Index]
	if len(subs) == 0 {
		return nil
	}
	var errs error
	for i := 0; i < len(subs); {
		i = b.dispatch(ctx, hctx, subs, i, ev, &errs)
	}
	return errs
}

// handlerCtx returns the context for the handlers of a publish on ctx, or
// ErrMaxDepth when ctx is already at the bus's depth limit.
func (b *Bus) handlerCtx(ctx context.Context, ev event.Event) (*depthCtx, error) {
	slot, depth := depthOf(ctx)
	if depth >= b.maxDepth {
		return nil, fmt.Errorf("%w: %s at depth %d (limit %d)", ErrMaxDepth, ev.WireName(), depth, b.maxDepth)
	}
	if slot != nil {
		return childOf(slot, ctx, depth), nil
	}
	return b.rootChild(ctx, depth), nil
}

// dispatch delivers ev to subs[i:] and returns len(subs). A panicking handler
// ends the loop early: the deferred recover isolates it, and dispatch returns
// the index after it so Publish resumes with the next subscription. One
// deferred recover per publish, rather than one per handler call, keeps the
// loop cheap.
func (b *Bus) dispatch(ctx context.Context, hctx *depthCtx, subs []*Subscription, i int, ev event.Event, errs *error) (next int) {
	defer func() {
		if r := recover(); r != nil {
			b.recovered(hctx, subs[next], ev, r)
			next++
		}
	}()
	for next = i; next < len(subs); next++ {
		s := subs[next]
		if s.closed.Load() {
			continue
		}
		if s.async != nil {
			if err := b.enqueue(ctx, hctx.detached(), s, ev); err != nil {
				*errs = errors.Join(*errs, err)
			}
			continue
		}
		if err := s.h(hctx, ev); err != nil {
			b.handlerFailed(hctx, s, ev, err)
			continue
		}
		s.delivered.Add(1)
	}
	return next
}

// PublishAll publishes evs in order with Publish. It stops at the first
// error and returns it, naming the index of the event that failed; the
// events before it have been published.
func (b *Bus) PublishAll(ctx context.Context, evs []event.Event) error {
	for i, ev := range evs {
		if err := b.Publish(ctx, ev); err != nil {
			return fmt.Errorf("bus: PublishAll: event %d: %w", i, err)
		}
	}
	return nil
}

// call runs one synchronous handler with failure and panic isolation.
func (b *Bus) call(ctx context.Context, s *Subscription, ev event.Event) {
	defer func() {
		if r := recover(); r != nil {
			b.recovered(ctx, s, ev, r)
		}
	}()
	if err := s.h(ctx, ev); err != nil {
		b.handlerFailed(ctx, s, ev, err)
		return
	}
	s.delivered.Add(1)
}

func (b *Bus) log() *slog.Logger {
	if b.logger != nil {
		return b.logger
	}
	return slog.Default()
}

func (b *Bus) handlerFailed(ctx context.Context, s *Subscription, ev event.Event, err error) {
	s.failed.Add(1)
	b.failed.Add(1)
	b.log().LogAttrs(ctx, slog.LevelError, "bus: handler failed",
		slog.String("event_type", ev.WireName()),
		slog.String("event_id", ev.EventID()),
		slog.String("subscription", s.name),
		slog.Any("error", err))
}

func (b *Bus) recovered(ctx context.Context, s *Subscription, ev event.Event, r any) {
	s.panics.Add(1)
	b.panics.Add(1)
	b.log().LogAttrs(ctx, slog.LevelError, "bus: handler panicked",
		slog.String("event_type", ev.WireName()),
		slog.String("event_id", ev.EventID()),
		slog.String("subscription", s.name),
		slog.Any("panic", r),
		slog.String("stack", string(debug.Stack())))
}

// Stats are a Bus's counters since New.
type Stats struct {
	// Published counts events accepted by Publish.
	Published uint64
	// Delivered counts handler calls that returned nil. Deliveries still
	// running while their subscription closes may be missing.
	Delivered uint64
	// Failed counts handler calls that returned an error.
	Failed uint64
	// Panics counts handler calls that panicked.
	Panics uint64
	// Dropped counts events an asynchronous subscription did not take: a
	// full DropNewest queue, or a Block queue that stayed full until the
	// publisher's context was done.
	Dropped uint64
	// Subscriptions is the number of live subscriptions.
	Subscriptions int
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	st := Stats{
		Failed:  b.failed.Load(),
		Panics:  b.panics.Load(),
		Dropped: b.dropped.Load(),
	}
	if b.hist != nil {
		st.Published = b.hist.published()
	} else {
		st.Published = b.published.Load()
	}
	b.mu.Lock()
	st.Delivered = b.retired.Delivered
	for _, s := range b.subs {
		st.Delivered += s.delivered.Load()
		if !s.closed.Load() {
			st.Subscriptions++
		}
	}
	b.mu.Unlock()
	return st
}

// SubscriberCount returns the number of live subscriptions that receive
// events of typ (type, category and all-event subscriptions alike), or the
// total number of live subscriptions when typ is nil.
func (b *Bus) SubscriberCount(typ *event.Type) int {
	s := b.snap.Load()
	if typ == nil {
		return s.total
	}
	return len(s.byType[typ.Index])
}

// Close closes every subscription (draining asynchronous queues) and makes
// later Publish calls fail with ErrClosed. Subscriptions made after Close are
// returned already closed. Close is idempotent. Like Subscription.Close it
// waits for asynchronous queues to drain, so an asynchronous handler must not
// call it synchronously.
func (b *Bus) Close() {
	b.closed.Store(true)
	b.mu.Lock()
	subs := append([]*Subscription(nil), b.subs...)
	b.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}
