package otlp

import (
	"container/list"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/wtbdev/wtb/event"
)

// Options choose how a Translator records spans. The zero value records
// outputs, leaves inputs out and filters LangGraph's internal nodes, as
// package langgraph does.
type Options struct {
	// IncludeInputs copies span inputs (input.value and its equivalents)
	// into the events; inputs may hold personal data.
	IncludeInputs bool
	// OmitOutputs leaves span outputs out of the events.
	OmitOutputs bool
	// KeepInternal records the spans of LangGraph's internal nodes (names
	// starting with "__", such as __start__); by default they are counted
	// as filtered. A failed internal span is always recorded.
	KeepInternal bool
}

// DefaultMaxTraces is the default of Limits.MaxTraces.
const DefaultMaxTraces = 10_000

// Limits bound the memory a Translator keeps between requests.
type Limits struct {
	// MaxTraces bounds the traces whose state is kept (default
	// DefaultMaxTraces): nodes completed, tool calls per node, the node
	// that failed last. The state of the trace used least recently is
	// forgotten past it; the spans of that trace are still recorded, but
	// nodes_executed, tool_invocations and failed_at_node of its later
	// workflow and node spans count only what came after.
	MaxTraces int
}

// Result counts what a Translate call did with the spans of a request.
type Result struct {
	// Spans is the number of spans read.
	Spans int
	// Filtered is the number of spans left out by Options (internal
	// nodes); they are not rejected.
	Filtered int
	// Rejected is the number of spans that cannot be recorded (invalid
	// ids or times); Reasons says why, for the first few.
	Rejected int
	Reasons  []string
	// SpanEnds delimits the events of each recorded span: the events of
	// the i-th recorded span are events[SpanEnds[i-1]:SpanEnds[i]]
	// (SpanEnds[-1] = the length of the dst passed in).
	SpanEnds []int
}

// maxReasons bounds Result.Reasons.
const maxReasons = 5

// Reject counts a span rejected after translation (its events failed a
// later check) with its reason.
func (r *Result) Reject(reason string) {
	r.Rejected++
	if len(r.Reasons) < maxReasons {
		r.Reasons = append(r.Reasons, reason)
	}
}

// Translator turns OpenTelemetry spans into wtb events. It is safe for
// concurrent use.
type Translator struct {
	mu     sync.Mutex
	lim    Limits
	traces map[pcommon.TraceID]*list.Element // of *trace
	lru    *list.List
}

// NewTranslator returns a Translator with the given limits (zero fields
// take the defaults).
func NewTranslator(lim Limits) *Translator {
	if lim.MaxTraces <= 0 {
		lim.MaxTraces = DefaultMaxTraces
	}
	return &Translator{lim: lim, traces: map[pcommon.TraceID]*list.Element{}, lru: list.New()}
}

// trace is what a Translator remembers of one trace.
type trace struct {
	id         pcommon.TraceID
	hex        string // id in hex
	nodesOK    map[pcommon.SpanID]struct{}
	tools      map[pcommon.SpanID]map[pcommon.SpanID]struct{} // node span -> its tool spans
	lastFailed string
	lastFailAt time.Time
	elem       *list.Element
}

// trace returns the state of id. t.mu is held.
func (t *Translator) trace(id pcommon.TraceID) *trace {
	if e, ok := t.traces[id]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*trace)
	}
	x := &trace{id: id, hex: hex.EncodeToString(id[:])} // maps made on first use
	x.elem = t.lru.PushFront(x)
	t.traces[id] = x.elem
	for len(t.traces) > t.lim.MaxTraces {
		t.forget(t.lru.Back().Value.(*trace))
	}
	return x
}

func (t *Translator) forget(x *trace) {
	t.lru.Remove(x.elem)
	delete(t.traces, x.id)
}

// Traces returns the number of traces whose state is kept.
func (t *Translator) Traces() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.traces)
}

// Translate turns every span of td into events appended to dst, in span
// order; each span's events are contiguous (Result.SpanEnds). Translating
// the same span again yields events with the same ids.
func (t *Translator) Translate(dst []event.Event, td ptrace.Traces, opts *Options) ([]event.Event, Result) {
	if opts == nil {
		opts = &Options{}
	}
	var res Result
	var v view
	t.mu.Lock()
	defer t.mu.Unlock()
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res0 := rs.Resource().Attributes()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				res.Spans++
				span := spans.At(k)
				if reason := invalid(span); reason != "" {
					res.Reject(reason)
					continue
				}
				v.read(span, res0)
				var filtered bool
				dst, filtered = t.span(dst, &v, opts)
				if filtered {
					res.Filtered++
					continue
				}
				res.SpanEnds = append(res.SpanEnds, len(dst))
			}
		}
	}
	return dst, res
}

