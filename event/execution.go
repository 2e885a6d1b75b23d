package event

import (
	"maps"
	"slices"
)

// ExecutionStarted reports that a workflow execution started. It is the
// reference's ExecutionStartedEvent.
//
//wtb:event class=ExecutionStartedEvent wire=ExecutionStartedEvent
type ExecutionStarted struct {
	Base
	ExecutionID  string `json:"execution_id"`
	WorkflowID   string `json:"workflow_id"`
	WorkflowName string `json:"workflow_name"`
	InitialState Map    `json:"initial_state"`
	Breakpoints  List   `json:"breakpoints"`
}

// ExecutionPaused reports that an execution paused (at a breakpoint, manually
// or on an error). It is the reference's ExecutionPausedEvent.
//
//wtb:event class=ExecutionPausedEvent wire=ExecutionPausedEvent
type ExecutionPaused struct {
	Base
	ExecutionID   string  `json:"execution_id"`
	PausedAtNode  string  `json:"paused_at_node"`
	Reason        string  `json:"reason"` // documented values: "breakpoint", "manual", "error"
	CheckpointID  *int64  `json:"checkpoint_id"`
	ElapsedTimeMS float64 `json:"elapsed_time_ms"`
}

// ExecutionResumed reports that a paused execution resumed, possibly with a
// modified state. It is the reference's ExecutionResumedEvent.
//
//wtb:event class=ExecutionResumedEvent wire=ExecutionResumedEvent
type ExecutionResumed struct {
	Base
	ExecutionID    string         `json:"execution_id"`
	ResumeFromNode string         `json:"resume_from_node"`
	ModifiedState  map[string]any `json:"modified_state"`
}

// ExecutionCompleted reports that an execution completed. It is the
// reference's ExecutionCompletedEvent.
//
//wtb:event class=ExecutionCompletedEvent wire=ExecutionCompletedEvent
type ExecutionCompleted struct {
	Base
	ExecutionID        string  `json:"execution_id"`
	WorkflowID         string  `json:"workflow_id"`
	FinalState         Map     `json:"final_state" order:"finalStateOrder"`
	DurationMS         float64 `json:"duration_ms"`
	NodesExecuted      int64   `json:"nodes_executed"`
	CheckpointsCreated int64   `json:"checkpoints_created"`

	// finalStateOrder is the order of FinalState's keys in the decoded
	// document, nil when they were sorted (see FinalStateKeys).
	finalStateOrder []string
}

// FinalStateKeys returns the keys of FinalState in the order of the
// document the event was decoded from, as the reference lists them (a
// Python dict keeps insertion order); Encode writes final_state in that
// order too. For an event built in Go, or once FinalState no longer has
// exactly the decoded keys, the keys come sorted.
func (e *ExecutionCompleted) FinalStateKeys() []string {
	if keyOrderValid(e.FinalState, e.finalStateOrder) {
		return slices.Clone(e.finalStateOrder)
	}
	return slices.Sorted(maps.Keys(e.FinalState))
}

// ExecutionFailed reports that an execution failed. It is the reference's
// ExecutionFailedEvent.
//
//wtb:event class=ExecutionFailedEvent wire=ExecutionFailedEvent
type ExecutionFailed struct {
	Base
	ExecutionID  string  `json:"execution_id"`
	WorkflowID   string  `json:"workflow_id"`
	FailedAtNode string  `json:"failed_at_node"`
	ErrorMessage string  `json:"error_message"`
	ErrorType    string  `json:"error_type"`
	CheckpointID *int64  `json:"checkpoint_id"`
	DurationMS   float64 `json:"duration_ms"`
}

// ExecutionCancelled reports that an execution was cancelled. It is the
// reference's ExecutionCancelledEvent.
//
//wtb:event class=ExecutionCancelledEvent wire=ExecutionCancelledEvent
type ExecutionCancelled struct {
	Base
	ExecutionID     string  `json:"execution_id"`
	CancelledAtNode *string `json:"cancelled_at_node"`
	Reason          string  `json:"reason"`
	DurationMS      float64 `json:"duration_ms"`
}
