package event

import "time"

// WorkspaceCreated reports that an isolated workspace was created for an
// execution. It is the reference's WorkspaceCreatedEvent.
//
//wtb:event class=WorkspaceCreatedEvent wire=WorkspaceCreatedEvent
type WorkspaceCreated struct {
	Base
	WorkspaceID            string  `json:"workspace_id"`
	BatchTestID            string  `json:"batch_test_id"`
	ExecutionID            string  `json:"execution_id"`
	VariantName            string  `json:"variant_name"`
	WorkspacePath          string  `json:"workspace_path"`
	SourceSnapshotCommitID *string `json:"source_snapshot_commit_id"`
	FileCount              int64   `json:"file_count"`
	TotalSizeBytes         int64   `json:"total_size_bytes"`
	Strategy               string  `json:"strategy" default:"workspace"` // "workspace", "snapshot", "clone", "none"
	ParentWorkspaceID      *string `json:"parent_workspace_id"`          // set for branch forks
}

// WorkspaceActivated reports that a workspace became the working directory of
// an execution. It is the reference's WorkspaceActivatedEvent.
//
//wtb:event class=WorkspaceActivatedEvent wire=WorkspaceActivatedEvent
type WorkspaceActivated struct {
	Base
	WorkspaceID string `json:"workspace_id"`
	ExecutionID string `json:"execution_id"`
	PreviousCWD string `json:"previous_cwd"`
	NewCWD      string `json:"new_cwd"`
}

// WorkspaceDeactivated reports that a workspace stopped being the working
// directory. It is the reference's WorkspaceDeactivatedEvent.
//
//wtb:event class=WorkspaceDeactivatedEvent wire=WorkspaceDeactivatedEvent
type WorkspaceDeactivated struct {
	Base
	WorkspaceID     string `json:"workspace_id"`
	ExecutionID     string `json:"execution_id"`
	FilesWritten    int64  `json:"files_written"`
	OutputSizeBytes int64  `json:"output_size_bytes"`
	RestoredCWD     string `json:"restored_cwd"`
}

// WorkspaceCleanedUp reports that a workspace was removed or preserved for
// debugging. It is the reference's WorkspaceCleanedUpEvent.
//
//wtb:event class=WorkspaceCleanedUpEvent wire=WorkspaceCleanedUpEvent
type WorkspaceCleanedUp struct {
	Base
	WorkspaceID     string `json:"workspace_id"`
	Reason          string `json:"reason"` // "completed", "failed_preserved", "batch_cleanup", "orphan_cleanup"
	FilesRemoved    int64  `json:"files_removed"`
	SpaceFreedBytes int64  `json:"space_freed_bytes"`
	Preserved       bool   `json:"preserved"` // true if kept for debugging
}

// FileSnapshotCreated reports that a snapshot of source files was taken for a
// workspace. It is the reference's FileSnapshotCreatedEvent.
//
//wtb:event class=FileSnapshotCreatedEvent wire=FileSnapshotCreatedEvent
type FileSnapshotCreated struct {
	Base
	WorkspaceID    string  `json:"workspace_id"`
	BatchTestID    string  `json:"batch_test_id"`
	CommitID       string  `json:"commit_id"`
	FileCount      int64   `json:"file_count"`
	TotalSizeBytes int64   `json:"total_size_bytes"`
	SourcePaths    Strings `json:"source_paths"`
}

// FileRestore reports that files of a commit were restored into a workspace.
// It is the reference's FileRestoreEvent.
//
//wtb:event class=FileRestoreEvent wire=FileRestoreEvent
type FileRestore struct {
	Base
	ExecutionID    string  `json:"execution_id"`
	CheckpointID   int64   `json:"checkpoint_id"`
	FileCommitID   string  `json:"file_commit_id"`
	WorkspaceID    string  `json:"workspace_id"`
	FilesRestored  int64   `json:"files_restored"`
	TotalSizeBytes int64   `json:"total_size_bytes"`
	RestoreTarget  string  `json:"restore_target"` // workspace path restored into
	Success        bool    `json:"success" default:"true"`
	ErrorMessage   *string `json:"error_message"`
}

