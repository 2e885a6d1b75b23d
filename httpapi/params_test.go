package httpapi

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// Malformed, unknown and repeated query parameters are a 400 naming the
// parameter, on every route: silently dropping one would answer
// unfiltered data.
func TestQueryParametersChecked(t *testing.T) {
	env := newEnv(t, Options{})
	env.ingest(nodeEvents(SampleExecution, 2))
	tests := []struct {
		path, name, hint string
	}{
		{"/v1/audit?cursor=%%%zz", "cursor", "percent-escape"},
		{"/v1/audit?limit=%zz", "limit", "percent-escape"},
		{"/v1/audit?execution=exec-1", "execution", "execution_id"},
		{"/v1/audit?execution_id=a&execution_id=b", "execution_id", "more than once"},
		{"/v1/audit?limit=5&limit=6", "limit", "more than once"},
		{"/v1/audit?%zz=1", "%zz", "percent-escape"},
		{"/v1/audit?execution_id=a;limit=1", "execution_id", "&"},
		{"/v1/executions?execution_id=x", "execution_id", "status, workflow"},
		{"/v1/executions/exec-1/summary?all=true", "all", "no query parameters"},
		{"/v1/executions/exec-1/timeline?al=true", "al", "all, debug"},
		{"/v1/stream?topic=audit:*&after=-1", "after", "non-negative"},
		{"/v1/stream?topics=audit:*", "topics", "did you mean topic"},
		{"/v1/stream?topic=audit:*&after=1&after=2", "after", "more than once"},
		{"/healthz?verbose=1", "verbose", "no query parameters"},
		{"/v1/events?x=1", "x", "no query parameters"},
	}
	for _, tc := range tests {
		method := "GET"
		if strings.HasPrefix(tc.path, "/v1/events") {
			method = "POST"
		}
		r := env.do(method, tc.path, MediaJSON, []byte(sampleEvent))
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400: %s", tc.path, r.status, r.body)
			continue
		}
		eb := parseError(t, r)
		if eb.Error.Code != CodeBadParameter || !strings.Contains(eb.Error.Message, tc.name) || !strings.Contains(eb.Error.Message, tc.hint) {
			t.Errorf("%s: %s, want bad_parameter naming %q with %q", tc.path, r.body, tc.name, tc.hint)
		}
	}
	// Repeatable parameters and every declared one are accepted.
	for _, path := range []string{
		"/v1/audit?event_type=node_started&event_type=node_completed&execution_id=exec-1&node_id=n&min_severity=info&since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&limit=5&cursor=1",
		"/v1/executions?limit=1&status=running&status=failed,completed&workflow=w&q=x&since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z",
		"/v1/executions/exec-1/timeline?all&debug=false",
	} {
		if r := env.get(path); r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}

// Error messages are JSON a reader can read: <, > and & are not escaped.
func TestErrorBodyNotHTMLEscaped(t *testing.T) {
	env := newEnv(t, Options{})
	r := env.get("/v1/stream?topic=nope")
	if r.status != 400 || bytes.Contains(r.body, []byte(`\u003c`)) || !bytes.Contains(r.body, []byte("<id>")) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// One log line per request, at the chosen level, without the token or
// the query.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	tokens, err := ParseTokens(strings.NewReader("secret-token-1 ingest,read\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{
		Tokens:          tokens,
		Logger:          slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RequestLogLevel: slog.LevelDebug,
	})
	auth := []string{"Authorization", "Bearer secret-token-1"}
	env.post(MediaJSON, jsonArray(t, nodeEvents("log-exec", 3)), auth...)
	env.get("/v1/executions/log-exec/summary", auth...)
	env.get("/v1/audit?execution_id=secret-exec", auth...)
	env.get("/v1/audit")
	env.get("/nowhere")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=DEBUG msg=request method=POST route=/v1/events status=200 bytes=30 duration=`,
		`level=DEBUG msg=request method=GET route=/v1/executions/{id}/summary status=200 bytes=`,
		`level=DEBUG msg=request method=GET route=/v1/audit status=200 bytes=`,
		`level=DEBUG msg=request method=GET route=/v1/audit status=401 bytes=`,
		`level=DEBUG msg=request method=GET route="" status=404 bytes=`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], w)
		}
	}
	for _, secret := range []string{"secret-token-1", "secret-exec", "log-exec"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, buf.String())
		}
	}
	if !strings.Contains(lines[3], "code=unauthorized") {
		t.Errorf("401 line without its code: %s", lines[3])
	}

	// Off, or below the logger's level: nothing.
	for _, o := range []Options{
		{RequestLogLevel: RequestLogOff, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		{RequestLogLevel: slog.LevelDebug, Logger: slog.New(slog.NewTextHandler(&buf, nil))},
	} {
		buf.Reset()
		e := newEnv(t, o)
		e.get("/healthz")
		if buf.Len() != 0 {
			t.Errorf("request log with level %v: %s", o.RequestLogLevel, buf.String())
		}
	}
}
