package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of RecorderOptions.
const (
	DefaultQueueSize     = 65536
	DefaultMaxBatch      = 4096
	DefaultLinger        = 2 * time.Millisecond
	DefaultMaxRetries    = 5
	DefaultRetryBackoff  = 10 * time.Millisecond
	MaxRetryBackoff      = time.Second
	DefaultAppendTimeout = 30 * time.Second
)

// ErrRecorderClosed is returned by a Recorder's Record, Submit and Sync after
// Close has begun.
var ErrRecorderClosed = errors.New("audit: recorder is closed")

// ErrGroupTooLarge is returned by Submit for a group larger than the
// recorder's queue.
var ErrGroupTooLarge = errors.New("audit: group larger than the recorder queue")

// RecorderOptions configures a Recorder. Zero fields take the defaults.
type RecorderOptions struct {
	// QueueSize bounds the entries queued or being written (default
	// DefaultQueueSize). When the queue is full, Record and Submit wait.
	QueueSize int
	// MaxBatch is the largest number of entries written in one Append
	// (default DefaultMaxBatch); a group from Submit larger than MaxBatch is
	// written alone, in one Append.
	MaxBatch int
	// Linger is how long the writer waits for a batch to fill once its first
	// entry is queued (default DefaultLinger). Sync and Close write at once.
	Linger time.Duration
	// MaxRetries is how many times a failed Append is retried, with
	// exponential backoff (default DefaultMaxRetries; negative: never).
	// Errors wrapping ErrInvalidEntry or ErrClosed are not retried.
	MaxRetries int
	// RetryBackoff is the wait before the first retry (default
	// DefaultRetryBackoff); it doubles per retry, up to MaxRetryBackoff.
	RetryBackoff time.Duration
	// AppendTimeout bounds one Append call (default DefaultAppendTimeout).
	AppendTimeout time.Duration
	// OnCommit, when set, is called by the writer after every successful
	// Append with the entries it recorded (with their Seq; duplicates left
	// out) and the time since the oldest of them was queued. It runs before
	// Sync and Receipt.Wait return for them, and must not keep the slice
	// after returning (copy what it needs) nor block for long. It runs in
	// the writer goroutine: calling the Recorder's Record, Submit, Sync or
	// Close from it deadlocks.
	OnCommit func(committed []Entry, latency time.Duration)
	// Logger receives append failures and retries (default slog.Default()).
	Logger *slog.Logger
}

// RecorderStats are a Recorder's counters since NewRecorder.
type RecorderStats struct {
	// Queued is the number of entries queued or being written now.
	Queued int
	// Enqueued counts entries accepted by Record and Submit.
	Enqueued uint64
	// Committed counts entries recorded by the store.
	Committed uint64
	// Duplicates counts entries the store had already (not recorded again).
	Duplicates uint64
	// Failed counts entries whose Append failed after every retry.
	Failed uint64
	// Batches counts successful Appends; Failures failed ones (after
	// retries); Retries the retried attempts.
	Batches, Failures, Retries uint64
}

// Recorder writes entries to a Store in the background with group commit:
// a bounded queue, one writer, batches closed on size (MaxBatch) or time
// (Linger). It never drops an entry silently: Record waits when the queue is
// full, failed Appends are retried, and entries that still fail are logged,
// counted and reported to Sync, Receipt.Wait and Close.
//
// A Recorder is a Sink: a Listener can record into it. It does not close
// its Store.
type Recorder struct {
	store Store
	opts  RecorderOptions
	log   *slog.Logger

	mu         sync.Mutex
	buf        []Entry // queued, not yet taken by the writer
	spare      []Entry
	groups     []group // groups in buf, in order
	spareGrp   []group
	syncs      []*syncWaiter
	enqueued   uint64    // positions assigned so far
	taken      uint64    // positions taken by the writer
	done       uint64    // positions written or failed
	inflight   int       // taken, not yet done
	firstAt    time.Time // when buf[0] was queued
	flush      bool      // write without lingering
	closing    bool
	unreported []failure     // failed writes no Sync or Close has reported yet
	space      chan struct{} // closed when space frees up
	wake       chan struct{} // writer wake-up, capacity 1
	exited     chan struct{}

	enqueuedN, committed, duplicates, failed atomic.Uint64
	batches, failures, retries               atomic.Uint64
}

type group struct {
	start, end uint64
	r          *Receipt
}

// failure is a failed write of the entries from position from on.
type failure struct {
	from uint64
	err  error
}

