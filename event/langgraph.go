package event

import (
	"encoding/json"
	"strconv"
)

// LangGraphAudit records one LangGraph stream event (node, tool, LLM,
// retriever, checkpoint, super-step or custom) for the audit trail. It is the
// reference's LangGraphAuditEvent. Its wire name is its Kind; the empty Kind
// stands for LangGraphCustomEvent (the reference's default) and is written as
// "custom_event".
//
//wtb:event class=LangGraphAuditEvent wire=@kinds
type LangGraphAudit struct {
	Base
	Kind         LangGraphKind      `json:"event_type"`
	ThreadID     string             `json:"thread_id"`     // LangGraph thread id = WTB execution_id
	RunID        string             `json:"run_id"`        // LangGraph run id
	ParentRunID  *string            `json:"parent_run_id"` // parent run (nested calls)
	DurationMS   *int64             `json:"duration_ms"`
	NodeID       *string            `json:"node_id"` // node name
	CheckpointID *string            `json:"checkpoint_id"`
	Step         *int64             `json:"step"`   // super-step number
	Inputs       map[string]any     `json:"inputs"` // may contain PII
	Outputs      map[string]any     `json:"outputs"`
	Error        *string            `json:"error"`
	Metadata     map[string]any     `json:"metadata"`
	Tags         []string           `json:"tags"`
	Metrics      map[string]float64 `json:"metrics"` // tokens / cost / latency
}

// WireName returns the event's kind; an empty kind is LangGraphCustomEvent,
// as in the reference.
func (e *LangGraphAudit) WireName() string {
	if e == nil || e.Kind == "" {
		return string(LangGraphCustomEvent)
	}
	return string(e.Kind)
}

// LangGraphKind is the kind of a LangGraphAudit event (the reference's
// LangGraphAuditEventType); it is the event's wire name.
type LangGraphKind string

// The 23 kinds, in the reference's declaration order.
const (
	LangGraphExecutionStarted   LangGraphKind = "execution_started"
	LangGraphExecutionCompleted LangGraphKind = "execution_completed"
	LangGraphExecutionFailed    LangGraphKind = "execution_failed"
	LangGraphExecutionPaused    LangGraphKind = "execution_paused"
	LangGraphExecutionResumed   LangGraphKind = "execution_resumed"
	LangGraphNodeStarted        LangGraphKind = "node_started"
	LangGraphNodeCompleted      LangGraphKind = "node_completed"
	LangGraphNodeFailed         LangGraphKind = "node_failed"
	LangGraphNodeSkipped        LangGraphKind = "node_skipped"
	LangGraphCheckpointCreated  LangGraphKind = "checkpoint_created"
	LangGraphCheckpointRestored LangGraphKind = "checkpoint_restored"
	LangGraphToolStarted        LangGraphKind = "tool_started"
	LangGraphToolCompleted      LangGraphKind = "tool_completed"
	LangGraphToolFailed         LangGraphKind = "tool_failed"
	LangGraphLLMStarted         LangGraphKind = "llm_started"
	LangGraphLLMCompleted       LangGraphKind = "llm_completed"
	LangGraphLLMStreamed        LangGraphKind = "llm_streamed"
	LangGraphRetrieverStarted   LangGraphKind = "retriever_started"
	LangGraphRetrieverCompleted LangGraphKind = "retriever_completed"
	LangGraphCustomEvent        LangGraphKind = "custom_event"
	LangGraphProgressUpdate     LangGraphKind = "progress_update"
	LangGraphSuperstepStarted   LangGraphKind = "superstep_started"
	LangGraphSuperstepCompleted LangGraphKind = "superstep_completed"
)

var langGraphKinds = [...]LangGraphKind{
	LangGraphExecutionStarted, LangGraphExecutionCompleted, LangGraphExecutionFailed,
	LangGraphExecutionPaused, LangGraphExecutionResumed,
	LangGraphNodeStarted, LangGraphNodeCompleted, LangGraphNodeFailed, LangGraphNodeSkipped,
	LangGraphCheckpointCreated, LangGraphCheckpointRestored,
	LangGraphToolStarted, LangGraphToolCompleted, LangGraphToolFailed,
	LangGraphLLMStarted, LangGraphLLMCompleted, LangGraphLLMStreamed,
	LangGraphRetrieverStarted, LangGraphRetrieverCompleted,
	LangGraphCustomEvent, LangGraphProgressUpdate,
	LangGraphSuperstepStarted, LangGraphSuperstepCompleted,
}

// LangGraphKinds lists the 23 kinds in the reference's declaration order.
func LangGraphKinds() []LangGraphKind {
	out := make([]LangGraphKind, len(langGraphKinds))
	copy(out, langGraphKinds[:])
	return out
}

func langGraphWireNames() []string {
	out := make([]string, len(langGraphKinds))
	for i, k := range langGraphKinds {
		out[i] = string(k)
	}
	return out
}

// Valid reports whether k is one of the 23 kinds.
func (k LangGraphKind) Valid() bool {
	for _, v := range langGraphKinds {
		if k == v {
			return true
		}
	}
	return false
}

// MarshalJSON writes the kind; the empty kind is written as custom_event.
func (k LangGraphKind) MarshalJSON() ([]byte, error) {
	if k == "" {
		k = LangGraphCustomEvent
	}
	return json.Marshal(string(k))
}

// UnmarshalJSON reads a kind and rejects values outside the 23 kinds.
func (k *LangGraphKind) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*k = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldError{field: "event_type", sentinel: ErrFieldType, msg: "event_type must be a string"}
	}
	if !LangGraphKind(s).Valid() {
		return &fieldError{field: "event_type", wire: s, sentinel: ErrUnknownType, msg: strconv.Quote(s) + " is not a LangGraph audit event kind"}
	}
	*k = LangGraphKind(s)
	return nil
}

// docType returns the kind as the document's event_type, nil when unset.
func (k LangGraphKind) docType() *string {
	if k == "" {
		return nil
	}
	s := string(k)
	return &s
}

// streamKinds is the reference's LANGGRAPH_EVENT_TYPE_MAP.
var streamKinds = map[string]LangGraphKind{
	"on_chain_start":       LangGraphNodeStarted,
	"on_chain_end":         LangGraphNodeCompleted,
	"on_chain_error":       LangGraphNodeFailed,
	"on_tool_start":        LangGraphToolStarted,
	"on_tool_end":          LangGraphToolCompleted,
	"on_tool_error":        LangGraphToolFailed,
	"on_chat_model_start":  LangGraphLLMStarted,
	"on_chat_model_end":    LangGraphLLMCompleted,
	"on_chat_model_stream": LangGraphLLMStreamed,
	"on_retriever_start":   LangGraphRetrieverStarted,
	"on_retriever_end":     LangGraphRetrieverCompleted,
}

// KindOfStreamEvent maps the name of a LangGraph stream event (the "event"
// key of astream_events v2, such as "on_tool_end") to its kind, as the
// reference's map_langgraph_event_type does: names outside its table give
// LangGraphCustomEvent.
func KindOfStreamEvent(name string) LangGraphKind {
	if k, ok := streamKinds[name]; ok {
		return k
	}
	return LangGraphCustomEvent
}
