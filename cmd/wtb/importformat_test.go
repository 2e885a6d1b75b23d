package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/event"
)

// prettyArray writes n generated events as an indented JSON array.
func prettyArray(t *testing.T, seed string, n int) string {
	t.Helper()
	var evs []json.RawMessage
	for i := range n {
		b, err := event.Encode(genEvent(seed, i, n))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, b)
	}
	b, err := json.MarshalIndent(evs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestImportJSONArray(t *testing.T) {
	const n = 12
	arr := prettyArray(t, "arr", n)
	dir := t.TempDir()
	file := filepath.Join(dir, "events.json")
	if err := os.WriteFile(file, []byte(arr), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"file", "", []string{file}},
		{"stdin", arr, []string{"-"}},
		{"stdin, skip-invalid", arr, []string{"--skip-invalid", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tempDB(t)
			r := mustRun(t, tc.stdin, append([]string{"import", "--db", db}, tc.args...)...)
			if r.stdout != "imported 12, duplicates 0\n" {
				t.Fatalf("import of a JSON array: %q (stderr %q)", r.stdout, r.stderr)
			}
			if got := countEntries(t, db); got != n {
				t.Fatalf("%d entries, want %d", got, n)
			}
		})
	}

	// An invalid element is reported by its number; nothing is imported
	// unless --skip-invalid.
	bad := strings.Replace(arr, `"event_type": "NodeStartedEvent"`, `"event_type": "NoSuchEvent"`, 1)
	db := tempDB(t)
	r := run(t, bad, "import", "--db", db, "-")
	if r.code != exitFailure || !strings.Contains(r.stderr, "stdin, element 2: ") || !strings.Contains(r.stderr, "1 of 12 elements of the JSON array invalid") {
		t.Fatalf("an invalid element: exit %d, stderr %q", r.code, r.stderr)
	}
	r = mustRun(t, bad, "import", "--db", db, "--skip-invalid", "-")
	if r.stdout != "imported 11, duplicates 0, invalid lines skipped 1\n" {
		t.Fatalf("--skip-invalid: %q", r.stdout)
	}

	// Broken syntax, or a second value after the array: the error says
	// what import reads.
	for _, in := range []string{`[{"event_type": "NodeStartedEvent",`, "[]\n[]\n", `[{"a":1} {"b":2}]`} {
		r := run(t, in, "import", "--db", tempDB(t), "-")
		if r.code != exitFailure || !strings.Contains(r.stderr, "JSON lines") {
			t.Errorf("import of %q: exit %d, stderr %q; want it to name JSON lines", in, r.code, r.stderr)
		}
	}
	// An empty array imports nothing, without error.
	if r := mustRun(t, "[ ]", "import", "--db", tempDB(t), "-"); r.stdout != "imported 0, duplicates 0\n" {
		t.Errorf("an empty array: %q", r.stdout)
	}
}

func TestImportElementTooLong(t *testing.T) {
	huge := `[{"event_type":"NodeStartedEvent","event_id":"x","timestamp":"2026-01-01T00:00:00Z","node_name":"` + strings.Repeat("a", 3*maxLineSize) + `"}]`
	r := run(t, huge, "import", "--db", tempDB(t), "--skip-invalid", "-")
	if r.code != exitFailure || !strings.Contains(r.stderr, "element 1 of the JSON array is longer than") {
		t.Fatalf("a huge element: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestImportByteOrderMark(t *testing.T) {
	lines := strings.Join(genLines(t, "bom", 6, 6), "\n") + "\n"
	for name, in := range map[string]string{
		"JSON lines": "\uFEFF" + lines,
		"JSON array": "\uFEFF" + prettyArray(t, "bomarr", 6),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "events")
			if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{file}, {"-"}} {
				stdin := ""
				if args[0] == "-" {
					stdin = in
				}
				r := run(t, stdin, append([]string{"import", "--db", tempDB(t)}, args...)...)
				if r.code != 0 || r.stdout != "imported 6, duplicates 0\n" {
					t.Fatalf("import %s with a BOM: exit %d, stdout %q, stderr %q", args[0], r.code, r.stdout, r.stderr)
				}
			}
		})
	}
}