// maxUnreported bounds the failures kept for Sync and Close to report; when
// more accumulate unreported, the newest are not kept (the oldest, which
// every later Sync covers, are).
const maxUnreported = 64

type syncWaiter struct {
	from, target uint64
	err          error
	ch           chan struct{}
}

// Receipt is the handle of a group submitted with Submit.
type Receipt struct {
	ch  chan struct{}
	res AppendResult
	err error
}

// Wait returns once the group is durable, with what the store did with it
// (Appended and Duplicates of the group alone), or with the error that made
// its Append fail. It returns the context's error, wrapped, when ctx is done
// first; the group stays queued.
func (r *Receipt) Wait(ctx context.Context) (AppendResult, error) {
	select {
	case <-r.ch:
		return r.res, r.err
	case <-ctx.Done():
		return AppendResult{}, fmt.Errorf("audit: waiting for receipt: %w", ctx.Err())
	}
}

// Done returns a channel closed when the group's Append has completed.
func (r *Receipt) Done() <-chan struct{} { return r.ch }

// NewRecorder starts a Recorder writing to store. Close it to drain the
// queue and stop its writer.
func NewRecorder(store Store, opts RecorderOptions) *Recorder {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Linger <= 0 {
		opts.Linger = DefaultLinger
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.AppendTimeout <= 0 {
		opts.AppendTimeout = DefaultAppendTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{
		store:  store,
		opts:   opts,
		log:    log,
		buf:    make([]Entry, 0, min(opts.MaxBatch, opts.QueueSize)),
		wake:   make(chan struct{}, 1),
		exited: make(chan struct{}),
	}
	go r.run()
	return r
}

func (r *Recorder) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// waitSpace waits, with r.mu held on entry and on return, until n more
// entries fit in the queue.
func (r *Recorder) waitSpace(ctx context.Context, n int) error {
	for {
		if r.closing {
			return ErrRecorderClosed
		}
		if len(r.buf)+r.inflight+n <= r.opts.QueueSize {
			return nil
		}
		if r.space == nil {
			r.space = make(chan struct{})
		}
		ch := r.space
		r.mu.Unlock()
		select {
		case <-ch:
			r.mu.Lock()
		case <-ctx.Done():
			r.mu.Lock()
			return fmt.Errorf("audit: recorder queue full: %w", ctx.Err())
		}
	}
}

// Record queues e for writing. It fails, recording nothing, when e is
// invalid (ErrInvalidEntry), the recorder is closed (ErrRecorderClosed) or
// ctx is done while it waits for room in a full queue. A nil error means
// queued, not durable: use Sync or Submit to wait for durability.
func (r *Recorder) Record(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: record: %w", err)
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("audit: record: %w", err)
	}
	r.mu.Lock()
	if len(r.buf)+r.inflight >= r.opts.QueueSize || r.closing {
		if err := r.waitSpace(ctx, 1); err != nil {
			r.mu.Unlock()
			return fmt.Errorf("audit: record: %w", err)
		}
	}
	if len(r.buf) == 0 {
		r.firstAt = time.Now()
		r.signal()
	}
	r.buf = append(r.buf, e)
	r.enqueued++
	if len(r.buf) == r.opts.MaxBatch {
		r.signal()
	}
	r.mu.Unlock()
	r.enqueuedN.Add(1)
	return nil
}

// Submit queues entries as one group, written atomically in a single Append
// (possibly together with other entries), and returns its Receipt. It
// fails, queueing nothing, when an entry is invalid (ErrInvalidEntry), the
// group is larger than the queue (ErrGroupTooLarge), the recorder is closed
// or ctx is done while it waits for room. An empty group is durable at once.
func (r *Recorder) Submit(ctx context.Context, entries []Entry) (*Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: submit: %w", err)
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return nil, fmt.Errorf("audit: submit: entry %d: %w", i, err)
		}
	}
	if len(entries) > r.opts.QueueSize {
		return nil, fmt.Errorf("audit: submit: %d entries: %w", len(entries), ErrGroupTooLarge)
	}
	rc := &Receipt{ch: make(chan struct{})}
	r.mu.Lock()
	if err := r.waitSpace(ctx, len(entries)); err != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("audit: submit: %w", err)
	}
	if len(entries) == 0 {
		r.mu.Unlock()
		close(rc.ch)
		return rc, nil
	}
	if len(r.buf) == 0 {
		r.firstAt = time.Now()
	}
	r.groups = append(r.groups, group{start: r.enqueued, end: r.enqueued + uint64(len(entries)), r: rc})
	r.buf = append(r.buf, entries...)
	r.enqueued += uint64(len(entries))
	r.signal()
	r.mu.Unlock()
	r.enqueuedN.Add(uint64(len(entries)))
	return rc, nil
}

