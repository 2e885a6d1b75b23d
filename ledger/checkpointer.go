package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of CheckpointerOptions.
const (
	// DefaultCheckpointEvery is the number of new entries that makes a
	// checkpoint before its interval is up.
	DefaultCheckpointEvery = 100_000
	// DefaultCheckpointInterval is the longest a new entry waits for a
	// checkpoint that covers it.
	DefaultCheckpointInterval = 10 * time.Second
	// DefaultWitnessTimeout bounds handing one checkpoint to one witness.
	DefaultWitnessTimeout = 10 * time.Second
)

// ErrInconsistent is returned when the log's tree is not an extension of
// the last checkpoint: the log was rolled back or rewritten. The
// Checkpointer then signs nothing more.
var ErrInconsistent = errors.New("ledger: the log is not consistent with its last checkpoint")

// CheckpointerOptions configure a Checkpointer. Zero fields take the defaults.
type CheckpointerOptions struct {
	// Every is the number of new entries after which a checkpoint is made
	// (default DefaultCheckpointEvery).
	Every int
	// Interval is the time after which new entries get a checkpoint
	// (default DefaultCheckpointInterval).
	Interval time.Duration
	// Witnesses receive every checkpoint made, outside the database.
	Witnesses []Witness
	// WitnessTimeout bounds one hand-over (default DefaultWitnessTimeout).
	WitnessTimeout time.Duration
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
}

// CheckpointerStats are a Checkpointer's counters.
type CheckpointerStats struct {
	// Made counts checkpoints signed and stored; Failed the attempts that
	// failed; WitnessFailures the hand-overs to a witness that failed.
	Made, Failed, WitnessFailures uint64
	// Size and At are those of the last checkpoint made.
	Size uint64
	At   time.Time
}

// Checkpointer signs and stores a checkpoint of a store's log at most
// every Every entries or Interval, whichever comes first, and hands each to
// the witnesses. Signing is per interval, never per entry. Before it signs
// it checks, with a consistency proof from the store's tiles, that the
// log extends the last checkpoint: a log must never sign a checkpoint
// inconsistent with one it signed before.
type Checkpointer struct {
	store  Store
	signer *Signer
	opts   CheckpointerOptions
	log    *slog.Logger

	mu      sync.Mutex // one checkpoint at a time
	last    *Checkpoint
	lastAt  time.Time
	pending atomic.Int64
	wake    chan struct{}
	stop    chan struct{}
	exited  chan struct{}
	started atomic.Bool

	made, failed, witnessFailures atomic.Uint64
}

// NewCheckpointer returns a Checkpointer of store signing with signer.
// Start runs it; without Start, Checkpoint makes checkpoints on demand.
func NewCheckpointer(store Store, signer *Signer, opts CheckpointerOptions) *Checkpointer {
	if opts.Every <= 0 {
		opts.Every = DefaultCheckpointEvery
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultCheckpointInterval
	}
	if opts.WitnessTimeout <= 0 {
		opts.WitnessTimeout = DefaultWitnessTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Checkpointer{store: store, signer: signer, opts: opts, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
}

// Committed tells the Checkpointer that n entries were recorded (a
// Recorder's OnCommit calls it); Every of them make a checkpoint.
func (c *Checkpointer) Committed(n int) {
	if c.pending.Add(int64(n)) >= int64(c.opts.Every) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Start runs the Checkpointer in the background until Close.
func (c *Checkpointer) Start() {
	if c.started.Swap(true) {
		return
	}
	go c.run()
}

func (c *Checkpointer) run() {
	defer close(c.exited)
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Interval+c.opts.WitnessTimeout)
		if _, _, err := c.Checkpoint(ctx); err != nil && !errors.Is(err, ErrNoCheckpoint) {
			c.log.Error("ledger: checkpoint failed", "error", err)
		}
		cancel()
	}
}

// Close stops the Checkpointer and makes a last checkpoint of what was
// recorded.
func (c *Checkpointer) Close(ctx context.Context) error {
	if c.started.Load() {
		select {
		case <-c.stop:
		default:
			close(c.stop)
		}
		<-c.exited
	}
	_, _, err := c.Checkpoint(ctx)
	if errors.Is(err, ErrNoCheckpoint) {
		return nil
	}
	return err
}

// Stats returns the counters.
func (c *Checkpointer) Stats() CheckpointerStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CheckpointerStats{Made: c.made.Load(), Failed: c.failed.Load(), WitnessFailures: c.witnessFailures.Load(), At: c.lastAt}
	if c.last != nil {
		s.Size = c.last.Size
	}
	return s
}

