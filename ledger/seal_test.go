package ledger_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/sqlite"
)

func openSQLite(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wtb.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func rawExec(t *testing.T, path, q string) {
	t.Helper()
	db, err := sql.Open(string(sqlite.DefaultDriver), "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func runOf(id string, from, n int, end audit.Type) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = entry(from + i)
		es[i].ExecutionID = id
	}
	if end != "" {
		es[n-1].Type = end
	}
	return es
}

func appendAll(t *testing.T, s ledger.Store, es []audit.Entry) []audit.Entry {
	t.Helper()
	if _, err := s.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestSealAndLate seals a run when it ends, proves it complete, flags an
// entry that comes after the seal as late, and finds an entry deleted from
// or changed in the sealed run.
func TestSealAndLate(t *testing.T) {
	ctx := context.Background()
	s, path := openSQLite(t)
	signer, _ := keys(t, "wtb.test/seal")
	cp := ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{})
	sealer := ledger.NewSealer(s, cp, ledger.SealerOptions{})

	appendAll(t, s, runOf("other", 0, 5, ""))
	run := appendAll(t, s, runOf("run-a", 100, 20, audit.TypeExecutionCompleted))
	sealer.Committed(run)
	if err := sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.VerifyRun(ctx, s, "run-a")
	if err != nil || !rep.Sealed || rep.Entries != 20 || len(rep.Findings) > 0 || len(rep.Late) > 0 {
		t.Fatalf("VerifyRun: %+v, %v", rep, err)
	}
	seal, rec, err := ledger.FindSeal(ctx, s, "run-a")
	if err != nil || seal == nil || rec.Entries != 20 || rec.LastSeq != run[19].Seq || rec.Outcome != audit.TypeExecutionCompleted {
		t.Fatalf("seal %+v %+v %v", seal, rec, err)
	}
	if seal.ExecutionID != "" {
		t.Fatalf("the seal belongs to execution %q: it must count in no run's summary", seal.ExecutionID)
	}

	late := appendAll(t, s, runOf("run-a", 200, 1, ""))
	sealer.Committed(late)
	if st := sealer.Stats(); st.Late != 1 || st.Sealed != 1 {
		t.Fatalf("sealer stats %+v, want 1 sealed and 1 late", st)
	}
	rep, err = ledger.VerifyRun(ctx, s, "run-a")
	if err != nil || len(rep.Findings) > 0 || len(rep.Late) != 1 || rep.Late[0] != late[0].Seq {
		t.Fatalf("VerifyRun with a late entry: %+v, %v", rep, err)
	}
	if rep, _ := ledger.VerifyRun(ctx, s, "other"); rep.Sealed {
		t.Fatal("a run that never ended is sealed")
	}

	for _, tc := range []struct {
		q    string
		kind ledger.Kind
	}{
		{"DELETE FROM entries WHERE seq = " + itoa(run[7].Seq), ledger.KindDeleted},
		{"UPDATE entries SET message = 'x' WHERE seq = " + itoa(run[3].Seq), ledger.KindChanged},
		{"UPDATE entries SET execution_id = 'run-a' WHERE seq = 2", ledger.KindInserted},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			s2, path2 := openSQLite(t)
			s2.Close()
			copyDB(t, path, path2)
			rawExec(t, path2, tc.q)
			st, err := sqlite.Open(ctx, path2, sqlite.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rep, err := ledger.VerifyRun(ctx, st, "run-a")
			if err != nil || len(rep.Findings) == 0 || rep.Findings[0].Kind != tc.kind {
				t.Fatalf("VerifyRun after %s: %+v, %v", tc.q, rep, err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func copyDB(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if errors.Is(err, os.ErrNotExist) {
			os.Remove(to + suffix)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(to + "-shm")
}

// TestCheckpointerRefuses: a log must never sign a checkpoint inconsistent
// with one it signed before.
func TestCheckpointerRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper string
	}{
		{"rolled back", "UPDATE ledger_head SET size = size - 1"},
		{"history rewritten", "UPDATE ledger_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openSQLite(t)
			signer, v := keys(t, "wtb.test/cp")
			witness := &ledger.FileWitness{Path: filepath.Join(t.TempDir(), "witness")}
			cp := ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{Witnesses: []ledger.Witness{witness}})
			appendAll(t, s, entries(300))
			if _, _, err := cp.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			appendAll(t, s, runOf("x", 1000, 300, ""))
			rawExec(t, path, tc.tamper)
			if _, _, err := cp.Checkpoint(ctx); !errors.Is(err, ledger.ErrInconsistent) {
				t.Fatalf("Checkpoint after the log was %s: %v, want ErrInconsistent", tc.name, err)
			}
			notes, err := ledger.ReadWitnessFile(witness.Path)
			if err != nil || len(notes) != 1 {
				t.Fatalf("witness holds %d notes, %v; want the first checkpoint only", len(notes), err)
			}
			if c, err := v.Open(notes[0]); err != nil || c.Size != 300 {
				t.Fatalf("witnessed %+v, %v", c, err)
			}
		})
	}
}

func TestWitnesses(t *testing.T) {
	ctx := context.Background()
	signer, v := keys(t, "wtb.test/witness")
	var notes [][]byte
	for size := range uint64(3) {
		c, err := signer.Sign(size+1, ledger.Hash{byte(size)})
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, c.Note)
	}
	fw := &ledger.FileWitness{Path: filepath.Join(t.TempDir(), "w")}
	var mu sync.Mutex
	var posted [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, b)
		mu.Unlock()
	}))
	defer srv.Close()
	uw := &ledger.URLWitness{URL: srv.URL}
	for _, n := range notes {
		if err := fw.Witness(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := uw.Witness(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ledger.ReadWitnessFile(fw.Path)
	if err != nil || len(got) != 3 {
		t.Fatalf("ReadWitnessFile: %d notes, %v", len(got), err)
	}
	for i := range notes {
		if !bytes.Equal(got[i], notes[i]) || !bytes.Equal(posted[i], notes[i]) {
			t.Fatalf("note %d: file %q, posted %q, want %q", i, got[i], posted[i], notes[i])
		}
		if _, err := v.Open(got[i]); err != nil {
			t.Fatal(err)
		}
	}
	bad := &ledger.URLWitness{URL: srv.URL + "/x"}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) })
	if err := bad.Witness(ctx, notes[0]); err == nil {
		t.Fatal("a witness answering 500 took the checkpoint")
	}
}

