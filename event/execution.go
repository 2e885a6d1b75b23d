package event

// ExecutionStarted is published when a workflow execution begins.
type ExecutionStarted struct {
	Base
	ExecutionID  string         `json:"execution_id"`
	WorkflowID   string         `json:"workflow_id"`
	WorkflowName string         `json:"workflow_name"`
	InitialState map[string]any `json:"initial_state"`
	Breakpoints  []any          `json:"breakpoints"`
}

var typeExecutionStarted = register(&Type{
	Name: "ExecutionStarted", Class: "ExecutionStartedEvent", Category: CategoryExecution,
	WireNames: []string{"ExecutionStartedEvent"},
	new:       func() Event { return new(ExecutionStarted) },
})

// Type returns the descriptor of ExecutionStarted.
func (*ExecutionStarted) Type() *Type { return typeExecutionStarted }

// WireName returns "ExecutionStartedEvent".
func (*ExecutionStarted) WireName() string { return "ExecutionStartedEvent" }

// MarshalJSON writes the event in the wire format.
func (e *ExecutionStarted) MarshalJSON() ([]byte, error) {
	type fields ExecutionStarted
	return marshalWire(struct {
		EventType string `json:"event_type"`
		*fields
		Timestamp wireTime `json:"timestamp"`
	}{e.WireName(), (*fields)(e), wireTime(e.Timestamp)})
}

// UnmarshalJSON reads the event from the wire format.
func (e *ExecutionStarted) UnmarshalJSON(b []byte) error {
	type fields ExecutionStarted
	return unmarshalWire(b, &struct {
		EventType *string `json:"event_type"`
		*fields
		Timestamp *wireTime `json:"timestamp"`
	}{nil, (*fields)(e), (*wireTime)(&e.Timestamp)})
}
