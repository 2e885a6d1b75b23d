package event_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/internal/refdata"
)

func sampleLines(t testing.TB) [][]byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(refdata.Events), []byte("\n"))
	if len(lines) != 164 {
		t.Fatalf("refdata.Events has %d lines, want 164", len(lines))
	}
	return lines
}

// genericJSON reads a document as plain JSON values (numbers as float64).
func genericJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// TestReferenceSamples decodes every event the reference wrote, checks its
// type, re-encodes it and checks that nothing was lost: the re-encoded
// document carries every key of the original with the same value
// (timestamps compared as instants) and decodes to an equal event.
func TestReferenceSamples(t *testing.T) {
	seen := map[string]int{}
	for i, line := range sampleLines(t) {
		orig := genericJSON(t, line)
		wire := orig["event_type"].(string)
		ev, err := event.Decode(line)
		if err != nil {
			t.Errorf("line %d: Decode: %v", i+1, err)
			continue
		}
		want, _ := event.Lookup(wire)
		if ev.Type() != want || ev.WireName() != wire {
			t.Errorf("line %d: decoded a %s with wire name %s, want %s", i+1, ev.Type().Name, ev.WireName(), wire)
		}
		if ev.EventID() != orig["event_id"] {
			t.Errorf("line %d: EventID = %q", i+1, ev.EventID())
		}
		seen[ev.Type().Name]++
		out, err := event.Encode(ev)
		if err != nil {
			t.Fatalf("line %d: Encode: %v", i+1, err)
		}
		again, err := event.Decode(out)
		if err != nil {
			t.Fatalf("line %d: Decode(Encode): %v\n%s", i+1, err, out)
		}
		if !reflect.DeepEqual(ev, again) {
			t.Errorf("line %d: round trip differs:\n%#v\n%#v", i+1, ev, again)
		}
		enc := genericJSON(t, out)
		if len(enc) != len(orig) {
			t.Errorf("line %d: %d keys re-encoded, %d in the original", i+1, len(enc), len(orig))
		}
		for k, v := range orig {
			if k == "timestamp" || k == "original_creation_time" {
				a, _ := event.ParseTime(v.(string))
				b, err := event.ParseTime(enc[k].(string))
				if err != nil || !a.Equal(b) {
					t.Errorf("line %d: %s %v re-encoded as %v", i+1, k, v, enc[k])
				}
				continue
			}
			if !reflect.DeepEqual(v, enc[k]) {
				t.Errorf("line %d: %s = %#v re-encoded as %#v", i+1, k, v, enc[k])
			}
		}
	}
	if len(seen) != event.NumTypes-1 {
		t.Errorf("samples cover %d types, want %d (all but LangGraphAudit)", len(seen), event.NumTypes-1)
	}
	for name, n := range seen {
		if n != 2 {
			t.Errorf("%s: %d samples, want 2", name, n)
		}
	}
}

func decodeLine(t *testing.T, n int) event.Event {
	t.Helper()
	ev, err := event.Decode(sampleLines(t)[n-1])
	if err != nil {
		t.Fatalf("line %d: %v", n, err)
	}
	return ev
}

