// Package spangen builds OTLP export requests of GenAI-convention workflow
// traces, as an agent framework's BatchSpanProcessor sends them: the load
// of `wtbload otlp` and of the OTLP benchmarks of package httpapi, so that
// both measure the same requests.
package spangen

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// SpansPerTrace is the size of one generated workflow trace: the workflow,
// four agents (nodes), three model calls and two tool calls.
const SpansPerTrace = 10

// EventsPerTrace is the number of wtb events one trace becomes: two for
// the workflow (started, completed), two per agent, one per model or tool
// call.
const EventsPerTrace = 15

// Gen builds OTLP export requests of whole workflow traces under the GenAI
// semantic conventions, with trace ids unique to the run, the client and
// the trace. The traces of a request run side by side and end when the
// request is built, as a BatchSpanProcessor exports spans soon after they
// end once it has a full batch. A Gen is not safe for concurrent use.
type Gen struct {
	run    uint64
	client int
	n      uint64
	td     ptrace.Traces
	spans  ptrace.SpanSlice
	end    time.Time // when the template's traces end
}

// New returns a generator of requests of spans spans (whole traces: a
// multiple of SpansPerTrace) whose traces last d. run and client make the
// trace ids unique: requests of generators of different runs or clients
// never share a trace.
func New(run string, client, spans int, d time.Duration) *Gen {
	var h uint64
	for _, c := range run {
		h = h*131 + uint64(c)
	}
	g := &Gen{run: h, client: client, td: ptrace.NewTraces(), end: time.Now()}
	rs := g.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "wtbload")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("wtbload")
	g.spans = ss.Spans()
	t0 := g.end.Add(-d)
	u := d / 100 // the trace's time unit
	add := func(id, parent byte, name, op string, from, to int) ptrace.Span {
		sp := g.spans.AppendEmpty()
		sp.SetSpanID(pcommon.SpanID{id, 1, 2, 3, 4, 5, 6, 7})
		if parent != 0 {
			sp.SetParentSpanID(pcommon.SpanID{parent, 1, 2, 3, 4, 5, 6, 7})
		}
		sp.SetName(name)
		sp.Attributes().PutStr("gen_ai.operation.name", op)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(from) * u)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(to) * u)))
		sp.Status().SetCode(ptrace.StatusCodeOk)
		return sp
	}
	for range spans / SpansPerTrace {
		// Spans in the order they end: children before their parent.
		for a := range 4 {
			agent := byte(2 + a*3)
			at := a * 24
			if a < 3 {
				chat := add(agent+1, agent, "chat gpt-4o", "chat", at+1, at+10)
				chat.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
				chat.Attributes().PutInt("gen_ai.usage.input_tokens", 512)
				chat.Attributes().PutInt("gen_ai.usage.output_tokens", 64)
			}
			if a < 2 {
				tool := add(agent+2, agent, "execute_tool search", "execute_tool", at+11, at+20)
				tool.Attributes().PutStr("gen_ai.tool.name", "search")
			}
			sp := add(agent, 1, "invoke_agent agent", "invoke_agent", at, at+22)
			sp.Attributes().PutStr("gen_ai.agent.name", fmt.Sprintf("agent-%d", a))
		}
		root := add(1, 0, "invoke_workflow load", "invoke_workflow", 0, 100)
		root.Attributes().PutStr("gen_ai.workflow.name", "load")
	}
	return g
}

// Next gives the request's spans fresh trace ids and times (the traces of
// a request end now, as an exporter's batch does) and returns them. They
// stay the generator's: the next call changes them.
func (g *Gen) Next() ptrace.Traces {
	var tid pcommon.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.run)
	shift := time.Since(g.end)
	g.end = g.end.Add(shift)
	for i := 0; i < g.spans.Len(); i++ {
		if i%SpansPerTrace == 0 {
			g.n++
			binary.BigEndian.PutUint32(tid[8:12], uint32(g.client))
			binary.BigEndian.PutUint32(tid[12:], uint32(g.n))
		}
		sp := g.spans.At(i)
		sp.SetTraceID(tid)
		sp.SetStartTimestamp(sp.StartTimestamp() + pcommon.Timestamp(shift))
		sp.SetEndTimestamp(sp.EndTimestamp() + pcommon.Timestamp(shift))
	}
	return g.td
}

// Body returns the next request (Next) encoded as an OTLP/HTTP protobuf
// ExportTraceServiceRequest.
func (g *Gen) Body() ([]byte, error) {
	return ptraceotlp.NewExportRequestFromTraces(g.Next()).MarshalProto()
}
