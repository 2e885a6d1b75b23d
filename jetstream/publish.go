package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// Defaults of PublisherOptions.
const (
	DefaultWindow       = 4096
	DefaultAckTimeout   = 5 * time.Second
	DefaultRetryBackoff = 100 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Second
	DefaultRetryFor     = time.Minute
)

// ErrNotAcknowledged is returned (wrapped, with the last cause) when
// JetStream did not acknowledge an event within PublisherOptions.RetryFor
// or before the context ended. The event may or may not be in the stream:
// publishing it again is safe (see Publisher).
var ErrNotAcknowledged = errors.New("jetstream: event not acknowledged")

// PublisherOptions configures a Publisher. Zero fields take the defaults.
type PublisherOptions struct {
	// SubjectPrefix starts the subjects (default DefaultSubjectPrefix); it
	// must match the stream's (StreamConfig.SubjectPrefix).
	SubjectPrefix string
	// Window bounds the events PublishBatch has in flight, published and
	// not yet acknowledged (default DefaultWindow).
	Window int
	// AckTimeout bounds the wait for one acknowledgement before the
	// event is published again (default DefaultAckTimeout).
	AckTimeout time.Duration
	// RetryBackoff is the first pause before publishing again after a
	// failure (default DefaultRetryBackoff); it doubles up to MaxBackoff
	// (default DefaultMaxBackoff).
	RetryBackoff, MaxBackoff time.Duration
	// RetryFor bounds how long a publish keeps retrying (default
	// DefaultRetryFor; the context may end it sooner).
	RetryFor time.Duration
	// Logger receives one line per retry round (default slog.Default()).
	Logger *slog.Logger
}

// Publisher publishes events to the stream and returns only once
// JetStream has acknowledged each of them: the stream has stored it (on
// Replicas servers, see the package documentation). Every event is sent
// with its event id as Nats-Msg-Id, so that the stream drops a second
// copy published within its duplicates window, and the consumers' store
// records an event id once in any case: a publish that failed or timed
// out can always be repeated. While NATS is unreachable, or the stream
// is full, a publish retries with exponential backoff and, when
// RetryFor runs out, returns an error wrapping ErrNotAcknowledged that
// says why. It is safe for concurrent use.
type Publisher struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts PublisherOptions
	log  *slog.Logger
}

// NewPublisher returns a Publisher on the connection nc (see Connect).
func NewPublisher(nc *nats.Conn, opts PublisherOptions) (*Publisher, error) {
	if opts.SubjectPrefix == "" {
		opts.SubjectPrefix = DefaultSubjectPrefix
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = DefaultRetryFor
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(opts.Window))
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Publisher{nc: nc, js: js, opts: opts, log: log}, nil
}

// message is one encoded event ready to publish.
type message struct {
	subject, id string
	data        []byte
}

func (p *Publisher) encode(ev event.Event) (message, error) {
	if ev.EventID() == "" {
		return message{}, fmt.Errorf("jetstream: publish %s: empty event_id", ev.WireName())
	}
	data, err := event.Encode(ev)
	if err != nil {
		return message{}, fmt.Errorf("jetstream: publish %s: %w", ev.EventID(), err)
	}
	return message{subject: Subject(p.opts.SubjectPrefix, ev), id: ev.EventID(), data: data}, nil
}

func (m message) msg() *nats.Msg {
	return &nats.Msg{Subject: m.subject, Data: m.data, Header: nats.Header{jetstream.MsgIDHeader: []string{m.id}}}
}

// Publish publishes ev and returns once JetStream acknowledged it.
func (p *Publisher) Publish(ctx context.Context, ev event.Event) error {
	m, err := p.encode(ev)
	if err != nil {
		return err
	}
	_, err = p.publish(ctx, []message{m})
	return err
}

// PublishBatch publishes evs, up to Window at a time in flight, and
// returns once JetStream acknowledged every one of them, or with the
// number acknowledged and the error that stopped it. The events reach
// the stream in slice order except around a failure, when those not
// acknowledged are published again after those that were.
func (p *Publisher) PublishBatch(ctx context.Context, evs []event.Event) (int, error) {
	ms := make([]message, len(evs))
	for i, ev := range evs {
		m, err := p.encode(ev)
		if err != nil {
			return 0, err
		}
		ms[i] = m
	}
	return p.publish(ctx, ms)
}

// PublishEncoded is PublishBatch for events already encoded (data[i] is
// the JSON of evs[i], as event.Encode writes it or as it was read).
func (p *Publisher) PublishEncoded(ctx context.Context, evs []event.Event, data [][]byte) (int, error) {
	if len(evs) != len(data) {
		return 0, fmt.Errorf("jetstream: %d events, %d documents", len(evs), len(data))
	}
	ms := make([]message, len(evs))
	for i, ev := range evs {
		if ev.EventID() == "" {
			return 0, fmt.Errorf("jetstream: publish %s: empty event_id", ev.WireName())
		}
		ms[i] = message{subject: Subject(p.opts.SubjectPrefix, ev), id: ev.EventID(), data: data[i]}
	}
	return p.publish(ctx, ms)
}

