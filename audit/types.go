package audit

// The reference's 30 audit event types (WTBAuditEventType), in its
// declaration order. No event maps to four of them (state_modified,
// breakpoint_hit, variant_started, variant_completed); they are kept for
// compatibility. wtb maps ForkCompleted to execution_forked.
const (
	TypeExecutionStarted             Type = "execution_started"
	TypeExecutionPaused              Type = "execution_paused"
	TypeExecutionResumed             Type = "execution_resumed"
	TypeExecutionCompleted           Type = "execution_completed"
	TypeExecutionFailed              Type = "execution_failed"
	TypeExecutionCancelled           Type = "execution_cancelled"
	TypeNodeStarted                  Type = "node_started"
	TypeNodeCompleted                Type = "node_completed"
	TypeNodeFailed                   Type = "node_failed"
	TypeNodeSkipped                  Type = "node_skipped"
	TypeCheckpointCreated            Type = "checkpoint_created"
	TypeRollbackPerformed            Type = "rollback_performed"
	TypeBranchCreated                Type = "branch_created"
	TypeExecutionForked              Type = "execution_forked"
	TypeStateModified                Type = "state_modified"
	TypeBreakpointHit                Type = "breakpoint_hit"
	TypeVariantStarted               Type = "variant_started"
	TypeVariantCompleted             Type = "variant_completed"
	TypeRayBatchTestStarted          Type = "ray_batch_test_started"
	TypeRayBatchTestCompleted        Type = "ray_batch_test_completed"
	TypeRayBatchTestFailed           Type = "ray_batch_test_failed"
	TypeRayBatchTestCancelled        Type = "ray_batch_test_cancelled"
	TypeRayActorPoolCreated          Type = "ray_actor_pool_created"
	TypeRayActorInitialized          Type = "ray_actor_initialized"
	TypeRayActorFailed               Type = "ray_actor_failed"
	TypeRayVariantExecutionStarted   Type = "ray_variant_execution_started"
	TypeRayVariantExecutionCompleted Type = "ray_variant_execution_completed"
	TypeRayVariantExecutionFailed    Type = "ray_variant_execution_failed"
	TypeRayFilesTracked              Type = "ray_files_tracked"
	TypeRayBackpressure              Type = "ray_backpressure"
)

// Audit types added by wtb for the checkpoint events the reference does not map.
const (
	TypeRollbackRequested      Type = "rollback_requested"
	TypeRollbackFailed         Type = "rollback_failed"
	TypeNodeBoundaryRecorded   Type = "node_boundary_recorded"
	TypeExecutionHistoryLoaded Type = "execution_history_loaded"
)

// Audit types added by wtb for the Ray events the reference does not map.
const (
	TypeRayBatchTestProgress         Type = "ray_batch_test_progress"
	TypeRayActorRestarted            Type = "ray_actor_restarted"
	TypeRayVariantExecutionCancelled Type = "ray_variant_execution_cancelled"
	TypeRayFilesTrackingFailed       Type = "ray_files_tracking_failed"
	TypeRayBackpressureReleased      Type = "ray_backpressure_released"
)

// Audit types of LangGraph audit events: "langgraph_" followed by the event's
// kind, so that they never count as the execution's own nodes or checkpoints.
const (
	TypeLangGraphExecutionStarted   Type = "langgraph_execution_started"
	TypeLangGraphExecutionCompleted Type = "langgraph_execution_completed"
	TypeLangGraphExecutionFailed    Type = "langgraph_execution_failed"
	TypeLangGraphExecutionPaused    Type = "langgraph_execution_paused"
	TypeLangGraphExecutionResumed   Type = "langgraph_execution_resumed"
	TypeLangGraphNodeStarted        Type = "langgraph_node_started"
	TypeLangGraphNodeCompleted      Type = "langgraph_node_completed"
	TypeLangGraphNodeFailed         Type = "langgraph_node_failed"
	TypeLangGraphNodeSkipped        Type = "langgraph_node_skipped"
	TypeLangGraphCheckpointCreated  Type = "langgraph_checkpoint_created"
	TypeLangGraphCheckpointRestored Type = "langgraph_checkpoint_restored"
	TypeLangGraphToolStarted        Type = "langgraph_tool_started"
	TypeLangGraphToolCompleted      Type = "langgraph_tool_completed"
	TypeLangGraphToolFailed         Type = "langgraph_tool_failed"
	TypeLangGraphLLMStarted         Type = "langgraph_llm_started"
	TypeLangGraphLLMCompleted       Type = "langgraph_llm_completed"
	TypeLangGraphLLMStreamed        Type = "langgraph_llm_streamed"
	TypeLangGraphRetrieverStarted   Type = "langgraph_retriever_started"
	TypeLangGraphRetrieverCompleted Type = "langgraph_retriever_completed"
	TypeLangGraphCustomEvent        Type = "langgraph_custom_event"
	TypeLangGraphProgressUpdate     Type = "langgraph_progress_update"
	TypeLangGraphSuperstepStarted   Type = "langgraph_superstep_started"
	TypeLangGraphSuperstepCompleted Type = "langgraph_superstep_completed"
)

