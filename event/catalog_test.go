package event_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/event"
)

// catalogEntry is one row of the reference catalog (§b of the reference
// notes): Go name, reference class, category, wire name ("kinds" for the
// LangGraph kinds), aliases and the class's fields (inherited ones first)
// with their reference types.
type catalogEntry struct {
	goName, class string
	category      event.Category
	wire          string
	aliases       []string
	fields        string
}

// catalog is transcribed from the reference catalog, in its order.
var catalog = []catalogEntry{
	{"ExecutionStarted", "ExecutionStartedEvent", event.CategoryExecution, "ExecutionStartedEvent", nil, "execution_id: str; workflow_id: str; workflow_name: str; initial_state: Dict[str, Any]; breakpoints: list"},
	{"ExecutionPaused", "ExecutionPausedEvent", event.CategoryExecution, "ExecutionPausedEvent", nil, "execution_id: str; paused_at_node: str; reason: str; checkpoint_id: Optional[int]; elapsed_time_ms: float"},
	{"ExecutionResumed", "ExecutionResumedEvent", event.CategoryExecution, "ExecutionResumedEvent", nil, "execution_id: str; resume_from_node: str; modified_state: Optional[Dict[str, Any]]"},
	{"ExecutionCompleted", "ExecutionCompletedEvent", event.CategoryExecution, "ExecutionCompletedEvent", nil, "execution_id: str; workflow_id: str; final_state: Dict[str, Any]; duration_ms: float; nodes_executed: int; checkpoints_created: int"},
	{"ExecutionFailed", "ExecutionFailedEvent", event.CategoryExecution, "ExecutionFailedEvent", nil, "execution_id: str; workflow_id: str; failed_at_node: str; error_message: str; error_type: str; checkpoint_id: Optional[int]; duration_ms: float"},
	{"ExecutionCancelled", "ExecutionCancelledEvent", event.CategoryExecution, "ExecutionCancelledEvent", nil, "execution_id: str; cancelled_at_node: Optional[str]; reason: str; duration_ms: float"},
	{"NodeStarted", "NodeStartedEvent", event.CategoryNode, "NodeStartedEvent", nil, "execution_id: str; node_id: str; node_name: str; node_type: str; context: Dict[str, Any]; entry_checkpoint_id: Optional[int]"},
	{"NodeCompleted", "NodeCompletedEvent", event.CategoryNode, "NodeCompletedEvent", nil, "execution_id: str; node_id: str; node_name: str; result: Any; duration_ms: float; tool_invocations: int; exit_checkpoint_id: Optional[int]; output_variables: Dict[str, Any]"},
	{"NodeFailed", "NodeFailedEvent", event.CategoryNode, "NodeFailedEvent", nil, "execution_id: str; node_id: str; node_name: str; error_message: str; error_type: str; duration_ms: float; recoverable: bool"},
	{"NodeSkipped", "NodeSkippedEvent", event.CategoryNode, "NodeSkippedEvent", nil, "execution_id: str; node_id: str; node_name: str; reason: str; condition: Optional[str]"},
	{"CheckpointCreated", "CheckpointCreated", event.CategoryCheckpoint, "CheckpointCreated", []string{"CheckpointCreatedEvent"}, "execution_id: str; checkpoint_id: str; step: int; node_writes: Dict[str, Any]; completed_node: Optional[str]; next_nodes: List[str]; is_terminal: bool"},
	{"RollbackRequested", "RollbackRequested", event.CategoryCheckpoint, "RollbackRequested", nil, "execution_id: str; target_checkpoint_id: str; target_node_id: Optional[str]; reason: str; requested_by: str"},
	{"RollbackCompleted", "RollbackCompleted", event.CategoryCheckpoint, "RollbackCompleted", []string{"RollbackPerformedEvent"}, "execution_id: str; from_checkpoint_id: str; to_checkpoint_id: str; rolled_back_nodes: List[str]; state_restored: bool"},
	{"RollbackFailed", "RollbackFailed", event.CategoryCheckpoint, "RollbackFailed", nil, "execution_id: str; target_checkpoint_id: str; error_message: str; error_type: str"},
	{"NodeBoundaryRecorded", "NodeBoundaryRecorded", event.CategoryCheckpoint, "NodeBoundaryRecorded", nil, "execution_id: str; node_id: str; boundary_type: str; checkpoint_id: str; node_status: str; duration_ms: Optional[int]"},
	{"ExecutionHistoryLoaded", "ExecutionHistoryLoaded", event.CategoryCheckpoint, "ExecutionHistoryLoaded", nil, "execution_id: str; checkpoint_count: int; completed_nodes: List[str]; latest_checkpoint_id: Optional[str]"},
	{"BranchCreated", "BranchCreatedEvent", event.CategoryCheckpoint, "BranchCreatedEvent", nil, "execution_id: str; from_checkpoint_id: str; new_thread_id: str; parent_execution_id: str; branch_reason: str"},
	{"LangGraphAudit", "LangGraphAuditEvent", event.CategoryLangGraph, "kinds", nil, "event_type: LangGraphAuditEventType; thread_id: str; run_id: str; parent_run_id: Optional[str]; duration_ms: Optional[int]; node_id: Optional[str]; checkpoint_id: Optional[str]; step: Optional[int]; inputs: Optional[Dict[str, Any]]; outputs: Optional[Dict[str, Any]]; error: Optional[str]; metadata: Optional[Dict[str, Any]]; tags: Optional[List[str]]; metrics: Optional[Dict[str, float]]"},
	{"EnvironmentCreationStarted", "EnvironmentCreationStartedEvent", event.CategoryEnvironment, "EnvironmentCreationStartedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; python_version: str; packages: List[str]; source: str"},
	{"EnvironmentCreated", "EnvironmentCreatedEvent", event.CategoryEnvironment, "EnvironmentCreatedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; env_path: str; python_version: str; packages: List[str]; duration_ms: float; source: str"},
	{"EnvironmentCreationFailed", "EnvironmentCreationFailedEvent", event.CategoryEnvironment, "EnvironmentCreationFailedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; error: str; python_version: str; packages: List[str]; duration_ms: float; rollback_performed: bool; source: str"},
	{"EnvironmentDeleted", "EnvironmentDeletedEvent", event.CategoryEnvironment, "EnvironmentDeletedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; env_path: str; duration_ms: float"},
	{"DependenciesAdded", "DependenciesAddedEvent", event.CategoryEnvironment, "DependenciesAddedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; packages: List[str]; duration_ms: float; exit_code: int"},
	{"DependenciesUpdated", "DependenciesUpdatedEvent", event.CategoryEnvironment, "DependenciesUpdatedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; packages: List[str]; duration_ms: float; exit_code: int"},
	{"DependenciesRemoved", "DependenciesRemovedEvent", event.CategoryEnvironment, "DependenciesRemovedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; packages: List[str]; duration_ms: float; exit_code: int"},
	{"DependencyOperationFailed", "DependencyOperationFailedEvent", event.CategoryEnvironment, "DependencyOperationFailedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; operation: str; packages: List[str]; error: str; duration_ms: float"},
	{"EnvironmentSynced", "EnvironmentSyncedEvent", event.CategoryEnvironment, "EnvironmentSyncedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; duration_ms: float; exit_code: int"},
	{"EnvironmentSyncFailed", "EnvironmentSyncFailedEvent", event.CategoryEnvironment, "EnvironmentSyncFailedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; error: str; duration_ms: float"},
	{"EnvironmentCleanupStarted", "EnvironmentCleanupStartedEvent", event.CategoryEnvironment, "EnvironmentCleanupStartedEvent", nil, "idle_hours: int"},
	{"EnvironmentCleanupCompleted", "EnvironmentCleanupCompletedEvent", event.CategoryEnvironment, "EnvironmentCleanupCompletedEvent", nil, "deleted_envs: List[str]; deleted_count: int; duration_ms: float; idle_hours: int"},
	{"EnvironmentLockAcquired", "EnvironmentLockAcquiredEvent", event.CategoryEnvironment, "EnvironmentLockAcquiredEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; operation: str"},
	{"EnvironmentLockReleased", "EnvironmentLockReleasedEvent", event.CategoryEnvironment, "EnvironmentLockReleasedEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; operation: str; held_ms: float"},
	{"EnvironmentLockTimeout", "EnvironmentLockTimeoutEvent", event.CategoryEnvironment, "EnvironmentLockTimeoutEvent", nil, "workflow_id: str; node_id: str; version_id: Optional[str]; operation: str; timeout_ms: float"},
	{"FileCommitCreated", "FileCommitCreatedEvent", event.CategoryFileProcessing, "file_commit.created", []string{"FileCommitCreatedEvent"}, "commit_id: str; file_count: int; total_size_bytes: int; message: Optional[str]; file_paths: tuple; execution_id: Optional[str]"},
	{"FileCommitDeleted", "FileCommitDeletedEvent", event.CategoryFileProcessing, "file_commit.deleted", []string{"FileCommitDeletedEvent"}, "commit_id: str; file_count: int"},
	{"FileCommitVerified", "FileCommitVerifiedEvent", event.CategoryFileProcessing, "file_commit.verified", []string{"FileCommitVerifiedEvent"}, "commit_id: str; blobs_verified: int"},
	{"FileRestored", "FileRestoredEvent", event.CategoryFileProcessing, "file.restored", []string{"FileRestoredEvent"}, "commit_id: str; files_restored: int; total_size_bytes: int; restored_paths: tuple; checkpoint_id: Optional[int]"},
	{"FileRestoreFailed", "FileRestoreFailedEvent", event.CategoryFileProcessing, "file.restore_failed", nil, "commit_id: str; error_message: str; partial_restored: tuple"},
	{"CheckpointFileLinkCreated", "CheckpointFileLinkCreatedEvent", event.CategoryFileProcessing, "checkpoint_file_link.created", []string{"CheckpointFileLinkCreatedEvent"}, "checkpoint_id: int; commit_id: str; file_count: int; total_size_bytes: int"},
	{"CheckpointFileLinkVerified", "CheckpointFileLinkVerifiedEvent", event.CategoryFileProcessing, "checkpoint_file_link.verified", []string{"CheckpointFileLinkVerifiedEvent"}, "checkpoint_id: int; commit_id: str; blobs_verified: int"},
	{"BlobCreated", "BlobCreatedEvent", event.CategoryFileProcessing, "blob.created", []string{"BlobCreatedEvent"}, "blob_id: str; size_bytes: int; is_duplicate: bool"},
	{"BlobDeleted", "BlobDeletedEvent", event.CategoryFileProcessing, "blob.deleted", []string{"BlobDeletedEvent"}, "blob_id: str; size_bytes: int"},
	{"FileTrackingStarted", "FileTrackingStartedEvent", event.CategoryFileProcessing, "file_tracking.started", []string{"FileTrackingStartedEvent"}, "operation_id: str; file_paths: tuple; checkpoint_id: Optional[int]"},
	{"FileTrackingCompleted", "FileTrackingCompletedEvent", event.CategoryFileProcessing, "file_tracking.completed", []string{"FileTrackingCompletedEvent"}, "operation_id: str; commit_id: str; duration_ms: int"},
	{"FileTrackingFailed", "FileTrackingFailedEvent", event.CategoryFileProcessing, "file_tracking.failed", []string{"FileTrackingFailedEvent"}, "operation_id: str; error_message: str; file_path: Optional[str]"},
	{"RayBatchTestStarted", "RayBatchTestStartedEvent", event.CategoryRay, "ray_batch_test_started", []string{"RayBatchTestStartedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; workflow_id: str; workflow_name: str; variant_count: int; parallel_workers: int; max_pending_tasks: int; file_tracking_enabled: bool; config_snapshot: Dict[str, Any]"},
	{"RayBatchTestCompleted", "RayBatchTestCompletedEvent", event.CategoryRay, "ray_batch_test_completed", []string{"RayBatchTestCompletedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; workflow_id: str; duration_ms: int; variants_succeeded: int; variants_failed: int; variants_cancelled: int; best_combination_name: Optional[str]; best_overall_score: float; total_files_tracked: int; has_comparison_matrix: bool"},
	{"RayBatchTestFailed", "RayBatchTestFailedEvent", event.CategoryRay, "ray_batch_test_failed", []string{"RayBatchTestFailedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; workflow_id: str; duration_ms: int; error_type: str; error_message: str; failed_at_variant: Optional[str]; variants_succeeded: int; variants_failed: int; variants_pending: int"},
	{"RayBatchTestCancelled", "RayBatchTestCancelledEvent", event.CategoryRay, "ray_batch_test_cancelled", []string{"RayBatchTestCancelledEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; workflow_id: str; duration_ms: int; reason: str; cancelled_by: str; variants_completed: int; variants_cancelled: int"},
	{"RayBatchTestProgress", "RayBatchTestProgressEvent", event.CategoryRay, "ray_batch_test_progress", []string{"RayBatchTestProgressEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; total_variants: int; completed_variants: int; failed_variants: int; in_progress_variants: int; elapsed_ms: int; estimated_remaining_ms: Optional[int]; variants_per_second: float"},
	{"RayActorPoolCreated", "RayActorPoolCreatedEvent", event.CategoryRay, "ray_actor_pool_created", []string{"RayActorPoolCreatedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; num_actors: int; cpus_per_actor: float; memory_per_actor_gb: float; actor_ids: List[str]"},
	{"RayActorInitialized", "RayActorInitializedEvent", event.CategoryRay, "ray_actor_initialized", []string{"RayActorInitializedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; actor_id: str; batch_test_id: str; initialization_time_ms: int; state_adapter_type: str; file_tracking_enabled: bool"},
	{"RayActorFailed", "RayActorFailedEvent", event.CategoryRay, "ray_actor_failed", []string{"RayActorFailedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; actor_id: str; batch_test_id: str; error_type: str; error_message: str; executing_variant: Optional[str]; executions_completed: int"},
	{"RayActorRestarted", "RayActorRestartedEvent", event.CategoryRay, "ray_actor_restarted", []string{"RayActorRestartedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; actor_id: str; batch_test_id: str; restart_count: int; reason: str"},
	{"RayVariantExecutionStarted", "RayVariantExecutionStartedEvent", event.CategoryRay, "ray_variant_execution_started", []string{"RayVariantExecutionStartedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; variants: Dict[str, str]; queue_position: int; total_in_queue: int"},
	{"RayVariantExecutionCompleted", "RayVariantExecutionCompletedEvent", event.CategoryRay, "ray_variant_execution_completed", []string{"RayVariantExecutionCompletedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; variants: Dict[str, str]; duration_ms: int; checkpoint_count: int; node_count: int; metrics: Dict[str, float]; overall_score: float; files_tracked: int; file_commit_id: Optional[str]"},
	{"RayVariantExecutionFailed", "RayVariantExecutionFailedEvent", event.CategoryRay, "ray_variant_execution_failed", []string{"RayVariantExecutionFailedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; variants: Dict[str, str]; error_type: str; error_message: str; failed_at_node: Optional[str]; duration_ms: int; nodes_completed: int; checkpoints_created: int"},
	{"RayVariantExecutionCancelled", "RayVariantExecutionCancelledEvent", event.CategoryRay, "ray_variant_execution_cancelled", []string{"RayVariantExecutionCancelledEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; reason: str; duration_ms: int"},
	{"RayVariantFilesTracked", "RayVariantFilesTrackedEvent", event.CategoryRay, "ray_variant_files_tracked", []string{"RayVariantFilesTrackedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; files_tracked: int; file_commit_id: str; checkpoint_id: int; file_paths: List[str]"},
	{"RayVariantFilesTrackingFailed", "RayVariantFilesTrackingFailedEvent", event.CategoryRay, "ray_variant_files_tracking_failed", []string{"RayVariantFilesTrackingFailedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; execution_id: str; batch_test_id: str; actor_id: str; combination_name: str; error_message: str; failed_files: List[str]"},
	{"RayBackpressureApplied", "RayBackpressureAppliedEvent", event.CategoryRay, "ray_backpressure_applied", []string{"RayBackpressureAppliedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; pending_tasks: int; max_pending_tasks: int; wait_time_ms: int"},
	{"RayBackpressureReleased", "RayBackpressureReleasedEvent", event.CategoryRay, "ray_backpressure_released", []string{"RayBackpressureReleasedEvent"}, "ray_job_id: Optional[str]; ray_address: Optional[str]; batch_test_id: str; pending_tasks: int; tasks_completed: int"},
	{"WorkspaceCreated", "WorkspaceCreatedEvent", event.CategoryWorkspace, "WorkspaceCreatedEvent", nil, "workspace_id: str; batch_test_id: str; execution_id: str; variant_name: str; workspace_path: str; source_snapshot_commit_id: Optional[str]; file_count: int; total_size_bytes: int; strategy: str; parent_workspace_id: Optional[str]"},
	{"WorkspaceActivated", "WorkspaceActivatedEvent", event.CategoryWorkspace, "WorkspaceActivatedEvent", nil, "workspace_id: str; execution_id: str; previous_cwd: str; new_cwd: str"},
	{"WorkspaceDeactivated", "WorkspaceDeactivatedEvent", event.CategoryWorkspace, "WorkspaceDeactivatedEvent", nil, "workspace_id: str; execution_id: str; files_written: int; output_size_bytes: int; restored_cwd: str"},
	{"WorkspaceCleanedUp", "WorkspaceCleanedUpEvent", event.CategoryWorkspace, "WorkspaceCleanedUpEvent", nil, "workspace_id: str; reason: str; files_removed: int; space_freed_bytes: int; preserved: bool"},
	{"FileSnapshotCreated", "FileSnapshotCreatedEvent", event.CategoryWorkspace, "FileSnapshotCreatedEvent", nil, "workspace_id: str; batch_test_id: str; commit_id: str; file_count: int; total_size_bytes: int; source_paths: List[str]"},
	{"FileRestore", "FileRestoreEvent", event.CategoryWorkspace, "FileRestoreEvent", nil, "execution_id: str; checkpoint_id: int; file_commit_id: str; workspace_id: str; files_restored: int; total_size_bytes: int; restore_target: str; success: bool; error_message: Optional[str]"},
	{"WorkspaceFileRestoreFailed", "FileRestoreFailedEvent", event.CategoryWorkspace, "FileRestoreFailedEvent", nil, "execution_id: str; checkpoint_id: int; workspace_id: str; error_message: str; error_type: str"},
	{"ForkRequested", "ForkRequestedEvent", event.CategoryWorkspace, "ForkRequestedEvent", nil, "parent_execution_id: str; fork_checkpoint_id: Optional[int]; new_execution_id: str; fork_type: str; workspace_id: str"},
	{"ForkCompleted", "ForkCompletedEvent", event.CategoryWorkspace, "ForkCompletedEvent", nil, "new_execution_id: str; workspace_id: str; thread_id: str; parent_execution_id: str; fork_checkpoint_id: Optional[int]; ready_to_execute: bool; files_copied: int; total_size_bytes: int"},
	{"VenvCreated", "VenvCreatedEvent", event.CategoryWorkspace, "VenvCreatedEvent", nil, "workspace_id: str; execution_id: str; venv_path: str; python_version: str; packages: List[str]; venv_spec_hash: str; creation_time_ms: float"},
	{"VenvReused", "VenvReusedEvent", event.CategoryWorkspace, "VenvReusedEvent", nil, "workspace_id: str; venv_path: str; venv_spec_hash: str; original_creation_time: Optional[datetime]"},
	{"VenvInvalidated", "VenvInvalidatedEvent", event.CategoryWorkspace, "VenvInvalidatedEvent", nil, "node_id: str; old_spec_hash: str; new_spec_hash: str; reason: str; affected_workspaces: List[str]"},
	{"VenvMismatchWarning", "VenvMismatchWarningEvent", event.CategoryWorkspace, "VenvMismatchWarningEvent", nil, "checkpoint_id: int; expected_venv_hash: str; current_venv_hash: str; expected_packages: List[str]; current_packages: List[str]"},
	{"VenvRestored", "VenvRestoredEvent", event.CategoryWorkspace, "VenvRestoredEvent", nil, "workspace_id: str; checkpoint_id: int; venv_path: str; restored_from: str; restore_time_ms: float"},
	{"ActorCreated", "ActorCreatedEvent", event.CategoryWorkspace, "ActorCreatedEvent", nil, "actor_id: str; execution_id: str; workspace_id: str; for_fork: bool; for_resume: bool; resources: Dict[str, Any]"},
	{"ActorReset", "ActorResetEvent", event.CategoryWorkspace, "ActorResetEvent", nil, "actor_id: str; reason: str; resources_cleared: List[str]"},
	{"ActorKilled", "ActorKilledEvent", event.CategoryWorkspace, "ActorKilledEvent", nil, "actor_id: str; reason: str; resources_released: List[str]"},
	{"ResourcesReleased", "ResourcesReleasedEvent", event.CategoryWorkspace, "ResourcesReleasedEvent", nil, "actor_id: str; reason: str; gpu_memory_freed_mb: float; resources_list: List[str]"},
	{"ResourcesReacquired", "ResourcesReacquiredEvent", event.CategoryWorkspace, "ResourcesReacquiredEvent", nil, "actor_id: str; gpu_memory_allocated_mb: float; reacquisition_time_ms: float"},
	{"OrphanWorkspaceDetected", "OrphanWorkspaceDetectedEvent", event.CategoryWorkspace, "OrphanWorkspaceDetectedEvent", nil, "workspace_path: str; original_pid: int; age_hours: float; action: str"},
	{"OrphanCleanupCompleted", "OrphanCleanupCompletedEvent", event.CategoryWorkspace, "OrphanCleanupCompletedEvent", nil, "orphans_found: int; orphans_cleaned: int; space_freed_mb: float; errors: List[str]"},
}

// referenceKinds are the 23 LangGraphAuditEventType values (§e.1), in order.
var referenceKinds = []string{
	"execution_started", "execution_completed", "execution_failed", "execution_paused", "execution_resumed",
	"node_started", "node_completed", "node_failed", "node_skipped",
	"checkpoint_created", "checkpoint_restored",
	"tool_started", "tool_completed", "tool_failed",
	"llm_started", "llm_completed", "llm_streamed",
	"retriever_started", "retriever_completed",
	"custom_event", "progress_update",
	"superstep_started", "superstep_completed",
}

// referenceType names the reference type a Go field type stands for.
func referenceType(t reflect.Type) []string {
	switch t {
	case reflect.TypeFor[string]():
		return []string{"str"}
	case reflect.TypeFor[*string]():
		return []string{"Optional[str]"}
	case reflect.TypeFor[int64]():
		return []string{"int"}
	case reflect.TypeFor[*int64]():
		return []string{"Optional[int]"}
	case reflect.TypeFor[float64]():
		return []string{"float"}
	case reflect.TypeFor[bool]():
		return []string{"bool"}
	case reflect.TypeFor[event.Map]():
		return []string{"Dict[str, Any]"}
	case reflect.TypeFor[map[string]any]():
		return []string{"Optional[Dict[str, Any]]"}
	case reflect.TypeFor[event.List]():
		return []string{"list"}
	case reflect.TypeFor[event.Strings]():
		return []string{"List[str]", "tuple"}
	case reflect.TypeFor[[]string]():
		return []string{"Optional[List[str]]"}
	case reflect.TypeFor[event.FloatMap]():
		return []string{"Dict[str, float]"}
	case reflect.TypeFor[map[string]float64]():
		return []string{"Optional[Dict[str, float]]"}
	case reflect.TypeFor[event.StringMap]():
		return []string{"Dict[str, str]"}
	case reflect.TypeFor[any]():
		return []string{"Any"}
	case reflect.TypeFor[*time.Time]():
		return []string{"Optional[datetime]"}
	case reflect.TypeFor[event.LangGraphKind]():
		return []string{"LangGraphAuditEventType"}
	}
	return nil
}

func TestCatalogPinned(t *testing.T) {
	types := event.Types()
	if len(types) != len(catalog) || len(types) != event.NumTypes {
		t.Fatalf("Types() has %d types, the reference catalog %d, NumTypes %d", len(types), len(catalog), event.NumTypes)
	}
	for i, want := range catalog {
		got := types[i]
		t.Run(want.goName, func(t *testing.T) {
			if got.Index != i {
				t.Errorf("Index = %d, want %d", got.Index, i)
			}
			if got.Name != want.goName || got.Class != want.class || got.Category != want.category {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", got.Name, got.Class, got.Category, want.goName, want.class, want.category)
			}
			wire := []string{want.wire}
			if want.wire == "kinds" {
				wire = referenceKinds
			}
			if !slices.Equal(got.WireNames, wire) {
				t.Errorf("WireNames = %q, want %q", got.WireNames, wire)
			}
			if !slices.Equal(got.Aliases, want.aliases) {
				t.Errorf("Aliases = %q, want %q", got.Aliases, want.aliases)
			}
			for _, n := range append(slices.Clone(wire), want.aliases...) {
				if lt, ok := event.Lookup(n); !ok || lt != got {
					t.Errorf("Lookup(%q) = %v, %v; want %s", n, lt, ok, got.Name)
				}
			}
			ev := got.New()
			if ev.Type() != got {
				t.Errorf("New().Type() = %v", ev.Type())
			}
			rt := reflect.TypeOf(ev).Elem()
			if rt.Name() != want.goName {
				t.Errorf("New() is a %s", rt.Name())
			}
			var fields []string
			for f := range rt.Fields() {
				if f.Anonymous {
					if f.Type != reflect.TypeFor[event.Base]() {
						t.Errorf("embedded %s", f.Type)
					}
					continue
				}
				if !f.IsExported() {
					continue // state of the codec, not a wire field
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				refs := referenceType(f.Type)
				if refs == nil {
					t.Errorf("field %s has unmapped type %s", f.Name, f.Type)
					continue
				}
				fields = append(fields, name+": "+strings.Join(refs, "|"))
			}
			wantFields := strings.Split(want.fields, "; ")
			if len(fields) != len(wantFields) {
				t.Fatalf("fields:\n got %q\nwant %q", fields, wantFields)
			}
			for j := range fields {
				gname, gtypes, _ := strings.Cut(fields[j], ": ")
				wname, wtype, _ := strings.Cut(wantFields[j], ": ")
				if gname != wname || !slices.Contains(strings.Split(gtypes, "|"), wtype) {
					t.Errorf("field %d: got %s, want %s", j, fields[j], wantFields[j])
				}
			}
		})
	}
}

func TestCategoryCounts(t *testing.T) {
	want := map[event.Category]int{
		event.CategoryExecution: 6, event.CategoryNode: 4, event.CategoryCheckpoint: 7, event.CategoryLangGraph: 1,
		event.CategoryEnvironment: 15, event.CategoryFileProcessing: 12, event.CategoryRay: 17, event.CategoryWorkspace: 21,
	}
	total := 0
	for _, c := range event.Categories {
		ts := event.TypesIn(c)
		if len(ts) != want[c] {
			t.Errorf("TypesIn(%s) has %d types, want %d", c, len(ts), want[c])
		}
		for _, ty := range ts {
			if ty.Category != c {
				t.Errorf("TypesIn(%s) returned %s of %s", c, ty.Name, ty.Category)
			}
		}
		total += len(ts)
	}
	if total != event.NumTypes {
		t.Errorf("categories hold %d types, want %d", total, event.NumTypes)
	}
	if got := event.TypesIn("nonsense"); len(got) != 0 {
		t.Errorf("TypesIn(nonsense) = %v", got)
	}
}

func TestFileRestoreFailedCollision(t *testing.T) {
	tests := []struct {
		wire     string
		want     string
		category event.Category
	}{
		{"FileRestoreFailedEvent", "WorkspaceFileRestoreFailed", event.CategoryWorkspace},
		{"file.restore_failed", "FileRestoreFailed", event.CategoryFileProcessing},
	}
	for _, tt := range tests {
		ty, ok := event.Lookup(tt.wire)
		if !ok || ty.Name != tt.want || ty.Category != tt.category {
			t.Errorf("Lookup(%q) = %v, %v; want %s in %s", tt.wire, ty, ok, tt.want, tt.category)
		}
	}
	for _, name := range []string{"WTBEvent", "NodeEvent", "CheckpointEvent", "EnvironmentEvent", "RayEvent", "ray_event", "LangGraphAuditEvent", ""} {
		if ty, ok := event.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %s; base classes are not events", name, ty.Name)
		}
	}
}

func TestWireNameOfValues(t *testing.T) {
	for _, ty := range event.Types() {
		ev := ty.New()
		if ty.Name == "LangGraphAudit" {
			if got := ev.WireName(); got != "custom_event" {
				t.Errorf("empty LangGraphAudit WireName = %q", got)
			}
			for _, k := range event.LangGraphKinds() {
				if got := (&event.LangGraphAudit{Kind: k}).WireName(); got != string(k) {
					t.Errorf("WireName of kind %s = %q", k, got)
				}
			}
			continue
		}
		if got := ev.WireName(); got != ty.WireNames[0] {
			t.Errorf("%s.WireName() = %q, want %q", ty.Name, got, ty.WireNames[0])
		}
		// Type and WireName are safe on nil pointers.
		nilEv := reflect.Zero(reflect.TypeOf(ev)).Interface().(event.Event)
		if nilEv.Type() != ty || nilEv.WireName() != ty.WireNames[0] {
			t.Errorf("%s: nil pointer Type/WireName wrong", ty.Name)
		}
	}
	var lg *event.LangGraphAudit
	if lg.WireName() != "custom_event" || lg.Type().Name != "LangGraphAudit" {
		t.Errorf("nil LangGraphAudit: %q %v", lg.WireName(), lg.Type())
	}
}

func TestTypeFields(t *testing.T) {
	tests := []struct {
		wire string
		want []string
	}{
		{"NodeSkippedEvent", []string{"event_id", "timestamp", "execution_id", "node_id", "node_name", "reason", "condition"}},
		{"blob.deleted", []string{"event_id", "timestamp", "blob_id", "size_bytes"}},
		{"ray_backpressure_released", []string{"event_id", "timestamp", "ray_job_id", "ray_address", "batch_test_id", "pending_tasks", "tasks_completed"}},
		{"EnvironmentCleanupStartedEvent", []string{"event_id", "timestamp", "idle_hours"}},
	}
	for _, tt := range tests {
		ty, _ := event.Lookup(tt.wire)
		if got := ty.Fields(); !slices.Equal(got, tt.want) {
			t.Errorf("%s.Fields() = %q, want %q", ty.Name, got, tt.want)
		}
	}
	ty, _ := event.Lookup("NodeSkippedEvent")
	if !ty.HasField("condition") || ty.HasField("event_type") || ty.HasField("Condition") {
		t.Error("HasField")
	}
	lg, _ := event.Lookup("node_started")
	if !lg.HasField("event_type") || !lg.HasField("metrics") {
		t.Error("LangGraphAudit.HasField")
	}
	for _, ty := range event.Types() {
		ty.Fields()[0] = "mutated"
		if ty.Fields()[0] != "event_id" {
			t.Fatalf("%s: Fields shares its slice", ty.Name)
		}
	}
}
