package ledger

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/wtbdev/wtb/audit"
)

// RunEnds are the audit types that end a run: its seal follows them.
var RunEnds = []audit.Type{
	audit.TypeExecutionCompleted, audit.TypeExecutionFailed, audit.TypeExecutionCancelled,
	audit.TypeRayBatchTestCompleted, audit.TypeRayBatchTestFailed, audit.TypeRayBatchTestCancelled,
}

// DefaultSealDelay is how long a Sealer gathers ended runs before it
// seals them together, under one checkpoint.
const DefaultSealDelay = time.Second

// DefaultMaxTrackedBytes is the default SealerOptions.MaxTrackedBytes:
// about 280,000 entries' leaves.
const DefaultMaxTrackedBytes = 16 << 20

// maxSealedKept bounds the sealed runs a Sealer remembers to flag late
// entries as they come.
const maxSealedKept = 65536

// SealerOptions configure a Sealer.
type SealerOptions struct {
	// Delay is how long ended runs are gathered before sealing (default
	// DefaultSealDelay).
	Delay time.Duration
	// Append records the seal entries (default: the store's Append). A
	// service passes its recorder, so that live streams carry them like
	// every other entry. It need not set the entries' Seq (a recorder's
	// Submit does not): the Sealer learns the seals' seqs from Committed.
	// It must not wait for the Sealer (Committed never does).
	Append func(ctx context.Context, entries []audit.Entry) error
	// Logger receives failures and late entries (default slog.Default()).
	Logger *slog.Logger
	// MaxTrackedBytes bounds the memory of the leaves a Sealer keeps
	// (default DefaultMaxTrackedBytes, 16 MiB; negative: keep none).
	// Committed keeps the seq and leaf hash of each entry of the runs not
	// sealed yet, so that a run's seal is computed from them instead of
	// reading the run back from the store; each entry counts 40 bytes (its
	// slice's room included), each run its id and a fixed overhead. Over
	// the bound, the runs that started first are dropped (their seals read
	// their entries back, as for a run whose entries this process did not
	// all record), so a run that never ends holds no memory for ever.
	MaxTrackedBytes int64
}

// SealerStats are a Sealer's counters.
type SealerStats struct {
	// Sealed counts runs sealed; Late the entries recorded for a run after
	// its seal; Failed the seal attempts that failed.
	Sealed, Late, Failed uint64
	// FromMemory counts the seals computed from the leaves kept in
	// memory, without reading the runs back from the store.
	FromMemory uint64
	// TrackedBytes is the memory the leaves kept take now, as counted
	// against SealerOptions.MaxTrackedBytes.
	TrackedBytes int64
}

// Sealer seals runs as they end: when an entry that ends a run is
// recorded (RunEnds), it takes a checkpoint that covers the run and
// records a run_sealed entry with the run's entry count, the Merkle root
// of its leaves and that checkpoint (SealRecord). Entries of a sealed run
// that arrive afterwards are recorded like any other, counted and logged
// as late; VerifyRun lists them.
type Sealer struct {
	store Store
	cp    *Checkpointer
	opts  SealerOptions
	log   *slog.Logger

	mu       sync.Mutex
	pending  map[string]runEnd  // ended runs, by execution id
	sealed   map[string]int64   // recently sealed runs: the seal's seq
	sealSeqs map[int64]struct{} // the seqs of the seals in sealed
	order    []string
	tracks   runTracks // leaves of the runs not sealed yet
	// own maps the event ids of the seals being appended to their runs,
	// so that Committed learns a seal's run without decoding the details
	// this Sealer encoded.
	own      map[string]string
	h        Hasher // Committed's, for leaves not handed in
	wake     chan struct{}
	stop     chan struct{}
	exited   chan struct{}
	started  atomic.Bool
	stopOnce sync.Once
	work     sync.Mutex // one sealing at a time

	nSealed, nLate, nFailed, nMemory atomic.Uint64
}

