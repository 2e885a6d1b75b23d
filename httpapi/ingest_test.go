package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

func TestIngestContentTypes(t *testing.T) {
	env := newEnv(t, Options{})
	tests := []struct {
		name        string
		contentType string
		body        func(evs []event.Event) []byte
		n           int
	}{
		{"object", MediaJSON, func(evs []event.Event) []byte { return encode(t, evs[0]) }, 1},
		{"object with charset", "application/json; charset=utf-8", func(evs []event.Event) []byte { return encode(t, evs[0]) }, 1},
		{"array", MediaJSON, func(evs []event.Event) []byte { return jsonArray(t, evs) }, 5},
		{"ndjson", MediaNDJSON, func(evs []event.Event) []byte { return ndjson(t, evs) }, 5},
		{"ndjson with blank lines and CRLF", MediaNDJSON, func(evs []event.Event) []byte {
			return bytes.ReplaceAll(append([]byte("\n\n"), ndjson(t, evs)...), []byte("\n"), []byte("\r\n"))
		}, 5},
		{"cloudevent", MediaCloudEvent, func(evs []event.Event) []byte { return ceDoc(t, evs[0]) }, 1},
		{"cloudevents batch", MediaCloudEventsBatch, func(evs []event.Event) []byte { return cloudBatch(t, evs) }, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exec := "exec-" + strings.ReplaceAll(tc.name, " ", "-")
			evs := nodeEvents(exec, tc.n)
			r := env.post(tc.contentType, tc.body(evs))
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var res IngestResult
			if err := json.Unmarshal(r.body, &res); err != nil {
				t.Fatal(err)
			}
			if res.Accepted != tc.n || res.Duplicates != 0 {
				t.Fatalf("result %+v, want %d accepted", res, tc.n)
			}
			// Durable before the answer: the store has them now.
			got, err := env.store.Query(context.Background(), audit.Filter{ExecutionID: exec})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Fatalf("store has %d entries of %s, want %d", len(got), exec, tc.n)
			}
			for i, e := range got {
				if e.EventID != evs[i].EventID() || e.SourceType != "NodeStartedEvent" || !e.Timestamp.Equal(evs[i].EventTime()) {
					t.Fatalf("entry %d = %+v, want event %s", i, e, evs[i].EventID())
				}
			}
		})
	}
}

func TestIngestCloudEventAttributes(t *testing.T) {
	env := newEnv(t, Options{})
	ev := nodeStarted("", "n1")
	var data map[string]any
	if err := json.Unmarshal(encode(t, ev), &data); err != nil {
		t.Fatal(err)
	}
	delete(data, "event_id")
	delete(data, "timestamp")
	delete(data, "event_type")
	delete(data, "execution_id")
	base := func() map[string]any {
		d := map[string]any{}
		for k, v := range data {
			d[k] = v
		}
		return map[string]any{"specversion": "1.0", "type": "wtb.NodeStartedEvent", "source": "/t",
			"id": event.NewID(), "time": "2026-01-02T03:04:05.123456Z", "subject": "exec-ce", "data": d}
	}
	tests := []struct {
		name   string
		edit   func(ce map[string]any)
		status int
		code   string
	}{
		{"subject fills execution_id", func(ce map[string]any) {}, 200, ""},
		{"subject agrees with data", func(ce map[string]any) { ce["data"].(map[string]any)["execution_id"] = "exec-ce" }, 200, ""},
		{"subject contradicts data", func(ce map[string]any) { ce["data"].(map[string]any)["execution_id"] = "other" }, 422, CodeInvalidEvent},
		{"id contradicts data", func(ce map[string]any) { ce["data"].(map[string]any)["event_id"] = "other" }, 422, CodeInvalidEvent},
		{"no prefix", func(ce map[string]any) { ce["type"] = "NodeStartedEvent" }, 422, CodeUnknownEventType},
		{"unknown type", func(ce map[string]any) { ce["type"] = "wtb.NoSuchEvent" }, 422, CodeUnknownEventType},
		{"bad specversion", func(ce map[string]any) { ce["specversion"] = "0.3" }, 422, CodeInvalidEvent},
		{"no id", func(ce map[string]any) { delete(ce, "id") }, 422, CodeInvalidEvent},
		{"no source", func(ce map[string]any) { delete(ce, "source") }, 422, CodeInvalidEvent},
		{"data not an object", func(ce map[string]any) { ce["data"] = []int{1} }, 422, CodeInvalidEvent},
		{"bad time", func(ce map[string]any) { ce["time"] = "yesterday" }, 422, CodeInvalidEvent},
		{"unknown field in data", func(ce map[string]any) { ce["data"].(map[string]any)["bogus"] = 1 }, 422, CodeInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := base()
			tc.edit(ce)
			b, _ := json.Marshal(ce)
			r := env.post(MediaCloudEvent, b)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if eb := parseError(t, r); eb.Error.Code != tc.code || eb.Error.Index == nil || *eb.Error.Index != 0 {
					t.Fatalf("error %s, want code %s index 0", r.body, tc.code)
				}
				return
			}
			got, err := env.store.Query(context.Background(), audit.Filter{ExecutionID: "exec-ce"})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, e := range got {
				if e.EventID == ce["id"] {
					found = true
					if e.Timestamp.UnixMicro()%1e6 != 123456 {
						t.Fatalf("timestamp %v not from time", e.Timestamp)
					}
				}
			}
			if !found {
				t.Fatalf("event %v not recorded under the subject", ce["id"])
			}
		})
	}
}

