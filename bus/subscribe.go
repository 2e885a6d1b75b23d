package bus

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/wtbdev/wtb/event"
)

// snapshot is the immutable routing table read by Publish: for every event
// type index, the live subscriptions that receive it, in subscription order.
type snapshot struct {
	byType [event.NumTypes][]*Subscription
	total  int
}

// Subscription is the handle of one subscription. Close it to stop delivery.
type Subscription struct {
	h      Handler
	closed atomic.Bool
	async  *asyncQueue // nil for synchronous delivery

	// The counters live on their own cache line so that publishers on other
	// cores reading the fields above do not contend with the increments.
	_         [64]byte
	delivered atomic.Uint64
	failed    atomic.Uint64
	panics    atomic.Uint64
	dropped   atomic.Uint64

	bus   *Bus
	id    uint64
	name  string
	sel   selector
	close sync.Once
}

// selector says which events a subscription receives.
type selector struct {
	all      bool
	category event.Category
	types    []*event.Type
}

func (s selector) matches(t *event.Type) bool {
	switch {
	case s.all:
		return true
	case s.category != "":
		return t.Category == s.category
	default:
		return slices.Contains(s.types, t)
	}
}

// SubscriptionStats are one subscription's counters.
type SubscriptionStats struct {
	// Delivered counts handler calls that returned nil.
	Delivered uint64
	// Failed counts handler calls that returned an error.
	Failed uint64
	// Panics counts handler calls that panicked.
	Panics uint64
	// Dropped counts events an asynchronous subscription did not take.
	Dropped uint64
}

// ID returns the subscription's id, unique within its Bus, in subscription
// order.
func (s *Subscription) ID() uint64 { return s.id }

// Name returns the subscription's name: the one given with Name, or
// "sub-<id>".
func (s *Subscription) Name() string { return s.name }

// String returns the subscription's name.
func (s *Subscription) String() string { return s.name }

// Stats returns the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	return SubscriptionStats{
		Delivered: s.delivered.Load(),
		Failed:    s.failed.Load(),
		Panics:    s.panics.Load(),
		Dropped:   s.dropped.Load(),
	}
}

// Closed reports whether Close has been called.
func (s *Subscription) Closed() bool { return s.closed.Load() }

// Close removes the subscription from its bus. No delivery to it starts after
// Close returns (a delivery already running may finish). For an asynchronous
// subscription, Close waits until the events already queued have been
// handled and the subscription's goroutine has stopped; an asynchronous
// handler must therefore not call Close on its own subscription
// synchronously (use go sub.Close()). Close is idempotent and safe for
// concurrent use.
func (s *Subscription) Close() {
	s.close.Do(func() {
		s.closed.Store(true)
		s.bus.unroute(s)
		if s.async != nil {
			s.async.stop()
			<-s.async.done
		}
		s.bus.retire(s)
	})
	if s.async != nil {
		<-s.async.done
	}
}

// SubOption configures a subscription.
type SubOption func(*subConfig)

type subConfig struct {
	name      string
	queueSize int
	policy    Overflow
}

// Name sets the subscription's name used in logs and stats.
func Name(name string) SubOption {
	return func(c *subConfig) { c.name = name }
}

// Subscribe subscribes fn to events of type T, a pointer to one of the
// catalog's event structs (for example *event.ExecutionStarted). fn receives
// the concrete event; no type assertion is needed. It panics if fn is nil or
// T is not a concrete event type.
func Subscribe[T event.Event](b *Bus, fn func(ctx context.Context, ev T) error, opts ...SubOption) *Subscription {
	if fn == nil {
		panic("bus: Subscribe: nil handler")
	}
	var zero T
	if any(zero) == nil {
		panic("bus: Subscribe: T must be a concrete event type such as *event.ExecutionStarted; use SubscribeAll for every event")
	}
	h := func(ctx context.Context, ev event.Event) error { return fn(ctx, ev.(T)) }
	return b.subscribe(selector{types: []*event.Type{zero.Type()}}, h, opts)
}

// SubscribeTypes subscribes h to events of any of types. It panics if h is
// nil, types is empty or contains nil.
func (b *Bus) SubscribeTypes(types []*event.Type, h Handler, opts ...SubOption) *Subscription {
	if len(types) == 0 {
		panic("bus: SubscribeTypes: no types")
	}
	for i, t := range types {
		if t == nil {
			panic("bus: SubscribeTypes: nil type at index " + strconv.Itoa(i))
		}
	}
	return b.subscribe(selector{types: slices.Clone(types)}, h, opts)
}

// SubscribeCategory subscribes h to every event of category c. It panics if
// h is nil or c is not one of event.Categories.
func (b *Bus) SubscribeCategory(c event.Category, h Handler, opts ...SubOption) *Subscription {
	if !slices.Contains(event.Categories, c) {
		panic(fmt.Sprintf("bus: SubscribeCategory: unknown category %q", c))
	}
	return b.subscribe(selector{category: c}, h, opts)
}

// SubscribeAll subscribes h to every event. It panics if h is nil.
func (b *Bus) SubscribeAll(h Handler, opts ...SubOption) *Subscription {
	return b.subscribe(selector{all: true}, h, opts)
}

func (b *Bus) subscribe(sel selector, h Handler, opts []SubOption) *Subscription {
	if h == nil {
		panic("bus: subscribe: nil handler")
	}
	var c subConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	s := &Subscription{h: h, bus: b, sel: sel}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	s.id = b.nextID
	s.name = c.name
	if s.name == "" {
		s.name = "sub-" + strconv.FormatUint(s.id, 10)
	}
	if b.closed.Load() {
		s.closed.Store(true)
		s.close.Do(func() {})
		return s
	}
	if c.queueSize > 0 {
		s.async = newAsyncQueue(b, s, c.queueSize, c.policy)
	}
	b.subs = append(b.subs, s)
	b.rebuild()
	return s
}

// unroute takes the closed subscription s out of the routing table. It stays
// in b.subs, so Stats still counts it, until retire.
func (b *Bus) unroute(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rebuild()
}

// retire forgets the closed subscription s and folds its delivered count
// into the bus total.
func (b *Bus) retire(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.subs, s)
	if i < 0 {
		return
	}
	b.subs = slices.Delete(b.subs, i, i+1)
	b.retired.Delivered += s.delivered.Load()
}

// rebuild publishes a new snapshot of the open subscriptions of b.subs.
// b.mu must be held.
func (b *Bus) rebuild() {
	n := &snapshot{}
	for _, s := range b.subs {
		if !s.closed.Load() {
			n.total++
		}
	}
	for _, t := range event.Types() {
		var list []*Subscription
		for _, s := range b.subs {
			if !s.closed.Load() && s.sel.matches(t) {
				list = append(list, s)
			}
		}
		n.byType[t.Index] = list
	}
	b.snap.Store(n)
}
