package otlp_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/otlp"
)

func sig(ev event.Event) string {
	switch e := ev.(type) {
	case *event.ExecutionStarted:
		return "ExecutionStarted " + e.ExecutionID + " " + e.WorkflowName
	case *event.ExecutionCompleted:
		return "ExecutionCompleted nodes=" + strconv.FormatInt(e.NodesExecuted, 10)
	case *event.ExecutionFailed:
		return "ExecutionFailed at=" + e.FailedAtNode + " " + e.ErrorType + ": " + e.ErrorMessage
	case *event.NodeStarted:
		return "NodeStarted " + e.NodeID
	case *event.NodeCompleted:
		return "NodeCompleted " + e.NodeID + " tools=" + strconv.FormatInt(e.ToolInvocations, 10)
	case *event.NodeFailed:
		return "NodeFailed " + e.NodeID + " " + e.ErrorType + ": " + e.ErrorMessage
	case *event.LangGraphAudit:
		s := ev.WireName()
		if e.NodeID != nil {
			s += " " + *e.NodeID
		}
		if e.Error != nil {
			s += " error=" + *e.Error
		}
		return s
	}
	return ev.WireName()
}

// byTime orders events by timestamp, as the server does before recording.
func byTime(evs []event.Event) []string {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.EventTime().Compare(b.EventTime()) })
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = sig(ev)
	}
	return out
}

func check(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %d:\n  %s\nwant %d:\n  %s", len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

func readJSON(t *testing.T, name string) ptrace.Traces {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	td, err := otlp.DecodeRequest(b, otlp.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

// The spans of a real LangGraph.js run under the OpenInference LangChain
// instrumentation (the graph of cmd/wtb/testdata/langgraphjs), as its OTLP
// exporter sent them.
func TestOpenInferenceJS(t *testing.T) {
	td := readJSON(t, "openinference-js.json")
	evs, res := otlp.NewTranslator(otlp.Limits{}).Translate(nil, td, nil)
	if res.Spans != 12 || res.Filtered != 1 || res.Rejected != 0 || len(res.SpanEnds) != 11 {
		t.Errorf("result %+v", res)
	}
	check(t, byTime(evs), []string{
		"ExecutionStarted t-otlp LangGraph",
		"NodeStarted agent",
		"llm_completed FakeStreamingChatModel",
		"node_completed RunnableLambda",
		"NodeCompleted agent tools=0",
		"NodeStarted tools",
		"tool_completed get_weather",
		"NodeCompleted tools tools=1",
		"NodeStarted agent",
		"llm_completed FakeListChatModel",
		// The JS SDK's start times are whole milliseconds: this child's
		// end is 0.4 ms after its parent's.
		"NodeCompleted agent tools=0",
		"node_completed RunnableLambda",
		"NodeStarted report",
		"NodeFailed report Error: report service unavailable",
		"NodeStarted report",
		"NodeCompleted report tools=0",
		"ExecutionCompleted nodes=4",
	})
	for _, ev := range evs {
		if c, ok := ev.(*event.ExecutionCompleted); ok && (c.DurationMS < 100 || c.DurationMS > 1000) {
			t.Errorf("execution duration %v ms, want the root span's 176", c.DurationMS)
		}
	}
}

// span adds a span to ss.
type spanSpec struct {
	trace        pcommon.TraceID
	id, parent   byte
	name         string
	start, end   int // ms after t0
	attrs        map[string]any
	errMsg       string
	exceptionTyp string
}

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func addSpan(ss ptrace.SpanSlice, s spanSpec) {
	sp := ss.AppendEmpty()
	sp.SetTraceID(s.trace)
	sp.SetSpanID(pcommon.SpanID{s.id, 1, 2, 3, 4, 5, 6, 7})
	if s.parent != 0 {
		sp.SetParentSpanID(pcommon.SpanID{s.parent, 1, 2, 3, 4, 5, 6, 7})
	}
	sp.SetName(s.name)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(s.start) * time.Millisecond)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(s.end) * time.Millisecond)))
	_ = sp.Attributes().FromRaw(s.attrs)
	if s.errMsg != "" {
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage(s.errMsg)
		if s.exceptionTyp != "" {
			e := sp.Events().AppendEmpty()
			e.SetName("exception")
			e.Attributes().PutStr("exception.type", s.exceptionTyp)
			e.Attributes().PutStr("exception.message", s.errMsg)
		}
	} else {
		sp.Status().SetCode(ptrace.StatusCodeOk)
	}
}

