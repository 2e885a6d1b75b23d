package event

import "strings"

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

// NewCheckpointCreated builds a CheckpointCreated the way the reference's
// create_checkpoint_created_event does, with a fresh id and the current
// time. writeOrder gives the keys of nodeWrites in the order they were
// written (a Go map keeps none); CompletedNode is the first of them that does
// not start with "__" (nil when there is none), and IsTerminal is true when
// nextNodes is empty.
func NewCheckpointCreated(executionID, checkpointID string, step int64, nodeWrites Map, writeOrder []string, nextNodes []string) *CheckpointCreated {
	ev := New[CheckpointCreated]()
	ev.ExecutionID, ev.CheckpointID, ev.Step = executionID, checkpointID, step
	ev.NodeWrites, ev.NextNodes = nodeWrites, Strings(nextNodes)
	for _, k := range writeOrder {
		if _, ok := nodeWrites[k]; ok && !strings.HasPrefix(k, "__") {
			ev.CompletedNode = &k
			break
		}
	}
	ev.IsTerminal = len(nextNodes) == 0
	return ev
}

// NewRollbackCompleted builds a RollbackCompleted the way the reference's
// create_rollback_completed_event does (StateRestored is true), with a fresh
// id and the current time.
func NewRollbackCompleted(executionID, fromCheckpointID, toCheckpointID string, rolledBackNodes []string) *RollbackCompleted {
	ev := New[RollbackCompleted]()
	ev.ExecutionID, ev.FromCheckpointID, ev.ToCheckpointID = executionID, fromCheckpointID, toCheckpointID
	ev.RolledBackNodes = Strings(rolledBackNodes)
	return ev
}
