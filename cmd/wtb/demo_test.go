package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// demoSequence is the wire names of the demo's events, in order.
var demoSequence = []string{
	"ExecutionStartedEvent",
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // plan
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // retrieve
	"NodeStartedEvent", "NodeFailedEvent", // grade fails
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // grade retried
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // generate
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // review
	"RollbackRequested", "RollbackCompleted",
	"BranchCreatedEvent", "ForkRequestedEvent", "ForkCompletedEvent",
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // generate again
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // review again
	"NodeStartedEvent", "NodeCompletedEvent", "CheckpointCreated", // finalize
	"file_tracking.started", "file_commit.created", "checkpoint_file_link.created", "file_tracking.completed",
	"ExecutionCompletedEvent",
}

func TestDemoEvents(t *testing.T) {
	ids := newDemoIDs()
	end := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	evs := demoEvents(ids, end)
	if len(evs) != len(demoSequence) {
		t.Fatalf("%d events, want %d", len(evs), len(demoSequence))
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.WireName() != demoSequence[i] {
			t.Errorf("event %d is %s, want %s", i, ev.WireName(), demoSequence[i])
		}
		if seen[ev.EventID()] {
			t.Errorf("event %d: id %s repeated", i, ev.EventID())
		}
		seen[ev.EventID()] = true
		if i > 0 && ev.EventTime().Before(evs[i-1].EventTime()) {
			t.Errorf("event %d happens before event %d", i, i-1)
		}
		// Every event survives the wire format.
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		back, err := event.Decode(b)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if back.EventID() != ev.EventID() {
			t.Errorf("event %d: id changed through the wire format", i)
		}
	}
	if got := evs[len(evs)-1].EventTime(); !got.Equal(end) {
		t.Errorf("last event at %v, want %v", got, end)
	}
	fail := evs[8].(*event.NodeFailed)
	if !fail.Recoverable || fail.NodeID != "grade" {
		t.Errorf("the failure is not a recoverable failure of grade: %+v", fail)
	}
	rb := evs[19].(*event.RollbackCompleted)
	if rb.ToCheckpointID != "3" || rb.FromCheckpointID != "5" {
		t.Errorf("rollback %s -> %s, want 5 -> 3", rb.FromCheckpointID, rb.ToCheckpointID)
	}
	fc := evs[33].(*event.FileCommitCreated)
	if fc.FileCount != 2 || len(fc.FilePaths) != 2 || fc.ExecutionID == nil || *fc.ExecutionID != ids.Execution {
		t.Errorf("file commit: %+v", fc)
	}
	// Content is deterministic: a second run differs only in ids and time.
	again := demoEvents(newDemoIDs(), end)
	for i := range evs {
		a, b := audit.FromEvent(evs[i]), audit.FromEvent(again[i])
		if a.Type != b.Type || a.Severity != b.Severity || (a.DurationMS == nil) != (b.DurationMS == nil) {
			t.Errorf("event %d differs between runs: %+v vs %+v", i, a, b)
		}
	}
}

var timePrefix = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\dZ  (\S+)\s+(.*)$`)

func TestDemo(t *testing.T) {
	db := tempDB(t)
	r := mustRun(t, "", "demo", "--db", db)
	lines := strings.Split(r.stdout, "\n")

	// The live lines, one per event, in publish order.
	var wires []string
	for _, l := range lines {
		if m := timePrefix.FindStringSubmatch(l); m != nil {
			wires = append(wires, m[1])
		}
	}
	if strings.Join(wires, ",") != strings.Join(demoSequence, ",") {
		t.Fatalf("printed events:\n%v\nwant:\n%v", wires, demoSequence)
	}
	m := regexp.MustCompile(`Simulating execution (\S+) of workflow "Agentic RAG"`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no execution id in:\n%s", r.stdout)
	}
	exec := m[1]
	for _, want := range []string{
		"Recorded 37 events (37 new, 0 duplicates) in ",
		"WTB AUDIT TRAIL",
		"Execution: " + exec,
		"Workflow:  agentic-rag",
		"Duration:  21210ms",
		"Nodes: [+] 8 completed | [X] 1 failed",
		"Checkpoints: 8 | 1 rollbacks",
		"[!] Errors: 1",
		"[X] Node 'grade' failed (node: grade) [3012.0ms]",
		"              Error: RateLimitError: LLM provider answered 429 Too Many Requests (retry after 2s)",
		"[!] Rolled back to checkpoint '3' (2 nodes reverted)",
		"[+] Execution completed (8 nodes, 8 checkpoints) [21210.0ms]",
		"wtb audit show " + exec + " --all --debug",
		"Open it in the console: run wtb serve --db " + db + ", then open http://127.0.0.1:8420/executions/" + exec,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(r.stdout[strings.Index(r.stdout, "WTB AUDIT TRAIL"):], "[D]") {
		t.Error("the timeline shows debug entries")
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}

	// The timeline is exactly what audit show prints.
	start := strings.Index(r.stdout, "====")
	end := strings.Index(r.stdout, "\nEvery entry")
	show := mustRun(t, "", "audit", "show", exec, "--db", db)
	if show.stdout != r.stdout[start:end] {
		t.Errorf("audit show differs from the demo's timeline:\n%s\n---\n%s", show.stdout, r.stdout[start:end])
	}

	// Each run is a new execution.
	mustRun(t, "", "demo", "--db", db)
	list := mustRun(t, "", "audit", "list", "--db", db)
	if !strings.Contains(list.stdout, "2 executions") || strings.Count(list.stdout, "agentic-rag") != 2 {
		t.Errorf("after two demos:\n%s", list.stdout)
	}
}
