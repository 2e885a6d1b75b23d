package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

func TestCompareTraceBatch(t *testing.T) {
	env := newEnv(t, Options{MaxTimelineEntries: 50})
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seedExecution(t, env, "exec-a", base, 2)
	seedExecution(t, env, "exec-b", base, 3)

	r := env.get("/v1/compare?a=exec-a&b=exec-b")
	if r.status != 200 {
		t.Fatalf("compare: %d %s", r.status, r.body)
	}
	var c audit.Comparison
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	if c.A.ExecutionID != "exec-a" || c.B.ExecutionID != "exec-b" || c.Divergence == nil || c.Divergence.Kind != audit.DivergeNode {
		t.Fatalf("comparison %s", r.body)
	}
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/compare?a=exec-a", 400, CodeBadParameter},
		{"/v1/compare?b=exec-a", 400, CodeBadParameter},
		{"/v1/compare?a=exec-a&b=nope", 404, CodeNotFound},
		{"/v1/executions/nope/trace", 404, CodeNotFound},
		{"/v1/batches/nope", 404, CodeNotFound},
	} {
		r := env.get(tc.path)
		if r.status != tc.status || parseError(t, r).Error.Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.path, r.status, r.body, tc.status, tc.code)
		}
	}

	r = env.get("/v1/executions/exec-b/trace")
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), "trace-exec-b.json") {
		t.Fatalf("trace: %d %v %s", r.status, r.header, r.body)
	}
	var tr audit.Trace
	if err := json.Unmarshal(r.body, &tr); err != nil || len(tr.TraceEvents) == 0 {
		t.Fatalf("trace %v: %s", err, r.body)
	}

	// A batch with one variant.
	st := event.New[event.RayBatchTestStarted]()
	st.BatchTestID = "batch-1"
	vs := event.New[event.RayVariantExecutionStarted]()
	vs.BatchTestID, vs.ExecutionID, vs.CombinationName = "batch-1", "exec-a", "fast"
	vc := event.New[event.RayVariantExecutionCompleted]()
	vc.BatchTestID, vc.ExecutionID, vc.CombinationName, vc.OverallScore = "batch-1", "exec-a", "fast", 0.875
	env.ingest([]event.Event{st, vs, vc})
	r = env.get("/v1/batches/batch-1")
	var b audit.Batch
	if r.status != 200 || json.Unmarshal(r.body, &b) != nil || len(b.Variants) != 1 || b.Variants[0].ExecutionID != "exec-a" ||
		b.Variants[0].Score == nil || *b.Variants[0].Score != 0.88 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}

	// Longer than MaxTimelineEntries: 422.
	var evs []event.Event
	for range 60 {
		evs = append(evs, nodeStarted("long", "n"))
	}
	env.ingest(evs)
	if r := env.get("/v1/compare?a=long&b=exec-a"); r.status != 422 {
		t.Fatalf("compare of a long execution: %d %s", r.status, r.body)
	}
}
