package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

func TestAuditJSONOutput(t *testing.T) {
	const n, perExec = 120, 40
	db := importedDB(t, "js", n, perExec)
	exec := "js-exec-000001"

	r := mustRun(t, "", "audit", "list", "--json", "--db", db)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != n/perExec {
		t.Fatalf("list --json: %d lines, want %d:\n%s", len(lines), n/perExec, r.stdout)
	}
	for _, l := range lines {
		var s audit.Summary
		if err := json.Unmarshal([]byte(l), &s); err != nil || s.ExecutionID == "" || s.TotalEntries != perExec {
			t.Fatalf("list --json line %q: %v", l, err)
		}
	}

	var shown struct {
		Summary audit.Summary `json:"summary"`
		Entries []audit.Entry `json:"entries"`
	}
	for _, tc := range []struct {
		flags []string
		want  int
	}{
		{nil, min(audit.TimelineLimit, perExec-13)}, // the 27 entries that are not debug (at most 30)
		{[]string{"--all"}, perExec - 13},           // every entry but the debug node starts
		{[]string{"--debug"}, audit.TimelineLimit},  // the last 30 of 40
		{[]string{"--all", "--debug"}, perExec},     // every entry
	} {
		r := mustRun(t, "", append([]string{"audit", "show", exec, "--json", "--db", db}, tc.flags...)...)
		if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
			t.Fatalf("show --json %v: %v\n%s", tc.flags, err, r.stdout)
		}
		if want := tc.want; shown.Summary.ExecutionID != exec || len(shown.Entries) != want {
			t.Errorf("show --json %v: execution %q, %d entries, want %d", tc.flags, shown.Summary.ExecutionID, len(shown.Entries), want)
		}
	}

	r = mustRun(t, "", "audit", "summary", exec, "--db", db)
	for _, want := range []string{"Execution:   " + exec + "\n", "Status:      completed\n", "Started:     2026-03-14 09:26:53Z\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "", "audit", "summary", exec, "--json", "--db", db)
	var s audit.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.ExecutionID != exec {
		t.Fatalf("summary --json: %v\n%s", err, r.stdout)
	}
}

func TestAuditLocalTimes(t *testing.T) {
	db := importedDB(t, "tz", 10, 10)
	saved := localZone
	localZone = time.FixedZone("XST", -5*3600)
	t.Cleanup(func() { localZone = saved })
	r := mustRun(t, "", "audit", "list", "--db", db)
	if !strings.Contains(r.stdout, "2026-03-14 09:26:53Z") {
		t.Errorf("list without --local is not in UTC:\n%s", r.stdout)
	}
	r = mustRun(t, "", "audit", "list", "--local", "--db", db)
	if !strings.Contains(r.stdout, "2026-03-14 04:26:53-05:00") {
		t.Errorf("list --local:\n%s", r.stdout)
	}
	r = mustRun(t, "", "audit", "show", "tz-exec-000000", "--local", "--db", db)
	if !strings.Contains(r.stdout, "Started:   2026-03-14 04:26:53.589-05:00\n") || !strings.Contains(r.stdout, "[04:26:53.589-05:00] [i]") {
		t.Errorf("show --local:\n%s", r.stdout)
	}
}

// TestAuditExportFilters: export with the filters of GET /v1/audit writes
// what the store's Query selects with the same filter.
func TestAuditExportFilters(t *testing.T) {
	smallPages(t)
	const n, perExec = 400, 40
	db := importedDB(t, "flt", n, perExec)
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	query := func(f audit.Filter, limit int) []int64 {
		var seqs []int64
		err := forEachEntry(context.Background(), st, f, func(page []audit.Entry) error {
			for _, e := range page {
				seqs = append(seqs, e.Seq)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if limit > 0 && len(seqs) > limit {
			seqs = seqs[:limit]
		}
		return seqs
	}
	at := func(i int) time.Time { return genBase.Add(time.Duration(i) * time.Millisecond) }
	tests := []struct {
		name  string
		args  []string
		f     audit.Filter
		limit int
	}{
		{"execution-id", []string{"--execution-id", "flt-exec-000003"}, audit.Filter{ExecutionID: "flt-exec-000003"}, 0},
		{"node-id", []string{"--node-id", "node-2"}, audit.Filter{NodeID: "node-2"}, 0},
		{"event types", []string{"--event-type", "node_completed,execution_started", "--event-type", "checkpoint_created"},
			audit.Filter{Types: []audit.Type{audit.TypeNodeCompleted, audit.TypeExecutionStarted, audit.TypeCheckpointCreated}}, 0},
		{"min-severity", []string{"--min-severity", "success"}, audit.Filter{MinSeverity: audit.SeveritySuccess}, 0},
		{"since and until", []string{"--since", at(100).Format(time.RFC3339Nano), "--until", at(250).Format(time.RFC3339Nano)},
			audit.Filter{Since: at(100), Until: at(250)}, 0},
		{"after and limit", []string{"--after", "77", "--limit", "90"}, audit.Filter{After: 77}, 90},
		{"combined", []string{"--execution", "flt-exec-000002", "--min-severity", "info", "--node-id", "node-1"},
			audit.Filter{ExecutionID: "flt-exec-000002", MinSeverity: audit.SeverityInfo, NodeID: "node-1"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, "", append([]string{"audit", "export", "--db", db}, tc.args...)...)
			var got []int64
			for _, e := range parseExport(t, r.stdout) {
				got = append(got, e.Seq)
			}
			want := query(tc.f, tc.limit)
			if len(want) == 0 || len(want) == n {
				t.Fatalf("the filter selects %d of %d entries: a useless case", len(want), n)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("exported seqs %v\nwant %v", got, want)
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--event-type", "nosuch"}, `--event-type "nosuch"`},
		{[]string{"--min-severity", "loud"}, `--min-severity "loud"`},
		{[]string{"--since", "yesterday"}, `--since "yesterday"`},
		{[]string{"--limit", "-1"}, "--limit must not be negative"},
		{[]string{"--execution", "a", "--execution-id", "b"}, "differ"},
	} {
		r := run(t, "", append([]string{"audit", "export", "--db", db}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("export %v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}