// WorkspaceFileRestoreFailed reports that restoring files into a workspace
// failed (the reference's workspace FileRestoreFailedEvent, wire name
// "FileRestoreFailedEvent"). It is the reference's FileRestoreFailedEvent.
//
//wtb:event class=FileRestoreFailedEvent wire=FileRestoreFailedEvent
type WorkspaceFileRestoreFailed struct {
	Base
	ExecutionID  string `json:"execution_id"`
	CheckpointID int64  `json:"checkpoint_id"`
	WorkspaceID  string `json:"workspace_id"`
	ErrorMessage string `json:"error_message"`
	ErrorType    string `json:"error_type"`
}

// ForkRequested reports that a fork of an execution was requested. It is the
// reference's ForkRequestedEvent.
//
//wtb:event class=ForkRequestedEvent wire=ForkRequestedEvent
type ForkRequested struct {
	Base
	ParentExecutionID string `json:"parent_execution_id"`
	ForkCheckpointID  *int64 `json:"fork_checkpoint_id"`
	NewExecutionID    string `json:"new_execution_id"`
	ForkType          string `json:"fork_type" default:"variant"` // "variant", "rollback_branch", "manual"
	WorkspaceID       string `json:"workspace_id"`
}

// ForkCompleted reports that a fork of an execution is ready. It is the
// reference's ForkCompletedEvent.
//
//wtb:event class=ForkCompletedEvent wire=ForkCompletedEvent
type ForkCompleted struct {
	Base
	NewExecutionID    string `json:"new_execution_id"`
	WorkspaceID       string `json:"workspace_id"`
	ThreadID          string `json:"thread_id"` // LangGraph thread id
	ParentExecutionID string `json:"parent_execution_id"`
	ForkCheckpointID  *int64 `json:"fork_checkpoint_id"`
	ReadyToExecute    bool   `json:"ready_to_execute" default:"true"`
	FilesCopied       int64  `json:"files_copied"`
	TotalSizeBytes    int64  `json:"total_size_bytes"`
}

// VenvCreated reports that a virtual environment was created for a workspace.
// It is the reference's VenvCreatedEvent.
//
//wtb:event class=VenvCreatedEvent wire=VenvCreatedEvent
type VenvCreated struct {
	Base
	WorkspaceID    string  `json:"workspace_id"`
	ExecutionID    string  `json:"execution_id"`
	VenvPath       string  `json:"venv_path"`
	PythonVersion  string  `json:"python_version"`
	Packages       Strings `json:"packages"`
	VenvSpecHash   string  `json:"venv_spec_hash"`
	CreationTimeMS float64 `json:"creation_time_ms"`
}

// VenvReused reports that an existing virtual environment was reused. It is
// the reference's VenvReusedEvent.
//
//wtb:event class=VenvReusedEvent wire=VenvReusedEvent
type VenvReused struct {
	Base
	WorkspaceID          string     `json:"workspace_id"`
	VenvPath             string     `json:"venv_path"`
	VenvSpecHash         string     `json:"venv_spec_hash"`
	OriginalCreationTime *time.Time `json:"original_creation_time"`
}

// VenvInvalidated reports that a virtual environment was invalidated by a
// specification change. It is the reference's VenvInvalidatedEvent.
//
//wtb:event class=VenvInvalidatedEvent wire=VenvInvalidatedEvent
type VenvInvalidated struct {
	Base
	NodeID             string  `json:"node_id"`
	OldSpecHash        string  `json:"old_spec_hash"`
	NewSpecHash        string  `json:"new_spec_hash"`
	Reason             string  `json:"reason"` // "dependency_change", "python_version_change"
	AffectedWorkspaces Strings `json:"affected_workspaces"`
}

// VenvMismatchWarning reports that the current virtual environment differs
// from a checkpoint's. It is the reference's VenvMismatchWarningEvent.
//
//wtb:event class=VenvMismatchWarningEvent wire=VenvMismatchWarningEvent
type VenvMismatchWarning struct {
	Base
	CheckpointID     int64   `json:"checkpoint_id"`
	ExpectedVenvHash string  `json:"expected_venv_hash"`
	CurrentVenvHash  string  `json:"current_venv_hash"`
	ExpectedPackages Strings `json:"expected_packages"`
	CurrentPackages  Strings `json:"current_packages"`
}

