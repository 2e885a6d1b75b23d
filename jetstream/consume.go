package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// Defaults of ConsumerOptions.
const (
	// DefaultConsumer is the durable consumer every instance shares.
	DefaultConsumer = "wtb-recorder"
	// DefaultAckWait is how long JetStream waits for an instance to
	// acknowledge a message before delivering it again (to any instance).
	DefaultAckWait = 30 * time.Second
	// DefaultMaxAckPending bounds the messages delivered to all instances
	// and not yet acknowledged.
	DefaultMaxAckPending = 20_000
	// DefaultBatch is the most events submitted to the recorder as one group.
	DefaultBatch = 1000
	// DefaultInFlight bounds the groups submitted and not yet committed.
	DefaultInFlight = 8
	// DefaultMetricsInterval is how often the lag and backlog age are read.
	DefaultMetricsInterval = 5 * time.Second
)

// Recorder records entries durably; *audit.Recorder is one. A group's
// receipt must report its commit (or failure).
type Recorder interface {
	Submit(ctx context.Context, entries []audit.Entry) (*audit.Receipt, error)
}

// ConsumerOptions configures a Consumer. Zero fields take the defaults.
type ConsumerOptions struct {
	// Stream is the stream consumed, created or updated on start.
	Stream StreamConfig
	// Durable names the durable pull consumer (default DefaultConsumer).
	// Every instance that uses the same name shares it: each message goes
	// to one instance at a time.
	Durable string
	// AckWait is the time an instance has to record and acknowledge a
	// message before JetStream delivers it again (default DefaultAckWait).
	AckWait time.Duration
	// MaxAckPending bounds the unacknowledged messages of the consumer,
	// all instances together (default DefaultMaxAckPending).
	MaxAckPending int
	// Batch is the most events submitted to the recorder as one group
	// (default DefaultBatch).
	Batch int
	// InFlight bounds the groups submitted and not yet committed (default
	// DefaultInFlight).
	InFlight int
	// RetryBackoff is the first pause after a failed commit or a failed
	// connection (default DefaultRetryBackoff); it doubles up to
	// MaxBackoff (default DefaultMaxBackoff).
	RetryBackoff, MaxBackoff time.Duration
	// MetricsInterval is how often the consumer's lag and the backlog's age
	// are read from the server (default DefaultMetricsInterval).
	MetricsInterval time.Duration
	// Registerer, when set, receives the consumer's metrics.
	Registerer prometheus.Registerer
	// Logger receives failures and retries (default slog.Default()).
	Logger *slog.Logger
}

// ConsumerStats are a Consumer's counters since StartConsumer.
type ConsumerStats struct {
	// Received counts messages delivered to this instance.
	Received uint64
	// Redelivered counts deliveries of messages delivered before (to any
	// instance).
	Redelivered uint64
	// Acked counts messages acknowledged after their commit (events
	// recorded, or found recorded already).
	Acked uint64
	// Duplicates counts acknowledged messages whose event was recorded
	// already (a redelivery, or a second publish).
	Duplicates uint64
	// Invalid counts messages that are not wtb events; they are
	// terminated (never delivered again) and logged.
	Invalid uint64
	// Failed counts messages whose commit failed; they were negatively
	// acknowledged and are delivered again.
	Failed uint64
}

// Consumer records the stream's events through a Recorder, as one of the
// instances sharing a durable pull consumer. A message is acknowledged only
// after the store commit of its event (or after the store reported the
// event recorded already); when the commit fails, the message is
// negatively acknowledged with a delay, the consumer pauses with backoff,
// and JetStream delivers it again. A message not acknowledged within
// AckWait (its instance died, say) is delivered again to any instance. The
// store is idempotent on event id, so a message delivered twice is
// recorded once.
type Consumer struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	rec  Recorder
	opts ConsumerOptions
	log  *slog.Logger

	msgs     chan jetstream.Msg
	inflight chan group
	stopping chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the acker has finished
	runDone  chan struct{}

	pauseUntil atomic.Int64 // unix nanos; the batcher waits until then
	backoff    atomic.Int64 // current backoff after failed commits

	received, redelivered, acked, duplicates, invalid, failed atomic.Uint64

	lag, backlogAge prometheus.Gauge
}

// group is one submitted group and its messages.
type group struct {
	r    *audit.Receipt
	msgs []jetstream.Msg
}

