package event

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate runs the generator and compares its output with the
// committed events_gen.go: a struct edited without go generate fails here.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	out := filepath.Join(t.TempDir(), "events_gen.go")
	cmd := exec.Command(goTool, "run", "./internal/gen", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, b)
	}
	for _, name := range []string{"events_gen.go", "events_ref_gen_test.go"} {
		want, err := os.ReadFile(filepath.Join(filepath.Dir(out), name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./event", name)
		}
	}
}

func TestScanEventType(t *testing.T) {
	tests := []struct {
		in        string
		raw       string
		found, ok bool
	}{
		{`{"event_type":"A"}`, `"A"`, true, true},
		{` { "a" : {"event_type":"nested"} , "event_type" : "B" } `, `"B"`, true, true},
		{`{"a":"}\"event_type\":\"X\"","event_type":"C"}`, `"C"`, true, true},
		{`{"a":[1,{"b":"]"}],"event_type":null}`, `null`, true, true},
		{`{"event_type":"A","event_type":"B"}`, `"B"`, true, true},
		{`{"a":1}`, ``, false, true},
		{`{}`, ``, false, true},
		{`[]`, ``, false, false},
		{`{"a"`, ``, false, false},
		{`{"a":1 "b":2}`, ``, false, false},
		{`{"event_type":}`, ``, false, false},
		{`{"a":"unterminated}`, ``, false, false},
		{``, ``, false, false},
	}
	for _, tt := range tests {
		raw, found, ok := scanEventType([]byte(tt.in))
		if string(raw) != tt.raw || found != tt.found || ok != tt.ok {
			t.Errorf("scanEventType(%s) = %q, %v, %v; want %q, %v, %v", tt.in, raw, found, ok, tt.raw, tt.found, tt.ok)
		}
	}
}

// TestPooledDecoderReuse decodes documents of different sizes, with and
// without trailing white space and after failures, through the decoder
// pool: every result must be as if decoded alone.
func TestPooledDecoderReuse(t *testing.T) {
	docs := []struct {
		doc string
		ok  bool
	}{
		{`{"event_type":"NodeFailedEvent","event_id":"a","timestamp":"2026-01-27T10:00:00","node_id":"n1"}` + "\n\t ", true},
		{`{"event_type":"NodeFailedEvent","event_id":"b","timestamp":"2026-01-27T10:00:00","node_id":"n2"}`, true},
		{`{"event_type":"NodeFailedEvent","event_id":"c","timestamp":"2026-01-27T10:00:00","node_id":3}`, false},
		{`{"event_type":"NodeFailedEvent","event_id":"d","timestamp":"2026-01-27T10:00:00"} x`, false},
		{`{"event_type":"NodeFailedEvent","event_id":"e","timestamp":"2026-01-27T10:00:00","node_id":"n5"}  `, true},
	}
	for round := range 3 {
		for i, d := range docs {
			ev, err := Decode([]byte(d.doc))
			if (err == nil) != d.ok {
				t.Fatalf("round %d doc %d: err %v", round, i, err)
			}
			if err == nil && ev.EventID() != string(rune('a'+i)) {
				t.Errorf("round %d doc %d: decoded id %q", round, i, ev.EventID())
			}
		}
	}
}