func TestReferenceSampleValues(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02T15:04:05.999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cp := decodeLine(t, 2).(*event.CheckpointCreated)
	if cp.Step != 472 || cp.CheckpointID != "cp-1477" || !cp.IsTerminal || *cp.CompletedNode != "retrieve" ||
		!reflect.DeepEqual(cp.NextNodes, event.Strings{"router", "grader", "finalize", "grader"}) {
		t.Errorf("CheckpointCreated: %+v", cp)
	}
	if cp.NodeWrites["grader1"] != "rank" || cp.NodeWrites["finalize0"] != json.Number("1947.958") || cp.NodeWrites["rank2"] != json.Number("53") {
		t.Errorf("node_writes = %#v", cp.NodeWrites)
	}
	if !cp.Timestamp.Equal(utc("2026-01-27T10:00:00.037")) || cp.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp = %v", cp.Timestamp)
	}

	dep := decodeLine(t, 8).(*event.DependenciesAdded)
	if dep.DurationMS != 938.776 || dep.ExitCode != 48 || dep.EnvID() != "wf-sql_rank_tool_call" || len(dep.Packages) != 3 {
		t.Errorf("DependenciesAdded: %+v env %s", dep, dep.EnvID())
	}

	fc := decodeLine(t, 33).(*event.FileCommitCreated)
	if fc.FileCount != 233 || fc.TotalSizeBytes != 389 || *fc.Message != "rate limited" || *fc.ExecutionID != "exec-6" ||
		fc.TotalSizeMB() != 389.0/1048576 || fc.FilePaths[1] != "/srv/agent-ws/generate.txt" {
		t.Errorf("FileCommitCreated: %+v", fc)
	}

	nc := decodeLine(t, 41).(*event.NodeCompleted)
	if nc.Result != json.Number("1") || *nc.ExitCheckpointID != 35 || nc.ToolInvocations != 122 || nc.NodeName != "generate_8" {
		t.Errorf("NodeCompleted: %+v", nc)
	}
	if nc := decodeLine(t, 123).(*event.NodeCompleted); nc.Result != nil {
		t.Errorf("null result decoded as %#v", nc.Result)
	}

	nf := decodeLine(t, 42).(*event.NodeFailed)
	if nf.Recoverable || nf.ErrorType != "TimeoutError" {
		t.Errorf("NodeFailed: %+v", nf)
	}

	rv := decodeLine(t, 139).(*event.RayVariantExecutionCompleted)
	if *rv.RayJobID != "sql_agent" || *rv.RayAddress != "grader" || rv.Variants["tool_call1"] != "finalize" ||
		rv.Metrics["generate1"] != 2518.705 || rv.DurationMS != 332 || *rv.FileCommitID != "c773a4cad8a6766713b6c5b967cdc4381bc31378" {
		t.Errorf("RayVariantExecutionCompleted: %+v", rv)
	}
	if rv := decodeLine(t, 57).(*event.RayVariantExecutionCompleted); rv.Variants == nil || len(rv.Variants) != 0 {
		t.Errorf("empty variants decoded as %#v", rv.Variants)
	}

	vr := decodeLine(t, 78).(*event.VenvReused)
	if vr.OriginalCreationTime == nil || !vr.OriginalCreationTime.Equal(utc("2026-01-27T10:19:16.413")) || vr.OriginalCreationTime.Location() != time.UTC {
		t.Errorf("VenvReused.OriginalCreationTime = %v", vr.OriginalCreationTime)
	}

	wc := decodeLine(t, 81).(*event.WorkspaceCreated)
	if wc.Strategy != "rank" || *wc.ParentWorkspaceID != "retrieve" || wc.TotalSizeMB() != 153.0/1048576 {
		t.Errorf("WorkspaceCreated: %+v", wc)
	}
}

// TestDecodeConcurrent decodes the samples (and bad documents) from several
// goroutines at once, sharing the decoder pool: results must equal those
// of a sequential decode.
func TestDecodeConcurrent(t *testing.T) {
	lines := sampleLines(t)
	lines = append(lines, []byte(`{"event_type":"NodeFailedEvent","event_id":"x","timestamp":"2026-01-27T10:00:00"} trailing`),
		[]byte(`{"event_type":"NodeFailedEvent","event_id":"x","timestamp":"2026-01-27T10:00:00","node_id":1}`))
	want := make([]event.Event, len(lines))
	for i, l := range lines {
		want[i], _ = event.Decode(l)
	}
	const workers = 8
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for round := range 20 {
				for k := range lines {
					i := (k*7 + w + round) % len(lines)
					got, err := event.Decode(lines[i])
					if (err == nil) != (want[i] != nil) || !reflect.DeepEqual(got, want[i]) {
						errs <- fmt.Errorf("worker %d line %d: %v %v", w, i, got, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
