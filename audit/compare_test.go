package audit_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// script builds an execution's entries from words: "node" a completed
// run, "node!error" a failed one, "node~" a skipped one, "node..." a run
// still going, "rb:CP:n1,n2" a rollback to checkpoint CP reverting nodes,
// "done:k1,k2" completion with those final state keys, "fail" an
// execution failure. Each node run lasts 100 ms, or the ms after "@".
func script(exec string, words ...string) (audit.Summary, []audit.Entry) {
	var es []audit.Entry
	t := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	add := func(typ audit.Type, sev audit.Severity, node, errText, details string, dur *float64) {
		es = append(es, audit.Entry{Seq: int64(len(es) + 1), EventID: fmt.Sprintf("%s-%d", exec, len(es)),
			Timestamp: t, Type: typ, Severity: sev, ExecutionID: exec, NodeID: node, Error: errText,
			Details: json.RawMessage(details), DurationMS: dur})
		t = t.Add(time.Millisecond)
	}
	add(audit.TypeExecutionStarted, audit.SeverityInfo, "", "", `{"workflow_id":"wf"}`, nil)
	for _, w := range words {
		switch {
		case strings.HasPrefix(w, "rb:"):
			parts := strings.Split(w, ":")
			nodes, _ := json.Marshal(strings.Split(parts[2], ","))
			add(audit.TypeRollbackPerformed, audit.SeverityWarning, "", "",
				fmt.Sprintf(`{"from_checkpoint":"9","to_checkpoint":%q,"rolled_back_nodes":%s}`, parts[1], nodes), nil)
		case strings.HasPrefix(w, "done:"):
			keys, _ := json.Marshal(strings.Split(strings.TrimPrefix(w, "done:"), ","))
			add(audit.TypeExecutionCompleted, audit.SeveritySuccess, "", "", `{"final_state_keys":`+string(keys)+`}`, nil)
		case w == "fail":
			add(audit.TypeExecutionFailed, audit.SeverityError, "", "boom", `{}`, nil)
		default:
			ms := 100.0
			if name, d, ok := strings.Cut(w, "@"); ok {
				w = name
				fmt.Sscan(d, &ms)
			}
			node, errText, failed := strings.Cut(w, "!")
			switch {
			case strings.HasSuffix(node, "~"):
				add(audit.TypeNodeSkipped, audit.SeverityInfo, strings.TrimSuffix(node, "~"), "", `{}`, nil)
				continue
			case strings.HasSuffix(node, "..."):
				add(audit.TypeNodeStarted, audit.SeverityDebug, strings.TrimSuffix(node, "..."), "", `{}`, nil)
				continue
			}
			add(audit.TypeNodeStarted, audit.SeverityDebug, node, "", `{}`, nil)
			t = t.Add(time.Duration(ms) * time.Millisecond)
			d := ms
			if failed {
				add(audit.TypeNodeFailed, audit.SeverityError, node, errText, `{}`, &d)
			} else {
				add(audit.TypeNodeCompleted, audit.SeveritySuccess, node, "", `{}`, &d)
			}
		}
	}
	return audit.Summarize(exec, es), es
}

