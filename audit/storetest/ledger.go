package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// Tamper is a transaction on a store's database in which a test changes
// rows directly, as someone with write access to the database could. It
// reads the log through the same transaction (it is a ledger.Source), and
// Rollback undoes everything. A store's test provides it to RunLedger.
type Tamper interface {
	ledger.Source
	// Columns lists the columns of the entries table that hold an entry.
	Columns() []string
	// Change sets column of the entry seq to another value of its type.
	Change(ctx context.Context, seq int64, column string) error
	// Delete deletes the entry seq.
	Delete(ctx context.Context, seq int64) error
	// Move gives the entry seq the unused seq to.
	Move(ctx context.Context, seq, to int64) error
	// Copy inserts a copy of the entry seq, every column alike, under the
	// unused seq to (event ids then repeat: the store's uniqueness rules
	// are out of the way).
	Copy(ctx context.Context, seq, to int64) error
	// Insert inserts e under its Seq (unused).
	Insert(ctx context.Context, e audit.Entry) error
	// DeleteEntriesAfter deletes every entry after seq (truncation).
	DeleteEntriesAfter(ctx context.Context, seq int64) error
	// CorruptCheckpoint flips a bit in the signature of the k-th stored
	// checkpoint (0 the first).
	CorruptCheckpoint(ctx context.Context, k int) error
	// AppendCheckpointNote stores note as the newest checkpoint, whatever
	// its size.
	AppendCheckpointNote(ctx context.Context, note []byte) error
	// DeleteCheckpointsAbove deletes the stored checkpoints larger than size.
	DeleteCheckpointsAbove(ctx context.Context, size uint64) error
	// Rollback undoes the transaction.
	Rollback() error
}

// LedgerStore is a ledger.Store with the means to tamper with it.
type LedgerStore struct {
	ledger.Store
	// Tamper begins a tampering transaction.
	Tamper func(ctx context.Context) (Tamper, error)
	// Parallel is how many tampering transactions may be open at once
	// (default 1): a server store takes several, each on a connection of
	// its own, to sweep the rows sooner.
	Parallel int
	// SkipSeqs, when set, makes the next append's seqs skip n values, as
	// a rolled-back append does on PostgreSQL (a store whose seqs never
	// skip leaves it nil).
	SkipSeqs func(ctx context.Context, n int64) error
}