// Sync waits until every entry queued before the call has been written. It
// returns an error wrapping the store's error when one of those entries
// could not be written (each failure is reported by one Sync, and to every
// Sync already waiting for it), or the context's error when ctx is done
// first.
func (r *Recorder) Sync(ctx context.Context) error {
	r.mu.Lock()
	if r.done == r.enqueued {
		err := r.takeUnreported(r.enqueued, nil)
		r.mu.Unlock()
		return syncErr(err)
	}
	w := &syncWaiter{from: r.done, target: r.enqueued, ch: make(chan struct{})}
	r.syncs = append(r.syncs, w)
	r.flush = true
	r.signal()
	r.mu.Unlock()
	select {
	case <-w.ch:
		r.mu.Lock()
		err := r.takeUnreported(w.target, w.err)
		r.mu.Unlock()
		return syncErr(err)
	case <-ctx.Done():
		return fmt.Errorf("audit: sync: %w", ctx.Err())
	}
}

func syncErr(err error) error {
	if err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	return nil
}

// takeUnreported removes the unreported failures of entries before position
// target and returns err, or else the first of them.
func (r *Recorder) takeUnreported(target uint64, err error) error {
	keep := r.unreported[:0]
	for _, f := range r.unreported {
		if f.from >= target {
			keep = append(keep, f)
		} else if err == nil {
			err = f.err
		}
	}
	clear(r.unreported[len(keep):])
	r.unreported = keep
	return err
}

// Close stops accepting entries, writes everything queued, and stops the
// writer. It returns an error wrapping the store's error when entries could
// not be written and no Sync has reported it, or the context's error when
// ctx is done before the queue is drained (the writer then finishes in the
// background).
// Calling Close again waits again.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closing {
		r.closing = true
		if r.space != nil {
			close(r.space)
			r.space = nil
		}
		r.signal()
	}
	r.mu.Unlock()
	select {
	case <-r.exited:
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.takeUnreported(r.enqueued, nil); err != nil {
			return fmt.Errorf("audit: recorder close: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: recorder close: %w", ctx.Err())
	}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	q := len(r.buf) + r.inflight
	r.mu.Unlock()
	return RecorderStats{
		Queued:     q,
		Enqueued:   r.enqueuedN.Load(),
		Committed:  r.committed.Load(),
		Duplicates: r.duplicates.Load(),
		Failed:     r.failed.Load(),
		Batches:    r.batches.Load(),
		Failures:   r.failures.Load(),
		Retries:    r.retries.Load(),
	}
}

