package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// TestExecutionsBackfill opens a schema written before the executions
// table existed: the migration fills it from the entries, and every
// summary equals audit.Summarize of the execution's entries.
func TestExecutionsBackfill(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.NewSchema(t)
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
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
	for _, q := range []string{"DROP TABLE " + s.q.executionsTable,
		"DROP TABLE " + s.led.q.tiles + ", " + s.led.q.head + ", " + s.led.q.checkpoints + ", " + s.led.q.redactions + ", " + s.led.q.prune + ", " + s.led.q.sealMark + ", " + s.led.q.runs,
		"DELETE FROM " + pgxIdent(schema, "schema_migrations") + " WHERE version >= 3"} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, dsn, Options{Schema: schema})
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
		if !reflect.DeepEqual(got, want) {
			t.Errorf("backfilled %q:\n got %+v\nwant %+v", got.ExecutionID, got, want)
		}
	}
}
