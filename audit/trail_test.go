package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

var at = time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)

func entry(id string, typ audit.Type, sev audit.Severity, node string) audit.Entry {
	return audit.Entry{EventID: id, Timestamp: at, Type: typ, Severity: sev, Message: "m " + id, ExecutionID: "exec-1", NodeID: node}
}

func TestTrailQueries(t *testing.T) {
	tr := audit.NewTrail("exec-1", "wf-1")
	tr.Add(entry("a", audit.TypeNodeStarted, audit.SeverityDebug, "n1"))
	tr.Add(entry("b", audit.TypeNodeFailed, audit.SeverityError, "n1"))
	tr.Add(entry("c", audit.TypeNodeCompleted, audit.SeveritySuccess, "n2"))
	tr.Add(entry("d", audit.TypeExecutionFailed, audit.SeverityError, ""))
	ids := func(es []audit.Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.EventID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		got  []audit.Entry
		want string
	}{
		{"entries", tr.Entries(), "a,b,c,d"},
		{"errors", tr.Errors(), "b,d"},
		{"by node n1", tr.ByNode("n1"), "a,b"},
		{"by node none", tr.ByNode("zz"), ""},
		{"by type", tr.ByType(audit.TypeNodeCompleted), "c"},
	}
	for _, tt := range tests {
		if got := ids(tt.got); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	tr.ImportAgentGitAudit("k", map[string]any{"events": []any{}})
	tr.SetStartedAt(at)
	flushed := tr.Flush()
	if ids(flushed) != "a,b,c,d" || tr.Len() != 0 || len(tr.Flush()) != 0 {
		t.Fatalf("flush: %q then %d left", ids(flushed), tr.Len())
	}
	if _, ok := tr.AgentGitAudit("k"); !ok || tr.ExecutionID() != "exec-1" || tr.WorkflowID() != "wf-1" {
		t.Fatal("flush reset fields")
	}
	if s, ok := tr.StartedAt(); !ok || !s.Equal(at) {
		t.Fatal("flush reset started_at")
	}
}

func TestTrailSummary(t *testing.T) {
	tr := audit.NewTrail("exec-1", "")
	tr.SetWorkflowID("wf-9")
	for i, typ := range []audit.Type{audit.TypeNodeCompleted, audit.TypeNodeCompleted, audit.TypeNodeFailed, audit.TypeCheckpointCreated, audit.TypeRollbackPerformed, audit.TypeExecutionCompleted} {
		sev := audit.SeverityInfo
		if typ == audit.TypeNodeFailed {
			sev = audit.SeverityError
		}
		tr.Add(entry(fmt.Sprint(i), typ, sev, ""))
	}
	s := tr.Summary()
	if s.StartedAt != nil || s.EndedAt != nil || s.DurationMS != nil {
		t.Fatalf("times must come from the caller only: %+v", s)
	}
	tr.SetStartedAt(at)
	s = tr.Summary()
	if s.DurationMS != nil {
		t.Fatal("duration with one end only")
	}
	tr.SetEndedAt(at.Add(2500 * time.Millisecond))
	tr.ImportAgentGitAudit("a", map[string]any{})
	tr.ImportAgentGitAudit("b", map[string]any{})
	tr.ImportAgentGitAudit("a", map[string]any{"x": 1.0})
	s = tr.Summary()
	want := audit.Summary{TotalEntries: 6, ExecutionID: "exec-1", WorkflowID: "wf-9", NodesExecuted: 2, NodesFailed: 1,
		CheckpointsCreated: 1, Rollbacks: 1, Errors: 1, AgentGitAuditsImported: 2, Status: audit.StatusCompleted}
	if s.DurationMS == nil || *s.DurationMS != 2500 || !s.StartedAt.Equal(at) || !s.EndedAt.Equal(at.Add(2500*time.Millisecond)) {
		t.Fatalf("times: %+v", s)
	}
	s.StartedAt, s.EndedAt, s.DurationMS = nil, nil, nil
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	if a, _ := tr.AgentGitAudit("a"); a["x"] != 1.0 {
		t.Fatal("import does not overwrite")
	}
}

func TestTrailJSON(t *testing.T) {
	tr := audit.NewTrail("exec-1", "wf-1")
	tr.SetStartedAt(at)
	tr.SetEndedAt(at.Add(time.Second))
	tr.ImportAgentGitAudit("run", map[string]any{"events": []any{"x"}})
	e := entry("a", audit.TypeNodeCompleted, audit.SeveritySuccess, "n1")
	d := 12.5
	e.DurationMS = &d
	e.Details = json.RawMessage(`{"checkpoint_id":3}`)
	tr.Add(e)
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	wantPrefix := `{"execution_id":"exec-1","workflow_id":"wf-1","started_at":"2026-01-27T12:00:00Z","ended_at":"2026-01-27T12:00:01Z","entries":[`
	if !strings.HasPrefix(string(b), wantPrefix) {
		t.Fatalf("got %s", b)
	}
	wantSummary := `{"total_entries":1,"execution_id":"exec-1","workflow_id":"wf-1","started_at":"2026-01-27T12:00:00Z","ended_at":"2026-01-27T12:00:01Z","duration_ms":1000,"nodes_executed":1,"nodes_failed":0,"checkpoints_created":0,"rollbacks":0,"errors":0,"agentgit_audits_imported":1}`
	if string(top["summary"]) != wantSummary {
		t.Fatalf("summary %s\nwant    %s", top["summary"], wantSummary)
	}
	back := new(audit.Trail)
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != string(b) {
		t.Fatalf("round trip:\n%s\n%s", b, b2)
	}

	// The reference's own to_dict form.
	ref := `{"execution_id": "exec-1", "workflow_id": null, "started_at": "2025-01-09T12:00:00", "ended_at": null,
	  "entries": [{"timestamp": "2025-01-09T12:00:00.250000", "event_type": "node_completed", "severity": "success", "message": "Node completed", "execution_id": "exec-1", "node_id": "node-1", "details": {}, "error": null, "duration_ms": 150.5}],
	  "agentgit_audits": {}, "summary": {"total_entries": 1}}`
	tr2 := new(audit.Trail)
	if err := json.Unmarshal([]byte(ref), tr2); err != nil {
		t.Fatal(err)
	}
	got := tr2.Entries()
	if len(got) != 1 || got[0].NodeID != "node-1" || *got[0].DurationMS != 150.5 || !got[0].Timestamp.Equal(time.Date(2025, 1, 9, 12, 0, 0, 250e6, time.UTC)) {
		t.Fatalf("entries %+v", got)
	}
	if s, ok := tr2.StartedAt(); !ok || !s.Equal(time.Date(2025, 1, 9, 12, 0, 0, 0, time.UTC)) {
		t.Fatal("started_at")
	}
	if _, ok := tr2.EndedAt(); ok || tr2.WorkflowID() != "" {
		t.Fatal("ended_at / workflow_id")
	}
	if err := json.Unmarshal([]byte(`{"entries":[{"event_type":"x"}]}`), new(audit.Trail)); err == nil {
		t.Fatal("bad entry accepted")
	}
}

// TestTrailConcurrent records from several goroutines, like the reference's
// test (50 events from 5 threads).
func TestTrailConcurrent(t *testing.T) {
	tr := audit.NewTrail("", "")
	var wg sync.WaitGroup
	for g := range 5 {
		wg.Go(func() {
			for i := range 10 {
				ev := &event.NodeCompleted{Base: event.NewBase(), ExecutionID: "exec-1", NodeID: fmt.Sprint(g, "-", i)}
				if err := tr.Record(context.Background(), audit.FromEvent(ev)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := tr.Len(); n != 50 {
		t.Fatalf("%d entries, want 50", n)
	}
	if got := tr.Summary().NodesExecuted; got != 50 {
		t.Fatalf("nodes executed %d", got)
	}
}

func TestTrailRecordEvent(t *testing.T) {
	tr := audit.NewTrail("exec-1", "wf")
	if got := tr.Format(audit.FormatOptions{}); got != "No audit entries recorded." {
		t.Fatalf("empty trail: %q", got)
	}
	e := tr.RecordEvent(&event.ExecutionStarted{Base: event.Base{ID: "x", Timestamp: at}, ExecutionID: "exec-1", WorkflowName: "Demo"})
	if e.Message != "Execution started for workflow 'Demo'" || tr.Len() != 1 {
		t.Fatalf("%+v", e)
	}
	if !strings.Contains(tr.Format(audit.FormatOptions{}), "[12:00:00.000Z] [i] Execution started for workflow 'Demo'\n") {
		t.Fatal(tr.Format(audit.FormatOptions{}))
	}
}

func TestSummarize(t *testing.T) {
	mk := func(seq int64, typ audit.Type, sev audit.Severity, sec int, details string) audit.Entry {
		return audit.Entry{Seq: seq, EventID: fmt.Sprint(seq), Timestamp: at.Add(time.Duration(sec) * time.Second), Type: typ, Severity: sev, Details: json.RawMessage(details)}
	}
	tests := []struct {
		name     string
		entries  []audit.Entry
		status   string
		workflow string
		ended    int // seconds after at; -1 when not ended
		first    int64
		last     int64
		errors   int
	}{
		{"running", []audit.Entry{
			mk(3, audit.TypeExecutionStarted, audit.SeverityInfo, 0, `{"workflow_id":"wf-1","breakpoints":[]}`),
			mk(5, audit.TypeNodeFailed, audit.SeverityError, 1, `{}`),
		}, audit.StatusRunning, "wf-1", -1, 3, 5, 1},
		{"completed", []audit.Entry{
			mk(1, audit.TypeExecutionStarted, audit.SeverityInfo, 0, `{"workflow_id":"wf-2"}`),
			mk(2, audit.TypeExecutionCompleted, audit.SeveritySuccess, 4, `{}`),
		}, audit.StatusCompleted, "wf-2", 4, 1, 2, 0},
		{"last terminal wins", []audit.Entry{
			mk(1, audit.TypeExecutionCompleted, audit.SeveritySuccess, 2, `{}`),
			mk(2, audit.TypeExecutionCancelled, audit.SeverityWarning, 3, `{}`),
		}, audit.StatusCancelled, "", 3, 1, 2, 0},
		{"ray batch", []audit.Entry{
			mk(10, audit.TypeRayBatchTestStarted, audit.SeverityInfo, 0, `{"workflow_id":"wf-ray"}`),
			mk(11, audit.TypeRayVariantExecutionCompleted, audit.SeveritySuccess, 1, `{}`),
			mk(12, audit.TypeRayBatchTestFailed, audit.SeverityError, 6, `{}`),
		}, audit.StatusFailed, "wf-ray", 6, 10, 12, 1},
		{"not stored yet", []audit.Entry{
			mk(0, audit.TypeExecutionStarted, audit.SeverityInfo, 0, ``),
		}, audit.StatusRunning, "", -1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := audit.Summarize("x", tt.entries)
			if s.Status != tt.status || s.WorkflowID != tt.workflow || s.FirstSeq != tt.first || s.LastSeq != tt.last ||
				s.Errors != tt.errors || s.TotalEntries != len(tt.entries) || s.ExecutionID != "x" {
				t.Fatalf("%+v", s)
			}
			if !s.StartedAt.Equal(tt.entries[0].Timestamp) {
				t.Fatalf("started %v", s.StartedAt)
			}
			if tt.ended < 0 {
				if s.EndedAt != nil || s.DurationMS != nil {
					t.Fatalf("ended %v", s.EndedAt)
				}
				return
			}
			end := at.Add(time.Duration(tt.ended) * time.Second)
			if !s.EndedAt.Equal(end) || *s.DurationMS != float64(end.Sub(tt.entries[0].Timestamp).Milliseconds()) {
				t.Fatalf("ended %v duration %v", s.EndedAt, *s.DurationMS)
			}
		})
	}
}
