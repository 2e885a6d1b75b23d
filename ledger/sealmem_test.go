package ledger_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/sqlite"
)

// sealRig is a SQLite store with a Sealer whose seals are captured, not
// recorded, until record is called.
type sealRig struct {
	t      *testing.T
	s      *sqlite.Store
	path   string
	cp     *ledger.Checkpointer
	sealer *ledger.Sealer
	seals  []audit.Entry
	// hashed: the Sealer hashes the leaves itself (Committed) instead of
	// taking the store's (AppendLeaves, CommittedLeaves).
	hashed bool
}

func newSealRig(t *testing.T, opts ledger.SealerOptions) *sealRig {
	s, path := openSQLite(t)
	signer, _ := keys(t, "wtb.test/sealmem")
	r := &sealRig{t: t, s: s, path: path, cp: ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{})}
	opts.Append = func(_ context.Context, seals []audit.Entry) error {
		r.seals = append(r.seals, seals...)
		return nil
	}
	r.sealer = ledger.NewSealer(s, r.cp, opts)
	return r
}

// add appends es and tells the Sealer, as a recording command does.
func (r *sealRig) add(es []audit.Entry) []audit.Entry {
	r.t.Helper()
	if r.hashed {
		appendAll(r.t, r.s, es)
		r.sealer.Committed(es)
		return es
	}
	_, leaves, err := r.s.AppendLeaves(context.Background(), es)
	if err != nil {
		r.t.Fatal(err)
	}
	r.sealer.CommittedLeaves(es, leaves)
	return es
}

// readBack makes the seals of the runs ids, all completed, by reading
// their entries back (ledger.Seals), for comparison.
func (r *sealRig) readBack(ctx context.Context, ids []string) []audit.Entry {
	r.t.Helper()
	outcome := map[string]audit.Type{}
	for _, id := range ids {
		outcome[id] = audit.TypeExecutionCompleted
	}
	seals, err := ledger.Seals(ctx, r.s, r.cp, ids, outcome)
	if err != nil {
		r.t.Fatal(err)
	}
	return seals
}

// record appends the seals captured and tells the Sealer.
func (r *sealRig) record() {
	r.t.Helper()
	r.add(r.seals)
	r.seals = nil
}