// VenvRestored reports that a virtual environment was restored for a
// checkpoint. It is the reference's VenvRestoredEvent.
//
//wtb:event class=VenvRestoredEvent wire=VenvRestoredEvent
type VenvRestored struct {
	Base
	WorkspaceID   string  `json:"workspace_id"`
	CheckpointID  int64   `json:"checkpoint_id"`
	VenvPath      string  `json:"venv_path"`
	RestoredFrom  string  `json:"restored_from"` // "lock_snapshot", "spec_recreation"
	RestoreTimeMS float64 `json:"restore_time_ms"`
}

// ActorCreated reports that an actor was created for an execution. It is the
// reference's ActorCreatedEvent.
//
//wtb:event class=ActorCreatedEvent wire=ActorCreatedEvent
type ActorCreated struct {
	Base
	ActorID     string `json:"actor_id"`
	ExecutionID string `json:"execution_id"`
	WorkspaceID string `json:"workspace_id"`
	ForFork     bool   `json:"for_fork"`   // actor created for a fork
	ForResume   bool   `json:"for_resume"` // actor created for a cold-pause resume
	Resources   Map    `json:"resources"`  // num_cpus, num_gpus, memory
}

// ActorReset reports that an actor was reset. It is the reference's
// ActorResetEvent.
//
//wtb:event class=ActorResetEvent wire=ActorResetEvent
type ActorReset struct {
	Base
	ActorID          string  `json:"actor_id"`
	Reason           string  `json:"reason"` // "variant_switch", "rollback"
	ResourcesCleared Strings `json:"resources_cleared"`
}

// ActorKilled reports that an actor was killed. It is the reference's
// ActorKilledEvent.
//
//wtb:event class=ActorKilledEvent wire=ActorKilledEvent
type ActorKilled struct {
	Base
	ActorID           string  `json:"actor_id"`
	Reason            string  `json:"reason"` // "cold_pause", "rollback_recreate", "shutdown"
	ResourcesReleased Strings `json:"resources_released"`
}

// ResourcesReleased reports that an actor released resources (GPU memory,
// ...). It is the reference's ResourcesReleasedEvent.
//
//wtb:event class=ResourcesReleasedEvent wire=ResourcesReleasedEvent
type ResourcesReleased struct {
	Base
	ActorID          string  `json:"actor_id"`
	Reason           string  `json:"reason"` // "warm_pause", "memory_pressure"
	GPUMemoryFreedMB float64 `json:"gpu_memory_freed_mb"`
	ResourcesList    Strings `json:"resources_list"`
}

// ResourcesReacquired reports that an actor reacquired its resources. It is
// the reference's ResourcesReacquiredEvent.
//
//wtb:event class=ResourcesReacquiredEvent wire=ResourcesReacquiredEvent
type ResourcesReacquired struct {
	Base
	ActorID              string  `json:"actor_id"`
	GPUMemoryAllocatedMB float64 `json:"gpu_memory_allocated_mb"`
	ReacquisitionTimeMS  float64 `json:"reacquisition_time_ms"`
}

// OrphanWorkspaceDetected reports that a workspace left behind by a dead
// process was found. It is the reference's OrphanWorkspaceDetectedEvent.
//
//wtb:event class=OrphanWorkspaceDetectedEvent wire=OrphanWorkspaceDetectedEvent
type OrphanWorkspaceDetected struct {
	Base
	WorkspacePath string  `json:"workspace_path"`
	OriginalPID   int64   `json:"original_pid"`
	AgeHours      float64 `json:"age_hours"`
	Action        string  `json:"action"` // "cleaned", "preserved"
}

// OrphanCleanupCompleted reports that the cleanup of orphaned workspaces
// completed. It is the reference's OrphanCleanupCompletedEvent.
//
//wtb:event class=OrphanCleanupCompletedEvent wire=OrphanCleanupCompletedEvent
type OrphanCleanupCompleted struct {
	Base
	OrphansFound   int64   `json:"orphans_found"`
	OrphansCleaned int64   `json:"orphans_cleaned"`
	SpaceFreedMB   float64 `json:"space_freed_mb"`
	Errors         Strings `json:"errors"`
}

// TotalSizeMB returns TotalSizeBytes in mebibytes (bytes / 1048576), as the
// reference's total_size_mb.
func (e *WorkspaceCreated) TotalSizeMB() float64 { return float64(e.TotalSizeBytes) / 1048576 }
