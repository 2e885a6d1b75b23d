package audit

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// Sink receives the entries a Listener makes. Trail and Recorder are Sinks.
type Sink interface {
	// Record takes one entry. An error is returned to the bus, which logs and
	// counts it.
	Record(ctx context.Context, e Entry) error
}

// ListenerOption configures a Listener.
type ListenerOption func(*Listener)

// WithTypes makes the listener record only events of the given types.
// WithTypes() with no types records nothing. Without WithTypes a listener
// records every event type.
func WithTypes(types ...*event.Type) ListenerOption {
	return func(l *Listener) {
		l.types = make([]*event.Type, 0, len(types))
		for _, t := range types {
			if t != nil && !slices.Contains(l.types, t) {
				l.types = append(l.types, t)
			}
		}
	}
}

// WithName names the listener's bus subscription (for the bus's logs and
// stats); the default is "audit".
func WithName(name string) ListenerOption {
	return func(l *Listener) { l.name = name }
}

// Listener records the events published on a bus into a Sink: each event
// it receives is mapped with FromEvent and handed to the sink in the
// publisher's goroutine. It is safe for concurrent use.
type Listener struct {
	sink  Sink
	types []*event.Type // nil: every type
	name  string

	mu  sync.Mutex
	bus *bus.Bus
	sub *bus.Subscription
}

// NewListener returns a detached listener recording into sink: every event
// type, unless WithTypes chooses a set.
func NewListener(sink Sink, opts ...ListenerOption) *Listener {
	if sink == nil {
		panic("audit: NewListener: nil sink")
	}
	l := &Listener{sink: sink, name: "audit"}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	return l
}

// Types returns the event types the listener records; nil means all.
func (l *Listener) Types() []*event.Type {
	if l.types == nil {
		return nil
	}
	return slices.Clone(l.types)
}

// Attach subscribes the listener to b, detaching it first from the bus it
// was attached to. With an empty type set it is attached but subscribes to
// nothing.
func (l *Listener) Attach(b *bus.Bus) {
	if b == nil {
		panic("audit: Listener.Attach: nil bus")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.detachLocked()
	l.bus = b
	switch {
	case l.types == nil:
		l.sub = b.SubscribeAll(l.handle, bus.Name(l.name))
	case len(l.types) > 0:
		l.sub = b.SubscribeTypes(l.types, l.handle, bus.Name(l.name))
	}
}

// Detach unsubscribes the listener. It is a no-op when not attached.
func (l *Listener) Detach() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.detachLocked()
}

func (l *Listener) detachLocked() {
	if l.sub != nil {
		l.sub.Close()
	}
	l.sub, l.bus = nil, nil
}

// Bus returns the bus the listener is attached to, or nil.
func (l *Listener) Bus() *bus.Bus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bus
}

func (l *Listener) handle(ctx context.Context, ev event.Event) error {
	if err := l.sink.Record(ctx, FromEvent(ev)); err != nil {
		return fmt.Errorf("audit: listener: recording %s %s: %w", ev.WireName(), ev.EventID(), err)
	}
	return nil
}