// publish sends ms asynchronously in windows, waits for the
// acknowledgements, and sends again what was not acknowledged, with
// backoff, until every one is or RetryFor (or ctx) runs out.
func (p *Publisher) publish(ctx context.Context, ms []message) (int, error) {
	deadline := time.Now().Add(p.opts.RetryFor)
	backoff := p.opts.RetryBackoff
	pending := ms
	acked := 0
	for attempt := 1; ; attempt++ {
		failed, cause := p.round(ctx, pending)
		acked += len(pending) - len(failed)
		if len(failed) == 0 {
			return acked, nil
		}
		pending = failed
		cause = p.clarify(cause)
		left := time.Until(deadline)
		if ctx.Err() != nil || left <= 0 {
			reason := cause
			if ctx.Err() != nil {
				reason = ctx.Err()
			}
			return acked, fmt.Errorf("%w: %d of %d events after %d attempts in %s: %w", ErrNotAcknowledged, len(failed), len(ms), attempt, p.opts.RetryFor, reason)
		}
		wait := min(backoff, left)
		p.log.Warn("jetstream: events not acknowledged; publishing them again", "events", len(failed), "attempt", attempt, "retry_in", wait, "error", cause)
		if !sleepCtx(ctx, wait) {
			return acked, fmt.Errorf("%w: %d of %d events: %w", ErrNotAcknowledged, len(failed), len(ms), ctx.Err())
		}
		backoff = min(2*backoff, p.opts.MaxBackoff)
	}
}

// clarify names the cause of a failure in the reader's terms.
func (p *Publisher) clarify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("connection to NATS closed: %w", err)
	case !p.nc.IsConnected():
		return fmt.Errorf("NATS server unreachable, reconnecting (status %s): %w", p.nc.Status(), err)
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return fmt.Errorf("no stream answers on the subject (is the stream created, its JetStream up?): %w", err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (strings.Contains(apiErr.Description, "maximum")) {
		return fmt.Errorf("stream full (backlog at its limit; waiting for the consumers): %w", err)
	}
	return err
}

// round publishes ms once and returns those not acknowledged and the
// first error seen.
func (p *Publisher) round(ctx context.Context, ms []message) (failed []message, cause error) {
	if len(ms) == 1 {
		actx, cancel := context.WithTimeout(ctx, p.opts.AckTimeout)
		_, err := p.js.PublishMsg(actx, ms[0].msg(), jetstream.WithMsgID(ms[0].id))
		cancel()
		if err != nil {
			return ms, err
		}
		return nil, nil
	}
	for start := 0; start < len(ms); start += p.opts.Window {
		end := min(start+p.opts.Window, len(ms))
		futures := make([]jetstream.PubAckFuture, end-start)
		for i := start; i < end; i++ {
			f, err := p.js.PublishMsgAsync(ms[i].msg(), jetstream.WithMsgID(ms[i].id))
			if err != nil {
				if cause == nil {
					cause = err
				}
				failed = append(failed, ms[i])
				continue
			}
			futures[i-start] = f
		}
		timer := time.NewTimer(p.opts.AckTimeout)
		late := false // the wait ran out: what is not acknowledged now is late
		for i, f := range futures {
			if f == nil {
				continue
			}
			var err error
			if late {
				select {
				case <-f.Ok():
					continue
				case err = <-f.Err():
				default:
					err = fmt.Errorf("no acknowledgement within %s", p.opts.AckTimeout)
				}
			} else {
				select {
				case <-f.Ok():
					continue
				case err = <-f.Err():
				case <-timer.C:
					late = true
					err = fmt.Errorf("no acknowledgement within %s", p.opts.AckTimeout)
				case <-ctx.Done():
					late = true
					err = ctx.Err()
				}
			}
			if cause == nil {
				cause = err
			}
			failed = append(failed, ms[start+i])
		}
		timer.Stop()
	}
	return failed, cause
}

// NewBridge returns a disabled bus bridge that publishes every event of b
// (of the given types; all when none) through p, synchronously in the
// publishing goroutine: bus.Publish returns once JetStream acknowledged
// the event, or the bus logs and counts the failure (as for any failing
// handler) after p gave up retrying. It follows bus.Bridge's contract:
// Enable and Disable are idempotent, the bridge holds one subscription at
// most, and it keeps neither the bus nor the subscription alive.
func NewBridge(b *bus.Bus, p *Publisher, types ...*event.Type) *bus.SinkBridge {
	return bus.NewSinkBridge(b, types, p.Publish)
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// JetStream returns the JetStream context the publisher uses.
func (p *Publisher) JetStream() jetstream.JetStream { return p.js }
