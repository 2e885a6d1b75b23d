package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// referenceExample is the worked example of the reference's text display,
// with what wtb adds: the start with its date, and the zone of every time.
const referenceExample = `============================================================
                   WTB AUDIT TRAIL
============================================================

Execution: exec-1
Workflow:  wf-1
Started:   2026-01-27 12:00:00.005Z
Duration:  1500ms

Nodes: [+] 1 completed | [X] 1 failed
Checkpoints: 1 | 1 rollbacks
[!] Errors: 1

------------------------------------------------------------
                      TIMELINE
------------------------------------------------------------

[12:00:00.005Z] [i] Execution started for workflow 'Demo'
[12:00:00.005Z] [+] Node 'N1' completed (2 tool calls) (node: n1) [12.3ms]
[12:00:00.005Z] [X] Node 'N2' failed (node: n2)
              Error: ValueError: bad
[12:00:00.005Z] [i] Checkpoint 'cp-1' created (step 1)
[12:00:00.005Z] [!] Rolled back to checkpoint 'cp-1' (1 nodes reverted)

============================================================`

func exampleTrail() *Trail {
	at := time.Date(2026, 1, 27, 12, 0, 0, 5_400_000, time.UTC)
	tr := NewTrail("exec-1", "wf-1")
	tr.SetStartedAt(at)
	tr.SetEndedAt(at.Add(1500 * time.Millisecond))
	add := func(typ Type, sev Severity, msg, node, errText string, dur *float64) {
		tr.Add(Entry{EventID: fmt.Sprint(tr.Len()), Timestamp: at, Type: typ, Severity: sev, Message: msg, ExecutionID: "exec-1", NodeID: node, Error: errText, DurationMS: dur})
	}
	add(TypeExecutionStarted, SeverityInfo, "Execution started for workflow 'Demo'", "", "", nil)
	add(TypeNodeStarted, SeverityDebug, "Node 'N1' started", "n1", "", nil)
	add(TypeNodeCompleted, SeveritySuccess, "Node 'N1' completed (2 tool calls)", "n1", "", fptr(12.3))
	add(TypeNodeFailed, SeverityError, "Node 'N2' failed", "n2", "ValueError: bad", fptr(0))
	add(TypeCheckpointCreated, SeverityInfo, "Checkpoint 'cp-1' created (step 1)", "", "", nil)
	add(TypeRollbackPerformed, SeverityWarning, "Rolled back to checkpoint 'cp-1' (1 nodes reverted)", "", "", nil)
	return tr
}

func TestFormatReferenceExample(t *testing.T) {
	got := exampleTrail().Format(FormatOptions{})
	if got != referenceExample {
		t.Fatalf("got:\n%s\nwant:\n%s", got, referenceExample)
	}
	withDebug := exampleTrail().Format(FormatOptions{Debug: true})
	if !strings.Contains(withDebug, "[12:00:00.005Z] [D] Node 'N1' started (node: n1)\n") {
		t.Fatalf("debug entry not shown:\n%s", withDebug)
	}
}

