package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"weak"

	"github.com/wtbdev/wtb/event"
)

// ErrBusGone is returned by Bridge.Enable when the bridge's Bus has been
// garbage collected.
var ErrBusGone = errors.New("bus: the bridge's bus has been discarded")

// Bridge connects a Bus to an outside event system. Enable attaches it
// (enabling an enabled bridge does nothing), Disable detaches exactly the
// bridge's own registrations (disabling a disabled bridge does nothing), and
// Enabled reports the state. A bridge never keeps its Bus alive: once the
// program drops every other reference to the Bus, the Bus is collected and
// the bridge's registrations on the outside system are removed.
type Bridge interface {
	// Enable attaches the bridge; it does nothing if already enabled.
	Enable() error
	// Disable detaches exactly the bridge's own registrations; it does
	// nothing if already disabled.
	Disable() error
	// Enabled reports whether the bridge is attached.
	Enabled() bool
}

// Source is an outside event source, for example another library's event
// bus. Subscribe registers handler and returns a function that removes
// exactly that registration; the function may be called more than once.
type Source interface {
	// Subscribe registers handler for the source's events.
	Subscribe(handler func(msg any)) (unsubscribe func(), err error)
}

// SourceBridge publishes the messages of a Source on a Bus, translated by a
// function. The handler it registers on the Source holds the Bus only through
// a weak pointer, and a cleanup attached to the Bus unregisters it when the
// Bus is collected, so a Bus that is dropped with the bridge still enabled is
// not kept alive by the Source (the reference's EVT-001 leak).
type SourceBridge struct {
	bus       weak.Pointer[Bus]
	src       Source
	translate func(msg any) (event.Event, bool)
	logger    *slog.Logger

	mu  sync.Mutex
	att *attachment // nil when disabled
}

// attachment is one enabled period of a SourceBridge. It must not refer to
// the Bus: a runtime cleanup of the Bus holds it.
type attachment struct {
	once    sync.Once
	unsub   func()
	cleanup runtime.Cleanup
}

func (a *attachment) detach() { a.once.Do(a.unsub) }

// NewSourceBridge returns a disabled bridge from src to b. translate turns a
// message of src into an event to publish, or returns false to ignore it; it
// must not refer to b (that would keep b alive). The bridge publishes with
// context.Background() and logs failed publishes with b's logger. It panics
// if an argument is nil.
func NewSourceBridge(b *Bus, src Source, translate func(msg any) (event.Event, bool)) *SourceBridge {
	if b == nil || src == nil || translate == nil {
		panic("bus: NewSourceBridge: nil argument")
	}
	return &SourceBridge{bus: weak.Make(b), src: src, translate: translate, logger: b.logger}
}

// Enable registers the bridge's handler on the source. It does nothing if the
// bridge is enabled, and returns ErrBusGone if the Bus has been collected or
// the source's error, wrapped.
func (br *SourceBridge) Enable() error {
	br.mu.Lock()
	defer br.mu.Unlock()
	b := br.bus.Value()
	if b == nil {
		br.att = nil // the bus's cleanup has detached it
		return ErrBusGone
	}
	if br.att != nil {
		return nil
	}
	wp, translate, logger := br.bus, br.translate, br.logger
	handler := func(msg any) {
		b := wp.Value()
		if b == nil {
			return
		}
		ev, ok := translate(msg)
		if !ok || ev == nil {
			return
		}
		if err := b.Publish(context.Background(), ev); err != nil {
			l := logger
			if l == nil {
				l = slog.Default()
			}
			l.LogAttrs(context.Background(), slog.LevelError, "bus: bridge publish failed",
				slog.String("event_type", ev.WireName()), slog.Any("error", err))
		}
	}
	unsub, err := br.src.Subscribe(handler)
	if err != nil {
		return fmt.Errorf("bus: enable source bridge: %w", err)
	}
	a := &attachment{unsub: unsub}
	a.cleanup = runtime.AddCleanup(b, (*attachment).detach, a)
	br.att = a
	runtime.KeepAlive(b)
	return nil
}

// Disable removes the bridge's handler from the source. It does nothing if
// the bridge is disabled.
func (br *SourceBridge) Disable() error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.att == nil {
		return nil
	}
	br.att.cleanup.Stop()
	br.att.detach()
	br.att = nil
	return nil
}

// Enabled reports whether the bridge is enabled. A bridge whose Bus has been
// collected is not enabled.
func (br *SourceBridge) Enabled() bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.att != nil && br.bus.Value() != nil
}

// SinkBridge forwards the events of a Bus to an outside sink through one
// subscription, made on Enable and closed on Disable. The bridge refers to the
// subscription weakly, so it does not keep the Bus alive either.
type SinkBridge struct {
	bus   weak.Pointer[Bus]
	types []*event.Type
	sink  Handler
	opts  []SubOption

	mu  sync.Mutex
	sub weak.Pointer[Subscription]
	on  bool
}

// NewSinkBridge returns a disabled bridge that, once enabled, passes the
// events of b of the given types (every event when types is empty) to sink,
// subscribed with opts. It panics if b or sink is nil.
func NewSinkBridge(b *Bus, types []*event.Type, sink Handler, opts ...SubOption) *SinkBridge {
	if b == nil || sink == nil {
		panic("bus: NewSinkBridge: nil argument")
	}
	return &SinkBridge{bus: weak.Make(b), types: types, sink: sink, opts: opts}
}

// Enable subscribes the sink. It does nothing if the bridge is enabled, and
// returns ErrBusGone if the Bus has been collected.
func (br *SinkBridge) Enable() error {
	br.mu.Lock()
	defer br.mu.Unlock()
	b := br.bus.Value()
	if b == nil {
		br.on = false
		return ErrBusGone
	}
	if br.on {
		return nil
	}
	var s *Subscription
	if len(br.types) == 0 {
		s = b.SubscribeAll(br.sink, br.opts...)
	} else {
		s = b.SubscribeTypes(br.types, br.sink, br.opts...)
	}
	br.sub = weak.Make(s)
	br.on = true
	return nil
}

// Disable closes the sink's subscription. It does nothing if the bridge is
// disabled.
func (br *SinkBridge) Disable() error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if !br.on {
		return nil
	}
	if s := br.sub.Value(); s != nil {
		s.Close()
	}
	br.sub = weak.Pointer[Subscription]{}
	br.on = false
	return nil
}

// Enabled reports whether the bridge is enabled. A bridge whose Bus has been
// collected is not enabled.
func (br *SinkBridge) Enabled() bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.on && br.bus.Value() != nil
}

// Interface checks.
var (
	_ Bridge = (*SourceBridge)(nil)
	_ Bridge = (*SinkBridge)(nil)
)