// run is the writer.
func (r *Recorder) run() {
	defer close(r.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		r.mu.Lock()
		if len(r.buf) == 0 {
			if r.closing {
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			<-r.wake
			continue
		}
		if len(r.buf) < r.opts.MaxBatch && !r.closing && !r.flush {
			if d := time.Until(r.firstAt.Add(r.opts.Linger)); d > 0 {
				r.mu.Unlock()
				timer.Reset(d)
				select {
				case <-r.wake:
					timer.Stop()
				case <-timer.C:
				}
				continue
			}
		}
		batch, groups := r.buf, r.groups
		start, firstAt := r.taken, r.firstAt
		r.buf, r.spare = r.spare[:0], nil
		r.groups, r.spareGrp = r.spareGrp[:0], nil
		r.taken += uint64(len(batch))
		r.inflight += len(batch)
		r.flush = false
		r.mu.Unlock()

		r.write(batch, start, groups, firstAt)

		clear(batch)
		clear(groups)
		r.mu.Lock()
		r.spare, r.spareGrp = batch[:0], groups[:0]
		r.mu.Unlock()
	}
}

// write appends batch, whose first entry has position start, in chunks of at
// most MaxBatch entries that never split a group.
func (r *Recorder) write(batch []Entry, start uint64, groups []group, firstAt time.Time) {
	gi := 0
	for a := 0; a < len(batch); {
		b := min(a+r.opts.MaxBatch, len(batch))
		for j := gi; j < len(groups) && groups[j].start < start+uint64(b); j++ {
			if g := groups[j]; g.end > start+uint64(b) {
				if g.start > start+uint64(a) {
					b = int(g.start - start)
				} else {
					b = int(g.end - start)
				}
				break
			}
		}
		gj := gi
		for gj < len(groups) && groups[gj].end <= start+uint64(b) {
			gj++
		}
		r.commit(batch, start, a, b, groups[gi:gj], firstAt)
		gi = gj
		a = b
	}
}

// commit appends batch[a:b], whose groups are groups, and reports the
// outcome. When the store rejects the chunk as invalid, every unit of it (a
// single entry or a whole group) is appended on its own, so that one invalid
// entry fails only itself or its group.
func (r *Recorder) commit(batch []Entry, start uint64, a, b int, groups []group, firstAt time.Time) {
	chunk := batch[a:b]
	res, err := r.appendRetry(chunk)
	if err != nil && errors.Is(err, ErrInvalidEntry) && !(len(groups) == 1 && groups[0].end-groups[0].start == uint64(len(chunk))) && len(chunk) > 1 {
		gi := 0
		for u := a; u < b; {
			if gi < len(groups) && groups[gi].start == start+uint64(u) {
				end := int(groups[gi].end - start)
				r.commit(batch, start, u, end, groups[gi:gi+1], firstAt)
				gi++
				u = end
				continue
			}
			r.commit(batch, start, u, u+1, nil, firstAt)
			u++
		}
		return
	}
	if err == nil {
		r.batches.Add(1)
		r.committed.Add(uint64(res.Appended))
		r.duplicates.Add(uint64(len(chunk) - res.Appended))
		if r.opts.OnCommit != nil {
			r.onCommit(chunk, res, firstAt)
		}
	} else {
		r.failures.Add(1)
		r.failed.Add(uint64(len(chunk)))
		r.log.Error("audit: recorder append failed; entries not recorded",
			"entries", len(chunk), "first_event_id", chunk[0].EventID, "error", err)
	}
	for _, g := range groups {
		rc := g.r
		if err != nil {
			rc.err = fmt.Errorf("audit: recorder append: %w", err)
		} else {
			for _, e := range batch[g.start-start : g.end-start] {
				if e.Seq != 0 {
					rc.res.Appended++
				} else {
					rc.res.Duplicates = append(rc.res.Duplicates, e.EventID)
				}
			}
		}
		close(rc.ch)
	}
	r.finish(start+uint64(a), start+uint64(b), err)
}

func (r *Recorder) onCommit(chunk []Entry, res AppendResult, firstAt time.Time) {
	committed := chunk
	if res.Appended != len(chunk) {
		committed = make([]Entry, 0, res.Appended)
		for i := range chunk {
			if chunk[i].Seq != 0 {
				committed = append(committed, chunk[i])
			}
		}
	}
	if len(committed) > 0 {
		r.opts.OnCommit(committed, time.Since(firstAt))
	}
}

// finish marks positions [from, to) done and wakes whoever waits for them.
func (r *Recorder) finish(from, to uint64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = to
	r.inflight -= int(to - from)
	if err != nil && len(r.unreported) < maxUnreported {
		r.unreported = append(r.unreported, failure{from: from, err: err})
	}
	keep := r.syncs[:0]
	for _, w := range r.syncs {
		if err != nil && w.err == nil && w.from < to && from < w.target {
			w.err = err
		}
		if w.target <= to {
			close(w.ch)
		} else {
			keep = append(keep, w)
		}
	}
	clear(r.syncs[len(keep):])
	r.syncs = keep
	if r.space != nil {
		close(r.space)
		r.space = nil
	}
}

func retryable(err error) bool {
	return !errors.Is(err, ErrInvalidEntry) && !errors.Is(err, ErrClosed)
}

// appendRetry appends chunk, retrying failures with backoff.
func (r *Recorder) appendRetry(chunk []Entry) (AppendResult, error) {
	backoff := r.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		for i := range chunk {
			chunk[i].Seq = 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.AppendTimeout)
		res, err := r.store.Append(ctx, chunk)
		cancel()
		if err == nil {
			return res, nil
		}
		if attempt >= r.opts.MaxRetries || !retryable(err) {
			for i := range chunk {
				chunk[i].Seq = 0
			}
			return AppendResult{}, err
		}
		r.retries.Add(1)
		r.log.Warn("audit: recorder append failed; retrying",
			"entries", len(chunk), "attempt", attempt+1, "backoff", backoff, "error", err)
		time.Sleep(backoff)
		backoff = min(backoff*2, MaxRetryBackoff)
	}
}
