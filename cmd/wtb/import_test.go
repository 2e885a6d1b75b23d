package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

// countEntries opens the SQLite file and returns its number of entries
// made from events: the ledger's own records (the seals of the runs that
// ended) left out.
func countEntries(t *testing.T, db string) int64 {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seals, err := st.Query(context.Background(), audit.Filter{Types: []audit.Type{audit.TypeRunSealed}, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return n - int64(len(seals))
}

// genLines returns n generated events as JSON lines.
func genLines(t *testing.T, seed string, n, perExec int) []string {
	t.Helper()
	var b bytes.Buffer
	writeEvents(t, &b, seed, n, perExec)
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// badLines are invalid lines with the text their report must contain.
var badLines = []struct {
	name, line, reason string
}{
	{"malformed", `{"event_type": "NodeStartedEvent", `, "malformed"},
	{"unknown type", `{"event_type":"NoSuchEvent","event_id":"x1","timestamp":"2026-01-01T00:00:00Z"}`, "NoSuchEvent"},
	{"missing type", `{"event_id":"x2","timestamp":"2026-01-01T00:00:00Z"}`, "event_type"},
	{"missing id", `{"event_type":"NodeStartedEvent","timestamp":"2026-01-01T00:00:00Z","execution_id":"e","node_id":"n"}`, "event_id"},
	{"bad timestamp", `{"event_type":"NodeStartedEvent","event_id":"x3","timestamp":"yesterday","execution_id":"e","node_id":"n"}`, "timestamp"},
	{"wrong field type", `{"event_type":"NodeCompletedEvent","event_id":"x4","timestamp":"2026-01-01T00:00:00Z","duration_ms":"slow"}`, "duration_ms"},
	{"not an object", `[1,2,3]`, ""},
	{"too long", `{"event_type":"NodeStartedEvent","event_id":"x5","timestamp":"2026-01-01T00:00:00Z","node_name":"` + strings.Repeat("a", maxLineSize) + `"}`, "longer than"},
}

// withBadLines returns good with the bad lines inserted at the positions
// given, and the 1-based line numbers where they landed.
func withBadLines(good []string, every int) (lines []string, badAt map[int]string) {
	badAt = map[int]string{}
	bi := 0
	for i, g := range good {
		if i%every == every/2 && bi < len(badLines) {
			lines = append(lines, badLines[bi].line)
			badAt[len(lines)] = badLines[bi].reason
			bi++
		}
		lines = append(lines, g)
	}
	for ; bi < len(badLines); bi++ {
		lines = append(lines, badLines[bi].line)
		badAt[len(lines)] = badLines[bi].reason
	}
	return lines, badAt
}

var reportLine = regexp.MustCompile(`^(.+):(\d+): (.+)$`)

// checkReports checks that stderr reports exactly the bad lines, each with
// its number and reason.
func checkReports(t *testing.T, stderr, name string, badAt map[int]string) {
	t.Helper()
	seen := map[int]bool{}
	last := 0
	for _, l := range strings.Split(stderr, "\n") {
		m := reportLine.FindStringSubmatch(l)
		if m == nil || m[1] != name {
			continue
		}
		var num int
		for _, c := range m[2] {
			num = num*10 + int(c-'0')
		}
		if num <= last {
			t.Errorf("line %d reported after line %d", num, last)
		}
		last = num
		reason, ok := badAt[num]
		if !ok {
			t.Errorf("line %d reported but valid: %s", num, l)
			continue
		}
		if !strings.Contains(m[3], reason) {
			t.Errorf("line %d: reason %q does not mention %q", num, m[3], reason)
		}
		if seen[num] {
			t.Errorf("line %d reported twice", num)
		}
		seen[num] = true
	}
	for num := range badAt {
		if !seen[num] {
			t.Errorf("bad line %d not reported; stderr:\n%s", num, stderr)
		}
	}
}

func TestImport(t *testing.T) {
	const n = 2500 // more than two groups
	good := genLines(t, "imp", n, 25)
	withBad, badAt := withBadLines(good, 300)
	withBlank := append([]string{"", "  "}, good...)
	withBlank = append(withBlank, "\t")

	tests := []struct {
		name        string
		lines       []string
		crlf        bool
		noFinalNL   bool
		stdin       bool
		skip        bool
		wantCode    int
		wantStored  int64
		wantOut     string
		wantErr     string
		wantReports map[int]string
	}{
		{name: "valid file", lines: good, wantStored: n, wantOut: "imported 2500, duplicates 0\n"},
		{name: "valid stdin", lines: good, stdin: true, wantStored: n, wantOut: "imported 2500, duplicates 0\n"},
		{name: "blank lines ignored", lines: withBlank, wantStored: n, wantOut: "imported 2500, duplicates 0\n"},
		{name: "crlf and no final newline", lines: good, crlf: true, noFinalNL: true, wantStored: n, wantOut: "imported 2500, duplicates 0\n"},
		{name: "bad lines: nothing imported", lines: withBad, wantCode: 1, wantStored: 0, wantReports: badAt,
			wantErr: "8 of 2508 lines invalid (reported above); nothing imported"},
		{name: "bad lines on stdin: nothing imported", lines: withBad, stdin: true, wantCode: 1, wantStored: 0, wantReports: badAt,
			wantErr: "8 of 2508 lines invalid (reported above); nothing imported"},
		{name: "skip invalid", lines: withBad, skip: true, wantStored: n, wantReports: badAt,
			wantOut: "imported 2500, duplicates 0, invalid lines skipped 8\n"},
		{name: "skip invalid on stdin", lines: withBad, stdin: true, skip: true, wantStored: n, wantReports: badAt,
			wantOut: "imported 2500, duplicates 0, invalid lines skipped 8\n"},
		{name: "empty input", lines: nil, wantStored: 0, wantOut: "imported 0, duplicates 0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "wtb.db")
			nl := "\n"
			if tc.crlf {
				nl = "\r\n"
			}
			text := strings.Join(tc.lines, nl)
			if !tc.noFinalNL && len(tc.lines) > 0 {
				text += nl
			}
			args := []string{"import", "--db", db}
			if tc.skip {
				args = append(args, "--skip-invalid")
			}
			name, stdin := "stdin", ""
			if tc.stdin {
				args = append(args, "-")
				stdin = text
			} else {
				path := filepath.Join(dir, "events.jsonl")
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, path)
				name = path
			}
			r := run(t, stdin, args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			if r.stdout != tc.wantOut {
				t.Errorf("stdout %q, want %q", r.stdout, tc.wantOut)
			}
			if tc.wantErr != "" {
				last := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				if l := last[len(last)-1]; !strings.HasPrefix(l, "wtb: ") || !strings.Contains(l, tc.wantErr) {
					t.Errorf("last stderr line %q, want wtb: ...%s", l, tc.wantErr)
				}
			}
			if tc.wantReports != nil {
				checkReports(t, r.stderr, name, tc.wantReports)
			} else if tc.wantCode == 0 && r.stderr != "" {
				t.Errorf("unexpected stderr: %s", r.stderr)
			}
			if got := countEntries(t, db); got != tc.wantStored {
				t.Errorf("%d entries stored, want %d", got, tc.wantStored)
			}
		})
	}
}

func TestImportTwice(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	path := eventsFile(t, dir, "twice", 1200, 30)
	r := mustRun(t, "", "import", "--db", db, path)
	if r.stdout != "imported 1200, duplicates 0\n" {
		t.Fatalf("first import: %q", r.stdout)
	}
	r = mustRun(t, "", "import", "--db", db, path)
	if r.stdout != "imported 0, duplicates 1200 (nothing new: every event was already recorded)\n" {
		t.Fatalf("second import: %q", r.stdout)
	}
	if got := countEntries(t, db); got != 1200 {
		t.Fatalf("%d entries, want 1200", got)
	}
	// A file overlapping the first: only the new events are recorded.
	var b bytes.Buffer
	writeEvents(t, &b, "twice", 1500, 30)
	r = mustRun(t, b.String(), "import", "--db", db, "-")
	if r.stdout != "imported 300, duplicates 1200\n" {
		t.Fatalf("overlapping import: %q", r.stdout)
	}
	if got := countEntries(t, db); got != 1500 {
		t.Fatalf("%d entries, want 1500", got)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"missing file", []string{"import", "--db", filepath.Join(dir, "a.db"), filepath.Join(dir, "nope.jsonl")}, 1, "no such file"},
		{"no argument", []string{"import", "--db", filepath.Join(dir, "a.db")}, 2, "needs a file name"},
		{"two arguments", []string{"import", "a", "b"}, 2, "needs a file name"},
		{"unknown flag", []string{"import", "--nope", "x"}, 2, "unknown flag: --nope"},
		{"database in a missing directory", []string{"import", "--db", filepath.Join(dir, "no", "such", "dir", "a.db"), "-"}, 1, "opening sqlite"},
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
		})
	}
}