// A batch with a bad event at index i is refused with that index and
// nothing of it is recorded.
func TestIngestAtomicBatch(t *testing.T) {
	env := newEnv(t, Options{})
	good := func() []event.Event { return nodeEvents("exec-atomic", 5) }
	badDocs := []struct {
		name   string
		raw    string
		status int
		code   string
	}{
		{"unknown type", `{"event_type":"NoSuchEvent","event_id":"x","timestamp":"2026-01-01T00:00:00Z"}`, 422, CodeUnknownEventType},
		{"missing type", `{"event_id":"x","timestamp":"2026-01-01T00:00:00Z"}`, 422, CodeUnknownEventType},
		{"wrong field type", `{"event_type":"NodeStartedEvent","event_id":"x","timestamp":"2026-01-01T00:00:00Z","node_id":7}`, 422, CodeInvalidEvent},
		{"bad timestamp", `{"event_type":"NodeStartedEvent","event_id":"x","timestamp":"noon"}`, 422, CodeInvalidEvent},
		{"missing id", `{"event_type":"NodeStartedEvent","timestamp":"2026-01-01T00:00:00Z"}`, 422, CodeInvalidEvent},
		{"not an object", `42`, 400, CodeMalformedJSON},
	}
	for _, bd := range badDocs {
		for _, media := range []string{MediaJSON, MediaNDJSON} {
			t.Run(bd.name+" "+media, func(t *testing.T) {
				before := env.count()
				evs := good()
				var body []byte
				if media == MediaJSON {
					arr := jsonArray(t, evs)
					var parts []json.RawMessage
					_ = json.Unmarshal(arr, &parts)
					parts[3] = json.RawMessage(bd.raw)
					body, _ = json.Marshal(parts)
				} else {
					lines := bytes.Split(bytes.TrimSpace(ndjson(t, evs)), []byte("\n"))
					lines[3] = []byte(bd.raw)
					body = bytes.Join(lines, []byte("\n"))
				}
				r := env.post(media, body)
				if r.status != bd.status {
					t.Fatalf("status %d, want %d: %s", r.status, bd.status, r.body)
				}
				eb := parseError(t, r)
				if eb.Error.Code != bd.code || eb.Error.Index == nil || *eb.Error.Index != 3 {
					t.Fatalf("error %s, want code %s at index 3", r.body, bd.code)
				}
				if n := env.count(); n != before {
					t.Fatalf("store grew from %d to %d entries", before, n)
				}
			})
		}
	}
}

