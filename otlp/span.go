package otlp

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// role is what a span stands for in a workflow.
type role int

const (
	roleCustom    role = iota // no rule matched
	roleWorkflow              // the workflow (graph) run: the execution
	roleNode                  // a node of the graph
	roleChain                 // any other chain
	roleTool                  // a tool call
	roleLLM                   // a model call
	roleRetriever             // a retrieval
)

// view is what the translator reads of one span: its attributes of
// interest, gathered in one pass.
type view struct {
	span     ptrace.Span
	resource pcommon.Map
	traceHex string // the trace id in hex, set by the translator

	op        string // gen_ai.operation.name
	oiKind    string // openinference.span.kind
	tlKind    string // traceloop.span.kind
	execution string // wtb.execution_id

	agentName, agentID, toolName, toolCallID, conversationID string
	model, workflowName, tlEntityName, tlWorkflowName        string
	tlEntityPath, llmRequestType                             string
	lgNode, lgGraph, lgTask, lgCheckpoint                    string
	lgStep                                                   pcommon.Value // valid when stepSet
	stepSet                                                  bool
	thread                                                   string
	errorType                                                string

	metadataJSON string
	metadata     map[string]any // parsed metadata (OpenInference)

	input, output         string // input.value / output.value or the Traceloop or GenAI equivalents
	inputJSON, outputJSON bool

	tokens [3]float64 // input, output, total
	hasTok [3]bool
}

// read fills v from span's attributes.
func (v *view) read(span ptrace.Span, resource pcommon.Map) {
	*v = view{span: span, resource: resource}
	var inMime, outMime string
	span.Attributes().Range(func(k string, a pcommon.Value) bool {
		switch k {
		case "gen_ai.operation.name":
			v.op = a.Str()
		case "openinference.span.kind":
			v.oiKind = strings.ToUpper(a.Str())
		case "traceloop.span.kind":
			v.tlKind = a.Str()
		case "wtb.execution_id":
			v.execution = a.AsString()
		case "gen_ai.agent.name":
			v.agentName = a.AsString()
		case "gen_ai.agent.id":
			v.agentID = a.AsString()
		case "gen_ai.tool.name", "tool.name":
			v.toolName = a.AsString()
		case "gen_ai.tool.call.id":
			v.toolCallID = a.AsString()
		case "gen_ai.conversation.id":
			v.conversationID = a.AsString()
		case "gen_ai.request.model", "llm.model_name":
			if v.model == "" {
				v.model = a.AsString()
			}
		case "gen_ai.response.model":
			v.model = a.AsString()
		case "gen_ai.workflow.name":
			v.workflowName = a.AsString()
		case "traceloop.entity.name":
			v.tlEntityName = a.AsString()
		case "traceloop.workflow.name":
			v.tlWorkflowName = a.AsString()
		case "traceloop.entity.path":
			v.tlEntityPath = a.AsString()
		case "llm.request.type":
			v.llmRequestType = a.AsString()
		case "langgraph.node", "gen_ai.langgraph.node.name":
			v.lgNode = a.AsString()
		case "langgraph.step", "gen_ai.langgraph.step":
			v.lgStep, v.stepSet = a, true
		case "gen_ai.langgraph.graph.name":
			v.lgGraph = a.AsString()
		case "gen_ai.langgraph.task.id":
			v.lgTask = a.AsString()
		case "gen_ai.langgraph.checkpoint.id":
			v.lgCheckpoint = a.AsString()
		case "session.id", "langgraph.thread_id", "gen_ai.langgraph.thread_id",
			"traceloop.association.properties.thread_id", "traceloop.association.properties.session_id":
			if v.thread == "" {
				v.thread = a.AsString()
			}
		case "error.type":
			v.errorType = a.AsString()
		case "metadata":
			v.metadataJSON = a.Str()
		case "input.value", "traceloop.entity.input", "gen_ai.input.messages", "gen_ai.tool.call.arguments":
			if v.input == "" {
				v.input = a.AsString()
				v.inputJSON = k != "input.value"
			}
		case "output.value", "traceloop.entity.output", "gen_ai.output.messages", "gen_ai.tool.call.result":
			if v.output == "" {
				v.output = a.AsString()
				v.outputJSON = k != "output.value"
			}
		case "input.mime_type":
			inMime = a.Str()
		case "output.mime_type":
			outMime = a.Str()
		case "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt", "gen_ai.token.input":
			v.token(0, a)
		case "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion", "gen_ai.token.output":
			v.token(1, a)
		case "gen_ai.usage.total_tokens", "llm.token_count.total", "llm.usage.total_tokens":
			v.token(2, a)
		}
		return true
	})
	if inMime == "application/json" {
		v.inputJSON = true
	}
	if outMime == "application/json" {
		v.outputJSON = true
	}
	if v.metadataJSON != "" {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(v.metadataJSON))
		d.UseNumber()
		if d.Decode(&m) == nil {
			v.metadata = m
			if s := str(m["langgraph_node"]); s != "" && v.lgNode == "" {
				v.lgNode = s
			}
			if s := str(m["thread_id"]); s != "" {
				v.thread = s
			}
			if s := str(m["langgraph_checkpoint_ns"]); s != "" && v.lgTask == "" {
				v.lgTask = s
			}
			if st, ok := m["langgraph_step"]; ok && (!v.stepSet || v.lgStep.Type() == pcommon.ValueTypeEmpty) {
				if n, ok := num(st); ok {
					v.lgStep, v.stepSet = pcommon.NewValueInt(n), true
				}
			}
		}
	}
	if v.execution == "" {
		if e, ok := resource.Get("wtb.execution_id"); ok {
			v.execution = e.AsString()
		}
	}
}

