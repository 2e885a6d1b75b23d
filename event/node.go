package event

// NodeStarted reports that a node of the graph started. It is the reference's
// NodeStartedEvent.
//
//wtb:event class=NodeStartedEvent wire=NodeStartedEvent
type NodeStarted struct {
	Base
	ExecutionID       string `json:"execution_id"`
	NodeID            string `json:"node_id"`
	NodeName          string `json:"node_name"`
	NodeType          string `json:"node_type"`
	Context           Map    `json:"context"`
	EntryCheckpointID *int64 `json:"entry_checkpoint_id"`
}

// NodeCompleted reports that a node completed. It is the reference's
// NodeCompletedEvent.
//
//wtb:event class=NodeCompletedEvent wire=NodeCompletedEvent
type NodeCompleted struct {
	Base
	ExecutionID      string  `json:"execution_id"`
	NodeID           string  `json:"node_id"`
	NodeName         string  `json:"node_name"`
	Result           any     `json:"result"`
	DurationMS       float64 `json:"duration_ms"`
	ToolInvocations  int64   `json:"tool_invocations"`
	ExitCheckpointID *int64  `json:"exit_checkpoint_id"`
	OutputVariables  Map     `json:"output_variables"`
}

// NodeFailed reports that a node failed; Recoverable (default true) tells
// whether a retry may succeed. It is the reference's NodeFailedEvent.
//
//wtb:event class=NodeFailedEvent wire=NodeFailedEvent
type NodeFailed struct {
	Base
	ExecutionID  string  `json:"execution_id"`
	NodeID       string  `json:"node_id"`
	NodeName     string  `json:"node_name"`
	ErrorMessage string  `json:"error_message"`
	ErrorType    string  `json:"error_type"`
	DurationMS   float64 `json:"duration_ms"`
	Recoverable  bool    `json:"recoverable" default:"true"`
}

// NodeSkipped reports that a node was skipped. It is the reference's
// NodeSkippedEvent.
//
//wtb:event class=NodeSkippedEvent wire=NodeSkippedEvent
type NodeSkipped struct {
	Base
	ExecutionID string  `json:"execution_id"`
	NodeID      string  `json:"node_id"`
	NodeName    string  `json:"node_name"`
	Reason      string  `json:"reason"`
	Condition   *string `json:"condition"`
}
