package ledger

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// BundleVersion names the bundle format in its first line.
const BundleVersion = "wtb-ledger-bundle/v1"

// A bundle is one file that someone holding only the public key can verify
// offline. It is JSON Lines, one object per line, each with one key:
//
//	{"bundle": {"version": "wtb-ledger-bundle/v1", "execution_id": "...", "created": "..."}}
//	{"head": {"size": N, "last_seq": S, "root": "<hex>"}}
//	{"pruned": {"leaves": N, "last_seq": S}}
//	{"redaction": {"seq": S, "payload_sha256": "<hex>"}}
//	{"checkpoint": "<signed note>"}
//	{"tile": {"level": 0, "index": I, "hashes": "<base64>"}}
//	{"entry": {<audit entry JSON>}, "index": I, "proof": ["<base64>", ...]}
//
// A bundle of the whole log (no execution_id) holds every entry, the leaf
// hashes (tiles of level 0: those of pruned entries, and the stored ones
// the verifier compares with to name the first bad entry) and every
// checkpoint; VerifyBundle recomputes everything as Verify does. A bundle
// of one run holds the run's entries and its seal, each with its leaf
// index and inclusion proof in the latest checkpoint, which is the only
// checkpoint it holds; VerifyBundle checks every proof and the seal.
type bundleLine struct {
	Bundle     *bundleHeader   `json:"bundle,omitempty"`
	Head       *bundleHead     `json:"head,omitempty"`
	Pruned     *Pruned         `json:"pruned,omitempty"`
	Redaction  *bundleRedact   `json:"redaction,omitempty"`
	Checkpoint *string         `json:"checkpoint,omitempty"`
	Tile       *bundleTile     `json:"tile,omitempty"`
	Entry      json.RawMessage `json:"entry,omitempty"`
	Index      *uint64         `json:"index,omitempty"`
	Proof      [][]byte        `json:"proof,omitempty"`
}

type bundleHeader struct {
	Version     string    `json:"version"`
	ExecutionID string    `json:"execution_id,omitempty"`
	Created     time.Time `json:"created"`
}

type bundleHead struct {
	Size    uint64 `json:"size"`
	LastSeq int64  `json:"last_seq"`
	Root    string `json:"root"`
}

type bundleRedact struct {
	Seq           int64  `json:"seq"`
	PayloadSHA256 string `json:"payload_sha256"`
}

type bundleTile struct {
	Level  int    `json:"level"`
	Index  uint64 `json:"index"`
	Hashes []byte `json:"hashes"`
}

