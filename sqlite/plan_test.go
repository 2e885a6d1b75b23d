package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// TestQueryPlans pins the plans that keep queries fast at 10 million
// entries: the filters served by an index, in seq order, without sorting.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "wtb.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	tests := []struct {
		name string
		f    audit.Filter
		want string // a substring of the plan
	}{
		{"all", audit.Filter{}, "SCAN entries"},
		{"after", audit.Filter{After: 10}, "SEARCH entries USING INTEGER PRIMARY KEY (rowid>?)"},
		{"execution", audit.Filter{ExecutionID: "e"}, "USING INDEX entries_execution (execution_id=?)"},
		{"execution after", audit.Filter{ExecutionID: "e", After: 5}, "USING INDEX entries_execution (execution_id=? AND seq>?)"},
		{"execution and more", audit.Filter{ExecutionID: "e", MinSeverity: audit.SeverityError, Types: []audit.Type{"a", "b"}, Since: now}, "USING INDEX entries_execution (execution_id=?)"},
		{"node", audit.Filter{NodeID: "n", After: 5}, "USING INDEX entries_node (node_id=? AND seq>?)"},
		{"one type", audit.Filter{Types: []audit.Type{"node_failed"}, After: 5}, "USING INDEX entries_type (event_type=? AND seq>?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, args := buildQuery(tc.f)
			got := explain(t, s, q, args...)
			if !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
				t.Fatalf("plan of %s:\n  %s\nwant %q and no sort", q, got, tc.want)
			}
		})
	}
	// Pages of executions, newest first: one index, read backwards, no sort.
	cursor := audit.Summary{ExecutionID: "e", StartedAt: &now}
	pages := []struct {
		name string
		p    audit.Page
		want string
	}{
		{"newest", audit.Page{}, "USING INDEX executions_started"},
		{"cursor", audit.Page{After: cursor.Cursor()}, "USING INDEX executions_started"},
		{"time", audit.Page{Since: now, Until: now}, "USING INDEX executions_started (started_ns>? AND started_ns<?)"},
		{"status", audit.Page{Statuses: []string{"failed"}, After: cursor.Cursor()}, "USING INDEX executions_status (status=?"},
		{"workflow", audit.Page{WorkflowID: "wf", Since: now}, "USING INDEX executions_workflow (workflow_id=? AND started_ns>?)"},
		{"text", audit.Page{Text: "abc"}, "USING INDEX executions_started"},
	}
	for _, tc := range pages {
		t.Run("executions "+tc.name, func(t *testing.T) {
			q, args, err := buildExecutions(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got := explain(t, s, q, args...)
			if !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
				t.Fatalf("plan of %s:\n  %s\nwant %q and no sort", q, got, tc.want)
			}
		})
	}
	// RunCounts: the runs' entries up to a seq from the index alone,
	// grouped as the index orders them.
	t.Run("run counts", func(t *testing.T) {
		got := explain(t, s, sqlRunCounts(3), "a", "b", "c", int64(9))
		if want := "USING COVERING INDEX entries_execution (execution_id=? AND seq<?)"; !strings.Contains(got, want) || strings.Contains(got, "TEMP B-TREE") {
			t.Fatalf("plan of RunCounts:\n  %s\nwant %q and no sort", got, want)
		}
	})
}

// explain returns the plan of q, its steps joined by "; ".
func explain(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