// TestBundles writes the bundles of a log and of a run, verifies them
// offline, and finds what was changed in them.
func TestBundles(t *testing.T) {
	ctx := context.Background()
	s, _ := openSQLite(t)
	signer, v := keys(t, "wtb.test/bundle")
	cp := ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{})
	sealer := ledger.NewSealer(s, cp, ledger.SealerOptions{})
	appendAll(t, s, entries(700))
	run := appendAll(t, s, runOf("run-b", 1000, 30, audit.TypeExecutionFailed))
	sealer.Committed(run)
	if err := sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redact(ctx, run[4].Seq, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cp.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, id string) string {
		snap, err := s.LedgerSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close()
		var b bytes.Buffer
		if err := ledger.WriteBundle(ctx, &b, snap, id); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b.Bytes(), 0o600)
		return p
	}
	all, one := write("all", ""), write("run", "run-b")
	for _, p := range []string{all, one} {
		r, err := ledger.VerifyBundle(ctx, p, v, ledger.VerifyOptions{})
		if err != nil || !r.OK() {
			t.Fatalf("VerifyBundle(%s): %+v %+v, %v", p, r.Log, r.Run, err)
		}
	}
	if r, _ := ledger.VerifyBundle(ctx, one, v, ledger.VerifyOptions{}); r.Proven != 31 || !r.Run.Sealed || r.Run.Entries != 30 {
		t.Fatalf("run bundle: %d proven, %+v", r.Proven, r.Run)
	}
	edit := func(p, from, to string) string {
		b, _ := os.ReadFile(p)
		out := filepath.Join(dir, "edited")
		if !bytes.Contains(b, []byte(from)) {
			t.Fatalf("%s does not hold %q", p, from)
		}
		os.WriteFile(out, bytes.Replace(b, []byte(from), []byte(to), 1), 0o600)
		return out
	}
	// The whole log: a changed message is named by seq.
	changed := edit(all, `"event_id":"ev-000042"`, `"event_id":"ev-000042x"`)
	r, err := ledger.VerifyBundle(ctx, changed, v, ledger.VerifyOptions{})
	if err != nil || r.OK() || r.Log.First().Seq != 43 || r.Log.First().Kind != ledger.KindChanged {
		t.Fatalf("changed bundle: %+v, %v", r.Log, err)
	}
	// The run: an entry left out is missing from the seal's count.
	lines := strings.Split(string(mustRead(t, one)), "\n")
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, `"event_id":"ev-001010"`) {
			kept = append(kept, l)
		}
	}
	os.WriteFile(filepath.Join(dir, "short"), []byte(strings.Join(kept, "\n")), 0o600)
	r, err = ledger.VerifyBundle(ctx, filepath.Join(dir, "short"), v, ledger.VerifyOptions{})
	if err != nil || r.OK() || r.Run.Findings[0].Kind != ledger.KindDeleted {
		t.Fatalf("run bundle without an entry: %+v, %v", r.Run, err)
	}
	// Another key: the checkpoint is not trusted.
	_, other := keys(t, "wtb.test/bundle")
	if r, _ := ledger.VerifyBundle(ctx, one, other, ledger.VerifyOptions{}); r.OK() {
		t.Fatal("a run bundle verified with another key")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealWindowLate: an entry of a run recorded after its seal was made
// (its checkpoint taken) but before the seal was recorded, as happens when
// the seal waits in a recorder's queue, is not covered by the seal: it is
// listed as late, by VerifyRun and by a run bundle. The Sealer's Append
// sets no seqs (like a recorder's Submit); it learns them from Committed
// and flags only entries after the seal as late.
func TestSealWindowLate(t *testing.T) {
	ctx := context.Background()
	s, _ := openSQLite(t)
	signer, v := keys(t, "wtb.test/window")
	cp := ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{})
	var sealer *ledger.Sealer
	var inWindow []audit.Entry
	sealer = ledger.NewSealer(s, cp, ledger.SealerOptions{Append: func(ctx context.Context, seals []audit.Entry) error {
		// The seal is made; an entry of the run comes before it is recorded.
		inWindow = appendAll(t, s, runOf("run-w", 500, 1, ""))
		sealer.Committed(inWindow)
		recorded := slices.Clone(seals) // the caller's seals keep Seq 0
		appendAll(t, s, recorded)
		sealer.Committed(recorded)
		return nil
	}})
	run := appendAll(t, s, runOf("run-w", 100, 10, audit.TypeExecutionCompleted))
	sealer.Committed(run)
	if err := sealer.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.VerifyRun(ctx, s, "run-w")
	if err != nil || !rep.Sealed || rep.Entries != 10 || len(rep.Findings) > 0 || !slices.Equal(rep.Late, []int64{inWindow[0].Seq}) {
		t.Fatalf("VerifyRun: %+v, %v; want entry %d late", rep, err, inWindow[0].Seq)
	}
	if st := sealer.Stats(); st.Late != 0 || st.Sealed != 1 {
		t.Fatalf("sealer stats %+v, want 1 sealed, none late yet", st)
	}
	after := appendAll(t, s, runOf("run-w", 600, 1, ""))
	sealer.Committed(after)
	if st := sealer.Stats(); st.Late != 1 {
		t.Fatalf("sealer stats %+v, want the entry after the seal late", st)
	}
	if _, _, err := cp.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err := s.LedgerSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = ledger.WriteBundle(ctx, &b, snap, "run-w")
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "run.bundle")
	os.WriteFile(p, b.Bytes(), 0o600)
	r, err := ledger.VerifyBundle(ctx, p, v, ledger.VerifyOptions{})
	if err != nil || !r.OK() || !slices.Equal(r.Run.Late, []int64{inWindow[0].Seq, after[0].Seq}) {
		t.Fatalf("run bundle: %+v, %v; want entries %d and %d late", r.Run, err, inWindow[0].Seq, after[0].Seq)
	}
}
