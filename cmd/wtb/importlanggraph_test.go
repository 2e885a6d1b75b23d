package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/sqlite"
)

func TestImportLangGraph(t *testing.T) {
	stream, err := os.ReadFile("../../langgraph/testdata/js-agent.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	file := filepath.Join(dir, "run.ndjson")
	if err := os.WriteFile(file, stream, 0o600); err != nil {
		t.Fatal(err)
	}
	const first = "imported 24, duplicates 0 (24 events from 49 records; 2 filtered, 24 folded)\n"
	if r := run(t, "", "import", "--db", db, "--langgraph", file); r.code != 0 || r.stdout != first {
		t.Fatalf("import: %+v", r)
	}
	// Twice: nothing new. From stdin under another name: another execution.
	if r := run(t, "", "import", "--db", db, "--langgraph", file); r.code != 0 || !strings.HasPrefix(r.stdout, "imported 0, duplicates 24") {
		t.Errorf("again: %+v", r)
	}
	if r := run(t, string(stream), "import", "--db", db, "--langgraph", "--execution-id", "copy", "--exclude-node", "tools", "-"); r.code != 0 ||
		r.stdout != "imported 20, duplicates 0 (20 events from 49 records; 6 filtered, 24 folded)\n" {
		t.Errorf("stdin: %+v", r)
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for exec, nodes := range map[string]int{"t-dump": 4, "copy": 3} {
		s, err := st.Summary(context.Background(), exec)
		if err != nil || s.Status != "completed" || s.NodesExecuted != nodes || s.NodesFailed != 1 {
			t.Errorf("%s: %+v %v", exec, s, err)
		}
	}

	// An invalid record: reported with its line, nothing imported.
	lines := strings.SplitAfter(string(stream), "\n")
	bad := strings.Join(lines[:3], "") + "{\"event\":\"on_chain_start\",\"run_id\":[1]}\n" + strings.Join(lines[3:], "")
	if r := run(t, bad, "import", "--db", filepath.Join(dir, "bad.db"), "--langgraph", "-"); r.code != 1 ||
		!strings.Contains(r.stderr, "stdin:4: langgraph: invalid record: \"run_id\" must be a string") ||
		!strings.Contains(r.stderr, "1 of 50 records invalid (reported above); nothing imported") {
		t.Errorf("bad: %+v", r)
	}
	if r := run(t, bad, "import", "--db", filepath.Join(dir, "bad.db"), "--langgraph", "--skip-invalid", "-"); r.code != 0 ||
		!strings.Contains(r.stdout, "imported 24, duplicates 0 (24 events from 50 records; 2 filtered, 24 folded), invalid records skipped 1") {
		t.Errorf("skip invalid: %+v", r)
	}
	// LangGraph options without --langgraph are a usage error.
	if r := run(t, "", "import", "--db", db, "--execution-id", "x", file); r.code != 2 {
		t.Errorf("usage: %+v", r)
	}
}
