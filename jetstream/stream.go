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

	"github.com/wtbdev/wtb/event"
)

// Defaults of StreamConfig.
const (
	// DefaultStream is the name of the stream that carries wtb's events.
	DefaultStream = "WTB_EVENTS"
	// DefaultSubjectPrefix starts every subject: an event is published on
	// <prefix>.<category>.<wire name>.
	DefaultSubjectPrefix = "wtb.events"
	// DefaultMaxAge is how long the stream keeps an event that no consumer
	// has recorded yet.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultMaxBytes bounds the backlog's size on the server: 10 GiB.
	DefaultMaxBytes = 10 << 30
	// DefaultMaxMsgs bounds the backlog's events: 50 million.
	DefaultMaxMsgs = 50_000_000
	// DefaultReplicas is the number of servers that store each event. One
	// suits a single server; a cluster should use 3 (see the package
	// documentation).
	DefaultReplicas = 1
	// DefaultDuplicates is the window in which the stream drops a second
	// publish of the same event id.
	DefaultDuplicates = 2 * time.Minute
)

// StreamConfig describes the stream. Zero fields take the defaults.
//
// The stream is a work queue (an event is removed once a consumer has
// recorded it and acknowledged it) that refuses new events when full
// (discard new): publishers get an error and retry, and nothing
// accepted is ever dropped to make room. Its limits therefore bound the
// backlog: the events accepted but not yet recorded, for example while
// PostgreSQL is down. MaxAge is the one limit that deletes events: an
// event not recorded within MaxAge is removed unrecorded.
type StreamConfig struct {
	// Name is the stream's name (default DefaultStream).
	Name string
	// SubjectPrefix starts every subject (default DefaultSubjectPrefix).
	SubjectPrefix string
	// MaxAge bounds how long an unrecorded event is kept (default
	// DefaultMaxAge; negative: forever).
	MaxAge time.Duration
	// MaxBytes bounds the backlog in bytes (default DefaultMaxBytes;
	// negative: no limit).
	MaxBytes int64
	// MaxMsgs bounds the backlog in events (default DefaultMaxMsgs;
	// negative: no limit).
	MaxMsgs int64
	// Replicas is the number of servers storing each event (default
	// DefaultReplicas, at most 5).
	Replicas int
	// Duplicates is the deduplication window of event ids (default
	// DefaultDuplicates).
	Duplicates time.Duration
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c StreamConfig) WithDefaults() StreamConfig {
	if c.Name == "" {
		c.Name = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxMsgs == 0 {
		c.MaxMsgs = DefaultMaxMsgs
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	return c
}

// Validate reports, wrapped in ErrConfig, what is wrong with c (after
// WithDefaults).
func (c StreamConfig) Validate() error {
	switch {
	case strings.ContainsAny(c.Name, ". *>\t\r\n"):
		return fmt.Errorf("%w: stream name %q: no dots, spaces, * or >", ErrConfig, c.Name)
	case c.SubjectPrefix != "" && (strings.ContainsAny(c.SubjectPrefix, " *>\t\r\n") ||
		strings.HasPrefix(c.SubjectPrefix, ".") || strings.HasSuffix(c.SubjectPrefix, ".")):
		return fmt.Errorf("%w: subject prefix %q: dot-separated tokens without spaces, * or >", ErrConfig, c.SubjectPrefix)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("%w: replicas %d: want 1 to 5", ErrConfig, c.Replicas)
	case c.Duplicates < 0:
		return fmt.Errorf("%w: negative duplicates window", ErrConfig)
	case c.MaxAge > 0 && c.Duplicates > c.MaxAge:
		return fmt.Errorf("%w: duplicates window %s longer than max age %s", ErrConfig, c.Duplicates, c.MaxAge)
	}
	return nil
}

// ErrConfig is returned for an unusable configuration.
var ErrConfig = errors.New("jetstream: invalid configuration")

// natsConfig is the server-side stream configuration of c.
func (c StreamConfig) natsConfig() jetstream.StreamConfig {
	limit := func(v int64) int64 {
		if v < 0 {
			return -1
		}
		return v
	}
	age := c.MaxAge
	if age < 0 {
		age = 0 // forever
	}
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: "wtb events waiting to be recorded",
		Subjects:    []string{c.SubjectPrefix + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      age,
		MaxBytes:    limit(c.MaxBytes),
		MaxMsgs:     limit(c.MaxMsgs),
		MaxMsgSize:  event.MaxEventSize,
		Replicas:    c.Replicas,
		Duplicates:  c.Duplicates,
		Storage:     jetstream.FileStorage,
	}
}

// EnsureStream creates the stream, or updates it to c when it exists
// (limits and replicas can change; the subjects must not collide with
// another stream's).
func EnsureStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (jetstream.Stream, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	st, err := js.CreateOrUpdateStream(ctx, c.natsConfig())
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream %s: %w", c.Name, err)
	}
	return st, nil
}

// FindOrCreateStream returns the stream c names, creating it with c when
// it does not exist; an existing stream keeps its configuration (the one
// the consumers' EnsureStream set). Publishers use it.
func FindOrCreateStream(ctx context.Context, js jetstream.JetStream, c StreamConfig) (jetstream.Stream, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, c.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, c.natsConfig())
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			st, err = js.Stream(ctx, c.Name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream %s: %w", c.Name, err)
	}
	return st, nil
}

// Subject returns the subject ev is published on: prefix.category.wire
// name. A wire name with dots (file_commit.created) makes more tokens;
// characters a subject cannot hold (spaces, * and >) become _.
func Subject(prefix string, ev event.Event) string {
	t := ev.Type()
	wire := ev.WireName()
	if strings.ContainsAny(wire, " *>\t\r\n") {
		wire = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '*', '>', '\t', '\r', '\n':
				return '_'
			}
			return r
		}, wire)
	}
	return prefix + "." + string(t.Category) + "." + wire
}

// Connection defaults of Connect.
const (
	// ReconnectWait is the pause between attempts to reach the server.
	ReconnectWait = time.Second
	// ConnectTimeout bounds one attempt.
	ConnectTimeout = 5 * time.Second
)

// Connect connects to the NATS server at url (nats://host:port, or a
// comma-separated list of a cluster's servers) and keeps reconnecting
// forever, every ReconnectWait, whenever the connection is lost; with
// waitForServer set it also returns at once when no server answers yet,
// and connects in the background. Connection changes are logged.
func Connect(url, name string, waitForServer bool, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.Default()
	}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(ReconnectWait),
		nats.Timeout(ConnectTimeout),
		nats.RetryOnFailedConnect(waitForServer),
		nats.ReconnectBufSize(-1), // publishes fail at once while disconnected; they are retried by the caller
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // closed on purpose
			}
			log.Warn("jetstream: disconnected from NATS; reconnecting", "url", url, "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("jetstream: reconnected to NATS", "server", c.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(c *nats.Conn) {
			log.Info("jetstream: connected to NATS", "server", c.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect to %s: %w", url, err)
	}
	return nc, nil
}