func TestFormatTimeline(t *testing.T) {
	at := time.Date(2026, 1, 27, 9, 5, 7, 0, time.UTC)
	mk := func(info, debug int) []Entry {
		var out []Entry
		for i := range info + debug {
			sev := SeverityInfo
			if i >= info {
				sev = SeverityDebug
			}
			out = append(out, Entry{Timestamp: at, Severity: sev, Message: fmt.Sprintf("m%d", i), Type: TypeNodeSkipped})
		}
		return out
	}
	tests := []struct {
		name       string
		entries    []Entry
		opts       FormatOptions
		showing    string // "" when no "(Showing ...)" line is expected
		lines      int    // entry lines shown
		first      string // first shown message
		noDuration bool
	}{
		{"40 info 5 debug", mk(40, 5), FormatOptions{}, "(Showing last 30 of 40 entries)", 30, "m10", true},
		{"with debug", mk(40, 5), FormatOptions{Debug: true}, "(Showing last 30 of 45 entries)", 30, "m15", true},
		{"all", mk(40, 5), FormatOptions{All: true}, "", 40, "m0", true},
		{"all and debug", mk(40, 5), FormatOptions{All: true, Debug: true}, "", 45, "m0", true},
		{"exactly 30", mk(30, 0), FormatOptions{}, "", 30, "m0", true},
		{"only debug", mk(0, 3), FormatOptions{}, "", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize("x", tt.entries)
			got := FormatTimeline(s, tt.entries, tt.opts)
			if strings.HasSuffix(got, "\n") || !strings.HasSuffix(got, rule60) {
				t.Fatalf("bad ending: %q", got[len(got)-10:])
			}
			if has := strings.Contains(got, "(Showing"); has != (tt.showing != "") || (tt.showing != "" && !strings.Contains(got, tt.showing+"\n\n[")) {
				t.Fatalf("showing line: want %q in\n%s", tt.showing, got)
			}
			n := strings.Count(got, "[09:05:07.000Z]")
			if n != tt.lines {
				t.Fatalf("%d entry lines, want %d", n, tt.lines)
			}
			if tt.first != "" && !strings.Contains(got, "[09:05:07.000Z] [i] "+tt.first+"\n") && !strings.Contains(got, "[09:05:07.000Z] [D] "+tt.first+"\n") {
				t.Fatalf("first line %q missing", tt.first)
			}
			if tt.lines > 0 {
				lastWant := tt.entries[len(tt.entries)-1]
				if !tt.opts.Debug {
					for i := len(tt.entries) - 1; tt.entries[i].Severity == SeverityDebug; i-- {
						lastWant = tt.entries[i-1]
					}
				}
				if !strings.Contains(got, "] "+lastWant.Message+"\n\n"+rule60) {
					t.Fatalf("last shown entry is not %q", lastWant.Message)
				}
			}
			if strings.Contains(got, "Duration:") {
				t.Fatal("duration line without duration")
			}
			if !strings.Contains(got, "Execution: x\nWorkflow:  N/A\nStarted:   2026-01-27 09:05:07.000Z\n\nNodes: [+] 0 completed\nCheckpoints: 0\n\n---") {
				t.Fatalf("summary block:\n%s", got)
			}
		})
	}
	if got := FormatTimeline(Summary{}, nil, FormatOptions{}); got != "No audit entries recorded." {
		t.Fatalf("empty: %q", got)
	}
}

// TestTimelineZoneAndDate: times are in UTC with "Z" by default, in the
// chosen zone with its offset otherwise; the header carries the start's
// date, and a line gives the date where it changes.
func TestTimelineZoneAndDate(t *testing.T) {
	start := time.Date(2026, 3, 14, 23, 59, 59, 500_000_000, time.UTC)
	entries := []Entry{
		{EventID: "1", Timestamp: start, Type: TypeExecutionStarted, Severity: SeverityInfo, Message: "started", ExecutionID: "x"},
		{EventID: "2", Timestamp: start.Add(time.Second), Type: TypeExecutionCompleted, Severity: SeveritySuccess, Message: "done", ExecutionID: "x"},
	}
	s := Summarize("x", entries)
	utc := FormatTimeline(s, entries, FormatOptions{})
	for _, want := range []string{"Started:   2026-03-14 23:59:59.500Z\n", "[23:59:59.500Z] [i] started\n", "--- 2026-03-15 ---\n[00:00:00.500Z] [+] done\n"} {
		if !strings.Contains(utc, want) {
			t.Errorf("UTC timeline lacks %q:\n%s", want, utc)
		}
	}
	paris := time.FixedZone("CET", 3600)
	local := FormatTimeline(s, entries, FormatOptions{Location: paris})
	for _, want := range []string{"Started:   2026-03-15 00:59:59.500+01:00\n", "[00:59:59.500+01:00] [i] started\n[01:00:00.500+01:00] [+] done\n"} {
		if !strings.Contains(local, want) {
			t.Errorf("timeline in +01:00 lacks %q:\n%s", want, local)
		}
	}
	if strings.Contains(local, "--- ") {
		t.Errorf("no date change in +01:00, yet a date line:\n%s", local)
	}
}