func traces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, s := range specs {
		addSpan(ss, s)
	}
	return td
}

var trace1 = pcommon.TraceID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// A workflow under the GenAI semantic conventions: invoke_workflow,
// invoke_agent (a node), execute_tool, chat with token usage, a failing
// agent, and a span of no known kind.
func genAISpans() []spanSpec {
	return []spanSpec{
		{trace: trace1, id: 2, parent: 1, name: "chat gpt-4o", start: 10, end: 60, attrs: map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30}},
		{trace: trace1, id: 3, parent: 4, name: "execute_tool search", start: 70, end: 90, attrs: map[string]any{
			"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search", "gen_ai.tool.call.id": "call-1"}},
		{trace: trace1, id: 4, parent: 9, name: "invoke_agent researcher", start: 65, end: 100, attrs: map[string]any{
			"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher", "gen_ai.agent.id": "agent-7", "gen_ai.conversation.id": "conv-1"}},
		{trace: trace1, id: 1, parent: 9, name: "invoke_agent planner", start: 5, end: 62, attrs: map[string]any{
			"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}},
		{trace: trace1, id: 5, parent: 9, name: "cache.lookup", start: 101, end: 102, attrs: map[string]any{"cache.hit": false}},
		{trace: trace1, id: 6, parent: 9, name: "invoke_agent writer", start: 103, end: 150, attrs: map[string]any{
			"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "writer"}, errMsg: "context window exceeded", exceptionTyp: "ContextLengthError"},
		{trace: trace1, id: 9, name: "invoke_workflow research", start: 0, end: 160, attrs: map[string]any{
			"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "research", "error.type": "ContextLengthError"}, errMsg: "writer failed"},
	}
}

func TestGenAI(t *testing.T) {
	evs, res := otlp.NewTranslator(otlp.Limits{}).Translate(nil, traces(genAISpans()...), nil)
	if res.Spans != 7 || res.Rejected != 0 || res.Filtered != 0 {
		t.Errorf("result %+v", res)
	}
	exec := "ab0102030405060708090a0b0c0d0e0f"
	check(t, byTime(evs), []string{
		"ExecutionStarted " + exec + " research",
		"NodeStarted planner",
		"llm_completed gpt-4o",
		"NodeCompleted planner tools=0",
		"NodeStarted researcher",
		"tool_completed search",
		"NodeCompleted researcher tools=1",
		"custom_event cache.lookup",
		"NodeStarted writer",
		"NodeFailed writer ContextLengthError: context window exceeded",
		"ExecutionFailed at=writer ContextLengthError: writer failed",
	})
	for _, ev := range evs {
		switch e := ev.(type) {
		case *event.LangGraphAudit:
			if e.Kind == event.LangGraphLLMCompleted && (e.Metrics["input_tokens"] != 120 || e.Metrics["output_tokens"] != 30 || *e.DurationMS != 50) {
				t.Errorf("chat: metrics %v duration %v", e.Metrics, *e.DurationMS)
			}
			if e.Kind == event.LangGraphCustomEvent && e.Metadata["attributes"].(map[string]any)["cache.hit"] != false {
				t.Errorf("custom event keeps the span's attributes: %v", e.Metadata)
			}
			if e.ThreadID != exec {
				t.Errorf("%s in execution %q", sig(ev), e.ThreadID)
			}
		case *event.NodeStarted:
			if e.NodeID == "researcher" && (e.Context["agent_id"] != "agent-7" || e.Context["conversation_id"] != "conv-1" || e.NodeType != "agent") {
				t.Errorf("researcher: %+v", e)
			}
		case *event.NodeCompleted:
			if e.NodeID == "planner" && e.DurationMS != 57 {
				t.Errorf("planner duration %v", e.DurationMS)
			}
		case *event.ExecutionFailed:
			if e.DurationMS != 160 {
				t.Errorf("workflow duration %v", e.DurationMS)
			}
		}
	}
}

// Spans that arrive out of order (the workflow first, then a child, a
// batch split over several requests, in any order) build the same
// execution with the same event ids; sent again, they yield the same ids.
func TestOrderAndRetry(t *testing.T) {
	specs := genAISpans()
	one, _ := otlp.NewTranslator(otlp.Limits{}).Translate(nil, traces(specs...), nil)
	want := ids(one)

	tr := otlp.NewTranslator(otlp.Limits{})
	var split []event.Event
	for _, i := range []int{6, 0, 4, 2, 5, 1, 3} { // root first, a child before its parent
		split, _ = tr.Translate(split, traces(specs[i]), nil)
	}
	if got := ids(split); !equalSets(got, want) {
		t.Errorf("split: %d ids, want %d, or different ids", len(got), len(want))
	}
	if ex := executions(split); len(ex) != 1 || !ex["ab0102030405060708090a0b0c0d0e0f"] {
		t.Errorf("split: executions %v, want one", ex)
	}
	again, _ := tr.Translate(nil, traces(specs...), nil)
	if got := ids(again); !equalSets(got, want) {
		t.Errorf("retried export: different ids")
	}
	if got, w := byTime(split), byTime(one); !slices.Equal(got, w) {
		// Counts that need the children (nodes_executed, failed_at_node,
		// tool_invocations) may be lower when the parent comes first; the
		// events and their order are the same otherwise.
		for i := range got {
			if strings.Fields(got[i])[0] != strings.Fields(w[i])[0] {
				t.Errorf("split order %d: %s, want %s", i, got[i], w[i])
			}
		}
	}
}

// executions returns the executions evs belong to.
func executions(evs []event.Event) map[string]bool {
	m := map[string]bool{}
	for _, ev := range evs {
		switch e := ev.(type) {
		case *event.ExecutionStarted:
			m[e.ExecutionID] = true
		case *event.ExecutionCompleted:
			m[e.ExecutionID] = true
		case *event.ExecutionFailed:
			m[e.ExecutionID] = true
		case *event.NodeStarted:
			m[e.ExecutionID] = true
		case *event.NodeCompleted:
			m[e.ExecutionID] = true
		case *event.NodeFailed:
			m[e.ExecutionID] = true
		case *event.LangGraphAudit:
			m[e.ThreadID] = true
		}
	}
	return m
}

func ids(evs []event.Event) map[string]bool {
	m := map[string]bool{}
	for _, ev := range evs {
		m[ev.EventID()] = true
	}
	return m
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestRejectsInvalidSpans(t *testing.T) {
	td := traces(
		spanSpec{trace: pcommon.TraceID{}, id: 1, name: "no trace", start: 0, end: 1},
		spanSpec{trace: trace1, id: 2, name: "backwards", start: 5, end: 1},
		spanSpec{trace: trace1, id: 3, name: "fine", start: 0, end: 1},
	)
	evs, res := otlp.NewTranslator(otlp.Limits{}).Translate(nil, td, nil)
	if res.Rejected != 2 || len(res.Reasons) != 2 || len(res.SpanEnds) != 1 || len(evs) != 1 {
		t.Fatalf("result %+v, %d events", res, len(evs))
	}
	if !strings.Contains(res.Reasons[0], "empty trace id") || !strings.Contains(res.Reasons[1], "ends before it starts") {
		t.Errorf("reasons %q", res.Reasons)
	}
}

// Execution ids: wtb.execution_id wins, then the thread (session) id, then
// the trace id.
func TestExecutionID(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string]any
		want  string
	}{
		{map[string]any{"openinference.span.kind": "TOOL"}, "ab0102030405060708090a0b0c0d0e0f"},
		{map[string]any{"openinference.span.kind": "TOOL", "session.id": "s-1"}, "s-1"},
		{map[string]any{"openinference.span.kind": "TOOL", "metadata": `{"thread_id":"th-2"}`, "session.id": "s-1"}, "th-2"},
		{map[string]any{"traceloop.span.kind": "tool", "traceloop.association.properties.thread_id": "th-3"}, "th-3"},
		{map[string]any{"openinference.span.kind": "TOOL", "session.id": "s-1", "wtb.execution_id": "mine"}, "mine"},
	} {
		evs, _ := otlp.NewTranslator(otlp.Limits{}).Translate(nil, traces(spanSpec{trace: trace1, id: 1, parent: 2, name: "x", start: 0, end: 1, attrs: tc.attrs}), nil)
		if got := evs[0].(*event.LangGraphAudit).ThreadID; got != tc.want {
			t.Errorf("%v: execution %q, want %q", tc.attrs, got, tc.want)
		}
	}
}

// Traceloop: workflow and task kinds, the entity path telling nodes from
// nested chains, llm.request.type for models.
func TestTraceloop(t *testing.T) {
	td := traces(
		spanSpec{trace: trace1, id: 2, parent: 1, name: "plan.task", start: 1, end: 5, attrs: map[string]any{"traceloop.span.kind": "task", "traceloop.entity.name": "plan", "traceloop.entity.path": ""}},
		spanSpec{trace: trace1, id: 3, parent: 2, name: "format.task", start: 2, end: 3, attrs: map[string]any{"traceloop.span.kind": "task", "traceloop.entity.name": "format", "traceloop.entity.path": "plan.format"}},
		spanSpec{trace: trace1, id: 4, parent: 2, name: "openai.chat", start: 3, end: 4, attrs: map[string]any{"llm.request.type": "chat", "gen_ai.request.model": "gpt-4o-mini", "llm.usage.total_tokens": 9}},
		spanSpec{trace: trace1, id: 1, name: "support.workflow", start: 0, end: 6, attrs: map[string]any{"traceloop.span.kind": "workflow", "traceloop.workflow.name": "support"}},
	)
	evs, _ := otlp.NewTranslator(otlp.Limits{}).Translate(nil, td, nil)
	exec := "ab0102030405060708090a0b0c0d0e0f"
	check(t, byTime(evs), []string{
		"ExecutionStarted " + exec + " support",
		"NodeStarted plan",
		"node_completed format",
		"llm_completed gpt-4o-mini",
		"NodeCompleted plan tools=0",
		"ExecutionCompleted nodes=1",
	})
}

func TestKeepInternal(t *testing.T) {
	td := readJSON(t, "openinference-js.json")
	evs, res := otlp.NewTranslator(otlp.Limits{}).Translate(nil, td, &otlp.Options{KeepInternal: true})
	if res.Filtered != 0 || !slices.Contains(byTime(evs), "NodeStarted __start__") {
		t.Errorf("KeepInternal: %+v", res)
	}
}

func TestLimits(t *testing.T) {
	tr := otlp.NewTranslator(otlp.Limits{MaxTraces: 2})
	for i := byte(1); i <= 3; i++ {
		tr.Translate(nil, traces(spanSpec{trace: pcommon.TraceID{i}, id: 1, parent: 2, name: "x", start: 0, end: 1}), nil)
	}
	if n := tr.Traces(); n != 2 {
		t.Errorf("%d traces kept, want 2", n)
	}
}
