package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// The mistakes of a first hour get an answer that says what to do.
func TestIngestHints(t *testing.T) {
	env := newEnv(t, Options{})
	one := string(encode(t, nodeStarted("hint", "a")))
	two := string(encode(t, nodeStarted("hint", "b")))
	// The duration, not a "1.5" that the timestamp may hold too.
	completed := string(encode(t, nodeCompletedWith("hint", 1.5)))
	if !strings.Contains(completed, `"duration_ms":1.5`) {
		t.Fatalf("no duration_ms 1.5 in %s", completed)
	}
	withNaN := strings.Replace(completed, `"duration_ms":1.5`, `"duration_ms":NaN`, 1)
	withInf := strings.Replace(completed, `"duration_ms":1.5`, `"duration_ms":-Infinity`, 1)
	tests := []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"NDJSON as JSON", MediaJSON, one + "\n" + two + "\n", 400, "send them as application/x-ndjson"},
		{"NaN", MediaJSON, withNaN, 400, "NaN is not JSON (Python's json.dumps writes it unless allow_nan=False)"},
		{"NaN in an array", MediaJSON, "[" + one + "," + withNaN + "]", 400, "event 1: "},
		{"NaN in NDJSON", MediaNDJSON, one + "\n" + withInf + "\n", 400, "-Infinity is not JSON"},
		{"NaN in a string is fine", MediaJSON, strings.Replace(one, `"node_name":"a"`, `"node_name":"NaN"`, 1), 200, ""},
		{"placeholders not escaped", MediaCloudEvent, `{"specversion":"1.0","id":"x","source":"s","type":"<nope>"}`, 422, `"<nope>"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.post(tc.ct, []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.want != "" && !strings.Contains(parseError(t, r).Error.Message, tc.want) {
				t.Fatalf("message %s, want it to say %q", r.body, tc.want)
			}
			if strings.Contains(string(r.body), `\u003c`) {
				t.Fatalf("HTML escapes in %s", r.body)
			}
		})
	}
}

func nodeCompletedWith(exec string, duration float64) *event.NodeCompleted {
	ev := event.New[event.NodeCompleted]()
	ev.ExecutionID, ev.NodeID, ev.NodeName, ev.DurationMS = exec, "n", "n", duration
	return ev
}

// A CloudEvent in binary mode: its attributes in ce-* headers, its data
// the body.
func TestIngestCloudEventBinary(t *testing.T) {
	env := newEnv(t, Options{})
	ev := nodeStarted("ce-bin", "plan")
	data := map[string]any{"node_id": "plan", "node_name": "plan"}
	body := string(marshalText(data))
	hdr := func(extra ...string) []string {
		h := []string{"Ce-Specversion", "1.0", "Ce-Type", "wtb." + ev.WireName(), "Ce-Source", "/tests",
			"Ce-Id", ev.EventID(), "Ce-Time", event.FormatTime(ev.EventTime()), "Ce-Subject", "ce-bin"}
		return append(h, extra...)
	}
	r := env.post(MediaJSON, []byte(body), hdr()...)
	if r.status != 200 || !strings.Contains(string(r.body), `"accepted":1`) {
		t.Fatalf("binary mode: %d %s", r.status, r.body)
	}
	es, err := env.store.Query(context.Background(), audit.Filter{ExecutionID: "ce-bin"})
	if err != nil || len(es) != 1 || es[0].EventID != ev.EventID() || es[0].NodeID != "plan" || !es[0].Timestamp.Equal(ev.EventTime()) {
		t.Fatalf("recorded %+v, %v", es, err)
	}
	// The same again: a duplicate.
	if r := env.post(MediaJSON, []byte(body), hdr()...); r.status != 200 || !strings.Contains(string(r.body), `"duplicates":1`) {
		t.Fatalf("again: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		name, ct, body string
		hdr            []string
		status         int
		want           string
	}{
		{"data not JSON", "text/plain", "hello", hdr(), 415, "binary-mode CloudEvent"},
		{"no id", MediaJSON, body, hdr("Ce-Id", ""), 422, "id is required"},
		{"contradicting subject", MediaJSON, `{"node_id":"plan","node_name":"plan","execution_id":"other"}`, hdr(), 422, "contradicts data.execution_id"},
		{"unknown type", MediaJSON, body, hdr("Ce-Type", "wtb.Nope"), 422, "unknown event type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.post(tc.ct, []byte(tc.body), tc.hdr...)
			if r.status != tc.status || !strings.Contains(parseError(t, r).Error.Message, tc.want) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
}
