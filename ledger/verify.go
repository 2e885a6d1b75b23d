package ledger

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// Source is what Verify reads: one consistent snapshot of a store's log
// (entries, tiles, head, checkpoints, redactions and prune boundary), as a
// store's read transaction sees it.
type Source interface {
	TileReader
	// Head returns the tree's head as the store last committed it.
	Head(ctx context.Context) (Head, error)
	// Pruned returns what prunes removed (zero when nothing was pruned).
	Pruned(ctx context.Context) (Pruned, error)
	// Entries calls fn with every entry whose Seq is greater than after, in
	// seq order. When a row cannot be read as an entry, fn gets the Seq and
	// whatever could be read, and the error.
	Entries(ctx context.Context, after int64, fn func(e *audit.Entry, err error) error) error
	// Checkpoints calls fn with every stored signed checkpoint note of size
	// minSize or more, in the order they were stored.
	Checkpoints(ctx context.Context, minSize uint64, fn func(note []byte) error) error
	// Redactions returns the kept payload digests of redacted entries, by seq.
	Redactions(ctx context.Context) (map[int64]Hash, error)
}

// Pruned is the part of the log a prune removed: the first Leaves entries,
// up to seq LastSeq. Their leaf hashes stay in the tiles.
type Pruned struct {
	Leaves  uint64 `json:"leaves"`
	LastSeq int64  `json:"last_seq"`
}

// Kind is a kind of tampering Verify reports.
type Kind string

// The kinds of tampering.
const (
	// KindChanged: an entry's content (or its seq) differs from what was recorded.
	KindChanged Kind = "changed"
	// KindDeleted: recorded entries are missing.
	KindDeleted Kind = "deleted"
	// KindInserted: an entry that was never recorded is in the log.
	KindInserted Kind = "inserted"
	// KindDuplicated: an entry appears twice.
	KindDuplicated Kind = "duplicated"
	// KindReordered: entries are in another order than recorded.
	KindReordered Kind = "reordered"
	// KindTruncated: the log ends before entries a checkpoint or the tree's
	// head covers.
	KindTruncated Kind = "truncated"
	// KindForgedCheckpoint: a checkpoint whose signature does not verify, or
	// whose root is not the log's.
	KindForgedCheckpoint Kind = "forged checkpoint"
	// KindRolledBack: a checkpoint older than one stored or witnessed before it.
	KindRolledBack Kind = "rolled-back checkpoint"
)

// Finding is one piece of tampering Verify found.
type Finding struct {
	Kind Kind `json:"kind"`
	// Seq is the first bad seq: the changed, inserted, duplicated or moved
	// entry; for deleted entries the first missing seq (exact when seqs are
	// consecutive, which they are unless appends failed); for a checkpoint,
	// the seq of the last entry it covers.
	Seq int64 `json:"seq"`
	// Index is the leaf index (position in the log) where it was found.
	Index uint64 `json:"index"`
	// Detail says what was found, in words.
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("seq %d (leaf %d): %s: %s", f.Seq, f.Index, f.Kind, f.Detail)
}

// Report is the outcome of Verify.
type Report struct {
	// Entries is the number of entries read and checked.
	Entries int64 `json:"entries"`
	// Size is the number of leaves of the log (pruned ones included) and
	// Root the root recomputed over them; LastSeq is the last entry's seq.
	Size    uint64 `json:"size"`
	Root    string `json:"root"`
	LastSeq int64  `json:"last_seq"`
	// Checkpoints is the number of stored checkpoints checked, Witnessed the
	// number of witnessed ones; Latest is the latest valid one.
	Checkpoints int         `json:"checkpoints"`
	Witnessed   int         `json:"witnessed,omitempty"`
	Latest      *Checkpoint `json:"latest_checkpoint,omitempty"`
	// Unsigned is set when no trusted key was given: signatures unchecked.
	Unsigned bool `json:"signatures_unchecked,omitempty"`
	// Redacted lists the seqs whose payload was redacted (each recorded).
	Redacted []int64 `json:"redacted,omitempty"`
	// Pruned is the pruned part of the log.
	Pruned Pruned `json:"pruned"`
	// Findings lists what was found, first bad seq first (at most
	// MaxFindings); More counts those left out.
	Findings []Finding `json:"findings,omitempty"`
	More     int       `json:"more_findings,omitempty"`
}