// Audit types added by wtb for the environment events.
const (
	TypeEnvironmentCreationStarted  Type = "environment_creation_started"
	TypeEnvironmentCreated          Type = "environment_created"
	TypeEnvironmentCreationFailed   Type = "environment_creation_failed"
	TypeEnvironmentDeleted          Type = "environment_deleted"
	TypeDependenciesAdded           Type = "dependencies_added"
	TypeDependenciesUpdated         Type = "dependencies_updated"
	TypeDependenciesRemoved         Type = "dependencies_removed"
	TypeDependencyOperationFailed   Type = "dependency_operation_failed"
	TypeEnvironmentSynced           Type = "environment_synced"
	TypeEnvironmentSyncFailed       Type = "environment_sync_failed"
	TypeEnvironmentCleanupStarted   Type = "environment_cleanup_started"
	TypeEnvironmentCleanupCompleted Type = "environment_cleanup_completed"
	TypeEnvironmentLockAcquired     Type = "environment_lock_acquired"
	TypeEnvironmentLockReleased     Type = "environment_lock_released"
	TypeEnvironmentLockTimeout      Type = "environment_lock_timeout"
)

// Audit types added by wtb for the file-processing events.
const (
	TypeFileCommitCreated          Type = "file_commit_created"
	TypeFileCommitDeleted          Type = "file_commit_deleted"
	TypeFileCommitVerified         Type = "file_commit_verified"
	TypeFileRestored               Type = "file_restored"
	TypeFileRestoreFailed          Type = "file_restore_failed"
	TypeCheckpointFileLinkCreated  Type = "checkpoint_file_link_created"
	TypeCheckpointFileLinkVerified Type = "checkpoint_file_link_verified"
	TypeBlobCreated                Type = "blob_created"
	TypeBlobDeleted                Type = "blob_deleted"
	TypeFileTrackingStarted        Type = "file_tracking_started"
	TypeFileTrackingCompleted      Type = "file_tracking_completed"
	TypeFileTrackingFailed         Type = "file_tracking_failed"
)

// Audit types added by wtb for the workspace events. ForkCompleted maps to
// the reference's TypeExecutionForked.
const (
	TypeWorkspaceCreated           Type = "workspace_created"
	TypeWorkspaceActivated         Type = "workspace_activated"
	TypeWorkspaceDeactivated       Type = "workspace_deactivated"
	TypeWorkspaceCleanedUp         Type = "workspace_cleaned_up"
	TypeFileSnapshotCreated        Type = "file_snapshot_created"
	TypeWorkspaceFilesRestored     Type = "workspace_files_restored"
	TypeWorkspaceFileRestoreFailed Type = "workspace_file_restore_failed"
	TypeForkRequested              Type = "fork_requested"
	TypeVenvCreated                Type = "venv_created"
	TypeVenvReused                 Type = "venv_reused"
	TypeVenvInvalidated            Type = "venv_invalidated"
	TypeVenvMismatch               Type = "venv_mismatch"
	TypeVenvRestored               Type = "venv_restored"
	TypeActorCreated               Type = "actor_created"
	TypeActorReset                 Type = "actor_reset"
	TypeActorKilled                Type = "actor_killed"
	TypeResourcesReleased          Type = "resources_released"
	TypeResourcesReacquired        Type = "resources_reacquired"
	TypeOrphanWorkspaceDetected    Type = "orphan_workspace_detected"
	TypeOrphanCleanupCompleted     Type = "orphan_cleanup_completed"
)

// Audit types of the entries the ledger records about the log itself: a
// finished execution's seal, a redaction, a prune (package ledger writes
// them; they have no event).
const (
	TypeRunSealed     Type = "run_sealed"
	TypeEntryRedacted Type = "entry_redacted"
	TypeLogPruned     Type = "log_pruned"
)

// Types lists every audit type: the reference's 30 in declaration order,
// then wtb's additions by category.
func Types() []Type {
	out := make([]Type, len(allTypes))
	copy(out, allTypes)
	return out
}

// Known reports whether t is one of Types().
func (t Type) Known() bool {
	_, ok := knownTypes[t]
	return ok
}