// WriteBundle writes the bundle of the log in src (a snapshot), or of the
// run executionID when it is not empty, to w.
func WriteBundle(ctx context.Context, w io.Writer, src Source, executionID string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	put := func(l bundleLine) error { return enc.Encode(l) }
	if err := put(bundleLine{Bundle: &bundleHeader{Version: BundleVersion, ExecutionID: executionID, Created: time.Now().UTC()}}); err != nil {
		return err
	}
	head, err := src.Head(ctx)
	if err != nil {
		return err
	}
	pruned, err := src.Pruned(ctx)
	if err != nil {
		return err
	}
	redacted, err := src.Redactions(ctx)
	if err != nil {
		return err
	}
	var notes [][]byte
	if err := src.Checkpoints(ctx, 0, func(n []byte) error { notes = append(notes, n); return nil }); err != nil {
		return err
	}
	if executionID != "" {
		return writeRunBundle(ctx, bw, put, src, executionID, notes, redacted)
	}
	if err := put(bundleLine{Head: &bundleHead{Size: head.Size, LastSeq: head.LastSeq, Root: hex.EncodeToString(head.Root[:])}}); err != nil {
		return err
	}
	if err := put(bundleLine{Pruned: &pruned}); err != nil {
		return err
	}
	seqs := make([]int64, 0, len(redacted))
	for seq := range redacted {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		d := redacted[seq]
		if err := put(bundleLine{Redaction: &bundleRedact{Seq: seq, PayloadSHA256: hex.EncodeToString(d[:])}}); err != nil {
			return err
		}
	}
	for _, n := range notes {
		s := string(n)
		if err := put(bundleLine{Checkpoint: &s}); err != nil {
			return err
		}
	}
	for t := uint64(0); t*TileWidth < head.Size; t += 64 {
		tiles, err := src.ReadTiles(ctx, 0, t, t+64)
		if err != nil {
			return err
		}
		for _, tl := range tiles {
			if err := put(bundleLine{Tile: &bundleTile{Level: 0, Index: tl.Index, Hashes: tl.Hashes}}); err != nil {
				return err
			}
		}
	}
	err = src.Entries(ctx, pruned.LastSeq, func(e *audit.Entry, rerr error) error {
		if rerr != nil {
			return rerr
		}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return put(bundleLine{Entry: b})
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writeRunBundle writes a run's entries with their inclusion proofs in the
// latest checkpoint.
func writeRunBundle(ctx context.Context, bw *bufio.Writer, put func(bundleLine) error, src Source, id string, notes [][]byte, redacted map[int64]Hash) error {
	var latest []byte
	var size uint64
	for _, n := range notes {
		if c, err := ParseUnverified(n); err == nil && c.Size >= size {
			latest, size = n, c.Size
		}
	}
	if latest == nil {
		return fmt.Errorf("ledger: bundle of run %q: %w", id, ErrNoCheckpoint)
	}
	s := string(latest)
	if err := put(bundleLine{Checkpoint: &s}); err != nil {
		return err
	}
	pruned, err := src.Pruned(ctx)
	if err != nil {
		return err
	}
	// Leaf indexes are positions in the log: one pass over it.
	type item struct {
		e     []byte
		index uint64
		seq   int64
	}
	var items []item
	pos := pruned.Leaves
	err = src.Entries(ctx, pruned.LastSeq, func(e *audit.Entry, rerr error) error {
		if rerr != nil {
			return rerr
		}
		if (e.ExecutionID == id || isSealOf(e, id)) && pos < size {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			items = append(items, item{b, pos, e.Seq})
		}
		pos++
		return nil
	})
	if err != nil {
		return err
	}
	for _, it := range items {
		if d, ok := redacted[it.seq]; ok {
			if err := put(bundleLine{Redaction: &bundleRedact{Seq: it.seq, PayloadSHA256: hex.EncodeToString(d[:])}}); err != nil {
				return err
			}
		}
		p, err := InclusionProof(ctx, src, it.index, size)
		if err != nil {
			return err
		}
		idx := it.index
		if err := put(bundleLine{Entry: it.e, Index: &idx, Proof: p}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// BundleReport is the outcome of VerifyBundle.
type BundleReport struct {
	// Log is the report of a whole-log bundle.
	Log *Report `json:"log,omitempty"`
	// Run is the report of a run bundle, with Proven the entries whose
	// inclusion proofs verified and Checkpoint the checkpoint they prove
	// against.
	Run        *RunReport  `json:"run,omitempty"`
	Proven     int         `json:"proven,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// OK reports whether the bundle verified.
func (r *BundleReport) OK() bool {
	if r.Log != nil {
		return r.Log.OK()
	}
	return r.Run != nil && len(r.Run.Findings) == 0
}

// ErrBadBundle is returned (wrapped in ErrCannotVerify) for a file that
// is not a bundle.
var ErrBadBundle = errors.New("ledger: not a bundle")

// VerifyBundle verifies the bundle in file offline, trusting only keys.
func VerifyBundle(ctx context.Context, file string, keys *Verifier, opts VerifyOptions) (*BundleReport, error) {
	b, err := openBundle(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotVerify, err)
	}
	if b.header.ExecutionID != "" {
		return verifyRunBundle(b, keys)
	}
	opts.Keys = keys
	r, err := Verify(ctx, b, opts)
	return &BundleReport{Log: r}, err
}

// bundle is a whole-log bundle as a Source: everything but the entries in
// memory, the entries read from the file on demand.
type bundle struct {
	path    string
	header  bundleHeader
	head    Head
	pruned  Pruned
	redact  map[int64]Hash
	notes   [][]byte
	tiles   map[uint64][]byte
	entries []bundleLine // run bundles only
}

func openBundle(path string) (*bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := &bundle{path: path, redact: map[int64]Hash{}, tiles: map[uint64][]byte{}, head: Head{Root: EmptyRoot}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		var l bundleLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrBadBundle, path, n, err)
		}
		switch {
		case n == 1:
			if l.Bundle == nil || l.Bundle.Version != BundleVersion {
				return nil, fmt.Errorf("%w: %s does not start with a %s header", ErrBadBundle, path, BundleVersion)
			}
			b.header = *l.Bundle
		case l.Head != nil:
			root, err := hex.DecodeString(l.Head.Root)
			if err != nil || len(root) != HashSize {
				return nil, fmt.Errorf("%w: line %d: head root", ErrBadBundle, n)
			}
			b.head = Head{Size: l.Head.Size, LastSeq: l.Head.LastSeq, Root: Hash(root)}
		case l.Pruned != nil:
			b.pruned = *l.Pruned
		case l.Redaction != nil:
			d, err := hex.DecodeString(l.Redaction.PayloadSHA256)
			if err != nil || len(d) != HashSize {
				return nil, fmt.Errorf("%w: line %d: redaction digest", ErrBadBundle, n)
			}
			b.redact[l.Redaction.Seq] = Hash(d)
		case l.Checkpoint != nil:
			b.notes = append(b.notes, []byte(*l.Checkpoint))
		case l.Tile != nil:
			if l.Tile.Level == 0 {
				b.tiles[l.Tile.Index] = l.Tile.Hashes
			}
		case l.Entry != nil:
			if b.header.ExecutionID != "" {
				b.entries = append(b.entries, l)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrBadBundle, path)
	}
	return b, nil
}

func (b *bundle) Head(context.Context) (Head, error)     { return b.head, nil }
func (b *bundle) Pruned(context.Context) (Pruned, error) { return b.pruned, nil }
func (b *bundle) Redactions(context.Context) (map[int64]Hash, error) {
	return b.redact, nil
}

func (b *bundle) Checkpoints(_ context.Context, minSize uint64, fn func([]byte) error) error {
	for _, n := range b.notes {
		if c, err := ParseUnverified(n); err == nil && c.Size < minSize {
			continue
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundle) ReadTiles(_ context.Context, level int, from, to uint64) ([]Tile, error) {
	if level != 0 {
		return nil, nil
	}
	var out []Tile
	for i := from; i < to; i++ {
		if h, ok := b.tiles[i]; ok {
			out = append(out, Tile{Level: 0, Index: i, Hashes: h})
		}
	}
	return out, nil
}

func (b *bundle) Entries(ctx context.Context, after int64, fn func(*audit.Entry, error) error) error {
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l struct {
			Entry json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Entry == nil {
			continue
		}
		var e audit.Entry
		err := json.Unmarshal(l.Entry, &e)
		if err == nil && e.Seq <= after {
			continue
		}
		if err := fn(&e, err); err != nil {
			return err
		}
	}
	return sc.Err()
}

// verifyRunBundle checks a run bundle: the checkpoint's signature, every
// entry's inclusion proof in it, and the run against its seal.
func verifyRunBundle(b *bundle, keys *Verifier) (*BundleReport, error) {
	if len(b.notes) != 1 {
		return nil, fmt.Errorf("%w: %w: a run bundle holds one checkpoint, this one %d", ErrCannotVerify, ErrBadBundle, len(b.notes))
	}
	rep := &BundleReport{Run: &RunReport{ExecutionID: b.header.ExecutionID}}
	run := rep.Run
	var cp Checkpoint
	var err error
	if keys != nil {
		cp, err = keys.Open(b.notes[0])
	} else {
		cp, err = ParseUnverified(b.notes[0])
	}
	if err != nil {
		claimed, _ := ParseUnverified(b.notes[0])
		run.Findings = append(run.Findings, Finding{Kind: KindForgedCheckpoint, Index: claimed.Size, Detail: err.Error()})
		return rep, nil
	}
	rep.Checkpoint = &cp
	var (
		h       Hasher
		seal    *audit.Entry
		entries []audit.Entry
	)
	for _, l := range b.entries {
		var e audit.Entry
		if err := json.Unmarshal(l.Entry, &e); err != nil {
			return nil, fmt.Errorf("%w: %w: entry: %v", ErrCannotVerify, ErrBadBundle, err)
		}
		if l.Index == nil {
			run.Findings = append(run.Findings, Finding{Kind: KindInserted, Seq: e.Seq, Detail: "entry without a leaf index"})
			continue
		}
		leaf := leafOfStored(&h, &e, b.redact)
		if err := VerifyInclusion(leaf, *l.Index, cp.Size, l.Proof, cp.Root); err != nil {
			run.Findings = append(run.Findings, Finding{Kind: KindChanged, Seq: e.Seq, Index: *l.Index,
				Detail: "not in the signed checkpoint: " + err.Error()})
			continue
		}
		rep.Proven++
		if isSealOf(&e, b.header.ExecutionID) {
			if seal == nil {
				c := e
				seal = &c
			}
			continue
		}
		entries = append(entries, e)
	}
	if seal == nil {
		return rep, nil
	}
	run.Sealed, run.SealSeq = true, seal.Seq
	var rec SealRecord
	if err := json.Unmarshal(seal.Details, &rec); err != nil {
		run.Findings = append(run.Findings, Finding{Kind: KindChanged, Seq: seal.Seq, Detail: "the seal's details do not parse"})
		return rep, nil
	}
	run.Record = &rec
	tree := NewBuilder()
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Seq <= rec.LastSeq:
			if err := tree.Append(e.Seq, leafOfStored(&h, e, b.redact)); err != nil {
				return nil, fmt.Errorf("%w: %w: %v", ErrCannotVerify, ErrBadBundle, err)
			}
			run.Entries++
		default: // not covered by the seal
			run.Late = append(run.Late, e.Seq)
		}
	}
	root := tree.Root()
	switch {
	case run.Entries < rec.Entries:
		run.Findings = append(run.Findings, Finding{Kind: KindDeleted, Seq: seal.Seq,
			Detail: fmt.Sprintf("the bundle proves %d of the %d entries the seal records", run.Entries, rec.Entries)})
	case run.Entries > rec.Entries:
		run.Findings = append(run.Findings, Finding{Kind: KindInserted, Seq: seal.Seq,
			Detail: fmt.Sprintf("the bundle proves %d entries, the seal records %d", run.Entries, rec.Entries)})
	case hex.EncodeToString(root[:]) != rec.RunRoot:
		run.Findings = append(run.Findings, Finding{Kind: KindChanged, Seq: seal.Seq, Detail: "the run's root differs from its seal's"})
	}
	return rep, nil
}

// isSealOf reports whether e is a seal of run id.
func isSealOf(e *audit.Entry, id string) bool {
	if e.Type != TypeRunSealed {
		return false
	}
	var rec SealRecord
	return json.Unmarshal(e.Details, &rec) == nil && rec.ExecutionID == id
}