// OK reports whether no tampering was found.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// First returns the first finding, or nil.
func (r *Report) First() *Finding {
	if len(r.Findings) == 0 {
		return nil
	}
	return &r.Findings[0]
}

// Progress is reported by Verify on long runs.
type Progress struct {
	// Entries checked so far, out of Total (the head's size minus pruned
	// leaves, 0 when unknown).
	Entries, Total int64
	Elapsed        time.Duration
}

// DefaultMaxFindings bounds the findings a Report lists.
const DefaultMaxFindings = 100

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Keys are the trusted public keys. Nil: signatures are not checked
	// (Report.Unsigned), roots still are.
	Keys *Verifier
	// Witnessed are signed checkpoints kept outside the store (a witness's
	// log): each must verify and agree with the log; one larger than the
	// log means the log was rolled back.
	Witnessed [][]byte
	// From, when set, is a head verified before (by an earlier Verify's
	// OnVerified): entries up to From.LastSeq are trusted, not read again.
	From *Head
	// StopAtFirst ends the run at the first finding.
	StopAtFirst bool
	// MaxFindings bounds Report.Findings (default DefaultMaxFindings).
	MaxFindings int
	// Progress, when set, is called about every ProgressEvery entries.
	Progress      func(Progress)
	ProgressEvery int64
	// OnVerified, when set, is called with the verified head at every
	// checkpoint whose root matched: a From for a later, incremental run.
	OnVerified func(Head)
}

// ErrCannotVerify wraps every error that kept Verify from reaching a
// verdict (the store could not be read, a key is missing): exit status 2 of
// wtb audit verify.
var ErrCannotVerify = errors.New("ledger: cannot verify")

// hintWindow is how far around a leaf the verifier looks among the stored
// leaf hashes for a row that is out of place.
const hintWindow = 16

type cpRef struct {
	size    uint64
	root    Hash
	stored  int // order stored; -1 for witnessed
	matched bool
}

// row is an entry being checked, with its recomputed leaf.
type row struct {
	e    audit.Entry
	err  error
	leaf Hash
	ok   bool // leaf computed (the row was readable)
	done bool // classified already (as the other half of a swap)
}

type verifier struct {
	src  Source
	opts VerifyOptions
	rep  Report

	hasher  Hasher
	b       *Builder
	redact  map[int64]Hash
	head    Head
	cps     []cpRef // by size
	nextCP  int
	hints   hintCache
	offset  int64 // hint index = position + offset
	prevSeq int64
	prevID  string
	prevOK  bool
	found   bool // a finding since the last matching checkpoint
	stop    bool

	recordedRedactions map[int64]Hash
	recordedPrune      *Pruned
	start              time.Time
	lastProgress       int64
}

var errStop = errors.New("stop")

// Verify checks the log in src: it recomputes every entry's leaf and the
// tree's roots, checks every checkpoint's signature (with opts.Keys) and
// root, the order of the checkpoints, the witnessed checkpoints, the head,
// every redaction and prune against the entries that record them, and
// reports what it found, first bad seq first. The stored leaf hashes guide
// it to the exact entry and kind; the signed checkpoints are what it
// trusts. An error (wrapping ErrCannotVerify) means no verdict.
func Verify(ctx context.Context, src Source, opts VerifyOptions) (*Report, error) {
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 1 << 20
	}
	v := &verifier{src: src, opts: opts, start: time.Now()}
	v.hints.src = src
	if err := v.run(ctx); err != nil && !errors.Is(err, errStop) {
		return &v.rep, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	return &v.rep, nil
}

func (v *verifier) add(f Finding) {
	v.found = true
	if len(v.rep.Findings) < v.opts.MaxFindings {
		v.rep.Findings = append(v.rep.Findings, f)
	} else {
		v.rep.More++
	}
	if v.opts.StopAtFirst {
		v.stop = true
	}
}

