package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wtbdev/wtb/audit"
)

// Defaults of the follower (Options.Follow).
const (
	// DefaultFollowPoll is how often a following server reads the log
	// when no wake-up came (a safety net under LISTEN/NOTIFY).
	DefaultFollowPoll = time.Second
	// followRetryMax bounds the wait between attempts after the store or
	// the watch failed.
	followRetryMax = 5 * time.Second
)

// follower feeds the hub from the store itself: whenever the watcher (or
// this server's own recorder) reports a commit, it reads the entries after
// the last seq it read, in seq order, and hands them to the hub. Because
// the store's seq order is its commit order, reading by seq never skips an
// entry, whichever process committed it.
type follower struct {
	w     audit.Watcher
	store audit.Store
	hub   *hub
	poll  time.Duration
	log   *slog.Logger

	kick   chan struct{} // capacity 1
	cancel context.CancelFunc
	done   chan struct{}

	seq     prometheus.Gauge
	errors  *prometheus.CounterVec
	wakeups prometheus.Counter
}

// followStartTimeout bounds reading the end of the log when a following
// server starts.
const followStartTimeout = 30 * time.Second

// newFollower starts following from the end of the log, read before it
// returns: a live client, which can only subscribe later, misses nothing
// committed after it subscribed.
func newFollower(w audit.Watcher, store audit.Store, h *hub, poll time.Duration, log *slog.Logger, reg prometheus.Registerer) (*follower, error) {
	sctx, scancel := context.WithTimeout(context.Background(), followStartTimeout)
	start, err := w.LastSeq(sctx)
	scancel()
	if err != nil {
		return nil, fmt.Errorf("httpapi: following the store: %w", err)
	}
	f := &follower{
		w: w, store: store, hub: h, poll: poll, log: log,
		kick: make(chan struct{}, 1),
		done: make(chan struct{}),
		seq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wtb_follow_seq",
			Help: "The last seq the live streams read from the shared store.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_follow_errors_total",
			Help: "Failures following the shared store, by step (watch, read).",
		}, []string{"step"}),
		wakeups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wtb_follow_wakeups_total",
			Help: "Commit notifications received from the shared store.",
		}),
	}
	f.errors.WithLabelValues("watch")
	f.errors.WithLabelValues("read")
	reg.MustRegister(f.seq, f.errors, f.wakeups)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.seq.Set(float64(start))
	go f.run(ctx, start)
	return f, nil
}

// wake asks for a read of the log; it never blocks.
func (f *follower) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// stop ends the follower and waits for it; nothing is handed to the hub
// after it returns.
func (f *follower) stop() {
	f.cancel()
	<-f.done
}

func (f *follower) run(ctx context.Context, last int64) {
	defer close(f.done)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		f.watch(ctx)
	}()
	defer func() { <-watchDone }()

	tick := time.NewTicker(f.poll)
	defer tick.Stop()
	backoff := 50 * time.Millisecond
	for {
		if err := f.read(ctx, &last); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.errors.WithLabelValues("read").Inc()
			f.log.Warn("httpapi: reading the shared store for live streams failed; retrying", "after", last, "retry_in", backoff, "error", err)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, followRetryMax)
			continue
		}
		backoff = 50 * time.Millisecond
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-tick.C:
		}
	}
}

// watch keeps a watch on the store, again after every failure.
func (f *follower) watch(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := f.w.Watch(ctx, func() {
			f.wakeups.Inc()
			f.wake()
		})
		if ctx.Err() != nil {
			return
		}
		f.errors.WithLabelValues("watch").Inc()
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		f.log.Warn("httpapi: watching the shared store failed; live streams fall back to polling until it is back",
			"poll", f.poll, "retry_in", backoff, "error", err)
		if !sleepCtx(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, followRetryMax)
	}
}

// read hands the entries committed after *last to the hub. While no client
// follows, it only moves *last to the end of the log: a client that comes
// later and asks to resume reads the store itself. The end is read before
// the clients are counted, so an entry committed after a client subscribed
// is never skipped.
func (f *follower) read(ctx context.Context, last *int64) error {
	if f.hub.clients.Load() == 0 {
		end, err := f.w.LastSeq(ctx)
		if err != nil {
			return err
		}
		if f.hub.clients.Load() == 0 {
			*last = max(*last, end)
			f.seq.Set(float64(*last))
			return nil
		}
	}
	for {
		es, err := f.store.Query(ctx, audit.Filter{After: *last, Limit: audit.MaxLimit})
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		select {
		case f.hub.in <- hubBatch{entries: es}:
		case <-ctx.Done():
			return ctx.Err()
		}
		*last = es[len(es)-1].Seq
		f.seq.Set(float64(*last))
		if len(es) < audit.MaxLimit {
			return nil
		}
	}
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
