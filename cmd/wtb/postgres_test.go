package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/postgres/pgtest"
)

// TestPostgresStore runs the commands against the PostgreSQL server with
// --store (and WTB_STORE), each test in its own schema. It is skipped when
// the server is unreachable, except with CI=true.
func TestPostgresStore(t *testing.T) {
	url := pgtest.StoreURL(t)

	r := mustRun(t, "", "demo", "--store", url)
	m := regexp.MustCompile(`Simulating execution (\S+) `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("demo output:\n%s", r.stdout)
	}
	exec := m[1]
	if !strings.Contains(r.stdout, "recording into postgres ") || !strings.Contains(r.stdout, "Nodes: [+] 8 completed | [X] 1 failed") {
		t.Fatalf("demo output:\n%s", r.stdout)
	}

	dir := t.TempDir()
	path := eventsFile(t, dir, "pg", 2500, 50)
	if r := mustRun(t, "", "import", "--store", url, path); r.stdout != "imported 2500, duplicates 0\n" {
		t.Fatalf("import: %q", r.stdout)
	}
	if r := mustRun(t, "", "import", "--store", url, path); !strings.HasPrefix(r.stdout, "imported 0, duplicates 2500") {
		t.Fatalf("second import: %q", r.stdout)
	}

	list := mustRun(t, "", "audit", "list", "--store", url)
	if !strings.Contains(list.stdout, "51 executions") || !strings.Contains(list.stdout, exec) {
		t.Fatalf("list:\n%s", list.stdout)
	}
	show := mustRun(t, "", "audit", "show", exec, "--store", url)
	start := strings.Index(r.stdout, "====")
	end := strings.Index(r.stdout, "\nEvery entry")
	if show.stdout != r.stdout[start:end] {
		t.Errorf("audit show differs from the demo's timeline:\n%s\n---\n%s", show.stdout, r.stdout[start:end])
	}
	exp := mustRun(t, "", "audit", "export", "--store", url)
	entries := parseExport(t, exp.stdout)
	if len(entries) != 2500+len(demoSequence) {
		t.Fatalf("exported %d entries, want %d", len(entries), 2500+len(demoSequence))
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Seq <= entries[i-1].Seq {
			t.Fatalf("export not in seq order at %d", i)
		}
	}

	// WTB_STORE selects the same store without the flag.
	t.Setenv(envDB, "")
	t.Setenv(envSync, "")
	t.Setenv(envStore, url)
	sum := runEnv(t, "", "audit", "summary", exec, "--json")
	if sum.code != 0 || !strings.Contains(sum.stdout, `"execution_id": "`+exec+`"`) {
		t.Fatalf("summary with WTB_STORE: exit %d\n%s\n%s", sum.code, sum.stdout, sum.stderr)
	}
	if r := runEnv(t, "", "audit", "summary", "nope"); r.code != 1 || r.stderr != "wtb: execution \"nope\" not found\n" {
		t.Fatalf("unknown execution: exit %d, stderr %q", r.code, r.stderr)
	}
}