// NewSealer returns a Sealer of store taking checkpoints with cp.
func NewSealer(store Store, cp *Checkpointer, opts SealerOptions) *Sealer {
	if opts.Delay <= 0 {
		opts.Delay = DefaultSealDelay
	}
	if opts.Append == nil {
		opts.Append = func(ctx context.Context, es []audit.Entry) error {
			_, err := store.Append(ctx, es)
			return err
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.MaxTrackedBytes == 0 {
		opts.MaxTrackedBytes = DefaultMaxTrackedBytes
	}
	return &Sealer{store: store, cp: cp, opts: opts, log: log, pending: map[string]runEnd{},
		sealed: map[string]int64{}, sealSeqs: map[int64]struct{}{}, own: map[string]string{}, tracks: newRunTracks(max(opts.MaxTrackedBytes, 0)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
}

// Committed looks at entries just recorded, with the seqs the store gave
// them (a Recorder's OnCommit calls it): runs that ended are sealed soon;
// entries of runs sealed already are late; the leaves of the other runs'
// entries are kept (within SealerOptions.MaxTrackedBytes) to compute their
// seals. Entries without a seq (duplicates, recorded before) are passed
// over. It hashes the leaves it keeps; with a store that hands out the
// leaves it computed (LeafAppender), call CommittedLeaves instead, which
// hashes nothing. It never waits: the store's writer calls it.
func (s *Sealer) Committed(entries []audit.Entry) {
	s.CommittedLeaves(entries, nil)
}

// CommittedLeaves is Committed given the entries' leaf hashes as the store
// computed them (LeafAppender): leaves[i] is entries[i]'s. A zero leaf, or
// leaves nil, is hashed here.
func (s *Sealer) CommittedLeaves(entries []audit.Entry, leaves []Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range entries {
		e := &entries[i]
		if e.Seq <= 0 {
			continue
		}
		if e.Type == TypeRunSealed {
			id, ok := s.own[e.EventID]
			if !ok { // another process's seal
				var rec SealRecord
				if json.Unmarshal(e.Details, &rec) == nil {
					id = rec.ExecutionID
				}
			}
			if id != "" {
				s.remember(id, e.Seq)
			}
			continue
		}
		if e.ExecutionID == "" {
			continue
		}
		if seal, ok := s.sealed[e.ExecutionID]; !ok {
			if s.tracks.keeps() {
				var leaf Hash
				if i < len(leaves) {
					leaf = leaves[i]
				}
				if leaf == (Hash{}) {
					leaf = s.h.Leaf(e)
				}
				s.tracks.add(e.ExecutionID, e.Seq, leaf)
			}
		} else if e.Seq > seal {
			s.nLate.Add(1)
			s.log.Warn("ledger: late entry of a sealed run", "execution_id", e.ExecutionID, "seq", e.Seq, "seal_seq", seal)
		}
		if slices.Contains(RunEnds, e.Type) {
			if p, ok := s.pending[e.ExecutionID]; !ok || e.Seq < p.seq {
				s.pending[e.ExecutionID] = runEnd{e.Type, e.Seq}
			}
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	s.tracks.evict()
}

// remember notes that run id has a seal at seq: its entries are no longer
// kept. Call it holding s.mu.
func (s *Sealer) remember(id string, seq int64) {
	s.tracks.drop(id)
	if old, ok := s.sealed[id]; !ok {
		s.order = append(s.order, id)
		if len(s.order) > maxSealedKept {
			delete(s.sealSeqs, s.sealed[s.order[0]])
			delete(s.sealed, s.order[0])
			s.order = s.order[1:]
		}
	} else {
		delete(s.sealSeqs, old)
	}
	s.sealed[id] = seq
	s.sealSeqs[seq] = struct{}{}
}

// Start seals in the background until Close.
func (s *Sealer) Start() {
	if s.started.Swap(true) {
		return
	}
	go func() {
		defer close(s.exited)
		for {
			select {
			case <-s.stop:
				return
			case <-s.wake:
			}
			select {
			case <-s.stop:
				return
			case <-time.After(s.opts.Delay):
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := s.SealPending(ctx); err != nil {
				s.log.Error("ledger: sealing runs failed", "error", err)
			}
			cancel()
		}
	}()
}

// Close stops the Sealer and seals the runs that ended meanwhile, within
// ctx. Calling it again seals what ended since.
func (s *Sealer) Close(ctx context.Context) error {
	if s.started.Load() {
		s.stopOnce.Do(func() { close(s.stop) })
		select {
		case <-s.exited:
		case <-ctx.Done():
			return fmt.Errorf("ledger: sealer: close: %w", ctx.Err())
		}
	}
	return s.SealPending(ctx)
}

// Stats returns the counters.
func (s *Sealer) Stats() SealerStats {
	s.mu.Lock()
	tracked := s.tracks.bytes
	s.mu.Unlock()
	return SealerStats{Sealed: s.nSealed.Load(), Late: s.nLate.Load(), Failed: s.nFailed.Load(),
		FromMemory: s.nMemory.Load(), TrackedBytes: tracked}
}

// runEnd is the entry that ended a run: its type and seq.
type runEnd struct {
	typ audit.Type
	seq int64
}

// SealPending seals the runs that ended since the last call, under one
// checkpoint. A run that has a seal recorded after its end already (by
// another process sharing the store, or by CatchUp) is not sealed again.
func (s *Sealer) SealPending(ctx context.Context) error {
	s.work.Lock()
	defer s.work.Unlock()
	s.mu.Lock()
	runs := s.pending
	s.pending = map[string]runEnd{}
	s.mu.Unlock()
	_, err := s.seal(ctx, runs)
	if err != nil {
		s.mu.Lock()
		for id, r := range runs { // try again with the next ones
			if _, ok := s.pending[id]; !ok {
				s.pending[id] = r
			}
		}
		s.mu.Unlock()
	}
	return err
}

// seal seals the runs ended by runs that have no seal after their end, and
// returns how many it sealed. Call it holding s.work.
func (s *Sealer) seal(ctx context.Context, runs map[string]runEnd) (int, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(runs))
	from := int64(math.MaxInt64)
	s.mu.Lock()
	for id, r := range runs {
		if _, done := s.sealed[id]; !done {
			ids = append(ids, id)
			from = min(from, r.seq)
		}
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return 0, nil
	}
	found, err := s.sealsAfter(ctx, from, ids)
	if err != nil {
		s.nFailed.Add(uint64(len(ids)))
		return 0, err
	}
	outcome := make(map[string]audit.Type, len(ids))
	ids = slices.DeleteFunc(ids, func(id string) bool {
		seq, ok := found[id]
		return ok && seq > runs[id].seq
	})
	for _, id := range ids {
		outcome[id] = runs[id].typ
	}
	slices.Sort(ids)
	seals, sealed, err := seals(ctx, s.store, s.cp, ids, outcome, s.fromMemory)
	if err == nil && len(seals) > 0 {
		s.mu.Lock()
		for i := range seals {
			s.own[seals[i].EventID] = sealed[i]
		}
		s.mu.Unlock()
		err = s.opts.Append(ctx, seals)
		s.mu.Lock()
		for i := range seals {
			delete(s.own, seals[i].EventID)
		}
		s.mu.Unlock()
	}
	if err != nil {
		s.nFailed.Add(uint64(len(ids)))
		return 0, err
	}
	s.nSealed.Add(uint64(len(seals)))
	s.mu.Lock()
	for id, seq := range found {
		s.remember(id, seq)
	}
	for i, e := range seals {
		if e.Seq != 0 { // else Committed saw it
			s.remember(sealed[i], e.Seq)
		}
	}
	s.mu.Unlock()
	return len(seals), nil
}

// unknownSeals removes from es, in place, the seals the Sealer knows (it
// recorded them or found them already): their runs are in s.sealed, so
// none of them is one that seal looks for, and their details need not be
// decoded.
func (s *Sealer) unknownSeals(es []audit.Entry) []audit.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(es, func(e audit.Entry) bool {
		_, ok := s.sealSeqs[e.Seq]
		return ok
	})
}

// sealsAfter returns the seq of a seal recorded after seq from of each run
// of ids that has one: the latest of those read (it stops reading once
// every run has one). It decodes only the seals it does not know
// (unknownSeals): in a process that seals alone, none.
func (s *Sealer) sealsAfter(ctx context.Context, from int64, ids []string) (map[string]int64, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	found := map[string]int64{}
	after := from
	for len(found) < len(want) {
		es, err := s.store.Query(ctx, audit.Filter{Types: []audit.Type{TypeRunSealed}, After: after, Limit: audit.MaxLimit})
		if err != nil {
			return nil, err
		}
		more := len(es) == audit.MaxLimit
		if more {
			after = es[len(es)-1].Seq
		}
		for _, e := range s.unknownSeals(es) {
			var rec SealRecord
			if json.Unmarshal(e.Details, &rec) == nil && want[rec.ExecutionID] {
				found[rec.ExecutionID] = e.Seq // the latest: a run may end twice
			}
		}
		if !more {
			break
		}
	}
	return found, nil
}

// catchUpPage is the number of run ends CatchUp reads at a time.
const catchUpPage = 1000

// CatchUp seals the runs that ended without a seal: the process that
// recorded their end stopped (crashed, was killed) before it sealed them.
// It reads only the run ends after the store's seal mark (SealMark), a
// page at a time, up to the tree's last seq as it opens; seals those that
// have no seal recorded after their end, under one checkpoint per page;
// and raises the mark as each page is done, so that the next CatchUp
// starts where this one ended. It returns the number of runs sealed. A
// recording command calls it when it opens its store.
func (s *Sealer) CatchUp(ctx context.Context) (int, error) {
	s.work.Lock()
	defer s.work.Unlock()
	mark, err := s.store.SealMark(ctx)
	if err != nil {
		return 0, fmt.Errorf("ledger: seal catch-up: %w", err)
	}
	head, err := s.store.LedgerHead(ctx)
	if err != nil {
		return 0, fmt.Errorf("ledger: seal catch-up: %w", err)
	}
	sealed := 0
	for after := mark; after < head.LastSeq; {
		es, err := s.store.Query(ctx, audit.Filter{Types: RunEnds, After: after, Limit: catchUpPage})
		if err != nil {
			return sealed, fmt.Errorf("ledger: seal catch-up: %w", err)
		}
		runs := map[string]runEnd{}
		next := head.LastSeq // the page's end: the mark moves there once it is sealed
		if len(es) == catchUpPage {
			next = es[len(es)-1].Seq
		}
		for i := range es {
			e := &es[i]
			if e.Seq > next {
				break
			}
			if _, ok := runs[e.ExecutionID]; !ok && e.ExecutionID != "" {
				runs[e.ExecutionID] = runEnd{e.Type, e.Seq}
			}
		}
		n, err := s.seal(ctx, runs)
		sealed += n
		if err != nil {
			return sealed, fmt.Errorf("ledger: seal catch-up: %w", err)
		}
		if err := s.store.RaiseSealMark(ctx, next); err != nil {
			return sealed, fmt.Errorf("ledger: seal catch-up: %w", err)
		}
		after = next
	}
	return sealed, nil
}

// Seals makes the seal entries of the runs ids (not yet recorded): it
// takes a checkpoint with cp and, for each run, reads its entries up to the
// checkpoint's last seq, their count and the Merkle root of their leaves.
// outcome gives the type that ended each run (may be nil). Runs without
// entries get none.
func Seals(ctx context.Context, st Store, cp *Checkpointer, ids []string, outcome map[string]audit.Type) ([]audit.Entry, error) {
	out, _, err := seals(ctx, st, cp, ids, outcome, nil)
	return out, err
}

// memoryRecords returns the records of those runs of ids that it computes
// without reading their entries back, up to seq through; nil is none.
type memoryRecords func(ctx context.Context, ids []string, through int64) (map[string]SealRecord, error)

// seals is Seals taking the records mem computes; it reads the entries of
// the other runs back. It also returns the run of each seal.
func seals(ctx context.Context, st Store, cp *Checkpointer, ids []string, outcome map[string]audit.Type, mem memoryRecords) ([]audit.Entry, []string, error) {
	sc, head, err := cp.Checkpoint(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: seal: checkpoint: %w", err)
	}
	var known map[string]SealRecord
	if mem != nil {
		if known, err = mem(ctx, ids, head.LastSeq); err != nil {
			return nil, nil, fmt.Errorf("ledger: seal: %w", err)
		}
	}
	var (
		redacted     map[int64]Hash // read once a run needs them
		haveRedacted bool
		out          []audit.Entry
		runs         []string
	)
	for _, id := range ids {
		rec, ok := known[id]
		if !ok {
			if !haveRedacted {
				if redacted, err = redactions(ctx, st); err != nil {
					return nil, nil, err
				}
				haveRedacted = true
			}
			if rec, err = runRecord(ctx, st, id, head.LastSeq, redacted); err != nil {
				return nil, nil, err
			}
		}
		if rec.Entries == 0 {
			continue
		}
		rec.CheckpointSize = sc.Size
		rec.CheckpointRoot = base64.StdEncoding.EncodeToString(sc.Root[:])
		rec.Outcome = outcome[id]
		e, err := SealEntry(rec)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, e)
		runs = append(runs, id)
	}
	return out, runs, nil
}

// redactions returns the digests the redactions of st kept, by seq.
func redactions(ctx context.Context, st Store) (map[int64]Hash, error) {
	snap, err := st.LedgerSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	return snap.Redactions(ctx)
}

// runRecord reads run id's entries up to seq through and computes its
// record.
func runRecord(ctx context.Context, st audit.Store, id string, through int64, redacted map[int64]Hash) (SealRecord, error) {
	var mem arena
	r := newRunSum(id, &mem, mem.factory())
	var h Hasher
	err := runEntries(ctx, st, id, func(e *audit.Entry) error {
		if e.Seq > through {
			return errStop
		}
		return r.add(e.Seq, leafOfStored(&h, e, redacted))
	})
	if err != nil && !errors.Is(err, errStop) {
		return r.rec, err
	}
	return r.record()
}

// runSum computes a run's record from its leaves, given in seq order: the
// count, the first and last seqs and the RFC 6962 root of the leaves (the
// compact range a Builder keeps, without its tiles). Its hashes are carved
// from an arena, which several runSums may share.
type runSum struct {
	rec SealRecord
	mem *arena
	rng *compact.Range
}

func newRunSum(id string, mem *arena, rf *compact.RangeFactory) *runSum {
	return &runSum{rec: SealRecord{ExecutionID: id}, mem: mem, rng: rf.NewEmptyRange(0)}
}

// add adds the leaf of the entry seq, which must be after the last one.
func (r *runSum) add(seq int64, leaf Hash) error {
	if seq <= r.rec.LastSeq {
		return fmt.Errorf("ledger: run %s: seq %d after seq %d", r.rec.ExecutionID, seq, r.rec.LastSeq)
	}
	h := r.mem.alloc()
	copy(h, leaf[:])
	if err := r.rng.Append(h, nil); err != nil {
		return err
	}
	if r.rec.Entries == 0 {
		r.rec.FirstSeq = seq
	}
	r.rec.Entries++
	r.rec.LastSeq = seq
	return nil
}

// record returns the record, its RunRoot set.
func (r *runSum) record() (SealRecord, error) {
	root := EmptyRoot
	if r.rng.End() > 0 {
		h, err := r.rng.GetRootHash(nil)
		if err != nil {
			return r.rec, err
		}
		root = Hash(h)
	}
	r.rec.RunRoot = hex.EncodeToString(root[:])
	return r.rec, nil
}

// fromMemory computes the records of the runs of ids whose leaves up to
// seq through it kept, all of them: it asks the store how many entries
// each has up to through, with their first and last seqs, and takes the
// runs whose kept leaves agree (those are a subset of the store's, so as
// many entries with the same first and last seqs are the same entries). A
// redacted entry keeps its leaf (the redaction keeps its payload's
// digest): its leaf as committed is right.
func (s *Sealer) fromMemory(ctx context.Context, ids []string, through int64) (map[string]SealRecord, error) {
	kept := make(map[string][]trackLeaf)
	s.mu.Lock()
	for _, id := range ids {
		if ls := s.tracks.upTo(id, through); len(ls) > 0 {
			kept[id] = ls
		}
	}
	s.mu.Unlock()
	if len(kept) == 0 {
		return nil, nil
	}
	counts, err := s.store.RunCounts(ctx, slices.Collect(maps.Keys(kept)), through)
	if err != nil {
		return nil, err
	}
	out := make(map[string]SealRecord, len(kept))
	var (
		mem arena
		rf  = mem.factory()
	)
	for id, ls := range kept {
		c := counts[id]
		if c.Entries != int64(len(ls)) || c.FirstSeq != ls[0].seq || c.LastSeq != ls[len(ls)-1].seq {
			continue
		}
		r := newRunSum(id, &mem, rf)
		for _, l := range ls {
			if err := r.add(l.seq, l.leaf); err != nil {
				return nil, err
			}
		}
		if out[id], err = r.record(); err != nil {
			return nil, err
		}
	}
	s.nMemory.Add(uint64(len(out)))
	return out, nil
}

func leafOfStored(h *Hasher, e *audit.Entry, redacted map[int64]Hash) Hash {
	if d, ok := redacted[e.Seq]; ok {
		return h.LeafWith(e, d)
	}
	return h.Leaf(e)
}

// runEntries calls fn with every entry of execution id, in seq order.
func runEntries(ctx context.Context, st audit.Store, id string, fn func(*audit.Entry) error) error {
	after := int64(0)
	for {
		es, err := st.Query(ctx, audit.Filter{ExecutionID: id, After: after, Limit: audit.MaxLimit})
		if err != nil {
			return err
		}
		for i := range es {
			if err := fn(&es[i]); err != nil {
				return err
			}
		}
		if len(es) < audit.MaxLimit {
			return nil
		}
		after = es[len(es)-1].Seq
	}
}

// RunReport is what VerifyRun found about one run.
type RunReport struct {
	ExecutionID string `json:"execution_id"`
	// Sealed says whether the run has a seal; SealSeq is the seal's seq.
	Sealed  bool  `json:"sealed"`
	SealSeq int64 `json:"seal_seq,omitempty"`
	// Record is what the seal says.
	Record *SealRecord `json:"seal,omitempty"`
	// Entries counts the run's entries the seal covers, as found now.
	Entries int64 `json:"entries"`
	// Late lists the seqs of the run's entries that its seal does not
	// cover: recorded after the seal, or after the seal's checkpoint was
	// taken and before the seal was recorded.
	Late []int64 `json:"late,omitempty"`
	// Findings lists where the run differs from its seal.
	Findings []Finding `json:"findings,omitempty"`
}

// VerifyRun checks run id against its seal: the run's entries up to the
// seal's last seq are exactly as many, with the same Merkle root, as the
// seal records, and the seal's checkpoint is one of the stored checkpoints
// (whose signatures and roots Verify checks). The run's entries the seal
// does not cover (after its LastSeq: recorded after the seal, or between
// its checkpoint and the seal) are listed as late. A run without a seal has no findings and
// Sealed false.
func VerifyRun(ctx context.Context, st Store, id string) (*RunReport, error) {
	rep := &RunReport{ExecutionID: id}
	seal, rec, err := FindSeal(ctx, st, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	if seal == nil {
		return rep, nil
	}
	rep.Sealed, rep.SealSeq, rep.Record = true, seal.Seq, &rec
	snap, err := st.LedgerSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	redacted, err := snap.Redactions(ctx)
	var cpOK bool
	if err == nil {
		err = snap.Checkpoints(ctx, rec.CheckpointSize, func(note []byte) error {
			c, perr := ParseUnverified(note)
			if perr == nil && c.Size == rec.CheckpointSize && base64.StdEncoding.EncodeToString(c.Root[:]) == rec.CheckpointRoot {
				cpOK = true
			}
			return nil
		})
	}
	snap.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	got, err := runRecord(ctx, st, id, rec.LastSeq, redacted)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	rep.Entries = got.Entries
	switch {
	case got.Entries < rec.Entries:
		rep.Findings = append(rep.Findings, Finding{Kind: KindDeleted, Seq: seal.Seq,
			Detail: fmt.Sprintf("the run has %d entries up to seq %d; its seal records %d", got.Entries, rec.LastSeq, rec.Entries)})
	case got.Entries > rec.Entries:
		rep.Findings = append(rep.Findings, Finding{Kind: KindInserted, Seq: seal.Seq,
			Detail: fmt.Sprintf("the run has %d entries up to seq %d; its seal records %d", got.Entries, rec.LastSeq, rec.Entries)})
	case got.RunRoot != rec.RunRoot:
		rep.Findings = append(rep.Findings, Finding{Kind: KindChanged, Seq: seal.Seq,
			Detail: "the root of the run's entries differs from the one its seal records"})
	}
	if !cpOK {
		rep.Findings = append(rep.Findings, Finding{Kind: KindForgedCheckpoint, Seq: seal.Seq,
			Detail: fmt.Sprintf("no stored checkpoint of size %d has the root the seal records", rec.CheckpointSize)})
	}
	err = runEntries(ctx, st, id, func(e *audit.Entry) error {
		if e.Seq > rec.LastSeq {
			rep.Late = append(rep.Late, e.Seq)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	return rep, nil
}

// FindSeal returns the first seal of run id (nil when it has none) with its
// record. Seals belong to no execution (they are the ledger's records,
// counted in no run's summary): it reads the seals in seq order.
func FindSeal(ctx context.Context, st audit.Store, id string) (*audit.Entry, SealRecord, error) {
	after := int64(0)
	for {
		es, err := st.Query(ctx, audit.Filter{Types: []audit.Type{TypeRunSealed}, After: after, Limit: audit.MaxLimit})
		if err != nil {
			return nil, SealRecord{}, err
		}
		for i := range es {
			var rec SealRecord
			if json.Unmarshal(es[i].Details, &rec) == nil && rec.ExecutionID == id {
				return &es[i], rec, nil
			}
		}
		if len(es) < audit.MaxLimit {
			return nil, SealRecord{}, nil
		}
		after = es[len(es)-1].Seq
	}
}
