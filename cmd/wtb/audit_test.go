package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/sqlite"
)

// importedDB imports n generated events (perExec per execution) into a new
// database and returns its path.
func importedDB(t *testing.T, seed string, n, perExec int) string {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	mustRun(t, "", "import", "--db", db, eventsFile(t, dir, seed, n, perExec))
	return db
}

// parseExport parses export output into entries, checking one JSON object
// per line with the required keys.
func parseExport(t *testing.T, out string) []audit.Entry {
	t.Helper()
	var entries []audit.Entry
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &keys); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		for _, k := range []string{"seq", "event_id", "source_type", "timestamp", "event_type", "severity", "message", "execution_id", "node_id", "details", "error", "duration_ms"} {
			if _, ok := keys[k]; !ok {
				t.Fatalf("line %d lacks %q: %s", i+1, k, l)
			}
		}
		var e audit.Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var seq int64
		json.Unmarshal(keys["seq"], &seq)
		e.Seq = seq
		entries = append(entries, e)
	}
	return entries
}

// smallPages makes the audit commands page by a few entries and executions.
func smallPages(t *testing.T) {
	q, l := queryPage, listPage
	queryPage, listPage = 64, 2
	t.Cleanup(func() { queryPage, listPage = q, l })
}

func TestAuditExport(t *testing.T) {
	smallPages(t)
	const n, perExec = 1000, 50 // 16 query pages
	db := importedDB(t, "exp", n, perExec)
	tests := []struct {
		name     string
		args     []string
		wantN    int
		wantExec string
	}{
		{"all", nil, n, ""},
		{"one execution", []string{"--execution", "exp-exec-000013"}, perExec, "exp-exec-000013"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, "", append([]string{"audit", "export", "--db", db}, tc.args...)...)
			entries := parseExport(t, r.stdout)
			// The seals of the runs that ended are the ledger's own entries.
			entries = slices.DeleteFunc(entries, func(e audit.Entry) bool { return e.Type == audit.TypeRunSealed })
			if len(entries) != tc.wantN {
				t.Fatalf("%d entries, want %d", len(entries), tc.wantN)
			}
			ids := map[string]bool{}
			for i, e := range entries {
				if i > 0 && e.Seq <= entries[i-1].Seq {
					t.Fatalf("seq %d after %d: not in seq order", e.Seq, entries[i-1].Seq)
				}
				if tc.wantExec != "" && e.ExecutionID != tc.wantExec {
					t.Fatalf("entry of execution %q in export of %q", e.ExecutionID, tc.wantExec)
				}
				if ids[e.EventID] {
					t.Fatalf("event %s exported twice", e.EventID)
				}
				ids[e.EventID] = true
				if e.Timestamp.Location().String() != "UTC" {
					t.Fatalf("timestamp not UTC: %v", e.Timestamp)
				}
			}
			if !strings.Contains(r.stdout, `"timestamp":"2026-03-14T09:`) {
				t.Errorf("timestamps not RFC 3339 UTC: %.300s", r.stdout)
			}
		})
	}
}

