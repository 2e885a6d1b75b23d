package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
)

// TestImportLongIdentifiers: the reference bounds no id; executions and
// nodes with ids of 300 bytes and up to audit.MaxIDSize import, and a
// longer one is refused with the limit in the error.
func TestImportLongIdentifiers(t *testing.T) {
	line := func(eventID, exec, node string) string {
		return fmt.Sprintf(`{"event_type":"NodeStartedEvent","event_id":%q,"timestamp":"2026-01-27T10:00:00.851000","execution_id":%q,"node_id":%q,"node_name":"n","node_type":"llm"}`, eventID, exec, node) + "\n"
	}
	var in strings.Builder
	for i, n := range []int{300, 1000, audit.MaxIDSize} {
		in.WriteString(line(fmt.Sprintf("ev-%d", i), strings.Repeat("e", n), strings.Repeat("n", n)))
	}
	db := tempDB(t)
	r := mustRun(t, in.String(), "import", "--db", db, "-")
	if r.stdout != "imported 3, duplicates 0\n" {
		t.Fatalf("import: %q", r.stdout)
	}
	exec := strings.Repeat("e", audit.MaxIDSize)
	if r := mustRun(t, "", "audit", "summary", exec, "--db", db); !strings.Contains(r.stdout, exec) {
		t.Fatalf("summary of the 1 KiB execution:\n%s", r.stdout)
	}

	tooLong := line("ev-long", strings.Repeat("e", audit.MaxIDSize+1), "n")
	r = run(t, tooLong, "import", "--db", db, "-")
	want := fmt.Sprintf("execution_id is %d bytes, over the %d-byte limit of identifiers", audit.MaxIDSize+1, audit.MaxIDSize)
	if r.code != exitFailure || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "audit: ") {
		t.Fatalf("a %d-byte id: exit %d, stderr %q; want %q", audit.MaxIDSize+1, r.code, r.stderr, want)
	}
}