func (v *view) token(i int, a pcommon.Value) {
	switch a.Type() {
	case pcommon.ValueTypeInt:
		v.tokens[i], v.hasTok[i] = float64(a.Int()), true
	case pcommon.ValueTypeDouble:
		v.tokens[i], v.hasTok[i] = a.Double(), true
	}
}

// step returns the LangGraph super-step of the span.
func (v *view) step() (int64, bool) {
	if !v.stepSet {
		return 0, false
	}
	switch v.lgStep.Type() {
	case pcommon.ValueTypeInt:
		return v.lgStep.Int(), true
	case pcommon.ValueTypeDouble:
		f := v.lgStep.Double()
		return int64(f), f == float64(int64(f))
	case pcommon.ValueTypeStr:
		return num(json.Number(v.lgStep.Str()))
	}
	return 0, false
}

// classify decides the span's role and the name it is recorded under.
func (v *view) classify() (role, string) {
	name := v.span.Name()
	switch v.op {
	case "invoke_workflow":
		return roleWorkflow, first(v.workflowName, v.lgGraph, strings.TrimPrefix(name, "invoke_workflow "))
	case "invoke_agent":
		return roleNode, first(v.lgNode, v.agentName, strings.TrimPrefix(name, "invoke_agent "))
	case "execute_tool":
		return roleTool, first(v.toolName, v.tlEntityName, strings.TrimPrefix(name, "execute_tool "))
	case "chat", "text_completion", "generate_content", "embeddings":
		return roleLLM, first(v.model, name)
	case "retrieval":
		return roleRetriever, name
	}
	switch v.oiKind {
	case "CHAIN", "AGENT":
		return v.chain(name)
	case "LLM", "EMBEDDING":
		return roleLLM, name
	case "TOOL":
		return roleTool, first(v.toolName, name)
	case "RETRIEVER":
		return roleRetriever, name
	}
	switch v.tlKind {
	case "workflow", "task", "agent":
		entity := first(v.tlWorkflowName, v.tlEntityName, strings.TrimPrefix(name, "workflow "))
		if v.lgNode != "" {
			return v.chain(entity)
		}
		if v.span.ParentSpanID().IsEmpty() && v.tlKind == "workflow" {
			return roleWorkflow, entity
		}
		// Traceloop marks nested entities with a dotted path; the
		// graph's nodes are the entities directly under the workflow.
		if strings.Contains(v.tlEntityPath, ".") {
			return roleChain, entity
		}
		return roleNode, entity
	case "tool":
		return roleTool, first(v.toolName, v.tlEntityName, name)
	}
	if v.llmRequestType != "" {
		return roleLLM, first(v.model, name)
	}
	if v.lgNode != "" {
		return v.chain(name)
	}
	return roleCustom, name
}

// chain classifies a chain span: a node when it is the run of a graph
// node, the workflow when it is a graph's own run, another chain
// otherwise.
func (v *view) chain(name string) (role, string) {
	if v.lgNode != "" {
		if name == v.lgNode {
			return roleNode, name
		}
		return roleChain, name
	}
	if v.lgGraph != "" || v.span.ParentSpanID().IsEmpty() || name == "LangGraph" || str(v.metadata["ls_integration"]) == "langgraph" {
		return roleWorkflow, first(v.lgGraph, name)
	}
	return roleChain, name
}

// failure returns the error type and message of a failed span: from its
// exception event, else error.type and the status message.
func (v *view) failure() (typ, msg string, failed bool) {
	st := v.span.Status()
	if st.Code() != ptrace.StatusCodeError {
		return "", "", false
	}
	evs := v.span.Events()
	for i := evs.Len() - 1; i >= 0; i-- {
		e := evs.At(i)
		if e.Name() != "exception" {
			continue
		}
		if t, ok := e.Attributes().Get("exception.type"); ok {
			typ = t.AsString()
		}
		if m, ok := e.Attributes().Get("exception.message"); ok {
			msg = m.AsString()
		}
		break
	}
	if typ == "" {
		typ = v.errorType
	}
	if msg == "" {
		msg = st.Message()
	}
	if typ == "" {
		typ = "Error"
	}
	if msg == "" {
		msg = "span status ERROR"
	}
	// Some instrumentations (OpenInference for LangChain.js) append the
	// stack trace to the message after a blank line: keep the message.
	if i := strings.Index(msg, "\n\n"); i > 0 {
		msg = msg[:i]
	}
	return typ, msg, true
}

// value returns an input or output as a JSON value when it is one, as the
// string otherwise.
func value(s string, isJSON bool) any {
	if s == "" {
		return nil
	}
	if isJSON {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var x any
		if d.Decode(&x) == nil && !d.More() {
			return x
		}
	}
	return s
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func num(v any) (int64, bool) {
	if n, ok := v.(json.Number); ok {
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
