package event

// CheckpointCreated reports that a checkpoint was written after a super-step.
// It is the reference's CheckpointCreated.
//
//wtb:event class=CheckpointCreated wire=CheckpointCreated alias=CheckpointCreatedEvent
type CheckpointCreated struct {
	Base
	ExecutionID   string  `json:"execution_id"`
	CheckpointID  string  `json:"checkpoint_id"` // string form of a CheckpointId
	Step          int64   `json:"step"`
	NodeWrites    Map     `json:"node_writes"`
	CompletedNode *string `json:"completed_node"`
	NextNodes     Strings `json:"next_nodes"`
	IsTerminal    bool    `json:"is_terminal"`
}

// RollbackRequested reports that a rollback to a checkpoint was requested. It
// is the reference's RollbackRequested.
//
//wtb:event class=RollbackRequested wire=RollbackRequested
type RollbackRequested struct {
	Base
	ExecutionID        string  `json:"execution_id"`
	TargetCheckpointID string  `json:"target_checkpoint_id"` // string form of a CheckpointId
	TargetNodeID       *string `json:"target_node_id"`       // set for node-level rollback
	Reason             string  `json:"reason"`
	RequestedBy        string  `json:"requested_by"` // "user", "system", "error_handler"
}

// RollbackCompleted reports that an execution was rolled back to an earlier
// checkpoint. It is the reference's RollbackCompleted.
//
//wtb:event class=RollbackCompleted wire=RollbackCompleted alias=RollbackPerformedEvent
type RollbackCompleted struct {
	Base
	ExecutionID      string  `json:"execution_id"`
	FromCheckpointID string  `json:"from_checkpoint_id"` // checkpoint before the rollback
	ToCheckpointID   string  `json:"to_checkpoint_id"`   // checkpoint rolled back to
	RolledBackNodes  Strings `json:"rolled_back_nodes"`
	StateRestored    bool    `json:"state_restored" default:"true"`
}

// RollbackFailed reports that a rollback failed. It is the reference's
// RollbackFailed.
//
//wtb:event class=RollbackFailed wire=RollbackFailed
type RollbackFailed struct {
	Base
	ExecutionID        string `json:"execution_id"`
	TargetCheckpointID string `json:"target_checkpoint_id"`
	ErrorMessage       string `json:"error_message"`
	ErrorType          string `json:"error_type"` // "not_found", "invalid_target", "system_error"
}

// NodeBoundaryRecorded reports that the entry or exit checkpoint of a node was
// recorded. It is the reference's NodeBoundaryRecorded.
//
//wtb:event class=NodeBoundaryRecorded wire=NodeBoundaryRecorded
type NodeBoundaryRecorded struct {
	Base
	ExecutionID  string `json:"execution_id"`
	NodeID       string `json:"node_id"`
	BoundaryType string `json:"boundary_type"` // "entry" or "exit"
	CheckpointID string `json:"checkpoint_id"`
	NodeStatus   string `json:"node_status"` // "running", "completed", "failed"
	DurationMS   *int64 `json:"duration_ms"`
}

// ExecutionHistoryLoaded reports that the checkpoint history of an execution
// was loaded. It is the reference's ExecutionHistoryLoaded.
//
//wtb:event class=ExecutionHistoryLoaded wire=ExecutionHistoryLoaded
type ExecutionHistoryLoaded struct {
	Base
	ExecutionID        string  `json:"execution_id"`
	CheckpointCount    int64   `json:"checkpoint_count"`
	CompletedNodes     Strings `json:"completed_nodes"`
	LatestCheckpointID *string `json:"latest_checkpoint_id"`
}

// BranchCreated reports that a new branch (thread) was forked from a
// checkpoint. It is the reference's BranchCreatedEvent.
//
//wtb:event class=BranchCreatedEvent wire=BranchCreatedEvent
type BranchCreated struct {
	Base
	ExecutionID       string `json:"execution_id"`
	FromCheckpointID  string `json:"from_checkpoint_id"`
	NewThreadID       string `json:"new_thread_id"` // LangGraph thread id of the new branch
	ParentExecutionID string `json:"parent_execution_id"`
	BranchReason      string `json:"branch_reason"` // "variant_test", "rollback", "manual"
}