// invalid says why a span cannot be recorded, or "".
func invalid(s ptrace.Span) string {
	switch {
	case s.TraceID().IsEmpty():
		return fmt.Sprintf("span %q: empty trace id", s.Name())
	case s.SpanID().IsEmpty():
		return fmt.Sprintf("span %q of trace %s: empty span id", s.Name(), s.TraceID())
	case s.StartTimestamp() == 0 || s.EndTimestamp() == 0:
		return fmt.Sprintf("span %s of trace %s: no start or end time", s.SpanID(), s.TraceID())
	case s.EndTimestamp() < s.StartTimestamp():
		return fmt.Sprintf("span %s of trace %s: ends before it starts", s.SpanID(), s.TraceID())
	}
	return ""
}

// idSpace is the UUID namespace of the ids of events made from spans.
var idSpace = uuid.MustParse("0b6c2a4e-93f1-4d7e-8f0a-5e2d9c7b1a36")

// spanEventID derives an event id from the trace, the span, what the event
// says of it and its time: a UUID (version 8, RFC 9562's custom layout)
// whose first 48 bits are the event's Unix milliseconds, as in a UUIDv7,
// and whose other bits come from a SHA-1 of the rest. The same span always
// gives the same ids, and ids grow with time like the UUIDv7 ids of other
// events, which keeps the stores' id indexes append-mostly.
func spanEventID(tid pcommon.TraceID, sid pcommon.SpanID, what string, at time.Time) string {
	// The SHA-1 of a version 5 UUID: sha1(namespace || name), without
	// allocating.
	var b [16 + 16 + 8 + 48]byte
	buf := append(append(append(append(b[:0], idSpace[:]...), tid[:]...), sid[:]...), what...)
	h := sha1.Sum(buf)
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	copy(u[6:], h[6:16])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u.String()
}

// span translates one span. t.mu is held.
func (t *Translator) span(dst []event.Event, v *view, opts *Options) ([]event.Event, bool) {
	s := v.span
	r, name := v.classify()
	typ, msg, failed := v.failure()
	if !opts.KeepInternal && !failed && (r == roleNode || r == roleChain) && strings.HasPrefix(name, "__") {
		return dst, true
	}
	tid, sid := s.TraceID(), s.SpanID()
	start, end := s.StartTimestamp().AsTime().UTC(), s.EndTimestamp().AsTime().UTC()
	dur := float64(end.Sub(start)) / float64(time.Millisecond)
	x := t.trace(tid)
	exec := v.execution
	if exec == "" {
		exec = v.thread
	}
	if exec == "" {
		exec = x.hex
	}
	v.traceHex = x.hex
	base := func(what string, at time.Time) event.Base {
		return event.Base{ID: spanEventID(tid, sid, what, at), Timestamp: at}
	}
	switch r {
	case roleWorkflow:
		workflow := name
		var state event.Map
		if opts.IncludeInputs {
			state = asMap(value(v.input, v.inputJSON), "input")
		}
		dst = append(dst, &event.ExecutionStarted{
			Base: base("ExecutionStartedEvent", start), ExecutionID: exec,
			WorkflowID: workflow, WorkflowName: name, InitialState: state,
		})
		if failed {
			dst = append(dst, &event.ExecutionFailed{
				Base: base("ExecutionFailedEvent", end), ExecutionID: exec, WorkflowID: workflow,
				FailedAtNode: x.lastFailed, ErrorType: typ, ErrorMessage: msg, DurationMS: dur,
			})
		} else {
			var final event.Map
			if !opts.OmitOutputs {
				final = asMap(value(v.output, v.outputJSON), "output")
			}
			dst = append(dst, &event.ExecutionCompleted{
				Base: base("ExecutionCompletedEvent", end), ExecutionID: exec, WorkflowID: workflow,
				FinalState: final, DurationMS: dur, NodesExecuted: int64(len(x.nodesOK)),
			})
		}
		t.forget(x)
	case roleNode:
		ctx := event.Map{"trace_id": x.hex, "span_id": sid.String()}
		if st, ok := v.step(); ok {
			ctx["step"] = st
		}
		if v.lgTask != "" {
			ctx["task"] = v.lgTask
		}
		if v.agentID != "" {
			ctx["agent_id"] = v.agentID
		}
		if v.conversationID != "" {
			ctx["conversation_id"] = v.conversationID
		}
		if opts.IncludeInputs {
			if in := value(v.input, v.inputJSON); in != nil {
				ctx["input"] = in
			}
		}
		nodeType := "langgraph"
		if v.op == "invoke_agent" {
			nodeType = "agent"
		}
		dst = append(dst, &event.NodeStarted{
			Base: base("NodeStartedEvent", start), ExecutionID: exec,
			NodeID: name, NodeName: name, NodeType: nodeType, Context: ctx,
		})
		if failed {
			if end.After(x.lastFailAt) || x.lastFailed == "" {
				x.lastFailed, x.lastFailAt = name, end
			}
			dst = append(dst, &event.NodeFailed{
				Base: base("NodeFailedEvent", end), ExecutionID: exec, NodeID: name, NodeName: name,
				ErrorType: typ, ErrorMessage: msg, DurationMS: dur, Recoverable: true,
			})
		} else {
			if x.nodesOK == nil {
				x.nodesOK = map[pcommon.SpanID]struct{}{}
			}
			x.nodesOK[sid] = struct{}{}
			var result any
			if !opts.OmitOutputs {
				result = value(v.output, v.outputJSON)
			}
			dst = append(dst, &event.NodeCompleted{
				Base: base("NodeCompletedEvent", end), ExecutionID: exec, NodeID: name, NodeName: name,
				Result: result, DurationMS: dur, ToolInvocations: int64(len(x.tools[sid])),
			})
		}
	default:
		if r == roleTool {
			if p := s.ParentSpanID(); !p.IsEmpty() {
				m := x.tools[p]
				if m == nil {
					if x.tools == nil {
						x.tools = map[pcommon.SpanID]map[pcommon.SpanID]struct{}{}
					}
					m = map[pcommon.SpanID]struct{}{}
					x.tools[p] = m
				}
				m[sid] = struct{}{}
			}
		}
		dst = t.audit(dst, v, r, name, exec, start, end, opts)
	}
	return dst, false
}