func TestCompare(t *testing.T) {
	base := []string{"plan", "retrieve", "grade", "generate", "done:answer"}
	tests := []struct {
		name     string
		a, b     []string
		step     int    // -1: no divergence
		kind     string // the divergence's kind
		steps    int    // len(Steps)
		contains string // in the message
	}{
		{"identical", base, base, -1, "", 4, ""},
		{"durations only", base, []string{"plan@150", "retrieve", "grade", "generate", "done:answer"}, -1, "", 4, ""},
		{"different node", base, []string{"plan", "search", "grade", "generate", "done:answer"}, 1, audit.DivergeNode, 5, `node "retrieve"`},
		{"status", base, []string{"plan", "retrieve", "grade!RateLimitError: 429", "fail"}, 2, audit.DivergeStatus, 4, "failed: RateLimitError: 429"},
		{"error", []string{"plan!TimeoutError: slow", "fail"}, []string{"plan!ValueError: bad", "fail"}, 0, audit.DivergeError, 1, "ValueError"},
		{"shorter run", base, []string{"plan", "retrieve", "fail"}, 2, audit.DivergeNode, 4, `A has node "grade"`},
		{"longer run", []string{"plan", "done:answer"}, []string{"plan", "review", "done:answer"}, 1, audit.DivergeNode, 2, `B has node "review"`},
		{"retry in one run", base, []string{"plan", "retrieve", "grade!RateLimitError: 429", "grade", "generate", "done:answer"},
			2, audit.DivergeNode, 5, `B has node "grade" (failed: RateLimitError: 429)`},
		{"rollback in one run", []string{"plan", "generate", "review", "rb:2:generate,review", "generate", "review", "done:answer"},
			[]string{"plan", "generate", "review", "done:answer"}, 3, audit.DivergeRollback, 6, "rollback to checkpoint"},
		{"rollback to another checkpoint", []string{"plan", "rb:1:plan", "plan", "done:x"}, []string{"plan", "rb:0:plan", "plan", "done:x"},
			1, audit.DivergeRollback, 3, `checkpoint "1"`},
		{"output keys", base, []string{"plan", "retrieve", "grade", "generate", "done:answer,citations"},
			4, audit.DivergeOutputKeys, 4, "final state keys"},
		{"end", []string{"plan"}, []string{"plan", "fail"}, 1, audit.DivergeEnd, 1, "A is running and B is failed"},
		{"skipped", []string{"plan", "cache~", "done:x"}, []string{"plan", "cache", "done:x"}, 1, audit.DivergeStatus, 2, "skipped"},
		{"still running", []string{"plan", "grade..."}, []string{"plan", "grade"}, 1, audit.DivergeStatus, 2, "running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa, ea := script("a", tc.a...)
			sb, eb := script("b", tc.b...)
			c := audit.Compare(sa, ea, sb, eb)
			if len(c.Steps) != tc.steps {
				t.Errorf("%d steps, want %d:\n%s", len(c.Steps), tc.steps, audit.FormatComparison(c))
			}
			if tc.step < 0 {
				if c.Divergence != nil {
					t.Fatalf("divergence %+v, want none", c.Divergence)
				}
				return
			}
			if c.Divergence == nil {
				t.Fatalf("no divergence, want %s at step %d:\n%s", tc.kind, tc.step, audit.FormatComparison(c))
			}
			if c.Divergence.Step != tc.step || c.Divergence.Kind != tc.kind || !strings.Contains(c.Divergence.Message, tc.contains) {
				t.Fatalf("divergence %+v, want %s at step %d containing %q:\n%s", *c.Divergence, tc.kind, tc.step, tc.contains, audit.FormatComparison(c))
			}
		})
	}
}

func TestCompareDurationsAndSummary(t *testing.T) {
	sa, ea := script("a", "plan@100", "grade!E: x@50", "grade@200", "done:k")
	sb, eb := script("b", "plan@130", "grade@180", "done:k")
	c := audit.Compare(sa, ea, sb, eb)
	if c.Divergence == nil || c.Divergence.Step != 1 || c.Divergence.Kind != audit.DivergeNode {
		t.Fatalf("divergence %+v", c.Divergence)
	}
	if d := c.Steps[0].DurationDeltaMS; d == nil || *d != 30 {
		t.Fatalf("plan delta %v", d)
	}
	if d := c.Steps[2].DurationDeltaMS; d == nil || *d != -20 {
		t.Fatalf("grade delta %v (the retry pairs with the completed run)", d)
	}
	want := []audit.NodeDelta{
		{NodeID: "plan", RunsA: 1, RunsB: 1, DurationAMS: 100, DurationBMS: 130, DeltaMS: 30},
		{NodeID: "grade", RunsA: 2, RunsB: 1, FailedA: 1, DurationAMS: 250, DurationBMS: 180, DeltaMS: -70},
	}
	if fmt.Sprint(c.Nodes) != fmt.Sprint(want) {
		t.Fatalf("nodes %+v, want %+v", c.Nodes, want)
	}
	var fields []string
	for _, d := range c.SummaryDiffs {
		fields = append(fields, d.Field)
	}
	if strings.Join(fields, ",") != "duration,total_entries,nodes_failed,errors" {
		t.Fatalf("summary diffs %+v", c.SummaryDiffs)
	}
	text := audit.FormatComparison(c)
	for _, s := range []string{"First divergence (node): step 2", ">>", "grade #2 completed 200ms", "+30ms", "2 (1 failed)", "nodes_failed"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
}

func TestNodeRuns(t *testing.T) {
	_, es := script("x", "plan", "grade!E: x", "grade", "rb:1:grade", "grade", "late...")
	runs := audit.NodeRuns(es)
	var got []string
	for _, r := range runs {
		got = append(got, fmt.Sprintf("%s#%d:%s:%v", r.NodeID, r.Attempt, r.Status, r.AfterRollback))
	}
	want := "plan#1:completed:false grade#1:failed:false grade#2:completed:false grade#3:completed:true late#1:running:false"
	if strings.Join(got, " ") != want {
		t.Fatalf("runs %q, want %q", got, want)
	}
	// An end without a start is a run of its own, starting its duration earlier.
	d := 250.0
	end := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	runs = audit.NodeRuns([]audit.Entry{{Seq: 1, Type: audit.TypeNodeCompleted, NodeID: "n", Timestamp: end, DurationMS: &d}})
	if len(runs) != 1 || !runs[0].Start.Equal(end.Add(-250*time.Millisecond)) || runs[0].Status != audit.RunCompleted {
		t.Fatalf("runs %+v", runs)
	}
}