func (v *verifier) run(ctx context.Context) error {
	var err error
	if v.head, err = v.src.Head(ctx); err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	if v.rep.Pruned, err = v.src.Pruned(ctx); err != nil {
		return fmt.Errorf("read prune: %w", err)
	}
	if v.redact, err = v.src.Redactions(ctx); err != nil {
		return fmt.Errorf("read redactions: %w", err)
	}
	v.recordedRedactions = map[int64]Hash{}
	if err := v.loadCheckpoints(ctx); err != nil {
		return err
	}
	if v.stop {
		return nil
	}

	after := int64(math.MinInt64)
	switch {
	case v.opts.From != nil:
		f := v.opts.From
		hs, err := splitHashes(f.Range)
		if err != nil {
			return fmt.Errorf("from: %w", err)
		}
		v.b = NewBuilder()
		rng, err := v.b.rf.NewRange(0, f.Size, hs)
		if err != nil {
			return fmt.Errorf("from: %w", err)
		}
		v.b.rng, v.b.lastSeq = rng, f.LastSeq
		after, v.prevSeq = f.LastSeq, f.LastSeq
		for v.nextCP < len(v.cps) && v.cps[v.nextCP].size < f.Size {
			v.nextCP++
		}
	case v.rep.Pruned.Leaves > 0:
		v.b = NewBuilder()
		if err := v.loadPruned(ctx); err != nil {
			return err
		}
		after, v.prevSeq = v.rep.Pruned.LastSeq, v.rep.Pruned.LastSeq
	default:
		v.b = NewBuilder()
	}
	v.checkCheckpoints() // those of size 0 or at the start
	if v.stop {
		return nil
	}

	var queue []*row
	err = v.src.Entries(ctx, after, func(e *audit.Entry, rerr error) error {
		r := &row{e: *e, err: rerr}
		v.leafOf(r)
		queue = append(queue, r)
		if len(queue) > 2 {
			if err := v.process(ctx, queue[0], queue[1], queue[2]); err != nil {
				return err
			}
			queue = queue[1:]
		}
		if v.stop {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("read entries: %w", err)
	}
	for len(queue) > 0 && !v.stop {
		var next, next2 *row
		if len(queue) > 1 {
			next = queue[1]
		}
		if len(queue) > 2 {
			next2 = queue[2]
		}
		if err := v.process(ctx, queue[0], next, next2); err != nil {
			return err
		}
		queue = queue[1:]
	}
	if v.stop {
		return nil
	}
	v.finish()
	return nil
}

// loadCheckpoints reads, checks and orders the stored and witnessed checkpoints.
func (v *verifier) loadCheckpoints(ctx context.Context) error {
	v.rep.Unsigned = v.opts.Keys == nil
	var (
		n       int
		maxSize uint64
		maxAt   = -1
	)
	open := func(note []byte) (Checkpoint, error) {
		if v.opts.Keys == nil {
			return ParseUnverified(note)
		}
		return v.opts.Keys.Open(note)
	}
	var minSize uint64
	if v.opts.From != nil {
		minSize = v.opts.From.Size
	}
	err := v.src.Checkpoints(ctx, minSize, func(note []byte) error {
		i := n
		n++
		c, err := open(note)
		if err != nil {
			claimed, _ := ParseUnverified(note)
			kind := KindForgedCheckpoint
			if errors.Is(err, ErrUnverified) {
				kind = KindForgedCheckpoint
			}
			v.add(Finding{Kind: kind, Index: claimed.Size, Seq: 0,
				Detail: fmt.Sprintf("stored checkpoint #%d (size %d): %v", i+1, claimed.Size, err)})
			return nil
		}
		if maxAt >= 0 && c.Size < maxSize {
			v.add(Finding{Kind: KindRolledBack, Index: c.Size,
				Detail: fmt.Sprintf("stored checkpoint #%d has size %d after checkpoint #%d of size %d", i+1, c.Size, maxAt+1, maxSize)})
		}
		if c.Size >= maxSize {
			maxSize, maxAt = c.Size, i
		}
		v.cps = append(v.cps, cpRef{size: c.Size, root: c.Root, stored: i})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	v.rep.Checkpoints = n
	for i, note := range v.opts.Witnessed {
		c, err := open(note)
		if err != nil {
			claimed, _ := ParseUnverified(note)
			v.add(Finding{Kind: KindForgedCheckpoint, Index: claimed.Size,
				Detail: fmt.Sprintf("witnessed checkpoint #%d (size %d): %v", i+1, claimed.Size, err)})
			continue
		}
		v.rep.Witnessed++
		v.cps = append(v.cps, cpRef{size: c.Size, root: c.Root, stored: -1 - i})
	}
	slices.SortStableFunc(v.cps, func(a, b cpRef) int { return cmp.Compare(a.size, b.size) })
	return nil
}

// loadPruned appends the stored leaf hashes of the pruned entries.
func (v *verifier) loadPruned(ctx context.Context) error {
	p := v.rep.Pruned.Leaves
	const chunk = 64
	for t := uint64(0); t*TileWidth < p; t += chunk {
		tiles, err := v.src.ReadTiles(ctx, 0, t, t+chunk)
		if err != nil {
			return fmt.Errorf("read pruned leaf hashes: %w", err)
		}
		for _, tile := range tiles {
			for i := range tile.Width() {
				idx := tile.Index*TileWidth + uint64(i)
				if idx >= p {
					break
				}
				if idx != v.b.Size() {
					return fmt.Errorf("%w: pruned leaf %d", ErrMissingTile, v.b.Size())
				}
				if err := v.b.rng.Append(append([]byte(nil), tile.Hash(i)...), nil); err != nil {
					return err
				}
				v.checkCheckpoints()
			}
		}
	}
	if v.b.Size() != p {
		return fmt.Errorf("%w: %d of %d pruned leaf hashes", ErrMissingTile, v.b.Size(), p)
	}
	v.b.lastSeq = v.rep.Pruned.LastSeq
	return nil
}

// leafOf computes r's leaf.
func (v *verifier) leafOf(r *row) {
	if r.err != nil {
		return
	}
	if d, ok := v.redact[r.e.Seq]; ok {
		r.leaf = v.hasher.LeafWith(&r.e, d)
	} else {
		r.leaf = v.hasher.Leaf(&r.e)
	}
	r.ok = true
}

// leafAs is r's leaf had its seq been seq.
func (v *verifier) leafAs(r *row, seq int64) (Hash, bool) {
	if r == nil || !r.ok {
		return Hash{}, false
	}
	e := r.e
	e.Seq = seq
	if d, ok := v.redact[r.e.Seq]; ok {
		return v.hasher.LeafWith(&e, d), true
	}
	return v.hasher.Leaf(&e), true
}

func (v *verifier) hintIs(ctx context.Context, i int64, h Hash, ok bool) (bool, error) {
	if !ok || i < 0 {
		return false, nil
	}
	got, have, err := v.hints.get(ctx, uint64(i))
	if err != nil || !have {
		return false, err
	}
	return got == h, nil
}

// process checks r, the entry at the next position, with the entries after
// it (nil at the end) for context, and appends it to the tree.
func (v *verifier) process(ctx context.Context, r, next, next2 *row) error {
	pos := v.b.Size()
	if !r.done {
		if err := v.classify(ctx, r, next, pos, int64(pos)+v.offset); err != nil {
			return err
		}
	}
	if v.stop {
		return nil
	}
	h := v.b.mem.alloc()
	copy(h, r.leaf[:])
	if err := v.b.rng.Append(h, nil); err != nil {
		return err
	}
	v.b.lastSeq = r.e.Seq
	v.rep.Entries++
	v.rep.LastSeq = r.e.Seq
	v.prevSeq, v.prevID, v.prevOK = r.e.Seq, r.e.EventID, r.ok
	v.noteRecord(r)
	v.checkCheckpoints()
	if v.opts.Progress != nil && v.rep.Entries-v.lastProgress >= v.opts.ProgressEvery {
		v.lastProgress = v.rep.Entries
		total := int64(v.head.Size) - int64(v.rep.Pruned.Leaves)
		v.opts.Progress(Progress{Entries: v.rep.Entries, Total: max(total, 0), Elapsed: time.Since(v.start)})
	}
	return nil
}

// classify compares r's leaf with the stored leaf hashes around hint index
// h and reports what r's place in the log says about it.
func (v *verifier) classify(ctx context.Context, r, next *row, pos uint64, h int64) error {
	if r.err != nil {
		v.add(Finding{Kind: KindChanged, Seq: r.e.Seq, Index: pos, Detail: fmt.Sprintf("unreadable entry: %v", r.err)})
		return nil
	}
	is := func(i int64, x Hash, ok bool) bool {
		if v.stop {
			return false
		}
		b, err := v.hintIs(ctx, i, x, ok)
		if err != nil {
			v.hints.err = err
		}
		return b
	}
	if is(h, r.leaf, true) {
		return v.hints.err
	}
	_, have, err := v.hints.get(ctx, uint64(max(h, 0)))
	if err != nil {
		return err
	}
	var nextLeaf Hash
	nextOK := next != nil && next.ok
	if nextOK {
		nextLeaf = next.leaf
	}
	// Out of place, but as recorded: entries before it are missing, or it
	// swapped places with the next.
	for k := int64(1); k <= hintWindow; k++ {
		if is(h+k, r.leaf, true) {
			if k == 1 && is(h, nextLeaf, nextOK) {
				v.add(Finding{Kind: KindReordered, Seq: r.e.Seq, Index: pos,
					Detail: fmt.Sprintf("entry recorded after seq %d comes before it", next.e.Seq)})
				next.done = true
				return v.hints.err
			}
			v.add(Finding{Kind: KindDeleted, Seq: v.prevSeq + 1, Index: pos,
				Detail: fmt.Sprintf("%d entries missing between seq %d and seq %d", k, v.prevSeq, r.e.Seq)})
			v.offset += k
			return v.hints.err
		}
	}
	// Renumbered: the entry recorded at the next position with the next
	// seq, swapped with its neighbour.
	if l, ok := v.leafAs(r, r.e.Seq+1); ok && is(h+1, l, true) {
		v.add(Finding{Kind: KindReordered, Seq: r.e.Seq, Index: pos,
			Detail: fmt.Sprintf("entry recorded as seq %d now holds seq %d", r.e.Seq+1, r.e.Seq)})
		if next != nil {
			next.done = true
		}
		return v.hints.err
	}
	// The previous entry again, under the next seq.
	if l, ok := v.leafAs(r, r.e.Seq-1); ok && is(h-1, l, true) {
		kind, what := KindDuplicated, fmt.Sprintf("copy of seq %d", r.e.Seq-1)
		if r.e.EventID != v.prevID {
			kind, what = KindInserted, fmt.Sprintf("seq %d was inserted before this entry (recorded as seq %d)", v.prevSeq, r.e.Seq-1)
		}
		v.add(Finding{Kind: kind, Seq: r.e.Seq, Index: pos, Detail: what})
		v.offset--
		return v.hints.err
	}
	// Not recorded, and the next entry is the one recorded here (under its
	// own seq or renumbered after the insert).
	if is(h, nextLeaf, nextOK) {
		v.add(Finding{Kind: KindInserted, Seq: r.e.Seq, Index: pos, Detail: "entry was never recorded; the next entry is the one recorded here"})
		v.offset--
		return v.hints.err
	}
	if l, ok := v.leafAs(next, r.e.Seq); ok && next != nil && next.e.Seq == r.e.Seq+1 && is(h, l, true) {
		v.add(Finding{Kind: KindInserted, Seq: r.e.Seq, Index: pos,
			Detail: fmt.Sprintf("entry was never recorded; the entries after it were renumbered from seq %d on", r.e.Seq)})
		v.offset--
		return v.hints.err
	}
	if !have {
		v.add(Finding{Kind: KindInserted, Seq: r.e.Seq, Index: pos, Detail: "entry is beyond the tree's recorded leaves"})
		return v.hints.err
	}
	v.add(Finding{Kind: KindChanged, Seq: r.e.Seq, Index: pos, Detail: "entry differs from the one recorded (leaf hash mismatch)"})
	return v.hints.err
}

// noteRecord keeps what redaction and prune entries record.
func (v *verifier) noteRecord(r *row) {
	if !r.ok {
		return
	}
	switch r.e.Type {
	case TypeEntryRedacted:
		var d RedactionRecord
		if json.Unmarshal(r.e.Details, &d) == nil {
			if h, err := hex.DecodeString(d.PayloadSHA256); err == nil && len(h) == HashSize {
				v.recordedRedactions[d.Seq] = Hash(h)
			}
		}
	case TypeLogPruned:
		var d Pruned
		if json.Unmarshal(r.e.Details, &d) == nil {
			v.recordedPrune = &d
		}
	}
}

// checkCheckpoints compares the checkpoints of the tree's current size
// with its root.
func (v *verifier) checkCheckpoints() {
	size := v.b.Size()
	for v.nextCP < len(v.cps) && v.cps[v.nextCP].size <= size {
		c := &v.cps[v.nextCP]
		v.nextCP++
		if c.size < size {
			continue // before From
		}
		root := v.b.Root()
		if root == c.root {
			c.matched = true
			cp := Checkpoint{Size: c.size, Root: c.root}
			v.rep.Latest = &cp
			v.found = false
			if v.opts.OnVerified != nil {
				v.opts.OnVerified(v.b.Head())
			}
			continue
		}
		if v.found {
			continue // explained by an earlier finding
		}
		what := "stored checkpoint"
		if c.stored < 0 {
			what = "witnessed checkpoint"
		}
		v.add(Finding{Kind: KindChanged, Seq: v.prevSeq, Index: size - 1,
			Detail: fmt.Sprintf("root of the first %d leaves differs from the %s of that size: an entry up to seq %d was rewritten together with the stored hashes", size, what, v.prevSeq)})
	}
}

// finish checks the end of the log against the head and the checkpoints,
// and the redactions and prune against their records.
func (v *verifier) finish() {
	size := v.b.Size()
	v.rep.Size = size
	root := v.b.Root()
	v.rep.Root = hex.EncodeToString(root[:])
	if v.opts.From != nil && v.rep.Entries == 0 {
		v.rep.LastSeq = v.opts.From.LastSeq
	}
	if v.nextCP < len(v.cps) {
		c := v.cps[len(v.cps)-1]
		kind := KindTruncated
		what := "stored"
		if c.stored < 0 {
			kind, what = KindRolledBack, "witnessed"
		}
		v.add(Finding{Kind: kind, Seq: v.rep.LastSeq + 1, Index: size,
			Detail: fmt.Sprintf("the log ends after %d leaves (seq %d) but a %s checkpoint covers %d", size, v.rep.LastSeq, what, c.size)})
	}
	switch {
	case v.head.Size > size:
		if v.nextCP >= len(v.cps) {
			v.add(Finding{Kind: KindTruncated, Seq: v.rep.LastSeq + 1, Index: size,
				Detail: fmt.Sprintf("the log ends after %d leaves (seq %d) but the tree's head has %d", size, v.rep.LastSeq, v.head.Size)})
		}
	case v.head.Size < size:
		if !v.found {
			v.add(Finding{Kind: KindInserted, Seq: v.head.LastSeq + 1, Index: v.head.Size,
				Detail: fmt.Sprintf("%d entries after the tree's head (seq %d)", size-v.head.Size, v.head.LastSeq)})
		}
	case v.head.Root != root && !v.found:
		v.add(Finding{Kind: KindChanged, Seq: v.rep.LastSeq, Index: size,
			Detail: "the tree's stored head root differs from the recomputed root"})
	}
	for seq := range v.redact {
		if seq <= v.rep.Pruned.LastSeq {
			continue
		}
		if d, ok := v.recordedRedactions[seq]; !ok || d != v.redact[seq] {
			v.add(Finding{Kind: KindChanged, Seq: seq, Detail: "payload replaced by a digest that no redaction entry records"})
			continue
		}
		v.rep.Redacted = append(v.rep.Redacted, seq)
	}
	slices.Sort(v.rep.Redacted)
	if p := v.rep.Pruned; p.Leaves > 0 {
		if rp := v.recordedPrune; rp == nil || *rp != p {
			v.add(Finding{Kind: KindDeleted, Seq: 1, Detail: fmt.Sprintf("%d entries up to seq %d are gone without a prune entry recording it", p.Leaves, p.LastSeq)})
		}
	}
	slices.SortStableFunc(v.rep.Findings, func(a, b Finding) int { return cmp.Compare(a.Index, b.Index) })
}

// hintCache reads the stored leaf hashes (tiles of level 0) around the
// position being checked, 64 tiles at a time.
type hintCache struct {
	src        TileReader
	tiles      map[uint64]Tile
	lo, hi     uint64 // tiles [lo, hi) loaded
	err        error
	exhausted  bool
	beyondHead uint64
}

const hintChunk = 4

func (c *hintCache) get(ctx context.Context, i uint64) (Hash, bool, error) {
	t := i / TileWidth
	if c.tiles == nil || t < c.lo || t >= c.hi {
		if c.tiles != nil && t < c.lo {
			return Hash{}, false, nil // behind the window: not needed
		}
		lo := t
		if lo > 0 {
			lo-- // keep one tile behind for look-backs
		}
		ts, err := c.src.ReadTiles(ctx, 0, lo, lo+hintChunk)
		if err != nil {
			return Hash{}, false, err
		}
		c.tiles = make(map[uint64]Tile, len(ts))
		for _, x := range ts {
			c.tiles[x.Index] = x
		}
		c.lo, c.hi = lo, lo+hintChunk
	}
	x, ok := c.tiles[t]
	if !ok || int(i%TileWidth) >= x.Width() {
		return Hash{}, false, nil
	}
	return Hash(x.Hash(int(i % TileWidth))), true, nil
}
