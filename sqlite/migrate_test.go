package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/sqlite"
)

// TestExecutionsBackfill opens a database written before the executions
// table existed: the migration fills it from the entries, and every
// summary equals audit.Summarize of the execution's entries.
func TestExecutionsBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	types := []struct {
		typ audit.Type
		sev audit.Severity
	}{
		{"execution_started", audit.SeverityInfo}, {"node_completed", audit.SeveritySuccess},
		{"node_failed", audit.SeverityError}, {"checkpoint_created", audit.SeverityInfo},
		{"rollback_performed", audit.SeverityWarning}, {"execution_paused", audit.SeverityInfo},
		{"execution_resumed", audit.SeverityInfo}, {"execution_failed", audit.SeverityError},
		{"execution_completed", audit.SeveritySuccess}, {"execution_paused", audit.SeverityInfo},
	}
	var all []audit.Entry
	for i := range 200 {
		tp := types[(i*7+i/9)%len(types)]
		e := audit.Entry{EventID: fmt.Sprintf("bf-%d", i), SourceType: "X", Type: tp.typ, Severity: tp.sev,
			Timestamp: base.Add(time.Duration(i) * time.Millisecond), Message: "m",
			ExecutionID: fmt.Sprintf("exec-%d", i%9)}
		if tp.typ == "execution_started" {
			e.Details = json.RawMessage(fmt.Sprintf(`{"workflow_id":"wf-%d"}`, i%4))
		}
		all = append(all, e)
	}
	if _, err := s.Append(ctx, all); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Back to the first schema version.
	db, err := sql.Open(string(sqlite.DefaultDriver), "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE executions", "DROP TABLE ledger_tiles", "DROP TABLE ledger_head",
		"DROP TABLE ledger_checkpoints", "DROP TABLE ledger_redactions", "DROP TABLE ledger_prune", "DROP TABLE ledger_seal_mark", "DROP TABLE ledger_seq_runs",
		"DELETE FROM schema_migrations WHERE version >= 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	byExec := map[string][]audit.Entry{}
	for _, e := range all {
		byExec[e.ExecutionID] = append(byExec[e.ExecutionID], e)
	}
	list, err := s.Executions(ctx, audit.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(byExec) {
		t.Fatalf("%d executions listed, want %d", len(list), len(byExec))
	}
	for _, got := range list {
		want := audit.Summarize(got.ExecutionID, byExec[got.ExecutionID])
		if !summaryEqual(want, got) {
			t.Errorf("backfilled %q:\n got %+v\nwant %+v", got.ExecutionID, got, want)
		}
	}
}

func summaryEqual(a, b audit.Summary) bool {
	tm := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	fl := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	if !tm(a.StartedAt, b.StartedAt) || !tm(a.EndedAt, b.EndedAt) || !fl(a.DurationMS, b.DurationMS) {
		return false
	}
	a.StartedAt, a.EndedAt, a.DurationMS = nil, nil, nil
	b.StartedAt, b.EndedAt, b.DurationMS = nil, nil, nil
	return a == b
}

// TestLedgerBackfill opens a database whose entries have no leaves (written
// before the ledger existed): Open adds them, and the log verifies.
func TestLedgerBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{NoLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Append(ctx, benchEntries(fmt.Sprint("old", i), 70_000)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.LedgerHead(ctx)
	if err != nil || h.Size != 210_000 {
		t.Fatalf("head after backfill: %d leaves, %v", h.Size, err)
	}
	if _, err := s.Append(ctx, benchEntries("new", 10)); err != nil {
		t.Fatal(err)
	}
	snap, err := s.LedgerSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	r, err := ledger.Verify(ctx, snap, ledger.VerifyOptions{})
	if err != nil || !r.OK() || r.Entries != 210_010 {
		t.Fatalf("Verify after backfill: %+v, %v", r, err)
	}
}
