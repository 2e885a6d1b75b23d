package httpapi

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/wtbdev/wtb/audit"
)

var otlpT0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// workflowTrace returns a GenAI-convention trace: a workflow with two
// agents (nodes), the second calling a tool; n names the trace.
func workflowTrace(n byte) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "test")
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	tid := pcommon.TraceID{n, 0xee, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	add := func(id, parent byte, name string, start, end int, attrs map[string]any) ptrace.Span {
		sp := ss.AppendEmpty()
		sp.SetTraceID(tid)
		sp.SetSpanID(pcommon.SpanID{id, 1, 1, 1, 1, 1, 1, 1})
		if parent != 0 {
			sp.SetParentSpanID(pcommon.SpanID{parent, 1, 1, 1, 1, 1, 1, 1})
		}
		sp.SetName(name)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(otlpT0.Add(time.Duration(start) * time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(otlpT0.Add(time.Duration(end) * time.Millisecond)))
		_ = sp.Attributes().FromRaw(attrs)
		return sp
	}
	add(2, 1, "invoke_agent plan", 1, 10, map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "plan"})
	add(4, 3, "execute_tool search", 12, 15, map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"})
	add(3, 1, "invoke_agent act", 11, 20, map[string]any{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "act"})
	add(1, 0, "invoke_workflow demo", 0, 21, map[string]any{"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "demo"})
	return td
}

func traceExec(n byte) string {
	tid := pcommon.TraceID{n, 0xee, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	return tid.String()
}

func protoBody(t testing.TB, td ptrace.Traces) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonBody(t testing.TB, td ptrace.Traces) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(b []byte) []byte {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b)
	zw.Close()
	return zb.Bytes()
}

// postTraces posts an export request and decodes the answer.
func (e *testEnv) postTraces(ct string, body []byte, hdr ...string) (ptraceotlp.ExportResponse, response) {
	e.t.Helper()
	r := e.do("POST", "/v1/traces", ct, body, hdr...)
	resp := ptraceotlp.NewExportResponse()
	if r.status == 200 {
		if got := r.header.Get("Content-Type"); got != ct {
			e.t.Errorf("answer Content-Type %q, want %q", got, ct)
		}
		var err error
		if ct == "application/json" {
			err = resp.UnmarshalJSON(r.body)
		} else {
			err = resp.UnmarshalProto(r.body)
		}
		if err != nil {
			e.t.Fatalf("answer %q: %v", r.body, err)
		}
	}
	return resp, r
}

func TestOTLPIngest(t *testing.T) {
	env := newEnv(t, Options{})
	for i, tc := range []struct {
		ct   string
		body []byte
		hdr  []string
	}{
		{"application/x-protobuf", protoBody(t, workflowTrace(1)), nil},
		{"application/json", jsonBody(t, workflowTrace(2)), nil},
		{"application/x-protobuf", gzipped(protoBody(t, workflowTrace(3))), []string{"Content-Encoding", "gzip"}},
		{"application/json", gzipped(jsonBody(t, workflowTrace(4))), []string{"Content-Encoding", "gzip"}},
	} {
		resp, r := env.postTraces(tc.ct, tc.body, tc.hdr...)
		if r.status != 200 || resp.PartialSuccess().RejectedSpans() != 0 {
			t.Fatalf("%d: status %d %s", i, r.status, r.body)
		}
		s := env.summary(traceExec(byte(i + 1)))
		if s.Status != audit.StatusCompleted || s.NodesExecuted != 2 || s.WorkflowID != "demo" || s.TotalEntries != 7 ||
			s.DurationMS == nil || *s.DurationMS != 21 {
			t.Errorf("%d: summary %+v", i, s)
		}
	}
	// An exporter's retry records nothing twice.
	before := env.count()
	if _, r := env.postTraces("application/x-protobuf", protoBody(t, workflowTrace(1))); r.status != 200 {
		t.Fatalf("retry: %d", r.status)
	}
	if env.count() != before {
		t.Errorf("a retried export recorded %d entries", env.count()-before)
	}
}

// The spans of a real LangGraph.js run under the OpenInference
// instrumentation, as its exporter sent them (JSON).
func TestOTLPOpenInference(t *testing.T) {
	env := newEnv(t, Options{})
	b, err := os.ReadFile("../otlp/testdata/openinference-js.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, r := env.postTraces("application/json", b); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	s := env.summary("t-otlp")
	if s.Status != audit.StatusCompleted || s.NodesExecuted != 4 || s.NodesFailed != 1 || s.WorkflowID != "LangGraph" {
		t.Errorf("summary %+v", s)
	}
}

// A trace split over requests in any order (children first, or the
// workflow first) builds one execution.
func TestOTLPSplitTrace(t *testing.T) {
	env := newEnv(t, Options{})
	td := workflowTrace(9)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for _, i := range []int{3, 1, 0, 2} { // the workflow, a tool before its agent, ...
		one := ptrace.NewTraces()
		spans.At(i).CopyTo(one.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty())
		if _, r := env.postTraces("application/x-protobuf", protoBody(t, one)); r.status != 200 {
			t.Fatalf("span %d: %d %s", i, r.status, r.body)
		}
	}
	s := env.summary(traceExec(9))
	if s.Status != audit.StatusCompleted || s.NodesExecuted != 2 || s.TotalEntries != 7 {
		t.Errorf("summary %+v", s)
	}
	if all, err := env.store.Executions(t.Context(), audit.Page{}); err != nil || len(all) != 1 {
		t.Errorf("executions %v %v", all, err)
	}
}

func TestOTLPPartialSuccess(t *testing.T) {
	env := newEnv(t, Options{})
	td := workflowTrace(5)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(0).SetSpanID(pcommon.SpanID{}) // invalid: no span id
	spans.At(1).Attributes().PutStr("gen_ai.tool.name", strings.Repeat("x", audit.MaxIDSize+1))
	for _, ct := range []string{"application/x-protobuf", "application/json"} {
		var body []byte
		if ct == "application/json" {
			body = jsonBody(t, td)
		} else {
			body = protoBody(t, td)
		}
		resp, r := env.postTraces(ct, body)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", ct, r.status, r.body)
		}
		ps := resp.PartialSuccess()
		if ps.RejectedSpans() != 2 || !strings.Contains(ps.ErrorMessage(), "empty span id") || !strings.Contains(ps.ErrorMessage(), "node_id") {
			t.Errorf("%s: partial success %d %q", ct, ps.RejectedSpans(), ps.ErrorMessage())
		}
	}
	// The two valid spans were recorded.
	if s := env.summary(traceExec(5)); s.TotalEntries != 4 || s.Status != audit.StatusCompleted {
		t.Errorf("summary %+v", s)
	}
}

func TestOTLPErrors(t *testing.T) {
	env := newEnv(t, Options{MaxBodyBytes: 1 << 10})
	big := make([]byte, 4<<10)
	for _, tc := range []struct {
		name, ct string
		body     []byte
		hdr      []string
		status   int
		msg      string
	}{
		{"garbage protobuf", "application/x-protobuf", []byte{0xff, 0xff, 0xff}, nil, 400, "undecodable"},
		{"garbage json", "application/json", []byte(`{"resourceSpans":7}`), nil, 400, "undecodable"},
		{"media type", "text/plain", []byte("x"), nil, 415, "application/x-protobuf"},
		{"encoding", "application/json", []byte("{}"), []string{"Content-Encoding", "br"}, 415, "gzip"},
		{"bad gzip", "application/json", []byte("{}"), []string{"Content-Encoding", "gzip"}, 400, "gzip"},
		{"too large", "application/x-protobuf", big, nil, 413, "limit"},
		{"gzip bomb", "application/x-protobuf", gzipped(big), []string{"Content-Encoding", "gzip"}, 413, "decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.do("POST", "/v1/traces", tc.ct, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			var st status.Status
			var err error
			if r.header.Get("Content-Type") == "application/json" {
				err = protojson.Unmarshal(r.body, &st)
			} else {
				err = proto.Unmarshal(r.body, &st)
			}
			if err != nil || !strings.Contains(st.GetMessage(), tc.msg) {
				t.Errorf("Status body %q (%v), want a message containing %q", r.body, err, tc.msg)
			}
		})
	}
}
