package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
)

func TestAuditDiff(t *testing.T) {
	db := importedDB(t, "diff", 2*35, 35)
	a, b := "diff-exec-000000", "diff-exec-000001"
	r := mustRun(t, "", "audit", "diff", a, b, "--db", db)
	for _, want := range []string{"A: " + a, "B: " + b, "STEP", "NODE", "DURATION"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "", "audit", "diff", a, b, "--db", db, "--json")
	var c audit.Comparison
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if c.A.ExecutionID != a || c.B.ExecutionID != b || len(c.Steps) != 11 {
		t.Fatalf("comparison %+v", c)
	}
	if r := run(t, "", "audit", "diff", a, "--db", db); r.code != 2 || !strings.Contains(r.stderr, "two execution ids") {
		t.Errorf("one id: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "audit", "diff", a, "nope", "--db", db); r.code != 1 || !strings.Contains(r.stderr, `execution "nope" not found`) {
		t.Errorf("unknown id: exit %d %s", r.code, r.stderr)
	}
}