func TestAuditShowListSummary(t *testing.T) {
	smallPages(t)
	const perExec = 35 // 11 nodes per execution: more than 30 timeline entries
	db := importedDB(t, "show", 3*perExec, perExec)
	exec := "show-exec-000001"

	t.Run("summary", func(t *testing.T) {
		r := mustRun(t, "", "audit", "summary", exec, "--db", db, "--json")
		var s audit.Summary
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if s.ExecutionID != exec || s.TotalEntries != perExec || s.NodesExecuted != 11 ||
			s.CheckpointsCreated != 11 || s.Status != audit.StatusCompleted || s.WorkflowID != "wf-gen" {
			t.Errorf("summary %+v", s)
		}
		if s.FirstSeq != perExec+1 || s.LastSeq != 2*perExec {
			t.Errorf("seq range %d..%d, want %d..%d", s.FirstSeq, s.LastSeq, perExec+1, 2*perExec)
		}
	})

	t.Run("list", func(t *testing.T) {
		r := mustRun(t, "", "audit", "list", "--db", db)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("list:\n%s", r.stdout)
		}
		if f := strings.Fields(lines[0]); f[0] != "EXECUTION" || f[3] != "ENTRIES" {
			t.Errorf("header %q", lines[0])
		}
		for i := range 3 {
			f := strings.Fields(lines[i+1])
			want := []string{fmt.Sprintf("show-exec-%06d", 2-i), "wf-gen", "completed", "35", "11", "0", "11", "0", "0"}
			if strings.Join(f[:len(want)], " ") != strings.Join(want, " ") {
				t.Errorf("row %d: %q, want %q...", i, lines[i+1], want)
			}
		}
		if lines[4] != "3 executions" {
			t.Errorf("last line %q", lines[4])
		}
		for _, tc := range []struct {
			args []string
			rows []string
		}{
			{[]string{"--status", "failed"}, nil},
			{[]string{"--status", "running,completed", "--search", "EXEC-000001"}, []string{"show-exec-000001"}},
			{[]string{"--limit", "2"}, []string{"show-exec-000002", "show-exec-000001"}},
			{[]string{"--workflow", "wf-gen", "--since", "2026-03-14T09:00:00Z", "--until", "1h"}, []string{"show-exec-000002", "show-exec-000001", "show-exec-000000"}},
			{[]string{"--until", "2026-03-14T09:00:00Z"}, nil},
		} {
			r := mustRun(t, "", append([]string{"audit", "list", "--db", db}, tc.args...)...)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			var rows []string
			for _, l := range lines[1 : len(lines)-1] {
				rows = append(rows, strings.Fields(l)[0])
			}
			if strings.Join(rows, " ") != strings.Join(tc.rows, " ") || lines[len(lines)-1] != plural(len(tc.rows), "execution") {
				t.Errorf("audit list %q:\n%s", tc.args, r.stdout)
			}
		}
		for _, bad := range [][]string{{"--status", "done"}, {"--since", "yesterday"}, {"--limit", "-1"}} {
			if r := run(t, "", append([]string{"audit", "list", "--db", db}, bad...)...); r.code != 2 {
				t.Errorf("audit list %q: exit %d, want 2 (%s)", bad, r.code, r.stderr)
			}
		}
	})

	t.Run("show", func(t *testing.T) {
		tests := []struct {
			flags     []string
			wantLines int // timeline entry lines
			wantDebug bool
			wantNote  string
		}{
			{nil, 24, false, ""}, // 35 entries less 11 debug node starts
			{[]string{"--debug"}, 30, true, "(Showing last 30 of 35 entries)"},
			{[]string{"--debug", "--all"}, 35, true, ""},
			{[]string{"--all"}, 24, false, ""},
		}
		for _, tc := range tests {
			t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
				r := mustRun(t, "", append([]string{"audit", "show", exec, "--db", db}, tc.flags...)...)
				got := 0
				for _, l := range strings.Split(r.stdout, "\n") {
					if strings.HasPrefix(l, "[09:") {
						got++
					}
				}
				if got != tc.wantLines {
					t.Errorf("%d timeline lines, want %d:\n%s", got, tc.wantLines, r.stdout)
				}
				if strings.Contains(r.stdout, "[D]") != tc.wantDebug {
					t.Errorf("debug entries shown: %v, want %v", !tc.wantDebug, tc.wantDebug)
				}
				if tc.wantNote != "" && !strings.Contains(r.stdout, tc.wantNote) {
					t.Errorf("no %q in:\n%s", tc.wantNote, r.stdout)
				}
				if !strings.Contains(r.stdout, "Execution: "+exec) || !strings.Contains(r.stdout, "Nodes: [+] 11 completed") {
					t.Errorf("no summary block:\n%s", r.stdout)
				}
			})
		}
	})
}

