package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	evs := nodeEvents("m", 3)
	env.ingest(evs)
	env.ingest(evs[:1])
	env.post("text/plain", nil)

	// The answers come before the counters that follow them are updated
	// (the recorder's queue depth drops after the receipts, a request's
	// duration is observed after its answer): wait for them.
	waitMetrics(t, env, []string{
		`wtb_events_ingested_total{event_type="NodeStartedEvent"} 3`,
		`wtb_events_duplicate_total 1`,
		`wtb_http_requests_rejected_total{code="unsupported_media_type"} 1`,
		`wtb_recorder_queue_depth 0`,
		`wtb_recorder_committed_total 3`,
		`wtb_recorder_commit_latency_seconds_count`,
		`wtb_live_clients{transport="sse"} 1`,
		`wtb_live_clients{transport="ws"} 0`,
		`wtb_http_request_duration_seconds_count{route="ingest"} 3`,
		`go_goroutines`,
	})
}

// waitMetrics reads /metrics until it has every line of want (each a
// prefix of a line), failing after testTimeout with those it lacks.
func waitMetrics(t *testing.T, env *testEnv, want []string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		resp := env.get("/metrics")
		if resp.status != 200 {
			t.Fatalf("/metrics: %d", resp.status)
		}
		var lacking []string
		for _, w := range want {
			if !hasLine(string(resp.body), w) {
				lacking = append(lacking, w)
			}
		}
		if len(lacking) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q", lacking)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasLine reports whether text has a line that starts with prefix and
// ends there or continues with a space.
func hasLine(text, prefix string) bool {
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if rest, ok := strings.CutPrefix(line, prefix); ok && (rest == "" || rest[0] == ' ' || rest[0] == '{') {
			return true
		}
	}
	return false
}

// A failing store is answered 500/503, counted, and never takes the
// server down.
func TestStoreFailure(t *testing.T) {
	env := newEnv(t, Options{})
	env.ingest(nodeEvents("f", 2))
	if r := env.get("/readyz"); r.status != 200 {
		t.Fatalf("readyz: %d", r.status)
	}
	if err := env.store.Close(); err != nil {
		t.Fatal(err)
	}
	if r := env.get("/readyz"); r.status != 503 || parseError(t, r).Error.Code != CodeUnavailable {
		t.Fatalf("readyz with a closed store: %d %s", r.status, r.body)
	}
	if r := env.get("/v1/audit"); r.status != 500 || parseError(t, r).Error.Code != CodeInternal {
		t.Fatalf("query with a closed store: %d %s", r.status, r.body)
	}
	if r := env.post(MediaJSON, jsonArray(t, nodeEvents("f", 1))); r.status != 503 {
		t.Fatalf("ingest with a closed store: %d %s", r.status, r.body)
	}
	if r := env.get("/healthz"); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	text := string(env.get("/metrics").body)
	for _, want := range []string{
		`wtb_http_handler_failures_total{route="audit"} 1`,
		`wtb_http_handler_failures_total{route="ingest"} 1`,
		`wtb_recorder_failed_total 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