// RunLedger runs the ledger's conformance suite against the stores made by
// newStore (one fresh empty store per subtest): the tree written with the
// entries, proofs, checkpoints, redaction and prune that keep the proof,
// and the tampering tests: every row of a 10,000-entry log changed in each
// column, deleted, duplicated, swapped with its neighbour and preceded by a
// forged row, each found by ledger.Verify with its kind and seq; a forged
// checkpoint signature, a rolled-back checkpoint and a truncated log.
// Under the race detector the row sweep takes every TamperStride-th row
// (and the rows at tile and checkpoint boundaries); without it, every row.
func RunLedger(t *testing.T, newStore func(t *testing.T) LedgerStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s LedgerStore)
	}{
		{"TreeWithEntries", testTreeWithEntries},
		{"ProofsProperty", testProofsProperty},
		{"Checkpoints", testCheckpoints},
		{"Redact", testRedact},
		{"Prune", testPrune},
		{"SealCatchUp", testSealCatchUp},
		{"LeafIndex", testLeafIndex},
		{"RunCounts", testRunCounts},
		{"AppendLeaves", testAppendLeaves},
		{"CheckpointTampering", testCheckpointTampering},
		{"TamperEveryRow", testTamperEveryRow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// testKey is one key pair for the whole suite.
var testSigner, testVerifier = func() (*ledger.Signer, *ledger.Verifier) {
	skey, vkey, err := ledger.GenerateKey("wtb.test/storetest")
	if err != nil {
		panic(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	v, err := ledger.NewVerifier(vkey)
	if err != nil {
		panic(err)
	}
	return s, v
}()

// ledgerEntry is entry i of the logs of this suite: every field used, some
// empty, durations and errors on some.
func ledgerEntry(prefix string, i int) audit.Entry {
	e := mk(fmt.Sprintf("%s-%05d", prefix, i))
	e.Timestamp = base.Add(time.Duration(i) * time.Millisecond)
	e.ExecutionID = fmt.Sprintf("exec-%d", i%5)
	e.NodeID = fmt.Sprintf("n%d", i%7)
	e.Message = fmt.Sprintf("entry %d", i)
	e.Details = json.RawMessage(fmt.Sprintf(`{"i":%d,"s":"x y"}`, i))
	switch i % 4 {
	case 0:
		e.DurationMS = nil
	case 1:
		e.Error = "boom"
		e.Severity = audit.SeverityError
	case 2:
		e.NodeID = ""
		e.Details = nil
	case 3:
		e.ExecutionID = ""
		e.Severity = audit.SeverityDebug
	}
	return e
}

// fill appends n entries in batches of cpEvery, storing a signed
// checkpoint after each batch.
func fill(t *testing.T, s LedgerStore, prefix string, n, cpEvery int) {
	t.Helper()
	for i := 0; i < n; i += cpEvery {
		es := make([]audit.Entry, min(cpEvery, n-i))
		for j := range es {
			es[j] = ledgerEntry(prefix, i+j)
		}
		mustAppend(t, s, es)
		checkpoint(t, s)
	}
}

func checkpoint(t *testing.T, s LedgerStore) ledger.SignedCheckpoint {
	t.Helper()
	ctx := context.Background()
	h, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := testSigner.Sign(h.Size, h.Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func verifyStore(t *testing.T, s LedgerStore, opts ledger.VerifyOptions) *ledger.Report {
	t.Helper()
	ctx := context.Background()
	snap, err := s.LedgerSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if opts.Keys == nil {
		opts.Keys = testVerifier
	}
	r, err := ledger.Verify(ctx, snap, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func testTreeWithEntries(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	// Batches with duplicates inside and across them.
	mustAppend(t, s, []audit.Entry{ledgerEntry("a", 0), ledgerEntry("a", 1), ledgerEntry("a", 0)})
	mustAppend(t, s, []audit.Entry{ledgerEntry("a", 1), ledgerEntry("a", 2)})
	fill(t, s, "b", 700, 300)
	all := queryAll(t, s, audit.Filter{})
	m := ledger.NewBuilder()
	var h ledger.Hasher
	for i := range all {
		if err := m.Append(all[i].Seq, h.Leaf(&all[i])); err != nil {
			t.Fatal(err)
		}
	}
	head, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Size != uint64(len(all)) || head.Root != m.Root() || head.LastSeq != all[len(all)-1].Seq {
		t.Fatalf("head %d leaves up to seq %d root %x; the entries read back give %d up to %d root %x",
			head.Size, head.LastSeq, head.Root, len(all), all[len(all)-1].Seq, m.Root())
	}
	for _, i := range []int{0, 1, 255, 256, len(all) - 1} {
		p, err := ledger.InclusionProof(ctx, s, uint64(i), head.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyInclusion(h.Leaf(&all[i]), uint64(i), head.Size, p, head.Root); err != nil {
			t.Fatalf("inclusion of entry %d: %v", i, err)
		}
	}
	if r := verifyStore(t, s, ledger.VerifyOptions{}); !r.OK() || r.Entries != int64(len(all)) {
		t.Fatalf("Verify: %d entries, findings %v", r.Entries, r.Findings)
	}
}

// testProofsProperty: random appends and checkpoints; every inclusion and
// consistency proof the store's tiles give verifies with the library's
// own verifier.
func testProofsProperty(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	n := 0
	var heads []ledger.Head
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(1, 300).Draw(rt, "batch")
		es := make([]audit.Entry, k)
		for i := range es {
			es[i] = ledgerEntry("p", n+i)
		}
		n += k
		if _, err := s.Append(ctx, es); err != nil {
			rt.Fatal(err)
		}
		h, err := s.LedgerHead(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "checkpoint") {
			heads = append(heads, h)
		}
		for _, old := range heads {
			i := rapid.Uint64Range(0, old.Size-1).Draw(rt, "leaf")
			leaf, err := leafAt(ctx, s, i)
			if err != nil {
				rt.Fatal(err)
			}
			p, err := ledger.InclusionProof(ctx, s, i, old.Size)
			if err != nil {
				rt.Fatal(err)
			}
			if err := ledger.VerifyInclusion(leaf, i, old.Size, p, old.Root); err != nil {
				rt.Fatalf("inclusion of leaf %d in %d: %v", i, old.Size, err)
			}
			c, err := ledger.ConsistencyProof(ctx, s, old.Size, h.Size)
			if err != nil {
				rt.Fatal(err)
			}
			if err := ledger.VerifyConsistency(old.Size, h.Size, c, old.Root, h.Root); err != nil {
				rt.Fatalf("consistency %d..%d: %v", old.Size, h.Size, err)
			}
		}
	})
}

// leafAt recomputes the leaf at index i from the entry there.
func leafAt(ctx context.Context, s LedgerStore, i uint64) (ledger.Hash, error) {
	es, err := s.Query(ctx, audit.Filter{Limit: 1, After: afterForIndex(ctx, s, i)})
	if err != nil || len(es) == 0 {
		return ledger.Hash{}, fmt.Errorf("entry at leaf %d: %v", i, err)
	}
	return ledger.LeafHash(&es[0]), nil
}

// afterForIndex is the seq before the entry at leaf index i (seqs are
// consecutive in these logs, from the first).
func afterForIndex(ctx context.Context, s LedgerStore, i uint64) int64 {
	es, _ := s.Query(ctx, audit.Filter{Limit: 1})
	if len(es) == 0 {
		return 0
	}
	return es[0].Seq - 1 + int64(i)
}

func testCheckpoints(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	if _, err := s.LatestCheckpoint(ctx); !errors.Is(err, ledger.ErrNoCheckpoint) {
		t.Fatalf("LatestCheckpoint of an empty store: %v, want ErrNoCheckpoint", err)
	}
	fill(t, s, "c", 300, 100)
	old, err := testSigner.Sign(100, ledger.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	if added, err := s.AddCheckpoint(ctx, old); err != nil || added {
		t.Fatalf("AddCheckpoint of a smaller size: added %v, %v", added, err)
	}
	note, err := s.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := testVerifier.Open(note)
	if err != nil || c.Size != 300 {
		t.Fatalf("latest checkpoint %+v, %v; want size 300", c, err)
	}
	if r := verifyStore(t, s, ledger.VerifyOptions{}); !r.OK() || r.Checkpoints != 3 || r.Latest == nil || r.Latest.Size != 300 {
		t.Fatalf("Verify: %+v", r)
	}
}

func testRedact(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	fill(t, s, "r", 500, 100)
	target := queryAll(t, s, audit.Filter{})[123]
	rec, err := s.Redact(ctx, target.Seq, "personal data")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Seq == 0 || rec.Type != audit.TypeEntryRedacted {
		t.Fatalf("redaction entry %+v", rec)
	}
	checkpoint(t, s)
	got := mustQuery(t, s, audit.Filter{After: target.Seq - 1, Limit: 1})[0]
	if got.Message != "" || got.Error != "" || string(got.Details) == string(target.Details) || got.EventID != target.EventID {
		t.Fatalf("redacted entry read back as %+v", got)
	}
	r := verifyStore(t, s, ledger.VerifyOptions{})
	if !r.OK() || len(r.Redacted) != 1 || r.Redacted[0] != target.Seq {
		t.Fatalf("Verify after redaction: redacted %v, findings %v", r.Redacted, r.Findings)
	}
	if _, err := s.Redact(ctx, target.Seq, "again"); !errors.Is(err, ledger.ErrRedacted) {
		t.Fatalf("second redaction: %v, want ErrRedacted", err)
	}
	if _, err := s.Redact(ctx, 1<<40, "none"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("redaction of an unknown seq: %v, want ErrNotFound", err)
	}
}

func testPrune(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	fill(t, s, "q", 1000, 100)
	all := queryAll(t, s, audit.Filter{})
	// Entry 600 is older than the cut, but entry 400 is not: the prune
	// stops before 400.
	cut := all[500].Timestamp
	if _, err := s.Redact(ctx, all[100].Seq, "in the pruned part"); err != nil {
		t.Fatal(err)
	}
	pr, rec, err := s.Prune(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Removed != 500 || pr.Leaves != 500 || pr.LastSeq != all[499].Seq || pr.FirstSeq != all[0].Seq || rec.Type != audit.TypeLogPruned {
		t.Fatalf("prune %+v, entry %+v", pr, rec)
	}
	if n := mustCount(t, s); n != int64(len(all))-500+2 {
		t.Fatalf("Count after prune = %d, want %d", n, len(all)-500+2)
	}
	checkpoint(t, s)
	r := verifyStore(t, s, ledger.VerifyOptions{})
	if !r.OK() || r.Pruned != pr.Pruned || r.Entries != int64(len(all))-500+2 || r.Checkpoints != 11 {
		t.Fatalf("Verify after prune: %+v", r)
	}
	if _, _, err := s.Prune(ctx, base.Add(-time.Hour)); !errors.Is(err, ledger.ErrNothingToPrune) {
		t.Fatalf("prune of nothing: %v", err)
	}
	// Prune everything: the last entry stays.
	if _, _, err := s.Prune(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, []audit.Entry{ledgerEntry("q2", 0)})
	checkpoint(t, s)
	if r := verifyStore(t, s, ledger.VerifyOptions{}); !r.OK() {
		t.Fatalf("Verify after pruning all: %v", r.Findings)
	}
}

func beginTamper(t *testing.T, s LedgerStore) Tamper {
	t.Helper()
	if s.Tamper == nil {
		t.Skip("the store offers no tampering transaction")
	}
	tx, err := s.Tamper(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func verifyTx(t *testing.T, tx Tamper, opts ledger.VerifyOptions) *ledger.Report {
	t.Helper()
	r, err := ledger.Verify(context.Background(), tx, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func testCheckpointTampering(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	fill(t, s, "k", 1000, 100)
	all := queryAll(t, s, audit.Filter{})
	cases := []struct {
		name   string
		tamper func(tx Tamper) error
		kind   ledger.Kind
		seq    int64
		index  uint64
		opts   ledger.VerifyOptions
	}{
		{"forged signature", func(tx Tamper) error { return tx.CorruptCheckpoint(ctx, 4) },
			ledger.KindForgedCheckpoint, 0, 500, ledger.VerifyOptions{Keys: testVerifier}},
		{"rolled-back checkpoint", func(tx Tamper) error {
			old, err := testSigner.Sign(300, mustRoot(t, s, 300))
			if err != nil {
				return err
			}
			return tx.AppendCheckpointNote(ctx, old.Note)
		}, ledger.KindRolledBack, 0, 300, ledger.VerifyOptions{Keys: testVerifier}},
		{"truncated log", func(tx Tamper) error { return tx.DeleteEntriesAfter(ctx, all[849].Seq) },
			ledger.KindTruncated, all[850].Seq, 850, ledger.VerifyOptions{Keys: testVerifier}},
		{"checkpoint by an unknown key", func(tx Tamper) error {
			skey, _, _ := ledger.GenerateKey("wtb.test/storetest")
			other, _ := ledger.NewSigner(skey)
			c, err := other.Sign(1000, mustRoot(t, s, 1000))
			if err != nil {
				return err
			}
			return tx.AppendCheckpointNote(ctx, c.Note)
		}, ledger.KindForgedCheckpoint, 0, 1000, ledger.VerifyOptions{Keys: testVerifier}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := beginTamper(t, s)
			defer tx.Rollback()
			if err := c.tamper(tx); err != nil {
				t.Fatal(err)
			}
			r := verifyTx(t, tx, c.opts)
			f := r.First()
			if f == nil || f.Kind != c.kind || f.Seq != c.seq || f.Index != c.index {
				t.Fatalf("first finding %v; want %s at seq %d, leaf %d", f, c.kind, c.seq, c.index)
			}
		})
	}
	t.Run("truncated with its checkpoints, a witness remembers", func(t *testing.T) {
		var witnessed [][]byte
		tx := beginTamper(t, s)
		defer tx.Rollback()
		if err := tx.Checkpoints(ctx, 0, func(n []byte) error { witnessed = append(witnessed, n); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := tx.DeleteEntriesAfter(ctx, all[599].Seq); err != nil {
			t.Fatal(err)
		}
		if err := tx.DeleteCheckpointsAbove(ctx, 600); err != nil {
			t.Fatal(err)
		}
		r := verifyTx(t, tx, ledger.VerifyOptions{Keys: testVerifier, Witnessed: witnessed})
		if f := r.First(); f == nil || f.Kind != ledger.KindRolledBack || f.Seq != all[600].Seq {
			t.Fatalf("first finding %v; want rolled back at seq %d", f, all[600].Seq)
		}
	})
}

func mustRoot(t *testing.T, s LedgerStore, size uint64) ledger.Hash {
	t.Helper()
	r, err := ledger.RootAt(context.Background(), s, size)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runEntries returns n entries of run id, the last of type end (none when
// end is empty).
func runEntries(id string, n int, end audit.Type) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = mk(fmt.Sprintf("%s-%03d", id, i))
		es[i].ExecutionID = id
	}
	if end != "" {
		es[n-1].Type = end
	}
	return es
}

// sealCount returns the number of seals of each run.
func sealCount(t *testing.T, s LedgerStore) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range queryAll(t, s, audit.Filter{Types: []audit.Type{ledger.TypeRunSealed}}) {
		var rec ledger.SealRecord
		if err := json.Unmarshal(e.Details, &rec); err != nil {
			t.Fatalf("seal %d: %v", e.Seq, err)
		}
		out[rec.ExecutionID]++
	}
	return out
}

// testSealCatchUp: runs whose end was recorded but never sealed (the
// process stopped first) are sealed by the next Sealer's CatchUp, which
// reads only the run ends after the seal mark and raises it; a run sealed
// already, and a second CatchUp, seal nothing again.
func testSealCatchUp(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	newSealer := func() *ledger.Sealer {
		cp := ledger.NewCheckpointer(s, testSigner, ledger.CheckpointerOptions{})
		return ledger.NewSealer(s, cp, ledger.SealerOptions{})
	}
	if m, err := s.SealMark(ctx); err != nil || m != 0 {
		t.Fatalf("SealMark of a new store: %d, %v", m, err)
	}
	// Sealed while its process ran.
	sealedRun := runEntries("run-sealed", 5, audit.TypeExecutionCompleted)
	mustAppend(t, s, sealedRun)
	live := newSealer()
	live.Committed(sealedRun)
	if err := live.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	// Ended, never sealed: the process stopped first. One ends twice.
	mustAppend(t, s, runEntries("run-crashed", 5, audit.TypeExecutionFailed))
	mustAppend(t, s, runEntries("run-open", 3, ""))
	twice := runEntries("run-twice", 4, audit.TypeExecutionCancelled)
	twice = append(twice, mk("run-twice-end2"))
	twice[4].ExecutionID, twice[4].Type = "run-twice", audit.TypeExecutionCompleted
	mustAppend(t, s, twice)
	head, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	n, err := newSealer().CatchUp(ctx)
	if err != nil || n != 2 {
		t.Fatalf("CatchUp: %d sealed, %v; want run-crashed and run-twice", n, err)
	}
	want := map[string]int{"run-sealed": 1, "run-crashed": 1, "run-twice": 1}
	if got := sealCount(t, s); !maps.Equal(got, want) {
		t.Fatalf("seals %v, want %v", got, want)
	}
	for _, id := range []string{"run-crashed", "run-twice"} {
		rep, err := ledger.VerifyRun(ctx, s, id)
		if err != nil || !rep.Sealed || len(rep.Findings) > 0 || len(rep.Late) > 0 {
			t.Fatalf("VerifyRun(%s) after the catch-up: %+v, %v", id, rep, err)
		}
	}
	if rep, err := ledger.VerifyRun(ctx, s, "run-twice"); err != nil || rep.Record.Outcome != audit.TypeExecutionCancelled || rep.Entries != 5 {
		t.Fatalf("run-twice: %+v, %v; want sealed with its 5 entries, ended first by %s", rep, err, audit.TypeExecutionCancelled)
	}
	if m, err := s.SealMark(ctx); err != nil || m < head.LastSeq {
		t.Fatalf("SealMark after the catch-up: %d, %v; want at least %d", m, err, head.LastSeq)
	}
	if r := verifyStore(t, s, ledger.VerifyOptions{}); !r.OK() {
		t.Fatalf("Verify after the catch-up: %+v", r.Findings)
	}

	// Again: nothing to seal. The mark never goes down.
	if n, err := newSealer().CatchUp(ctx); err != nil || n != 0 {
		t.Fatalf("second CatchUp: %d sealed, %v", n, err)
	}
	if got := sealCount(t, s); !maps.Equal(got, want) {
		t.Fatalf("seals after a second CatchUp %v, want %v", got, want)
	}
	m, _ := s.SealMark(ctx)
	if err := s.RaiseSealMark(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if m2, err := s.SealMark(ctx); err != nil || m2 != m {
		t.Fatalf("RaiseSealMark(1) moved the mark from %d to %d (%v)", m, m2, err)
	}
	// A run that ends while a live Sealer waits to seal it, sealed first by
	// another process's CatchUp: the live Sealer finds that seal, recorded
	// after the run's end, and does not seal the run again.
	late := runEntries("run-later", 3, audit.TypeExecutionCompleted)
	mustAppend(t, s, late)
	other := newSealer()
	if n, err := other.CatchUp(ctx); err != nil || n != 1 {
		t.Fatalf("CatchUp of a run ended after the mark: %d, %v", n, err)
	}
	live.Committed(late)
	if err := live.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	want["run-later"] = 1
	if got := sealCount(t, s); !maps.Equal(got, want) {
		t.Fatalf("seals %v, want %v: a run sealed twice", got, want)
	}
}

// testLeafIndex: LeafIndex turns the seq of every entry into its position
// in the tree, where the entry's leaf is: with duplicates in batches, with
// seqs skipped (SkipSeqs), after a prune; an unknown seq, or one skipped,
// is not found.
func testLeafIndex(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	mustAppend(t, s, []audit.Entry{ledgerEntry("li", 0), ledgerEntry("li", 1), ledgerEntry("li", 0)})
	skipped := []int64{}
	for b := range 4 {
		if s.SkipSeqs != nil && b%2 == 1 {
			h, err := s.LedgerHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SkipSeqs(ctx, int64(5+b)); err != nil {
				t.Fatal(err)
			}
			skipped = append(skipped, h.LastSeq+1)
		}
		es := make([]audit.Entry, 300)
		for j := range es {
			es[j] = ledgerEntry("li", 2+b*300+j)
		}
		es = append(es, ledgerEntry("li", 2+b*300)) // a duplicate
		mustAppend(t, s, es)
	}
	check := func(when string) {
		t.Helper()
		all := queryAll(t, s, audit.Filter{})
		h, err := s.LedgerHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var hs ledger.Hasher
		for i := range all {
			e := &all[i]
			idx, err := s.LeafIndex(ctx, e.Seq)
			if err != nil {
				t.Fatalf("%s: LeafIndex(%d): %v", when, e.Seq, err)
			}
			if want := h.Size - uint64(len(all)-i); idx != want {
				t.Fatalf("%s: LeafIndex(%d) = %d, want %d (entry %d of %d, tree of %d)", when, e.Seq, idx, want, i, len(all), h.Size)
			}
			leaf, err := ledger.ReadLeaf(ctx, s, idx)
			if err != nil || leaf != hs.Leaf(e) {
				t.Fatalf("%s: leaf %d (seq %d) is not the entry's: %v", when, idx, e.Seq, err)
			}
		}
		for _, seq := range append(skipped, h.LastSeq+1, 0) {
			if _, err := s.LeafIndex(ctx, seq); !errors.Is(err, audit.ErrNotFound) {
				t.Fatalf("%s: LeafIndex(%d) of no entry: %v, want audit.ErrNotFound", when, seq, err)
			}
		}
	}
	check("appended")
	if s.SkipSeqs != nil && len(skipped) == 0 {
		t.Fatal("no seq skipped")
	}
	if _, _, err := s.Prune(ctx, base.Add(450*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	check("pruned")
}

// testRunCounts: RunCounts gives, for each run asked, the number of its
// entries up to a seq and their first and last seqs, as a query of the
// entries finds them: runs interleaved, duplicates and seqs skipped
// (SkipSeqs), more ids than one statement binds, unknown ids and runs with
// nothing up to the seq left out, after a prune.
func testRunCounts(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	var ids []string
	for i := range 1200 {
		ids = append(ids, fmt.Sprintf("rc-%04d", i))
	}
	for b := range 6 {
		if s.SkipSeqs != nil && b == 3 {
			if err := s.SkipSeqs(ctx, 7); err != nil {
				t.Fatal(err)
			}
		}
		var es []audit.Entry
		for i, id := range ids {
			if i%(b+1) != 0 { // run i has an entry in batch b when b+1 divides i
				continue
			}
			e := mk(fmt.Sprintf("rc-%d-%s", b, id))
			e.ExecutionID = id
			e.Timestamp = base.Add(time.Duration(b) * time.Second)
			es = append(es, e)
		}
		es = append(es, es[0]) // a duplicate
		mustAppend(t, s, es)
	}
	want := func(through int64) map[string]ledger.RunCount {
		out := map[string]ledger.RunCount{}
		for _, e := range queryAll(t, s, audit.Filter{}) {
			if e.Seq > through || e.ExecutionID == "" {
				continue
			}
			c, ok := out[e.ExecutionID]
			if !ok {
				c.FirstSeq = e.Seq
			}
			c.Entries++
			c.LastSeq = e.Seq
			out[e.ExecutionID] = c
		}
		return out
	}
	check := func(when string, ask []string, through int64) {
		t.Helper()
		got, err := s.RunCounts(ctx, ask, through)
		if err != nil {
			t.Fatalf("%s: RunCounts: %v", when, err)
		}
		all := want(through)
		exp := map[string]ledger.RunCount{}
		for _, id := range ask {
			if c, ok := all[id]; ok {
				exp[id] = c
			}
		}
		if !maps.Equal(got, exp) {
			for id, c := range exp {
				if got[id] != c {
					t.Errorf("%s: run %s: %+v, want %+v", when, id, got[id], c)
				}
			}
			t.Fatalf("%s: RunCounts of %d runs through %d: %d runs, want %d", when, len(ask), through, len(got), len(exp))
		}
	}
	head, err := s.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("all", append(ids, "rc-unknown"), head.LastSeq)
	check("some", []string{"rc-0000", "rc-0006", "rc-0007", "rc-0060"}, head.LastSeq)
	check("through the middle", ids, head.LastSeq-500)
	check("through the first", ids[:3], 1)
	check("none", nil, head.LastSeq)
	if _, _, err := s.Prune(ctx, base.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	check("pruned", ids, head.LastSeq)
}

// testAppendLeaves: a store that hands out its leaves (ledger.LeafAppender)
// gives each appended entry the leaf hash of the entry as recorded, and a
// zero hash to the duplicates (within the batch and recorded before),
// across batches long enough to be hashed ahead, with seqs skipped
// (SkipSeqs), with and without entries recorded before in the batch.
func testAppendLeaves(t *testing.T, s LedgerStore) {
	la, ok := s.Store.(ledger.LeafAppender)
	if !ok {
		t.Skip("the store hands out no leaves")
	}
	ctx := context.Background()
	earlier := []audit.Entry{ledgerEntry("al", 0), ledgerEntry("al", 1)}
	mustAppend(t, s, earlier)
	for b, n := range []int{1, 3, 200, 700} {
		if s.SkipSeqs != nil && b == 2 {
			if err := s.SkipSeqs(ctx, 5); err != nil {
				t.Fatal(err)
			}
		}
		var es []audit.Entry
		for i := range n {
			es = append(es, ledgerEntry(fmt.Sprintf("al%d", b), i))
		}
		if b%2 == 1 { // a repeat, and an entry recorded before
			es = append(es, es[0], ledgerEntry("al", 1))
		}
		res, leaves, err := la.AppendLeaves(ctx, es)
		if err != nil {
			t.Fatalf("batch %d: AppendLeaves: %v", b, err)
		}
		if res.Appended != n || len(leaves) != len(es) {
			t.Fatalf("batch %d: %d appended, %d leaves; want %d, %d", b, res.Appended, len(leaves), n, len(es))
		}
		for i := range es {
			if es[i].Seq == 0 {
				if leaves[i] != (ledger.Hash{}) {
					t.Fatalf("batch %d: entry %d not appended has a leaf", b, i)
				}
				continue
			}
			stored, err := s.Query(ctx, audit.Filter{After: es[i].Seq - 1, Limit: 1})
			if err != nil || len(stored) != 1 || stored[0].Seq != es[i].Seq {
				t.Fatalf("batch %d: entry %d (seq %d) not found", b, i, es[i].Seq)
			}
			if want := ledger.LeafHash(&stored[0]); leaves[i] != want {
				t.Fatalf("batch %d: entry %d (seq %d): leaf %x, want %x", b, i, es[i].Seq, leaves[i][:4], want[:4])
			}
		}
	}
}