func sealRecord(t *testing.T, e audit.Entry) ledger.SealRecord {
	t.Helper()
	var rec ledger.SealRecord
	if err := json.Unmarshal(e.Details, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// wantRecord is the record of run es (in seq order, up to the seal's
// checkpoint) as the read-back seal computed it: a Builder over their
// leaves.
func wantRecord(t *testing.T, es []audit.Entry, outcome audit.Type, sc ledger.SealRecord) ledger.SealRecord {
	t.Helper()
	b := ledger.NewBuilder()
	var h ledger.Hasher
	for i := range es {
		if err := b.Append(es[i].Seq, h.Leaf(&es[i])); err != nil {
			t.Fatal(err)
		}
	}
	root := b.Root()
	return ledger.SealRecord{ExecutionID: es[0].ExecutionID, Entries: int64(len(es)), FirstSeq: es[0].Seq,
		LastSeq: es[len(es)-1].Seq, RunRoot: hex.EncodeToString(root[:]),
		CheckpointSize: sc.CheckpointSize, CheckpointRoot: sc.CheckpointRoot, Outcome: outcome}
}

// TestSealFromMemory: runs whose entries the Sealer saw committed are
// sealed from memory, with seals identical to those made by reading the
// entries back (ledger.Seals), a redacted entry among them; the seals
// verify; nothing stays kept once they are sealed.
// Both with the store's leaves and with leaves the Sealer hashes.
func TestSealFromMemory(t *testing.T) {
	for _, hashed := range []bool{false, true} {
		t.Run(fmt.Sprintf("hashed=%v", hashed), func(t *testing.T) { testSealFromMemory(t, hashed) })
	}
}

func testSealFromMemory(t *testing.T, hashed bool) {
	ctx := context.Background()
	r := newSealRig(t, ledger.SealerOptions{})
	r.hashed = hashed
	runs := map[string][]audit.Entry{}
	var ids []string
	for k := range 8 {
		id := fmt.Sprintf("run-%d", k)
		ids = append(ids, id)
		runs[id] = runOf(id, 1000*k, 15, audit.TypeExecutionCompleted)
	}
	// Interleaved, as runs at once are, in batches across runs.
	for i := 0; i < 15; i += 5 {
		var batch []audit.Entry
		for _, id := range ids {
			batch = append(batch, runs[id][i:i+5]...)
		}
		r.add(batch)
		for k, id := range ids {
			copy(runs[id][i:i+5], batch[5*k:5*k+5]) // their seqs
		}
	}
	r.add(runOf("open", 9000, 3, "")) // never ends
	if _, err := r.s.Redact(ctx, runs["run-3"][4].Seq, "test"); err != nil {
		t.Fatal(err)
	}
	if st := r.sealer.Stats(); st.TrackedBytes <= 0 {
		t.Fatalf("stats %+v: no entry kept", st)
	}
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.sealer.Stats(); st.Sealed != 8 || st.FromMemory != 8 {
		t.Fatalf("stats %+v, want 8 runs sealed, all from memory", st)
	}
	readBack := r.readBack(ctx, ids)
	if len(r.seals) != 8 || len(readBack) != 8 {
		t.Fatalf("%d seals from memory, %d read back; want 8", len(r.seals), len(readBack))
	}
	for i := range r.seals {
		if string(r.seals[i].Details) != string(readBack[i].Details) {
			t.Errorf("seal from memory:\n  %s\nread back:\n  %s", r.seals[i].Details, readBack[i].Details)
		}
		rec := sealRecord(t, r.seals[i])
		if want := wantRecord(t, runs[rec.ExecutionID], audit.TypeExecutionCompleted, rec); rec != want {
			t.Errorf("seal %+v, want %+v", rec, want)
		}
	}
	r.record()
	for _, id := range ids {
		rep, err := ledger.VerifyRun(ctx, r.s, id)
		if err != nil || !rep.Sealed || rep.Entries != 15 || len(rep.Findings) > 0 || len(rep.Late) > 0 {
			t.Fatalf("VerifyRun(%s): %+v, %v", id, rep, err)
		}
	}
	open := r.sealer.Stats().TrackedBytes
	r.add(runOf("open", 9100, 2, "")) // 5 leaves: its slice grows past room for 4
	if st := r.sealer.Stats(); st.TrackedBytes <= open {
		t.Fatalf("stats %+v: the open run's entries are not kept", st)
	}
	// The open run ends: once sealed, nothing is kept.
	r.add(runOf("open", 9200, 1, audit.TypeExecutionFailed))
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	r.record()
	if st := r.sealer.Stats(); st.TrackedBytes != 0 || st.FromMemory != 9 {
		t.Fatalf("stats %+v after every run is sealed: want nothing kept, 9 from memory", st)
	}
}

// raceStore is a store that runs before once LedgerHead has read the
// head: a commit that comes while a seal is made, after its checkpoint's
// head.
type raceStore struct {
	ledger.Store
	before func()
}

func (s *raceStore) LedgerHead(ctx context.Context) (ledger.Head, error) {
	h, err := s.Store.LedgerHead(ctx)
	if s.before != nil {
		s.before()
		s.before = nil
	}
	return h, err
}

// TestSealFallsBack: a run with entries the Sealer did not see committed
// (recorded by another process, before this one started, or not handed
// to Committed yet when the seal is made), or with entries pruned, is
// sealed by reading its entries back, and its seal verifies; entries
// committed after the seal's checkpoint are left out of the seal from
// memory.
func TestSealFallsBack(t *testing.T) {
	ctx := context.Background()
	r := newSealRig(t, ledger.SealerOptions{})
	rs := &raceStore{Store: r.s}
	signer, _ := keys(t, "wtb.test/sealmem")
	r.cp = ledger.NewCheckpointer(rs, signer, ledger.CheckpointerOptions{})
	r.sealer = ledger.NewSealer(rs, r.cp, ledger.SealerOptions{Append: func(_ context.Context, seals []audit.Entry) error {
		r.seals = append(r.seals, seals...)
		return nil
	}})
	other, err := sqlite.Open(ctx, r.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	// run-p: its first two entries seen and pruned, two recorded by
	// another process, its last seen: as many entries, and the same last
	// seq, as the Sealer kept.
	p := runOf("run-p", -10, 5, audit.TypeExecutionCompleted)
	r.add(p[:2])
	appendAll(t, other, p[2:4])
	r.add(p[4:])
	if _, _, err := r.s.Prune(ctx, t0.Add(-8*time.Millisecond)); err != nil {
		t.Fatal(err)
	}

	// Another process records an entry in the middle of run-x.
	x := runOf("run-x", 0, 6, audit.TypeExecutionCompleted)
	r.add(x[:3])
	appendAll(t, other, x[3:4])
	r.add(x[4:])
	// run-y started before this process: its first entry was not seen.
	y := runOf("run-y", 100, 4, audit.TypeExecutionCancelled)
	appendAll(t, other, y[:1])
	r.add(y[1:])
	// run-z: an entry recorded, not handed to Committed yet.
	z := runOf("run-z", 200, 4, audit.TypeExecutionCompleted)
	r.add(z[:2])
	appendAll(t, r.s, z[2:3])
	r.add(z[3:])
	// run-m: all seen, and one more entry committed during the seal,
	// after its checkpoint.
	r.add(runOf("run-m", 300, 5, audit.TypeExecutionCompleted))
	var during []audit.Entry
	rs.before = func() { during = r.add(runOf("run-m", 400, 1, "")) }
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.sealer.Stats(); st.Sealed != 5 || st.FromMemory != 1 {
		t.Fatalf("stats %+v, want 5 runs sealed, run-m alone from memory", st)
	}
	r.record()
	for id, n := range map[string]int64{"run-p": 3, "run-x": 6, "run-y": 4, "run-z": 4, "run-m": 5} {
		rep, err := ledger.VerifyRun(ctx, r.s, id)
		if err != nil || !rep.Sealed || rep.Entries != n || rep.Record.Entries != n || len(rep.Findings) > 0 {
			t.Fatalf("VerifyRun(%s): %+v, %v; want %d entries sealed", id, rep, err, n)
		}
		if id == "run-m" && !slices.Equal(rep.Late, []int64{during[0].Seq}) {
			t.Fatalf("VerifyRun(run-m): late %v, want the entry committed during the seal, %d", rep.Late, during[0].Seq)
		}
	}
	if st := r.sealer.Stats(); st.TrackedBytes != 0 {
		t.Fatalf("stats %+v: entries kept after every run is sealed", st)
	}
}

// TestSealMemoryBound: with MaxTrackedBytes tiny, the entries kept stay
// within it (the runs that started first are dropped), and every run is
// still sealed right: from memory when its entries are all kept, else
// read back, the seals identical to those read back (ledger.Seals).
func TestSealMemoryBound(t *testing.T) {
	ctx := context.Background()
	const bound = 4 << 10
	r := newSealRig(t, ledger.SealerOptions{MaxTrackedBytes: bound})
	runs := map[string][]audit.Entry{}
	var ids []string
	for k := range 40 {
		id := fmt.Sprintf("run-%02d", k)
		ids = append(ids, id)
		runs[id] = runOf(id, 100*k, 10, audit.TypeExecutionCompleted)
	}
	add := func(es []audit.Entry) {
		t.Helper()
		r.add(es)
		if st := r.sealer.Stats(); st.TrackedBytes > bound || st.TrackedBytes <= 0 {
			t.Fatalf("stats %+v, want 0 < TrackedBytes <= %d", st, bound)
		}
	}
	// 30 runs at once, an entry of each in turn: far more than the bound.
	for i := range 10 {
		for _, id := range ids[:30] {
			add(runs[id][i : i+1])
		}
	}
	// Then 10 runs one after the other: the last ones fit.
	for _, id := range ids[30:] {
		for i := range 10 {
			add(runs[id][i : i+1])
		}
	}
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	st := r.sealer.Stats()
	if st.Sealed != 40 || st.FromMemory == 0 || st.FromMemory > 10 {
		t.Fatalf("stats %+v, want 40 runs sealed, some of the last 10 from memory", st)
	}
	readBack := r.readBack(ctx, ids)
	for i := range readBack {
		if string(r.seals[i].Details) != string(readBack[i].Details) {
			t.Errorf("seal:\n  %s\nread back:\n  %s", r.seals[i].Details, readBack[i].Details)
		}
	}
	r.record()
	for _, id := range ids {
		rep, err := ledger.VerifyRun(ctx, r.s, id)
		if err != nil || !rep.Sealed || rep.Entries != 10 || len(rep.Findings) > 0 {
			t.Fatalf("VerifyRun(%s): %+v, %v", id, rep, err)
		}
	}
	if st := r.sealer.Stats(); st.TrackedBytes != 0 {
		t.Fatalf("stats %+v: entries kept after every run is sealed", st)
	}
}

// TestSealFoundAfterOwn: a run sealed by another process is not sealed
// again when the seals after its end include the Sealer's own (which it
// does not decode again).
func TestSealFoundAfterOwn(t *testing.T) {
	ctx := context.Background()
	r := newSealRig(t, ledger.SealerOptions{})
	run2 := appendAll(t, r.s, runOf("run-2", 200, 3, audit.TypeExecutionCompleted))
	r.add(runOf("run-0", 0, 3, audit.TypeExecutionCompleted))
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	r.record() // the Sealer's own seal of run-0, after run-2's end
	signer, _ := keys(t, "wtb.test/sealmem")
	other := ledger.NewSealer(r.s, ledger.NewCheckpointer(r.s, signer, ledger.CheckpointerOptions{}), ledger.SealerOptions{})
	other.Committed(run2)
	if err := other.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	r.sealer.Committed(run2)
	if err := r.sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.sealer.Stats(); st.Sealed != 1 || len(r.seals) != 0 {
		t.Fatalf("stats %+v, %d seals made: run-2, sealed by another process, sealed again", st, len(r.seals))
	}
}
