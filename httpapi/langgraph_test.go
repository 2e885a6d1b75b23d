package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// jsAgentStream is a real LangGraph.js streamEvents v2 run: a tool call, a
// conditional branch, a node that fails once and is retried.
func jsAgentStream(t testing.TB) []byte {
	b, err := os.ReadFile("../langgraph/testdata/js-agent.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *testEnv) postLangGraph(query string, body []byte, hdr ...string) (LangGraphResult, response) {
	e.t.Helper()
	path := "/v1/langgraph/events"
	if query != "" {
		path += "?" + query
	}
	r := e.do("POST", path, MediaNDJSON, body, hdr...)
	var res LangGraphResult
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &res); err != nil {
			e.t.Fatal(err)
		}
	}
	return res, r
}

func (e *testEnv) summary(exec string) audit.Summary {
	e.t.Helper()
	s, err := e.store.Summary(context.Background(), exec)
	if err != nil {
		e.t.Fatalf("summary of %s: %v", exec, err)
	}
	return s
}

func TestLangGraphIngest(t *testing.T) {
	env := newEnv(t, Options{})
	body := jsAgentStream(t)
	res, r := env.postLangGraph("", body)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	want := LangGraphResult{Records: 49, Events: 24, Accepted: 24, Filtered: 2, Folded: 24}
	if res != want {
		t.Errorf("answer %+v, want %+v", res, want)
	}
	s := env.summary("t-dump")
	if s.Status != audit.StatusCompleted || s.NodesExecuted != 4 || s.NodesFailed != 1 || s.WorkflowID != "LangGraph" || s.TotalEntries != 24 {
		t.Errorf("summary %+v", s)
	}
	// The same stream again records nothing new.
	res, r = env.postLangGraph("", body)
	if r.status != 200 || res.Accepted != 0 || res.Duplicates != 24 {
		t.Errorf("again: %d %+v", r.status, res)
	}
	// Under another execution name it is another execution.
	res, _ = env.postLangGraph("execution_id=copy&workflow_id=weather", body)
	if res.Accepted != 24 || env.summary("copy").WorkflowID != "weather" {
		t.Errorf("copy: %+v", res)
	}
	// gzip.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(body)
	zw.Close()
	res, r = env.postLangGraph("execution_id=zipped", zb.Bytes(), "Content-Encoding", "gzip")
	if r.status != 200 || res.Accepted != 24 {
		t.Errorf("gzip: %d %s", r.status, r.body)
	}
	// Filters.
	res, _ = env.postLangGraph("execution_id=filtered&filter_internal=false&exclude_node=tools", body)
	if res.Filtered != 4 { // the tools node's start and end, its tool's start and end
		t.Errorf("filtered %d, want 4", res.Filtered)
	}
	if s := env.summary("filtered"); s.NodesExecuted != 4 { // __start__ kept, tools left out
		t.Errorf("filtered summary %+v", s)
	}
}

// A stream that stops before the graph's end leaves the execution running.
func TestLangGraphUnfinished(t *testing.T) {
	env := newEnv(t, Options{})
	lines := bytes.SplitAfter(jsAgentStream(t), []byte("\n"))
	res, r := env.postLangGraph("", bytes.Join(lines[:30], nil))
	if r.status != 200 || res.Records != 30 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if s := env.summary("t-dump"); s.Status != audit.StatusRunning || s.EndedAt != nil {
		t.Errorf("summary %+v", s)
	}
	// The rest, in a second request, completes it.
	res, r = env.postLangGraph("", bytes.Join(lines[30:], nil))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if s := env.summary("t-dump"); s.Status != audit.StatusCompleted || s.NodesExecuted != 4 || s.NodesFailed != 1 {
		t.Errorf("summary %+v", s)
	}
}

// A producer streaming its records while the graph runs is recorded as it
// goes: the first records are durable before the body ends.
func TestLangGraphLive(t *testing.T) {
	env := newEnv(t, Options{})
	lines := bytes.SplitAfter(jsAgentStream(t), []byte("\n"))
	pr, pw := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", env.ts.URL+"/v1/langgraph/events", pr)
	req.Header.Set("Content-Type", MediaNDJSON)
	done := make(chan response, 1)
	go func() {
		res, err := env.streamClient.Do(req)
		if err != nil {
			done <- response{status: -1, body: []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- response{status: res.StatusCode, body: b}
	}()
	if _, err := pw.Write(bytes.Join(lines[:4], nil)); err != nil { // the graph and the first node start
		t.Fatal(err)
	}
	for env.count() < 2 {
		select {
		case r := <-done:
			t.Fatalf("request ended early: %d %s", r.status, r.body)
		case <-ctx.Done():
			t.Fatal("the first records were not recorded while the body was open")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if s := env.summary("t-dump"); s.Status != audit.StatusRunning {
		t.Errorf("live summary %+v", s)
	}
	pw.Write(bytes.Join(lines[4:], nil))
	pw.Close()
	r := <-done
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if s := env.summary("t-dump"); s.Status != audit.StatusCompleted || s.TotalEntries != 24 {
		t.Errorf("summary %+v", s)
	}
}

func TestLangGraphErrors(t *testing.T) {
	env := newEnv(t, Options{MaxBodyBytes: 64 << 10})
	lines := bytes.SplitAfter(jsAgentStream(t), []byte("\n"))
	bad := append(append(bytes.Join(lines[:4], nil), "{\"event\":\"on_chain_start\",\"tags\":7}\n"...), lines[4]...)
	for _, tc := range []struct {
		name, query, ct string
		body            []byte
		status          int
		code, msg       string
	}{
		{"bad line", "", MediaNDJSON, bad, 400, CodeMalformedJSON, `line 5: langgraph: invalid record: "tags" must be an array of strings`},
		{"no execution", "", MediaNDJSON, []byte(`{"event":"on_chain_start","name":"g","run_id":"r"}`), 422, CodeInvalidEvent, "no execution id"},
		{"empty", "", MediaNDJSON, []byte("\n\n"), 400, CodeMalformedJSON, "empty body"},
		{"media type", "", "text/plain", lines[0], 415, CodeUnsupportedMediaType, "application/x-ndjson"},
		{"bad parameter", "include_outputs=maybe", MediaNDJSON, lines[0], 400, CodeBadParameter, "include_outputs"},
		{"unknown parameter", "thread=x", MediaNDJSON, lines[0], 400, CodeBadParameter, "thread"},
		{"record too large", "execution_id=big", MediaNDJSON, []byte(`{"event":"x","data":{"s":"` + strings.Repeat("a", 70<<10) + `"}}`), 413, CodeEventTooLarge, "longer than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/langgraph/events"
			if tc.query != "" {
				path += "?" + tc.query
			}
			r := env.do("POST", path, tc.ct, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			eb := parseError(t, r)
			if eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.msg) {
				t.Errorf("error %+v, want %s containing %q", eb.Error, tc.code, tc.msg)
			}
		})
	}
	// The records before the bad line were recorded.
	if s := env.summary("t-dump"); s.TotalEntries != 2 {
		t.Errorf("before the bad line: %+v", s)
	}
}
