package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

func TestChromeTrace(t *testing.T) {
	sum, es := script("x", "plan", "grade!RateLimitError: 429", "grade", "rb:1:grade", "grade", "done:k")
	// Two nodes that overlap in time get lanes of their own.
	at := es[len(es)-1].Timestamp
	d := 5.0
	es = append(es,
		audit.Entry{Seq: 100, Type: audit.TypeNodeStarted, NodeID: "p1", Timestamp: at},
		audit.Entry{Seq: 101, Type: audit.TypeNodeStarted, NodeID: "p2", Timestamp: at.Add(time.Millisecond)},
		audit.Entry{Seq: 102, Type: audit.TypeNodeCompleted, NodeID: "p1", Timestamp: at.Add(5 * time.Millisecond), DurationMS: &d},
		audit.Entry{Seq: 103, Type: audit.TypeNodeCompleted, NodeID: "p2", Timestamp: at.Add(6 * time.Millisecond), DurationMS: &d},
	)
	tr := audit.ChromeTrace(sum, es)
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	slices, failed, instants := 0, 0, 0
	lanes := map[float64]bool{}
	for _, ev := range doc.TraceEvents {
		switch ev["ph"] {
		case "X":
			if ev["cat"] == "node" {
				slices++
				lanes[ev["tid"].(float64)] = true
				if ev["cname"] == "terrible" {
					failed++
				}
			}
			if ev["dur"] == nil || ev["ts"].(float64) < 1e15 {
				t.Errorf("slice without duration or not in microseconds: %v", ev)
			}
		case "i":
			instants++
		}
	}
	if slices != 6 || failed != 1 || len(lanes) != 2 {
		t.Fatalf("%d node slices (%d failed) on %d lanes, want 6 (1) on 2", slices, failed, len(lanes))
	}
	if instants != 1 { // the rollback; grade's failure is a red slice
		t.Fatalf("%d instant events, want 1 (the rollback): %s", instants, b)
	}
}