func TestImportEntries(t *testing.T) {
	// What import records is exactly audit.FromEvent of each line.
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	const n = 60
	path := eventsFile(t, dir, "entries", n, 20)
	mustRun(t, "", "import", "--db", db, path)
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Query(context.Background(), audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The seals of the runs that ended are the ledger's own entries.
	got = slices.DeleteFunc(got, func(e audit.Entry) bool { return e.Type == audit.TypeRunSealed })
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	for i, e := range got {
		want := audit.FromEvent(genEvent("entries", i, 20))
		if e.EventID != want.EventID || e.Type != want.Type || e.Message != want.Message ||
			e.ExecutionID != want.ExecutionID || e.NodeID != want.NodeID || !e.Timestamp.Equal(want.Timestamp) {
			t.Errorf("entry %d: got %+v\nwant %+v", i, e, want)
		}
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("seq not increasing at %d", i)
		}
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", maxLineSize+10)
	tests := []struct {
		name  string
		input string
		want  []string // "!" marks errLineTooLong
	}{
		{"empty", "", nil},
		{"one line no newline", "a", []string{"a"}},
		{"lines", "a\nb\n", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"blank lines kept", "\n\na\n", []string{"", "", "a"}},
		{"too long then more", long + "\nb\n", []string{"!", "b"}},
		{"too long at end", "a\n" + long, []string{"a", "!"}},
		{"exactly the limit", strings.Repeat("y", maxLineSize-1) + "\n", []string{strings.Repeat("y", maxLineSize-1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tc.input))
			var got []string
			for {
				line, num, err := lr.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if num != len(got)+1 {
					t.Fatalf("line number %d, want %d", num, len(got)+1)
				}
				switch {
				case errors.Is(err, errLineTooLong):
					got = append(got, "!")
				case err != nil:
					t.Fatal(err)
				default:
					got = append(got, string(line))
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("got %d lines %.40q, want %d %.40q", len(got), got, len(tc.want), tc.want)
			}
			if lr.bytes != int64(len(tc.input)) {
				t.Fatalf("bytes %d, want %d", lr.bytes, len(tc.input))
			}
		})
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", 100000: "100,000"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

// cancelReader reads r in small chunks and cancels a context once more
// than after bytes have been read.
type cancelReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.after {
		c.cancel()
	}
	return n, err
}

func TestImportInterrupted(t *testing.T) {
	const n = 16000 // well beyond what the parser reads ahead (about 6000 lines)
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	var b bytes.Buffer
	writeEvents(t, &b, "intr", n, 40)
	size := int64(b.Len())

	for _, skip := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		in := &cancelReader{r: bytes.NewReader(b.Bytes()), after: size * 3 / 4, cancel: cancel}
		var out, errOut bytes.Buffer
		err := runImport(ctx, storeTarget{kind: "sqlite", path: db}, "-", skip, in, &out, &errOut)
		cancel()
		if err == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("skip=%v: error %v, want one wrapping context.Canceled", skip, err)
		}
		if !skip {
			// Interrupted while validating: nothing imported.
			if !strings.Contains(err.Error(), "nothing imported") {
				t.Errorf("error %q does not say nothing was imported", err)
			}
			continue
		}
		if !strings.Contains(err.Error(), "running the import again records only what is missing") {
			t.Errorf("error %q does not say how to finish", err)
		}
	}
	// Only whole groups were recorded, and a second run completes the import.
	stored := countEntries(t, db)
	if stored == 0 || stored >= n || stored%importGroup != 0 {
		t.Fatalf("%d entries stored after the interruption, want whole groups of %d, fewer than %d", stored, importGroup, n)
	}
	r := mustRun(t, b.String(), "import", "--db", db, "-")
	want := "imported " + strconv.Itoa(n-int(stored)) + ", duplicates " + strconv.Itoa(int(stored)) + "\n"
	if r.stdout != want {
		t.Fatalf("resumed import: %q, want %q", r.stdout, want)
	}
	if got := countEntries(t, db); got != n {
		t.Fatalf("%d entries, want %d", got, n)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "events.jsonl", 2000)
	p.update(10, 100)
	if b.Len() != 0 {
		t.Fatalf("progress written to a non-terminal: %q", b.String())
	}
	p.w = &b // as if on a terminal
	p.phase = "importing"
	p.update(1234, 1000)
	p.update(1300, 1100) // too soon: not shown
	p.done()
	want := "\rimporting events.jsonl: 1,234 lines (50%)\x1b[K\r\x1b[K"
	if b.String() != want {
		t.Fatalf("progress %q, want %q", b.String(), want)
	}
}