// Checkpoint makes a checkpoint of the log as it is now, unless the last
// one already covers it, and returns the latest checkpoint with the head it
// signed. An empty log has none (ErrNoCheckpoint).
func (c *Checkpointer) Checkpoint(ctx context.Context) (SignedCheckpoint, Head, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, head, err := c.checkpoint(ctx)
	if err != nil && !errors.Is(err, ErrNoCheckpoint) {
		c.failed.Add(1)
	}
	return sc, head, err
}

func (c *Checkpointer) checkpoint(ctx context.Context) (SignedCheckpoint, Head, error) {
	pending := c.pending.Swap(0)
	head, err := c.store.LedgerHead(ctx)
	if err != nil {
		c.pending.Add(pending)
		return SignedCheckpoint{}, Head{}, err
	}
	if c.last == nil {
		if err := c.loadLast(ctx); err != nil {
			c.pending.Add(pending)
			return SignedCheckpoint{}, Head{}, err
		}
	}
	if head.Size == 0 {
		return SignedCheckpoint{}, head, ErrNoCheckpoint
	}
	if c.last != nil {
		switch {
		case head.Size < c.last.Size:
			return SignedCheckpoint{}, head, fmt.Errorf("%w: the tree has %d leaves, the last checkpoint %d", ErrInconsistent, head.Size, c.last.Size)
		case head.Size == c.last.Size:
			if head.Root != c.last.Root {
				return SignedCheckpoint{}, head, fmt.Errorf("%w: root of size %d changed", ErrInconsistent, head.Size)
			}
			sc, err := c.signer.Sign(head.Size, head.Root)
			return sc, head, err
		}
		p, err := ConsistencyProof(ctx, c.store, c.last.Size, head.Size)
		if err != nil {
			c.pending.Add(pending)
			return SignedCheckpoint{}, head, err
		}
		if err := VerifyConsistency(c.last.Size, head.Size, p, c.last.Root, head.Root); err != nil {
			return SignedCheckpoint{}, head, fmt.Errorf("%w: %v", ErrInconsistent, err)
		}
	}
	sc, err := c.signer.Sign(head.Size, head.Root)
	if err != nil {
		return sc, head, err
	}
	if _, err := c.store.AddCheckpoint(ctx, sc); err != nil {
		c.pending.Add(pending)
		return sc, head, fmt.Errorf("ledger: store checkpoint: %w", err)
	}
	cp := sc.Checkpoint
	c.last, c.lastAt = &cp, time.Now()
	c.made.Add(1)
	for _, w := range c.opts.Witnesses {
		wctx, cancel := context.WithTimeout(ctx, c.opts.WitnessTimeout)
		if err := w.Witness(wctx, sc.Note); err != nil {
			c.witnessFailures.Add(1)
			c.log.Error("ledger: witness did not take the checkpoint", "witness", w.String(), "size", sc.Size, "error", err)
		}
		cancel()
	}
	return sc, head, nil
}

// loadLast reads the last stored checkpoint (whoever signed it: another
// instance may share the store).
func (c *Checkpointer) loadLast(ctx context.Context) error {
	note, err := c.store.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNoCheckpoint) {
		return nil
	}
	if err != nil {
		return err
	}
	cp, err := ParseUnverified(note)
	if err != nil {
		return fmt.Errorf("ledger: last stored checkpoint: %w", err)
	}
	c.last = &cp
	return nil
}