// StartConsumer starts consuming on nc (see Connect) into rec. It returns
// at once: the stream and the durable consumer are created, or found, in
// the background, again and again while NATS is unreachable. Stop it
// before closing rec.
func StartConsumer(nc *nats.Conn, rec Recorder, opts ConsumerOptions) (*Consumer, error) {
	opts.Stream = opts.Stream.WithDefaults()
	if err := opts.Stream.Validate(); err != nil {
		return nil, err
	}
	if opts.Durable == "" {
		opts.Durable = DefaultConsumer
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultAckWait
	}
	if opts.MaxAckPending <= 0 {
		opts.MaxAckPending = DefaultMaxAckPending
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.InFlight <= 0 {
		opts.InFlight = DefaultInFlight
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MetricsInterval <= 0 {
		opts.MetricsInterval = DefaultMetricsInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	c := &Consumer{
		nc: nc, js: js, rec: rec, opts: opts, log: log,
		msgs:     make(chan jetstream.Msg, 2*opts.Batch),
		inflight: make(chan group, opts.InFlight),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		runDone:  make(chan struct{}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wtb_jetstream_consumer_lag",
			Help: "Events of the stream the shared consumer has not had acknowledged yet: not yet delivered plus delivered and unacknowledged (all instances).",
		}),
		backlogAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wtb_jetstream_backlog_age_seconds",
			Help: "Age of the oldest event in the stream not yet recorded and acknowledged (0 when the backlog is empty).",
		}),
	}
	c.backoff.Store(int64(opts.RetryBackoff))
	if opts.Registerer != nil {
		if err := c.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	go c.run()
	go c.batch()
	go c.ack()
	return c, nil
}

func (c *Consumer) register(reg prometheus.Registerer) error {
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	for _, col := range []prometheus.Collector{
		c.lag, c.backlogAge,
		counter("wtb_jetstream_received_total", "Messages delivered to this instance.", &c.received),
		counter("wtb_jetstream_redeliveries_total", "Deliveries to this instance of messages delivered before.", &c.redelivered),
		counter("wtb_jetstream_acked_total", "Messages acknowledged after the store commit of their event.", &c.acked),
		counter("wtb_jetstream_duplicates_total", "Acknowledged messages whose event was recorded already.", &c.duplicates),
		counter("wtb_jetstream_invalid_total", "Messages that are not wtb events (terminated, never redelivered).", &c.invalid),
		counter("wtb_jetstream_commit_failures_total", "Messages whose store commit failed (negatively acknowledged, redelivered).", &c.failed),
	} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("jetstream: metrics: %w", err)
		}
	}
	return nil
}

// Stats returns the consumer's counters.
func (c *Consumer) Stats() ConsumerStats {
	return ConsumerStats{
		Received: c.received.Load(), Redelivered: c.redelivered.Load(),
		Acked: c.acked.Load(), Duplicates: c.duplicates.Load(),
		Invalid: c.invalid.Load(), Failed: c.failed.Load(),
	}
}

// Stop stops taking messages, waits for the commits in flight and
// acknowledges them. Messages received and not yet submitted are
// negatively acknowledged, so that another instance takes them at once.
// It returns ctx's error if ctx ends first (the messages left are then
// delivered again after AckWait).
func (c *Consumer) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stopping) })
	select {
	case <-c.done:
	case <-ctx.Done():
		return fmt.Errorf("jetstream: stop: %w", ctx.Err())
	}
	select {
	case <-c.runDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jetstream: stop: %w", ctx.Err())
	}
}

// run keeps a Consume going on the durable consumer until Stop.
func (c *Consumer) run() {
	defer close(c.runDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := c.opts.RetryBackoff
	for ctx.Err() == nil {
		cons, err := c.setUp(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("jetstream: cannot set up the stream's consumer; retrying", "stream", c.opts.Stream.Name, "consumer", c.opts.Durable, "retry_in", backoff, "error", err)
			sleepCtx(ctx, backoff)
			backoff = min(2*backoff, c.opts.MaxBackoff)
			continue
		}
		backoff = c.opts.RetryBackoff
		lost := make(chan struct{})
		var lostOnce sync.Once
		cc, err := cons.Consume(c.handle,
			jetstream.PullMaxMessages(2*c.opts.Batch),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
					lostOnce.Do(func() { close(lost) })
				}
				c.log.Warn("jetstream: consuming", "consumer", c.opts.Durable, "error", err)
			}))
		if err != nil {
			c.log.Warn("jetstream: cannot consume; retrying", "consumer", c.opts.Durable, "retry_in", backoff, "error", err)
			sleepCtx(ctx, backoff)
			continue
		}
		c.log.Info("jetstream: consuming", "stream", c.opts.Stream.Name, "consumer", c.opts.Durable)
		c.watchMetrics(ctx, cons, lost)
		cc.Stop()
	}
}

// setUp creates or updates the stream and the durable consumer.
func (c *Consumer) setUp(ctx context.Context) (jetstream.Consumer, error) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := EnsureStream(sctx, c.js, c.opts.Stream)
	if err != nil {
		return nil, err
	}
	cons, err := st.CreateOrUpdateConsumer(sctx, jetstream.ConsumerConfig{
		Durable:       c.opts.Durable,
		Description:   "wtb serve instances recording the stream",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.opts.AckWait,
		MaxAckPending: c.opts.MaxAckPending,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.opts.Durable, err)
	}
	return cons, nil
}