func TestAuditErrors(t *testing.T) {
	db := importedDB(t, "err", 10, 10)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"show unknown", []string{"audit", "show", "nope", "--db", db}, 1, `execution "nope" not found`},
		{"summary unknown", []string{"audit", "summary", "nope", "--db", db}, 1, `execution "nope" not found`},
		{"export unknown", []string{"audit", "export", "--execution", "nope", "--db", db}, 1, `execution "nope" not found`},
		{"show without id", []string{"audit", "show", "--db", db}, 2, "needs an execution id"},
		{"list with argument", []string{"audit", "list", "x", "--db", db}, 2, "takes no arguments"},
		{"db and store", []string{"audit", "list", "--db", db, "--store", "postgres://localhost/x"}, 2, "--db and --store both given"},
		{"bad store url", []string{"audit", "list", "--store", "mysql://x"}, 2, "want postgres://"},
		{"bad sync", []string{"audit", "list", "--db", db, "--sync", "sometimes"}, 2, `--sync "sometimes"`},
		{"sync with postgres", []string{"audit", "list", "--store", "postgres://localhost/x", "--sync", "full"}, 2, "SQLite only"},
		{"unknown command", []string{"nope"}, 2, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, tc.wantCode, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "wtb: ") || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr %q: want one line wtb: ...%s", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Fatalf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestStoreFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	envDBPath := filepath.Join(dir, "env.db")
	flagDBPath := filepath.Join(dir, "flag.db")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    storeTarget
		wantErr string
	}{
		{"default", nil, nil, storeTarget{kind: "sqlite", path: defaultDB}, ""},
		{"env db", map[string]string{envDB: envDBPath}, nil, storeTarget{kind: "sqlite", path: envDBPath}, ""},
		{"flag wins over env db", map[string]string{envDB: envDBPath}, []string{"--db", flagDBPath}, storeTarget{kind: "sqlite", path: flagDBPath}, ""},
		{"db flag wins over env store", map[string]string{envStore: "postgres://h/db"}, []string{"--db", flagDBPath}, storeTarget{kind: "sqlite", path: flagDBPath}, ""},
		{"env store", map[string]string{envStore: "postgres://h/db"}, nil, storeTarget{kind: "postgres", dsn: "postgres://h/db"}, ""},
		{"store flag wins over env db", map[string]string{envDB: envDBPath}, []string{"--store", "postgresql://h/db"}, storeTarget{kind: "postgres", dsn: "postgresql://h/db"}, ""},
		{"sqlite url", nil, []string{"--store", "sqlite:" + flagDBPath}, storeTarget{kind: "sqlite", path: flagDBPath}, ""},
		{"sqlite url with slashes", nil, []string{"--store", "sqlite://" + flagDBPath}, storeTarget{kind: "sqlite", path: flagDBPath}, ""},
		{"env sync", map[string]string{envSync: "full"}, nil, storeTarget{kind: "sqlite", path: defaultDB, sync: 1}, ""},
		{"flag sync wins", map[string]string{envSync: "full"}, []string{"--sync", "normal"}, storeTarget{kind: "sqlite", path: defaultDB}, ""},
		{"env sync ignored by postgres", map[string]string{envSync: "full"}, []string{"--store", "postgres://h/db"}, storeTarget{kind: "postgres", dsn: "postgres://h/db"}, ""},
		{"both env", map[string]string{envDB: envDBPath, envStore: "postgres://h/db"}, nil, storeTarget{}, "WTB_DB and WTB_STORE are both set"},
		{"bad env sync", map[string]string{envSync: "x"}, nil, storeTarget{}, `environment variable WTB_SYNC="x": want normal or full`},
		{"bad env store", map[string]string{envStore: "mysql://u:pw@h/x"}, nil, storeTarget{}, `environment variable WTB_STORE="mysql://u:xxxxx@h/x"`},
		{"empty db flag", nil, []string{"--db", ""}, storeTarget{}, "--db needs a file name"},
		{"empty sqlite url", nil, []string{"--store", "sqlite:"}, storeTarget{}, "names no file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{envDB, envStore, envSync} {
				t.Setenv(k, tc.env[k])
			}
			resetFlags(rootCmd)
			if err := rootCmd.PersistentFlags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := globalStore.resolve()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("resolved %+v, want %+v", got, tc.want)
			}
		})
	}

	// End to end: WTB_DB chooses the database of a real command.
	t.Setenv(envDB, envDBPath)
	t.Setenv(envStore, "")
	t.Setenv(envSync, "")
	r := runEnv(t, "", "demo")
	if r.code != 0 || !strings.Contains(r.stdout, "recording into sqlite "+envDBPath) {
		t.Fatalf("demo with %s: exit %d\n%s\n%s", envDB, r.code, r.stdout, r.stderr)
	}
	if n := countEntries(t, envDBPath); n != int64(len(demoSequence)) {
		t.Fatalf("%d entries in %s, want %d", n, envDBPath, len(demoSequence))
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h/db":     "postgres://u:xxxxx@h/db",
		"postgres://u@h/db":            "postgres://u@h/db",
		"postgres://h/db":              "postgres://h/db",
		"host=h user=u password=x":     "host=h user=u password=x",
		"postgres://u:p@ss@h:5432/db?": "postgres://u:xxxxx@h:5432/db?",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		word string
		want string
	}{
		{0, "execution", "0 executions"},
		{1, "execution", "1 execution"},
		{2, "event", "2 events"},
		{1, "batch", "1 batch"},
		{3, "batch", "3 batches"},
	}
	for _, tc := range tests {
		if got := plural(tc.n, tc.word); got != tc.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tc.n, tc.word, got, tc.want)
		}
	}
}

// TestAuditShowMatchesFormatTimeline checks that audit show prints exactly
// audit.FormatTimeline of the store's summary and all the execution's
// entries, for every option, including an execution of debug entries only.
func TestAuditShowMatchesFormatTimeline(t *testing.T) {
	smallPages(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	var lines []string
	for i := range 100 { // two generated executions of 50 events, 34 of them not debug
		b, err := event.Encode(genEvent("fmt", i, 50))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	for i := range 3 { // an execution of debug entries only
		ev := event.New[event.NodeStarted]()
		ev.ID, ev.Timestamp = fmt.Sprintf("dbg-%d", i), genBase.Add(time.Duration(i)*time.Second)
		ev.ExecutionID, ev.NodeID, ev.NodeName = "debug-only", "n", "n"
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", "--db", db, path)

	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, exec := range []string{"fmt-exec-000000", "fmt-exec-000001", "debug-only"} {
		s, err := st.Summary(context.Background(), exec)
		if err != nil {
			t.Fatal(err)
		}
		all, err := st.Query(context.Background(), audit.Filter{ExecutionID: exec, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []audit.FormatOptions{{}, {All: true}, {Debug: true}, {All: true, Debug: true}} {
			args := []string{"audit", "show", exec, "--db", db}
			if opts.All {
				args = append(args, "--all")
			}
			if opts.Debug {
				args = append(args, "--debug")
			}
			r := mustRun(t, "", args...)
			if want := audit.FormatTimeline(s, all, opts) + "\n"; r.stdout != want {
				t.Errorf("%s %+v:\n%s\nwant:\n%s", exec, opts, r.stdout, want)
			}
		}
	}
}