func TestIngestRejects(t *testing.T) {
	env := newEnv(t, Options{MaxBodyBytes: 4096, MaxBatchEvents: 3})
	one := encode(t, nodeStarted("e", "n"))
	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code        string
	}{
		{"no content type", "", one, 415, CodeUnsupportedMediaType},
		{"text/plain", "text/plain", one, 415, CodeUnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", one, 415, CodeUnsupportedMediaType},
		{"malformed", MediaJSON, []byte(`[{"event_type":`), 400, CodeMalformedJSON},
		{"malformed object", MediaJSON, []byte(`{"event_type":`), 400, CodeMalformedJSON},
		{"empty", MediaJSON, nil, 400, CodeMalformedJSON},
		{"empty ndjson", MediaNDJSON, []byte("\n\n"), 400, CodeMalformedJSON},
		{"scalar", MediaJSON, []byte(`"x"`), 400, CodeMalformedJSON},
		{"ce batch not array", MediaCloudEventsBatch, []byte(`{}`), 400, CodeMalformedJSON},
		{"body too large", MediaJSON, bytes.Repeat([]byte(" "), 5000), 413, CodeBodyTooLarge},
		{"too many events", MediaJSON, jsonArray(t, nodeEvents("e", 4)), 413, CodeTooManyEvents},
		{"too many ndjson", MediaNDJSON, ndjson(t, nodeEvents("e", 4)), 413, CodeTooManyEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.post(tc.contentType, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if eb := parseError(t, r); eb.Error.Code != tc.code {
				t.Fatalf("code %q, want %q", eb.Error.Code, tc.code)
			}
		})
	}
	if n := env.count(); n != 0 {
		t.Fatalf("store has %d entries after rejected requests", n)
	}
	// The server still works.
	if res := env.ingest(nodeEvents("e", 3)); res.Accepted != 3 {
		t.Fatalf("after rejects: %+v", res)
	}
}

func TestIngestDuplicates(t *testing.T) {
	env := newEnv(t, Options{})
	evs := nodeEvents("exec-dup", 4)
	if res := env.ingest(evs); res != (IngestResult{Accepted: 4}) {
		t.Fatalf("first: %+v", res)
	}
	if res := env.ingest(evs); res != (IngestResult{Duplicates: 4}) {
		t.Fatalf("again: %+v", res)
	}
	more := nodeEvents("exec-dup", 2)
	mixed := []event.Event{evs[0], more[0], more[0], more[1]}
	if res := env.ingest(mixed); res != (IngestResult{Accepted: 2, Duplicates: 2}) {
		t.Fatalf("mixed: %+v", res)
	}
	if n := env.count(); n != 6 {
		t.Fatalf("store has %d entries, want 6", n)
	}
}

func TestNotFoundRoute(t *testing.T) {
	env := newEnv(t, Options{})
	for _, p := range []string{"/nope", "/v1/events"} {
		r := env.get(p)
		if p == "/v1/events" {
			if r.status != http.StatusMethodNotAllowed {
				t.Fatalf("GET /v1/events: %d", r.status)
			}
			continue
		}
		if r.status != 404 || parseError(t, r).Error.Code != CodeNotFound {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
}

// With a bus, every event recorded (and no duplicate) is published, in
// request order, before the answer.
func TestIngestPublishesOnBus(t *testing.T) {
	b := bus.New()
	defer b.Close()
	var mu sync.Mutex
	var got []string
	b.SubscribeAll(func(_ context.Context, ev event.Event) error {
		mu.Lock()
		got = append(got, ev.EventID())
		mu.Unlock()
		return nil
	})
	env := newEnv(t, Options{Bus: b})
	evs := nodeEvents("bus", 4)
	env.ingest(evs[:2])
	env.ingest(evs) // two duplicates, two new
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("bus saw %d events, want 4", len(got))
	}
	for i, ev := range evs {
		if got[i] != ev.EventID() {
			t.Fatalf("bus event %d is %s, want %s", i, got[i], ev.EventID())
		}
	}
}