var allTypes = []Type{
	TypeExecutionStarted, TypeExecutionPaused, TypeExecutionResumed, TypeExecutionCompleted,
	TypeExecutionFailed, TypeExecutionCancelled, TypeNodeStarted, TypeNodeCompleted,
	TypeNodeFailed, TypeNodeSkipped, TypeCheckpointCreated, TypeRollbackPerformed,
	TypeBranchCreated, TypeExecutionForked, TypeStateModified, TypeBreakpointHit,
	TypeVariantStarted, TypeVariantCompleted, TypeRayBatchTestStarted, TypeRayBatchTestCompleted,
	TypeRayBatchTestFailed, TypeRayBatchTestCancelled, TypeRayActorPoolCreated, TypeRayActorInitialized,
	TypeRayActorFailed, TypeRayVariantExecutionStarted, TypeRayVariantExecutionCompleted,
	TypeRayVariantExecutionFailed, TypeRayFilesTracked, TypeRayBackpressure,

	TypeRollbackRequested, TypeRollbackFailed, TypeNodeBoundaryRecorded, TypeExecutionHistoryLoaded,

	TypeLangGraphExecutionStarted, TypeLangGraphExecutionCompleted, TypeLangGraphExecutionFailed,
	TypeLangGraphExecutionPaused, TypeLangGraphExecutionResumed, TypeLangGraphNodeStarted,
	TypeLangGraphNodeCompleted, TypeLangGraphNodeFailed, TypeLangGraphNodeSkipped,
	TypeLangGraphCheckpointCreated, TypeLangGraphCheckpointRestored, TypeLangGraphToolStarted,
	TypeLangGraphToolCompleted, TypeLangGraphToolFailed, TypeLangGraphLLMStarted,
	TypeLangGraphLLMCompleted, TypeLangGraphLLMStreamed, TypeLangGraphRetrieverStarted,
	TypeLangGraphRetrieverCompleted, TypeLangGraphCustomEvent, TypeLangGraphProgressUpdate,
	TypeLangGraphSuperstepStarted, TypeLangGraphSuperstepCompleted,

	TypeEnvironmentCreationStarted, TypeEnvironmentCreated, TypeEnvironmentCreationFailed,
	TypeEnvironmentDeleted, TypeDependenciesAdded, TypeDependenciesUpdated, TypeDependenciesRemoved,
	TypeDependencyOperationFailed, TypeEnvironmentSynced, TypeEnvironmentSyncFailed,
	TypeEnvironmentCleanupStarted, TypeEnvironmentCleanupCompleted, TypeEnvironmentLockAcquired,
	TypeEnvironmentLockReleased, TypeEnvironmentLockTimeout,

	TypeFileCommitCreated, TypeFileCommitDeleted, TypeFileCommitVerified, TypeFileRestored,
	TypeFileRestoreFailed, TypeCheckpointFileLinkCreated, TypeCheckpointFileLinkVerified,
	TypeBlobCreated, TypeBlobDeleted, TypeFileTrackingStarted, TypeFileTrackingCompleted,
	TypeFileTrackingFailed,

	TypeRayBatchTestProgress, TypeRayActorRestarted, TypeRayVariantExecutionCancelled,
	TypeRayFilesTrackingFailed, TypeRayBackpressureReleased,

	TypeWorkspaceCreated, TypeWorkspaceActivated, TypeWorkspaceDeactivated, TypeWorkspaceCleanedUp,
	TypeFileSnapshotCreated, TypeWorkspaceFilesRestored, TypeWorkspaceFileRestoreFailed,
	TypeForkRequested, TypeVenvCreated, TypeVenvReused, TypeVenvInvalidated, TypeVenvMismatch,
	TypeVenvRestored, TypeActorCreated, TypeActorReset, TypeActorKilled, TypeResourcesReleased,
	TypeResourcesReacquired, TypeOrphanWorkspaceDetected, TypeOrphanCleanupCompleted,

	TypeRunSealed, TypeEntryRedacted, TypeLogPruned,
}

var knownTypes = func() map[Type]struct{} {
	m := make(map[Type]struct{}, len(allTypes))
	for _, t := range allTypes {
		m[t] = struct{}{}
	}
	return m
}()

// Icon returns the severity's icon in the text display: [i] info, [+]
// success, [!] warning, [X] error, [D] debug, three spaces otherwise.
func (s Severity) Icon() string {
	switch s {
	case SeverityInfo:
		return "[i]"
	case SeveritySuccess:
		return "[+]"
	case SeverityWarning:
		return "[!]"
	case SeverityError:
		return "[X]"
	case SeverityDebug:
		return "[D]"
	}
	return "   "
}

// terminalStatus returns the execution status an entry of type t ends an
// execution with ("completed", "failed", "cancelled"), or "" when t is not
// terminal.
func terminalStatus(t Type) string {
	switch t {
	case TypeExecutionCompleted, TypeRayBatchTestCompleted:
		return "completed"
	case TypeExecutionFailed, TypeRayBatchTestFailed:
		return "failed"
	case TypeExecutionCancelled, TypeRayBatchTestCancelled:
		return "cancelled"
	}
	return ""
}
