package audit

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wtbdev/wtb/event"
)

// maxListDetail is the number of items kept from lists of paths or ids that
// can grow without bound (the reference keeps the first 5 file paths).
const maxListDetail = 5

// FromEvent maps an event to its audit entry: EventID, SourceType (the wire
// name) and Timestamp (the event's, in UTC) come from the event, the rest
// from the mapping table in the package documentation. Every event of the
// catalog maps to an entry; an event outside it (impossible for the closed
// event.Event interface) maps to a debug entry of its wire name.
func FromEvent(ev event.Event) Entry {
	var nb numBuf // digits of the numbers in messages, without allocating
	switch ev := ev.(type) {
	// execution
	case *event.ExecutionStarted:
		e := newEntry(ev, TypeExecutionStarted, SeverityInfo, "")
		e.ExecutionID = ev.ExecutionID
		o := newObject(96 + len(ev.WorkflowID) + 16*len(ev.Breakpoints) + len(ev.WorkflowName))
		o.str("workflow_id", ev.WorkflowID)
		o.list("breakpoints", ev.Breakpoints)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Execution started for workflow '"...)
		m = append(m, ev.WorkflowName...)
		m = append(m, '\'')
		e.Message = bytesString(m)
		return e
	case *event.ExecutionCompleted:
		e := newEntry(ev, TypeExecutionCompleted, SeveritySuccess, "")
		e.ExecutionID = ev.ExecutionID
		e.DurationMS = fptr(ev.DurationMS)
		o := newObject(112 + 16*len(ev.FinalState))
		o.strs("final_state_keys", ev.FinalStateKeys(), -1)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Execution completed ("...)
		m = strconv.AppendInt(m, ev.NodesExecuted, 10)
		m = append(m, " nodes, "...)
		m = strconv.AppendInt(m, ev.CheckpointsCreated, 10)
		m = append(m, " checkpoints)"...)
		e.Message = bytesString(m)
		return e
	case *event.ExecutionFailed:
		e := newEntry(ev, TypeExecutionFailed, SeverityError, "Execution failed at node "+quote(ev.FailedAtNode))
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.FailedAtNode
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		e.DurationMS = fptr(ev.DurationMS)
		e.Details = emptyDetails()
		return e
	case *event.ExecutionPaused:
		e := newEntry(ev, TypeExecutionPaused, SeverityInfo, "Execution paused: "+ev.Reason)
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.PausedAtNode
		e.DurationMS = fptr(ev.ElapsedTimeMS)
		o := newObject(32)
		o.intPtr("checkpoint_id", ev.CheckpointID)
		e.Details = o.done()
		return e
	case *event.ExecutionResumed:
		e := newEntry(ev, TypeExecutionResumed, SeverityInfo, "Execution resumed from node "+quote(ev.ResumeFromNode))
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.ResumeFromNode
		o := newObject(32)
		o.bool("state_modified", ev.ModifiedState != nil)
		e.Details = o.done()
		return e
	case *event.ExecutionCancelled:
		e := newEntry(ev, TypeExecutionCancelled, SeverityWarning, "Execution cancelled: "+ev.Reason)
		e.ExecutionID, e.NodeID = ev.ExecutionID, deref(ev.CancelledAtNode)
		e.DurationMS = fptr(ev.DurationMS)
		e.Details = emptyDetails()
		return e

	// node
	case *event.NodeStarted:
		e := newEntry(ev, TypeNodeStarted, SeverityDebug, "")
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.NodeID
		o := newObject(72 + len(ev.NodeType) + len(ev.NodeName))
		o.str("node_type", ev.NodeType)
		o.intPtr("checkpoint_id", ev.EntryCheckpointID)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Node '"...)
		m = append(m, ev.NodeName...)
		m = append(m, "' started"...)
		e.Message = bytesString(m)
		return e
	case *event.NodeCompleted:
		e := newEntry(ev, TypeNodeCompleted, SeveritySuccess, "")
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.NodeID
		e.DurationMS = fptr(ev.DurationMS)
		o := newObject(80 + len(ev.NodeName))
		o.intPtr("checkpoint_id", ev.ExitCheckpointID)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Node '"...)
		m = append(m, ev.NodeName...)
		m = append(m, "' completed ("...)
		m = strconv.AppendInt(m, ev.ToolInvocations, 10)
		m = append(m, " tool calls)"...)
		e.Message = bytesString(m)
		return e
	case *event.NodeFailed:
		e := newEntry(ev, TypeNodeFailed, SeverityError, "")
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.NodeID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		e.DurationMS = fptr(ev.DurationMS)
		o := newObject(48 + len(ev.NodeName))
		o.bool("recoverable", ev.Recoverable)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Node '"...)
		m = append(m, ev.NodeName...)
		m = append(m, "' failed"...)
		e.Message = bytesString(m)
		return e
	case *event.NodeSkipped:
		e := newEntry(ev, TypeNodeSkipped, SeverityInfo, "Node "+quote(ev.NodeName)+" skipped: "+ev.Reason)
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.NodeID
		e.Details = emptyDetails()
		return e

	// checkpoint
	case *event.CheckpointCreated:
		e := newEntry(ev, TypeCheckpointCreated, SeverityInfo, "")
		e.ExecutionID, e.NodeID = ev.ExecutionID, deref(ev.CompletedNode)
		o := newObject(128 + len(e.NodeID) + len(ev.CheckpointID))
		o.int("step", ev.Step)
		o.strPtr("completed_node", ev.CompletedNode)
		o.bool("is_terminal", ev.IsTerminal)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Checkpoint '"...)
		m = append(m, ev.CheckpointID...)
		m = append(m, "' created (step "...)
		m = strconv.AppendInt(m, ev.Step, 10)
		m = append(m, ')')
		e.Message = bytesString(m)
		return e
	case *event.RollbackCompleted:
		e := newEntry(ev, TypeRollbackPerformed, SeverityWarning, "Rolled back to checkpoint "+quote(ev.ToCheckpointID)+" ("+string(nb.itoa(0, int64(len(ev.RolledBackNodes))))+" nodes reverted)")
		e.ExecutionID = ev.ExecutionID
		o := newObject(96)
		o.str("from_checkpoint", ev.FromCheckpointID)
		o.str("to_checkpoint", ev.ToCheckpointID)
		o.strs("rolled_back_nodes", ev.RolledBackNodes, -1)
		e.Details = o.done()
		return e
	case *event.BranchCreated:
		e := newEntry(ev, TypeBranchCreated, SeverityInfo, "Branch created: thread "+ev.NewThreadID+" from "+ev.ParentExecutionID)
		e.ExecutionID = ev.ExecutionID
		o := newObject(32)
		o.str("reason", ev.BranchReason)
		e.Details = o.done()
		return e
	case *event.RollbackRequested:
		e := newEntry(ev, TypeRollbackRequested, SeverityInfo, "Rollback to checkpoint "+quote(ev.TargetCheckpointID)+" requested: "+ev.Reason)
		e.ExecutionID, e.NodeID = ev.ExecutionID, deref(ev.TargetNodeID)
		o := newObject(96)
		o.str("target_checkpoint", ev.TargetCheckpointID)
		o.strPtr("target_node_id", ev.TargetNodeID)
		o.str("requested_by", ev.RequestedBy)
		e.Details = o.done()
		return e
	case *event.RollbackFailed:
		e := newEntry(ev, TypeRollbackFailed, SeverityError, "Rollback to checkpoint "+quote(ev.TargetCheckpointID)+" failed: "+ev.ErrorMessage)
		e.ExecutionID = ev.ExecutionID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		o := newObject(48)
		o.str("target_checkpoint", ev.TargetCheckpointID)
		e.Details = o.done()
		return e
	case *event.NodeBoundaryRecorded:
		e := newEntry(ev, TypeNodeBoundaryRecorded, SeverityDebug, "Node "+quote(ev.NodeID)+" "+ev.BoundaryType+" boundary recorded ("+ev.NodeStatus+")")
		e.ExecutionID, e.NodeID = ev.ExecutionID, ev.NodeID
		if ev.DurationMS != nil {
			e.DurationMS = fptr(float64(*ev.DurationMS))
		}
		o := newObject(96)
		o.str("boundary_type", ev.BoundaryType)
		o.str("checkpoint_id", ev.CheckpointID)
		o.str("node_status", ev.NodeStatus)
		e.Details = o.done()
		return e
	case *event.ExecutionHistoryLoaded:
		e := newEntry(ev, TypeExecutionHistoryLoaded, SeverityInfo, "Execution history loaded ("+string(nb.itoa(0, ev.CheckpointCount))+" checkpoints, "+string(nb.itoa(1, int64(len(ev.CompletedNodes))))+" completed nodes)")
		e.ExecutionID = ev.ExecutionID
		o := newObject(96)
		o.int("checkpoint_count", ev.CheckpointCount)
		o.strs("completed_nodes", ev.CompletedNodes, -1)
		o.strPtr("latest_checkpoint_id", ev.LatestCheckpointID)
		e.Details = o.done()
		return e

	// langgraph
	case *event.LangGraphAudit:
		return fromLangGraph(ev)

	// environment
	case *event.EnvironmentCreationStarted:
		e := envEntry(ev, TypeEnvironmentCreationStarted, SeverityInfo, "Environment "+quote(ev.EnvID())+" creation started (Python "+ev.PythonVersion+", "+string(nb.itoa(0, int64(len(ev.Packages))))+" packages)", ev.NodeID)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("python_version", ev.PythonVersion)
		o.strs("packages", ev.Packages, -1)
		o.str("source", ev.Source)
		e.Details = o.done()
		return e
	case *event.EnvironmentCreated:
		e := envEntry(ev, TypeEnvironmentCreated, SeveritySuccess, "Environment "+quote(ev.EnvID())+" created", ev.NodeID)
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("env_path", ev.EnvPath)
		o.str("python_version", ev.PythonVersion)
		o.strs("packages", ev.Packages, -1)
		o.str("source", ev.Source)
		e.Details = o.done()
		return e
	case *event.EnvironmentCreationFailed:
		e := envEntry(ev, TypeEnvironmentCreationFailed, SeverityError, "Environment "+quote(ev.EnvID())+" creation failed: "+ev.Error, ev.NodeID)
		e.Error = ev.Error
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("python_version", ev.PythonVersion)
		o.strs("packages", ev.Packages, -1)
		o.bool("rollback_performed", ev.RollbackPerformed)
		o.str("source", ev.Source)
		e.Details = o.done()
		return e
	case *event.EnvironmentDeleted:
		e := envEntry(ev, TypeEnvironmentDeleted, SeverityInfo, "Environment "+quote(ev.EnvID())+" deleted", ev.NodeID)
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("env_path", ev.EnvPath)
		e.Details = o.done()
		return e
	case *event.DependenciesAdded:
		return depsEntry(ev, TypeDependenciesAdded, "Added "+string(nb.itoa(0, int64(len(ev.Packages))))+" packages to environment "+quote(ev.EnvID()),
			ev.EnvID(), ev.WorkflowID, ev.NodeID, ev.VersionID, ev.Packages, ev.DurationMS, ev.ExitCode)
	case *event.DependenciesUpdated:
		return depsEntry(ev, TypeDependenciesUpdated, "Updated "+string(nb.itoa(0, int64(len(ev.Packages))))+" packages in environment "+quote(ev.EnvID()),
			ev.EnvID(), ev.WorkflowID, ev.NodeID, ev.VersionID, ev.Packages, ev.DurationMS, ev.ExitCode)
	case *event.DependenciesRemoved:
		return depsEntry(ev, TypeDependenciesRemoved, "Removed "+string(nb.itoa(0, int64(len(ev.Packages))))+" packages from environment "+quote(ev.EnvID()),
			ev.EnvID(), ev.WorkflowID, ev.NodeID, ev.VersionID, ev.Packages, ev.DurationMS, ev.ExitCode)
	case *event.DependencyOperationFailed:
		e := envEntry(ev, TypeDependencyOperationFailed, SeverityError, "Dependency "+ev.Operation+" failed in environment "+quote(ev.EnvID())+": "+ev.Error, ev.NodeID)
		e.Error = ev.Error
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("operation", ev.Operation)
		o.strs("packages", ev.Packages, -1)
		e.Details = o.done()
		return e
	case *event.EnvironmentSynced:
		sev := SeveritySuccess
		if ev.ExitCode != 0 {
			sev = SeverityWarning
		}
		e := envEntry(ev, TypeEnvironmentSynced, sev, "Environment "+quote(ev.EnvID())+" synced (exit code "+string(nb.itoa(0, ev.ExitCode))+")", ev.NodeID)
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.int("exit_code", ev.ExitCode)
		e.Details = o.done()
		return e
	case *event.EnvironmentSyncFailed:
		e := envEntry(ev, TypeEnvironmentSyncFailed, SeverityError, "Environment "+quote(ev.EnvID())+" sync failed: "+ev.Error, ev.NodeID)
		e.Error = ev.Error
		e.DurationMS = fptr(ev.DurationMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		e.Details = o.done()
		return e
	case *event.EnvironmentCleanupStarted:
		e := newEntry(ev, TypeEnvironmentCleanupStarted, SeverityInfo, "Environment cleanup started (idle for "+string(nb.itoa(0, ev.IdleHours))+" hours)")
		o := newObject(24)
		o.int("idle_hours", ev.IdleHours)
		e.Details = o.done()
		return e
	case *event.EnvironmentCleanupCompleted:
		e := newEntry(ev, TypeEnvironmentCleanupCompleted, SeveritySuccess, "Environment cleanup completed: "+string(nb.itoa(0, ev.DeletedCount))+" environments deleted")
		e.DurationMS = fptr(ev.DurationMS)
		o := newObject(96)
		o.int("deleted_count", ev.DeletedCount)
		o.strs("deleted_envs", ev.DeletedEnvs, maxListDetail)
		o.int("idle_hours", ev.IdleHours)
		e.Details = o.done()
		return e
	case *event.EnvironmentLockAcquired:
		e := envEntry(ev, TypeEnvironmentLockAcquired, SeverityDebug, "Environment "+quote(ev.EnvID())+" locked for "+ev.Operation, ev.NodeID)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("operation", ev.Operation)
		e.Details = o.done()
		return e
	case *event.EnvironmentLockReleased:
		e := envEntry(ev, TypeEnvironmentLockReleased, SeverityDebug, "Environment "+quote(ev.EnvID())+" unlocked after "+ev.Operation, ev.NodeID)
		e.DurationMS = fptr(ev.HeldMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("operation", ev.Operation)
		e.Details = o.done()
		return e
	case *event.EnvironmentLockTimeout:
		e := envEntry(ev, TypeEnvironmentLockTimeout, SeverityError, "Environment "+quote(ev.EnvID())+" lock timed out for "+ev.Operation+" after "+strconv.FormatFloat(ev.TimeoutMS, 'f', 0, 64)+"ms", ev.NodeID)
		e.DurationMS = fptr(ev.TimeoutMS)
		o := envDetails(ev.EnvID(), ev.WorkflowID, ev.VersionID)
		o.str("operation", ev.Operation)
		o.float("timeout_ms", ev.TimeoutMS)
		e.Details = o.done()
		return e

	// file processing
	case *event.FileCommitCreated:
		e := newEntry(ev, TypeFileCommitCreated, SeveritySuccess, "File commit "+quote(ev.CommitID)+" created ("+string(nb.itoa(0, ev.FileCount))+" files, "+string(nb.itoa(1, ev.TotalSizeBytes))+" bytes)")
		e.ExecutionID = deref(ev.ExecutionID)
		o := newObject(160)
		o.str("commit_id", ev.CommitID)
		o.int("file_count", ev.FileCount)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		o.strPtr("message", ev.Message)
		o.strs("file_paths", ev.FilePaths, maxListDetail)
		e.Details = o.done()
		return e
	case *event.FileCommitDeleted:
		e := newEntry(ev, TypeFileCommitDeleted, SeverityInfo, "File commit "+quote(ev.CommitID)+" deleted ("+string(nb.itoa(0, ev.FileCount))+" files)")
		o := newObject(96)
		o.str("commit_id", ev.CommitID)
		o.int("file_count", ev.FileCount)
		e.Details = o.done()
		return e
	case *event.FileCommitVerified:
		e := newEntry(ev, TypeFileCommitVerified, SeverityInfo, "File commit "+quote(ev.CommitID)+" verified ("+string(nb.itoa(0, ev.BlobsVerified))+" blobs)")
		o := newObject(96)
		o.str("commit_id", ev.CommitID)
		o.int("blobs_verified", ev.BlobsVerified)
		e.Details = o.done()
		return e
	case *event.FileRestored:
		e := newEntry(ev, TypeFileRestored, SeveritySuccess, "Restored "+string(nb.itoa(0, ev.FilesRestored))+" files from commit "+quote(ev.CommitID))
		o := newObject(160)
		o.str("commit_id", ev.CommitID)
		o.int("files_restored", ev.FilesRestored)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		o.intPtr("checkpoint_id", ev.CheckpointID)
		o.strs("restored_paths", ev.RestoredPaths, maxListDetail)
		e.Details = o.done()
		return e
	case *event.FileRestoreFailed:
		e := newEntry(ev, TypeFileRestoreFailed, SeverityError, "File restore from commit "+quote(ev.CommitID)+" failed: "+ev.ErrorMessage)
		e.Error = ev.ErrorMessage
		o := newObject(128)
		o.str("commit_id", ev.CommitID)
		o.strs("partial_restored", ev.PartialRestored, maxListDetail)
		e.Details = o.done()
		return e
	case *event.CheckpointFileLinkCreated:
		e := newEntry(ev, TypeCheckpointFileLinkCreated, SeverityInfo, "Checkpoint "+string(nb.itoa(0, ev.CheckpointID))+" linked to file commit "+quote(ev.CommitID)+" ("+string(nb.itoa(1, ev.FileCount))+" files)")
		o := newObject(128)
		o.int("checkpoint_id", ev.CheckpointID)
		o.str("commit_id", ev.CommitID)
		o.int("file_count", ev.FileCount)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		e.Details = o.done()
		return e
	case *event.CheckpointFileLinkVerified:
		e := newEntry(ev, TypeCheckpointFileLinkVerified, SeverityInfo, "Checkpoint "+string(nb.itoa(0, ev.CheckpointID))+" link to file commit "+quote(ev.CommitID)+" verified ("+string(nb.itoa(1, ev.BlobsVerified))+" blobs)")
		o := newObject(128)
		o.int("checkpoint_id", ev.CheckpointID)
		o.str("commit_id", ev.CommitID)
		o.int("blobs_verified", ev.BlobsVerified)
		e.Details = o.done()
		return e
	case *event.BlobCreated:
		e := newEntry(ev, TypeBlobCreated, SeverityDebug, "Blob "+quote(ev.BlobID)+" created ("+string(nb.itoa(0, ev.SizeBytes))+" bytes)")
		o := newObject(128)
		o.str("blob_id", ev.BlobID)
		o.int("size_bytes", ev.SizeBytes)
		o.bool("is_duplicate", ev.IsDuplicate)
		e.Details = o.done()
		return e
	case *event.BlobDeleted:
		e := newEntry(ev, TypeBlobDeleted, SeverityDebug, "Blob "+quote(ev.BlobID)+" deleted ("+string(nb.itoa(0, ev.SizeBytes))+" bytes)")
		o := newObject(128)
		o.str("blob_id", ev.BlobID)
		o.int("size_bytes", ev.SizeBytes)
		e.Details = o.done()
		return e
	case *event.FileTrackingStarted:
		e := newEntry(ev, TypeFileTrackingStarted, SeverityDebug, "File tracking "+quote(ev.OperationID)+" started ("+string(nb.itoa(0, int64(len(ev.FilePaths))))+" files)")
		o := newObject(160)
		o.str("operation_id", ev.OperationID)
		o.strs("file_paths", ev.FilePaths, maxListDetail)
		o.intPtr("checkpoint_id", ev.CheckpointID)
		e.Details = o.done()
		return e
	case *event.FileTrackingCompleted:
		e := newEntry(ev, TypeFileTrackingCompleted, SeveritySuccess, "File tracking "+quote(ev.OperationID)+" completed (commit "+quote(ev.CommitID)+")")
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(128)
		o.str("operation_id", ev.OperationID)
		o.str("commit_id", ev.CommitID)
		e.Details = o.done()
		return e
	case *event.FileTrackingFailed:
		e := newEntry(ev, TypeFileTrackingFailed, SeverityError, "File tracking "+quote(ev.OperationID)+" failed: "+ev.ErrorMessage)
		e.Error = ev.ErrorMessage
		o := newObject(128)
		o.str("operation_id", ev.OperationID)
		o.strPtr("file_path", ev.FilePath)
		e.Details = o.done()
		return e

	// ray
	case *event.RayBatchTestStarted:
		e := newEntry(ev, TypeRayBatchTestStarted, SeverityInfo, "Ray batch test "+quote(ev.BatchTestID)+" started ("+string(nb.itoa(0, ev.VariantCount))+" variants, "+string(nb.itoa(1, ev.ParallelWorkers))+" workers)")
		e.ExecutionID = ev.BatchTestID
		o := newObject(128)
		o.str("workflow_id", ev.WorkflowID)
		o.str("workflow_name", ev.WorkflowName)
		o.bool("file_tracking_enabled", ev.FileTrackingEnabled)
		o.int("max_pending_tasks", ev.MaxPendingTasks)
		e.Details = o.done()
		return e
	case *event.RayBatchTestCompleted:
		e := newEntry(ev, TypeRayBatchTestCompleted, SeveritySuccess, "Ray batch test completed: "+string(nb.itoa(0, ev.VariantsSucceeded))+" succeeded, "+string(nb.itoa(1, ev.VariantsFailed))+" failed")
		e.ExecutionID = ev.BatchTestID
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(128)
		o.strPtr("best_combination", ev.BestCombinationName)
		o.float("best_score", ev.BestOverallScore)
		o.int("files_tracked", ev.TotalFilesTracked)
		o.bool("has_comparison_matrix", ev.HasComparisonMatrix)
		e.Details = o.done()
		return e
	case *event.RayBatchTestFailed:
		e := newEntry(ev, TypeRayBatchTestFailed, SeverityError, "Ray batch test failed: "+ev.ErrorMessage)
		e.ExecutionID = ev.BatchTestID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(128)
		o.strPtr("failed_at_variant", ev.FailedAtVariant)
		o.int("variants_succeeded", ev.VariantsSucceeded)
		o.int("variants_failed", ev.VariantsFailed)
		o.int("variants_pending", ev.VariantsPending)
		e.Details = o.done()
		return e
	case *event.RayBatchTestCancelled:
		e := newEntry(ev, TypeRayBatchTestCancelled, SeverityWarning, "Ray batch test cancelled: "+ev.Reason)
		e.ExecutionID = ev.BatchTestID
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(96)
		o.str("cancelled_by", ev.CancelledBy)
		o.int("variants_completed", ev.VariantsCompleted)
		o.int("variants_cancelled", ev.VariantsCancelled)
		e.Details = o.done()
		return e
	case *event.RayBatchTestProgress:
		e := newEntry(ev, TypeRayBatchTestProgress, SeverityDebug, "Ray batch test progress: "+string(nb.itoa(0, ev.CompletedVariants))+"/"+string(nb.itoa(1, ev.TotalVariants))+" variants completed, "+string(nb.itoa(2, ev.FailedVariants))+" failed")
		e.ExecutionID = ev.BatchTestID
		o := newObject(192)
		o.int("total_variants", ev.TotalVariants)
		o.int("completed_variants", ev.CompletedVariants)
		o.int("failed_variants", ev.FailedVariants)
		o.int("in_progress_variants", ev.InProgressVariants)
		o.int("elapsed_ms", ev.ElapsedMS)
		o.intPtr("estimated_remaining_ms", ev.EstimatedRemainingMS)
		o.float("variants_per_second", ev.VariantsPerSecond)
		e.Details = o.done()
		return e
	case *event.RayActorPoolCreated:
		e := newEntry(ev, TypeRayActorPoolCreated, SeverityInfo, "Ray actor pool created: "+string(nb.itoa(0, ev.NumActors))+" actors")
		e.ExecutionID = ev.BatchTestID
		o := newObject(96 + 16*len(ev.ActorIDs))
		o.float("cpus_per_actor", ev.CPUsPerActor)
		o.float("memory_per_actor_gb", ev.MemoryPerActorGB)
		o.strs("actor_ids", ev.ActorIDs, -1)
		e.Details = o.done()
		return e
	case *event.RayActorInitialized:
		e := newEntry(ev, TypeRayActorInitialized, SeverityDebug, "Ray actor "+quote(ev.ActorID)+" initialized")
		e.ExecutionID = ev.BatchTestID
		e.DurationMS = fptr(float64(ev.InitializationTimeMS))
		o := newObject(96)
		o.str("state_adapter_type", ev.StateAdapterType)
		o.bool("file_tracking_enabled", ev.FileTrackingEnabled)
		e.Details = o.done()
		return e
	case *event.RayActorFailed:
		e := newEntry(ev, TypeRayActorFailed, SeverityError, "Ray actor "+quote(ev.ActorID)+" failed: "+ev.ErrorMessage)
		e.ExecutionID = ev.BatchTestID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		o := newObject(96)
		o.strPtr("executing_variant", ev.ExecutingVariant)
		o.int("executions_completed", ev.ExecutionsCompleted)
		e.Details = o.done()
		return e
	case *event.RayActorRestarted:
		e := newEntry(ev, TypeRayActorRestarted, SeverityWarning, "Ray actor "+quote(ev.ActorID)+" restarted (restart "+string(nb.itoa(0, ev.RestartCount))+"): "+ev.Reason)
		e.ExecutionID = ev.BatchTestID
		o := newObject(96)
		o.int("restart_count", ev.RestartCount)
		o.str("reason", ev.Reason)
		e.Details = o.done()
		return e
	case *event.RayVariantExecutionStarted:
		e := newEntry(ev, TypeRayVariantExecutionStarted, SeverityDebug, "Variant "+quote(ev.CombinationName)+" started on actor "+quote(ev.ActorID))
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		o := newObject(96 + 32*len(ev.Variants))
		o.stringMap("variants", ev.Variants)
		o.int("queue_position", ev.QueuePosition)
		o.int("total_in_queue", ev.TotalInQueue)
		e.Details = o.done()
		return e
	case *event.RayVariantExecutionCompleted:
		e := newEntry(ev, TypeRayVariantExecutionCompleted, SeveritySuccess, "")
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(240 + 32*len(ev.Metrics) + len(ev.CombinationName))
		o.int("checkpoint_count", ev.CheckpointCount)
		o.int("node_count", ev.NodeCount)
		o.floatMap("metrics", ev.Metrics)
		o.int("files_tracked", ev.FilesTracked)
		o.strPtr("file_commit_id", ev.FileCommitID)
		e.Details = o.done()
		m := o.message()
		m = append(m, "Variant '"...)
		m = append(m, ev.CombinationName...)
		m = append(m, "' completed (score: "...)
		m = strconv.AppendFloat(m, ev.OverallScore, 'f', 2, 64)
		m = append(m, ')')
		e.Message = bytesString(m)
		return e
	case *event.RayVariantExecutionFailed:
		e := newEntry(ev, TypeRayVariantExecutionFailed, SeverityError, "Variant "+quote(ev.CombinationName)+" failed: "+ev.ErrorMessage)
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(128)
		o.strPtr("failed_at_node", ev.FailedAtNode)
		o.int("nodes_completed", ev.NodesCompleted)
		o.int("checkpoints_created", ev.CheckpointsCreated)
		e.Details = o.done()
		return e
	case *event.RayVariantExecutionCancelled:
		e := newEntry(ev, TypeRayVariantExecutionCancelled, SeverityWarning, "Variant "+quote(ev.CombinationName)+" cancelled: "+ev.Reason)
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		e.DurationMS = fptr(float64(ev.DurationMS))
		o := newObject(64)
		o.str("actor_id", ev.ActorID)
		e.Details = o.done()
		return e
	case *event.RayVariantFilesTracked:
		e := newEntry(ev, TypeRayFilesTracked, SeverityInfo, "Tracked "+string(nb.itoa(0, ev.FilesTracked))+" files for variant "+quote(ev.CombinationName))
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		o := newObject(160 + 48*min(len(ev.FilePaths), maxListDetail))
		o.str("file_commit_id", ev.FileCommitID)
		o.int("checkpoint_id", ev.CheckpointID)
		o.strs("file_paths", ev.FilePaths, maxListDetail)
		e.Details = o.done()
		return e
	case *event.RayVariantFilesTrackingFailed:
		e := newEntry(ev, TypeRayFilesTrackingFailed, SeverityError, "File tracking failed for variant "+quote(ev.CombinationName)+": "+ev.ErrorMessage)
		e.ExecutionID, e.NodeID = ev.BatchTestID, ev.ExecutionID
		e.Error = ev.ErrorMessage
		o := newObject(160)
		o.str("actor_id", ev.ActorID)
		o.strs("failed_files", ev.FailedFiles, maxListDetail)
		e.Details = o.done()
		return e
	case *event.RayBackpressureApplied:
		e := newEntry(ev, TypeRayBackpressure, SeverityWarning, "Backpressure applied: "+string(nb.itoa(0, ev.PendingTasks))+"/"+string(nb.itoa(1, ev.MaxPendingTasks))+" pending tasks")
		e.ExecutionID = ev.BatchTestID
		e.DurationMS = fptr(float64(ev.WaitTimeMS))
		o := newObject(64)
		o.int("pending_tasks", ev.PendingTasks)
		o.int("max_pending_tasks", ev.MaxPendingTasks)
		e.Details = o.done()
		return e
	case *event.RayBackpressureReleased:
		e := newEntry(ev, TypeRayBackpressureReleased, SeverityInfo, "Backpressure released: "+string(nb.itoa(0, ev.PendingTasks))+" pending tasks")
		e.ExecutionID = ev.BatchTestID
		o := newObject(64)
		o.int("pending_tasks", ev.PendingTasks)
		o.int("tasks_completed", ev.TasksCompleted)
		e.Details = o.done()
		return e

	// workspace
	case *event.WorkspaceCreated:
		e := newEntry(ev, TypeWorkspaceCreated, SeverityInfo, "Workspace "+quote(ev.WorkspaceID)+" created for variant "+quote(ev.VariantName)+" ("+string(nb.itoa(0, ev.FileCount))+" files)")
		e.ExecutionID = orElse(ev.ExecutionID, ev.BatchTestID)
		o := newObject(256)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("batch_test_id", ev.BatchTestID)
		o.str("workspace_path", ev.WorkspacePath)
		o.str("strategy", ev.Strategy)
		o.int("file_count", ev.FileCount)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		o.strPtr("source_snapshot_commit_id", ev.SourceSnapshotCommitID)
		o.strPtr("parent_workspace_id", ev.ParentWorkspaceID)
		e.Details = o.done()
		return e
	case *event.WorkspaceActivated:
		e := newEntry(ev, TypeWorkspaceActivated, SeverityDebug, "Workspace "+quote(ev.WorkspaceID)+" activated")
		e.ExecutionID = ev.ExecutionID
		o := newObject(160)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("new_cwd", ev.NewCWD)
		o.str("previous_cwd", ev.PreviousCWD)
		e.Details = o.done()
		return e
	case *event.WorkspaceDeactivated:
		e := newEntry(ev, TypeWorkspaceDeactivated, SeverityDebug, "Workspace "+quote(ev.WorkspaceID)+" deactivated ("+string(nb.itoa(0, ev.FilesWritten))+" files written)")
		e.ExecutionID = ev.ExecutionID
		o := newObject(160)
		o.str("workspace_id", ev.WorkspaceID)
		o.int("files_written", ev.FilesWritten)
		o.int("output_size_bytes", ev.OutputSizeBytes)
		o.str("restored_cwd", ev.RestoredCWD)
		e.Details = o.done()
		return e
	case *event.WorkspaceCleanedUp:
		msg := "Workspace " + quote(ev.WorkspaceID) + " cleaned up: " + ev.Reason + " (" + string(nb.itoa(0, ev.FilesRemoved)) + " files removed)"
		if ev.Preserved {
			msg = "Workspace " + quote(ev.WorkspaceID) + " preserved: " + ev.Reason
		}
		e := newEntry(ev, TypeWorkspaceCleanedUp, SeverityInfo, msg)
		o := newObject(160)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("reason", ev.Reason)
		o.int("files_removed", ev.FilesRemoved)
		o.int("space_freed_bytes", ev.SpaceFreedBytes)
		o.bool("preserved", ev.Preserved)
		e.Details = o.done()
		return e
	case *event.FileSnapshotCreated:
		e := newEntry(ev, TypeFileSnapshotCreated, SeverityInfo, "File snapshot "+quote(ev.CommitID)+" created for workspace "+quote(ev.WorkspaceID)+" ("+string(nb.itoa(0, ev.FileCount))+" files)")
		e.ExecutionID = ev.BatchTestID
		o := newObject(256)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("commit_id", ev.CommitID)
		o.int("file_count", ev.FileCount)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		o.strs("source_paths", ev.SourcePaths, maxListDetail)
		e.Details = o.done()
		return e
	case *event.FileRestore:
		var e Entry
		if ev.Success {
			e = newEntry(ev, TypeWorkspaceFilesRestored, SeveritySuccess, "Restored "+string(nb.itoa(0, ev.FilesRestored))+" files into workspace "+quote(ev.WorkspaceID)+" from checkpoint "+string(nb.itoa(1, ev.CheckpointID)))
		} else {
			e = newEntry(ev, TypeWorkspaceFilesRestored, SeverityError, "File restore into workspace "+quote(ev.WorkspaceID)+" from checkpoint "+string(nb.itoa(0, ev.CheckpointID))+" failed: "+deref(ev.ErrorMessage))
		}
		e.ExecutionID = ev.ExecutionID
		e.Error = deref(ev.ErrorMessage)
		o := newObject(256)
		o.str("workspace_id", ev.WorkspaceID)
		o.int("checkpoint_id", ev.CheckpointID)
		o.str("file_commit_id", ev.FileCommitID)
		o.int("files_restored", ev.FilesRestored)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		o.str("restore_target", ev.RestoreTarget)
		o.bool("success", ev.Success)
		e.Details = o.done()
		return e
	case *event.WorkspaceFileRestoreFailed:
		e := newEntry(ev, TypeWorkspaceFileRestoreFailed, SeverityError, "File restore into workspace "+quote(ev.WorkspaceID)+" from checkpoint "+string(nb.itoa(0, ev.CheckpointID))+" failed: "+ev.ErrorMessage)
		e.ExecutionID = ev.ExecutionID
		e.Error = errorText(ev.ErrorType, ev.ErrorMessage)
		o := newObject(96)
		o.str("workspace_id", ev.WorkspaceID)
		o.int("checkpoint_id", ev.CheckpointID)
		e.Details = o.done()
		return e
	case *event.ForkRequested:
		e := newEntry(ev, TypeForkRequested, SeverityInfo, "Fork of execution "+quote(ev.ParentExecutionID)+" requested as "+quote(ev.NewExecutionID)+" ("+ev.ForkType+")")
		e.ExecutionID = ev.ParentExecutionID
		o := newObject(160)
		o.str("new_execution_id", ev.NewExecutionID)
		o.intPtr("fork_checkpoint_id", ev.ForkCheckpointID)
		o.str("fork_type", ev.ForkType)
		o.str("workspace_id", ev.WorkspaceID)
		e.Details = o.done()
		return e
	case *event.ForkCompleted:
		e := newEntry(ev, TypeExecutionForked, SeveritySuccess, "Execution "+quote(ev.NewExecutionID)+" forked from "+quote(ev.ParentExecutionID)+" ("+string(nb.itoa(0, ev.FilesCopied))+" files copied)")
		e.ExecutionID = ev.ParentExecutionID
		o := newObject(256)
		o.str("new_execution_id", ev.NewExecutionID)
		o.str("thread_id", ev.ThreadID)
		o.intPtr("fork_checkpoint_id", ev.ForkCheckpointID)
		o.str("workspace_id", ev.WorkspaceID)
		o.bool("ready_to_execute", ev.ReadyToExecute)
		o.int("files_copied", ev.FilesCopied)
		o.int("total_size_bytes", ev.TotalSizeBytes)
		e.Details = o.done()
		return e
	case *event.VenvCreated:
		e := newEntry(ev, TypeVenvCreated, SeverityInfo, "Virtual environment created at "+quote(ev.VenvPath)+" (Python "+ev.PythonVersion+", "+string(nb.itoa(0, int64(len(ev.Packages))))+" packages)")
		e.ExecutionID = ev.ExecutionID
		e.DurationMS = fptr(ev.CreationTimeMS)
		o := newObject(256)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("venv_path", ev.VenvPath)
		o.str("python_version", ev.PythonVersion)
		o.strs("packages", ev.Packages, -1)
		o.str("venv_spec_hash", ev.VenvSpecHash)
		e.Details = o.done()
		return e
	case *event.VenvReused:
		e := newEntry(ev, TypeVenvReused, SeverityDebug, "Virtual environment "+quote(ev.VenvPath)+" reused")
		o := newObject(256)
		o.str("workspace_id", ev.WorkspaceID)
		o.str("venv_path", ev.VenvPath)
		o.str("venv_spec_hash", ev.VenvSpecHash)
		o.timePtr("original_creation_time", ev.OriginalCreationTime)
		e.Details = o.done()
		return e
	case *event.VenvInvalidated:
		e := newEntry(ev, TypeVenvInvalidated, SeverityWarning, "Virtual environment of node "+quote(ev.NodeID)+" invalidated: "+ev.Reason)
		e.NodeID = ev.NodeID
		o := newObject(256)
		o.str("old_spec_hash", ev.OldSpecHash)
		o.str("new_spec_hash", ev.NewSpecHash)
		o.str("reason", ev.Reason)
		o.strs("affected_workspaces", ev.AffectedWorkspaces, maxListDetail)
		e.Details = o.done()
		return e
	case *event.VenvMismatchWarning:
		e := newEntry(ev, TypeVenvMismatch, SeverityWarning, "Virtual environment differs from checkpoint "+string(nb.itoa(0, ev.CheckpointID)))
		o := newObject(256)
		o.int("checkpoint_id", ev.CheckpointID)
		o.str("expected_venv_hash", ev.ExpectedVenvHash)
		o.str("current_venv_hash", ev.CurrentVenvHash)
		o.strs("expected_packages", ev.ExpectedPackages, -1)
		o.strs("current_packages", ev.CurrentPackages, -1)
		e.Details = o.done()
		return e
	case *event.VenvRestored:
		e := newEntry(ev, TypeVenvRestored, SeverityInfo, "Virtual environment "+quote(ev.VenvPath)+" restored from "+ev.RestoredFrom)
		e.DurationMS = fptr(ev.RestoreTimeMS)
		o := newObject(192)
		o.str("workspace_id", ev.WorkspaceID)
		o.int("checkpoint_id", ev.CheckpointID)
		o.str("venv_path", ev.VenvPath)
		o.str("restored_from", ev.RestoredFrom)
		e.Details = o.done()
		return e
	case *event.ActorCreated:
		msg := "Actor " + quote(ev.ActorID) + " created"
		switch {
		case ev.ForFork:
			msg += " for a fork"
		case ev.ForResume:
			msg += " to resume"
		}
		e := newEntry(ev, TypeActorCreated, SeverityInfo, msg)
		e.ExecutionID = ev.ExecutionID
		o := newObject(192)
		o.str("actor_id", ev.ActorID)
		o.str("workspace_id", ev.WorkspaceID)
		o.bool("for_fork", ev.ForFork)
		o.bool("for_resume", ev.ForResume)
		o.any("resources", mapOrEmpty(ev.Resources))
		e.Details = o.done()
		return e
	case *event.ActorReset:
		e := newEntry(ev, TypeActorReset, SeverityInfo, "Actor "+quote(ev.ActorID)+" reset: "+ev.Reason)
		o := newObject(128)
		o.str("actor_id", ev.ActorID)
		o.strs("resources_cleared", ev.ResourcesCleared, -1)
		e.Details = o.done()
		return e
	case *event.ActorKilled:
		e := newEntry(ev, TypeActorKilled, SeverityInfo, "Actor "+quote(ev.ActorID)+" killed: "+ev.Reason)
		o := newObject(128)
		o.str("actor_id", ev.ActorID)
		o.strs("resources_released", ev.ResourcesReleased, -1)
		e.Details = o.done()
		return e
	case *event.ResourcesReleased:
		e := newEntry(ev, TypeResourcesReleased, SeverityInfo, "Actor "+quote(ev.ActorID)+" released resources: "+ev.Reason)
		o := newObject(160)
		o.str("actor_id", ev.ActorID)
		o.float("gpu_memory_freed_mb", ev.GPUMemoryFreedMB)
		o.strs("resources_list", ev.ResourcesList, -1)
		e.Details = o.done()
		return e
	case *event.ResourcesReacquired:
		e := newEntry(ev, TypeResourcesReacquired, SeverityInfo, "Actor "+quote(ev.ActorID)+" reacquired resources")
		e.DurationMS = fptr(ev.ReacquisitionTimeMS)
		o := newObject(96)
		o.str("actor_id", ev.ActorID)
		o.float("gpu_memory_allocated_mb", ev.GPUMemoryAllocatedMB)
		e.Details = o.done()
		return e
	case *event.OrphanWorkspaceDetected:
		e := newEntry(ev, TypeOrphanWorkspaceDetected, SeverityWarning, "Orphan workspace "+quote(ev.WorkspacePath)+" detected ("+ev.Action+")")
		o := newObject(192)
		o.str("workspace_path", ev.WorkspacePath)
		o.int("original_pid", ev.OriginalPID)
		o.float("age_hours", ev.AgeHours)
		o.str("action", ev.Action)
		e.Details = o.done()
		return e
	case *event.OrphanCleanupCompleted:
		sev := SeverityInfo
		if len(ev.Errors) > 0 {
			sev = SeverityWarning
		}
		e := newEntry(ev, TypeOrphanCleanupCompleted, sev, "Orphan cleanup completed: "+string(nb.itoa(0, ev.OrphansCleaned))+" of "+string(nb.itoa(1, ev.OrphansFound))+" cleaned ("+string(nb.itoa(2, int64(len(ev.Errors))))+" errors)")
		o := newObject(192)
		o.int("orphans_found", ev.OrphansFound)
		o.int("orphans_cleaned", ev.OrphansCleaned)
		o.float("space_freed_mb", ev.SpaceFreedMB)
		o.strs("errors", ev.Errors, maxListDetail)
		e.Details = o.done()
		return e
	}
	if ev == nil {
		return Entry{}
	}
	return newEntry(ev, Type(ev.WireName()), SeverityDebug, "Event "+ev.WireName())
}

func newEntry(ev event.Event, t Type, s Severity, msg string) Entry {
	return Entry{EventID: ev.EventID(), SourceType: ev.WireName(), Timestamp: ev.EventTime().UTC(), Type: t, Severity: s, Message: msg}
}

// envEntry is an entry of an environment event: no execution, the event's node.
func envEntry(ev event.Event, t Type, s Severity, msg, nodeID string) Entry {
	e := newEntry(ev, t, s, msg)
	e.NodeID = nodeID
	return e
}

// envDetails starts the details of an environment event.
func envDetails(envID, workflowID string, versionID *string) object {
	o := newObject(192)
	o.str("env_id", envID)
	o.str("workflow_id", workflowID)
	o.strPtr("version_id", versionID)
	return o
}

func depsEntry(ev event.Event, t Type, msg, envID, workflowID, nodeID string, versionID *string, packages []string, durationMS float64, exitCode int64) Entry {
	sev := SeveritySuccess
	if exitCode != 0 {
		sev = SeverityWarning
		msg += " (exit code " + itoa(exitCode) + ")"
	}
	e := envEntry(ev, t, sev, msg, nodeID)
	e.DurationMS = fptr(durationMS)
	o := envDetails(envID, workflowID, versionID)
	o.strs("packages", packages, -1)
	o.int("exit_code", exitCode)
	e.Details = o.done()
	return e
}

// fromLangGraph maps a LangGraph audit event to an entry of type
// "langgraph_<kind>": execution = thread, node = node_id.
func fromLangGraph(ev *event.LangGraphAudit) Entry {
	kind := string(ev.Kind)
	if kind == "" {
		kind = string(event.LangGraphCustomEvent)
	}
	name := deref(ev.NodeID)
	var msg string
	switch ev.Kind {
	case event.LangGraphCheckpointCreated, event.LangGraphCheckpointRestored:
		msg = "LangGraph checkpoint " + quote(deref(ev.CheckpointID)) + " " + kind[len("checkpoint_"):]
		if ev.Step != nil {
			msg += " (step " + itoa(*ev.Step) + ")"
		}
	case event.LangGraphSuperstepStarted, event.LangGraphSuperstepCompleted:
		msg = "LangGraph super-step"
		if ev.Step != nil {
			msg += " " + itoa(*ev.Step)
		}
		msg += " " + kind[len("superstep_"):]
	case event.LangGraphCustomEvent, "":
		msg = "LangGraph custom event"
		if name != "" {
			msg += " " + quote(name)
		}
	case event.LangGraphProgressUpdate:
		msg = "LangGraph progress update"
		if name != "" {
			msg += " from " + quote(name)
		}
	default:
		i := strings.LastIndexByte(kind, '_')
		noun, verb := kind[:i], kind[i+1:]
		if noun == "llm" {
			noun = "LLM"
		}
		// One concatenation: one allocation (the hot path of spans).
		if name != "" {
			msg = "LangGraph " + noun + " '" + name + "' " + verb
		} else {
			msg = "LangGraph " + noun + " " + verb
		}
	}
	e := newEntry(ev, Type("langgraph_"+kind), langGraphSeverity(ev.Kind), msg)
	e.ExecutionID, e.NodeID = ev.ThreadID, name
	e.Error = deref(ev.Error)
	if ev.DurationMS != nil {
		e.DurationMS = fptr(float64(*ev.DurationMS))
	}
	o := newObject(256)
	o.str("run_id", ev.RunID)
	o.strPtr("parent_run_id", ev.ParentRunID)
	o.strPtr("checkpoint_id", ev.CheckpointID)
	o.intPtr("step", ev.Step)
	if ev.Tags == nil {
		o.null("tags")
	} else {
		o.strs("tags", ev.Tags, -1)
	}
	if ev.Metadata == nil {
		o.null("metadata")
	} else {
		o.any("metadata", ev.Metadata)
	}
	if ev.Metrics == nil {
		o.null("metrics")
	} else {
		o.floatMap("metrics", ev.Metrics)
	}
	e.Details = o.done()
	return e
}

func langGraphSeverity(k event.LangGraphKind) Severity {
	switch k {
	case event.LangGraphExecutionFailed, event.LangGraphNodeFailed, event.LangGraphToolFailed:
		return SeverityError
	case event.LangGraphExecutionCompleted, event.LangGraphNodeCompleted:
		return SeveritySuccess
	case event.LangGraphExecutionStarted, event.LangGraphExecutionPaused, event.LangGraphExecutionResumed,
		event.LangGraphNodeSkipped, event.LangGraphCheckpointCreated, event.LangGraphCheckpointRestored,
		event.LangGraphCustomEvent, "":
		return SeverityInfo
	}
	// node_started, tool_*, llm_*, retriever_*, progress_update, superstep_*.
	return SeverityDebug
}

func quote(s string) string { return "'" + s + "'" }

// bytesString returns b as a string without copying. b must never be
// written again: FromEvent uses it for messages built after the details in
// one buffer, out of reach of the capped Details slice.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// numBuf holds the decimal digits of up to 4 integers of a message. Used as
// string(nb.itoa(i, v)) inside a string concatenation, the digits are not
// allocated separately.
type numBuf [80]byte

// itoa appends v in decimal to slot i (0 to 3) of nb and returns the digits.
func (nb *numBuf) itoa(i int, v int64) []byte {
	return strconv.AppendInt(nb[i*20:i*20:i*20+20], v, 10)
}

func fptr(f float64) *float64 { return &f }

func errorText(typ, msg string) string { return typ + ": " + msg }

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var emptyDetailsBytes = []byte("{}")

// emptyDetails returns the empty details object. The bytes are shared: no
// one may modify an entry's Details in place.
func emptyDetails() json.RawMessage { return emptyDetailsBytes[:2:2] }

func mapOrEmpty(m event.Map) any {
	if m == nil {
		return map[string]any{}
	}
	return map[string]any(m)
}