// watchMetrics reads the lag and the backlog's age every MetricsInterval
// until ctx ends or the consumer is lost.
func (c *Consumer) watchMetrics(ctx context.Context, cons jetstream.Consumer, lost chan struct{}) {
	tick := time.NewTicker(c.opts.MetricsInterval)
	defer tick.Stop()
	for {
		c.readMetrics(ctx, cons)
		select {
		case <-ctx.Done():
			return
		case <-lost:
			return
		case <-tick.C:
		}
	}
}

func (c *Consumer) readMetrics(ctx context.Context, cons jetstream.Consumer) {
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if info, err := cons.Info(ictx); err == nil {
		c.lag.Set(float64(info.NumPending) + float64(info.NumAckPending))
	}
	st, err := c.js.Stream(ictx, c.opts.Stream.Name)
	if err != nil {
		return
	}
	si, err := st.Info(ictx)
	if err != nil {
		return
	}
	// A work queue keeps only what is not acknowledged yet: its first
	// message is the oldest of the backlog.
	if si.State.Msgs == 0 {
		c.backlogAge.Set(0)
	} else {
		c.backlogAge.Set(time.Since(si.State.FirstTime).Seconds())
	}
}

// handle receives one message from Consume.
func (c *Consumer) handle(m jetstream.Msg) {
	c.received.Add(1)
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		c.redelivered.Add(1)
	}
	select {
	case c.msgs <- m:
	case <-c.stopping:
		_ = m.Nak()
	}
}

// batch gathers received messages into groups and submits them.
func (c *Consumer) batch() {
	defer close(c.inflight)
	var ms []jetstream.Msg
	for {
		ms = ms[:0]
		select {
		case m := <-c.msgs:
			ms = append(ms, m)
		case <-c.stopping:
			c.nakBuffered()
			return
		}
	more:
		for len(ms) < c.opts.Batch {
			select {
			case m := <-c.msgs:
				ms = append(ms, m)
			default:
				break more
			}
		}
		if wait := time.Until(time.Unix(0, c.pauseUntil.Load())); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.stopping:
				t.Stop()
				for _, m := range ms {
					_ = m.Nak()
				}
				c.nakBuffered()
				return
			}
		}
		g := c.submit(ms)
		if g.r == nil {
			continue
		}
		c.inflight <- g
		ms = nil
	}
}

// nakBuffered hands the messages received and not submitted back to
// JetStream.
func (c *Consumer) nakBuffered() {
	for {
		select {
		case m := <-c.msgs:
			_ = m.Nak()
		default:
			return
		}
	}
}

// submit decodes ms and submits their entries as one group. Messages that
// are not events are terminated; when submitting fails, the messages are
// negatively acknowledged and the consumer pauses.
func (c *Consumer) submit(ms []jetstream.Msg) group {
	entries := make([]audit.Entry, 0, len(ms))
	keep := make([]jetstream.Msg, 0, len(ms))
	for _, m := range ms {
		ev, err := event.Decode(m.Data())
		if err == nil {
			e := audit.FromEvent(ev)
			if err = e.Validate(); err == nil {
				entries = append(entries, e)
				keep = append(keep, m)
				continue
			}
		}
		c.invalid.Add(1)
		c.log.Error("jetstream: message is not a valid wtb event; terminated (never delivered again)", "subject", m.Subject(), "error", err)
		_ = m.Term()
	}
	if len(entries) == 0 {
		return group{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	r, err := c.rec.Submit(ctx, entries)
	if err != nil {
		c.fail(keep, err)
		return group{}
	}
	return group{r: r, msgs: keep}
}

// fail negatively acknowledges ms after a failed commit and pauses.
func (c *Consumer) fail(ms []jetstream.Msg, err error) {
	b := time.Duration(c.backoff.Load())
	c.failed.Add(uint64(len(ms)))
	c.log.Warn("jetstream: recording failed; the messages will be delivered again", "messages", len(ms), "pause", b, "error", err)
	for _, m := range ms {
		_ = m.NakWithDelay(b)
	}
	c.pauseUntil.Store(time.Now().Add(b).UnixNano())
	c.backoff.Store(int64(min(2*b, c.opts.MaxBackoff)))
}

// ack waits for every submitted group's commit and acknowledges its
// messages, in submission order.
func (c *Consumer) ack() {
	defer close(c.done)
	for g := range c.inflight {
		res, err := g.r.Wait(context.Background())
		if err != nil {
			c.fail(g.msgs, err)
			continue
		}
		c.backoff.Store(int64(c.opts.RetryBackoff))
		for _, m := range g.msgs {
			_ = m.Ack()
		}
		c.acked.Add(uint64(len(g.msgs)))
		c.duplicates.Add(uint64(len(res.Duplicates)))
	}
}