// audit records a tool, model, retriever, inner chain or custom span as
// LangGraphAudit events.
func (t *Translator) audit(dst []event.Event, v *view, r role, name, exec string, start, end time.Time, opts *Options) []event.Event {
	s := v.span
	tid, sid := s.TraceID(), s.SpanID()
	typ, msg, failed := v.failure()
	mk := func(kind event.LangGraphKind, at time.Time) *event.LangGraphAudit {
		ev := &event.LangGraphAudit{Kind: kind, ThreadID: exec, RunID: sid.String(), Tags: []string{}}
		ev.Base = event.Base{ID: spanEventID(tid, sid, "lg:"+string(kind), at), Timestamp: at}
		if p := s.ParentSpanID(); !p.IsEmpty() {
			ps := p.String()
			ev.ParentRunID = &ps
		}
		n := name
		ev.NodeID = &n
		if st, ok := v.step(); ok {
			ev.Step = &st
		}
		ev.Metadata = v.details()
		return ev
	}
	var kind event.LangGraphKind
	switch r {
	case roleTool:
		kind = event.LangGraphToolCompleted
		if failed {
			kind = event.LangGraphToolFailed
		}
	case roleLLM:
		kind = event.LangGraphLLMCompleted
	case roleRetriever:
		kind = event.LangGraphRetrieverCompleted
	case roleChain:
		kind = event.LangGraphNodeCompleted
		if failed {
			kind = event.LangGraphNodeFailed
		}
	default:
		// No rule matched: a custom event with everything the span says.
		kind = event.LangGraphCustomEvent
	}
	// A span is one finished operation: it is recorded once, at its end,
	// with its duration (its start is the end less the duration).
	ev := mk(kind, end)
	d := int64(end.Sub(start) / time.Millisecond)
	ev.DurationMS = &d
	if failed {
		e := typ + ": " + msg
		ev.Error = &e
	}
	if kind == event.LangGraphCustomEvent {
		ev.Metadata["attributes"] = s.Attributes().AsRaw()
		ev.Metadata["span_kind"] = s.Kind().String()
		if n := s.Events().Len(); n > 0 {
			ev.Metadata["span_events"] = n
		}
		return append(dst, ev)
	}
	if opts.IncludeInputs {
		ev.Inputs = asMap(value(v.input, v.inputJSON), "input")
	}
	if !opts.OmitOutputs {
		ev.Outputs = asMap(value(v.output, v.outputJSON), "output")
	}
	if r == roleLLM {
		for i, k := range [...]string{"input_tokens", "output_tokens", "total_tokens"} {
			if v.hasTok[i] {
				if ev.Metrics == nil {
					ev.Metrics = map[string]float64{}
				}
				ev.Metrics[k] = v.tokens[i]
			}
		}
	}
	return append(dst, ev)
}

// details returns the metadata of a LangGraphAudit event made from the
// span: its trace id (run_id and parent_run_id hold the span ids) and the
// identifying attributes it has.
func (v *view) details() map[string]any {
	m := make(map[string]any, 4)
	m["trace_id"] = v.traceHex
	for _, kv := range [...]struct{ k, v string }{
		{"operation", v.op}, {"model", v.model}, {"tool_call_id", v.toolCallID},
		{"conversation_id", v.conversationID}, {"agent_id", v.agentID},
		{"langgraph_node", v.lgNode}, {"checkpoint_id", v.lgCheckpoint}, {"thread_id", v.thread},
		{"openinference_span_kind", v.oiKind}, {"traceloop_span_kind", v.tlKind},
	} {
		if kv.v != "" {
			m[kv.k] = kv.v
		}
	}
	return m
}

// asMap returns v when it is a JSON object, {key: v} otherwise, nil for
// nil.
func asMap(v any, key string) map[string]any {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return x
	}
	return map[string]any{key: v}
}
