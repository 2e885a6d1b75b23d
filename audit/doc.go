// Package audit turns every workflow event into an audit entry, keeps entries
// in an in-memory Trail or a durable Store, and renders them as the
// reference's text timeline.
//
// # The path of an event
//
//	bus.Publish ─► Listener ─► FromEvent ─► Sink (Trail, or Recorder ─► Store)
//
// A Listener attached to a bus maps every event it receives with FromEvent
// and hands the Entry to its Sink. A Trail keeps the entries of one execution
// in memory and renders the reference's text display (Trail.Format,
// FormatTimeline). A Recorder writes entries to a Store with group commit:
// a bounded queue, one writer, batches closed on size or after a short
// linger; nothing is dropped silently. MemoryStore is the Store kept in
// memory; package sqlite and package postgres hold the durable ones, and
// package storetest checks them all against one contract.
//
// # Entries
//
// An Entry has the reference's nine fields (timestamp, event_type, severity,
// message, execution_id, node_id, details, error, duration_ms) plus seq
// (assigned by the store), event_id (the source event's id) and source_type
// (the event's wire name). Details is an ordered JSON object.
//
// # Mapping
//
// FromEvent maps every one of the 83 event types of package event. The 25
// types the reference maps (marked R below) produce exactly the reference's
// entry: audit type, severity, message template rendered the Python way
// ({x:.2f} with two decimals, literal single quotes, integers without
// decimals), ids, error ("{error_type}: {error_message}"), duration_ms (set
// even when 0, integers converted to float) and details keys in the
// reference's order. wtb adds entries for the other 58 types with the same
// conventions:
//
//   - severity: error for failures and timeouts, warning for degraded but
//     continuing work (cancellations, restarts, mismatches, non-zero exit
//     codes), success for a completed unit of work, info for lifecycle steps,
//     debug for chatty internal steps (starts of fine-grained work, locks,
//     blobs, progress);
//   - execution_id: the event's execution; for Ray events the batch test id
//     (as the reference does), with the variant's execution as node_id; for
//     workspace events the execution, else the batch test; environment and
//     file-processing events mostly belong to no execution;
//   - error: "{error_type}: {error_message}" when the event has both, the
//     message or error text alone otherwise;
//   - duration_ms: the event's own duration field, if it has one;
//   - details: the event's remaining useful fields under their own names;
//     lists that can grow without bound (paths, deleted environments) keep
//     their first 5 items, as the reference does for file_paths. LangGraph
//     inputs and outputs (which may hold personal data) are not copied.
//
// Messages below show fields in braces; quotes are literal. "exec" and
// "node" are the entry's execution_id and node_id; "—" means empty.
//
// Execution (all R):
//
//	ExecutionStarted    execution_started    info     Execution started for workflow '{workflow_name}'
//	                    exec=execution_id node=—   details: workflow_id, breakpoints
//	ExecutionCompleted  execution_completed  success  Execution completed ({nodes_executed} nodes, {checkpoints_created} checkpoints)
//	                    exec=execution_id; duration_ms   details: final_state_keys (document order: see below)
//	ExecutionFailed     execution_failed     error    Execution failed at node '{failed_at_node}'
//	                    exec=execution_id node=failed_at_node; error; duration_ms   details: {}
//	ExecutionPaused     execution_paused     info     Execution paused: {reason}
//	                    exec=execution_id node=paused_at_node; duration_ms=elapsed_time_ms   details: checkpoint_id
//	ExecutionResumed    execution_resumed    info     Execution resumed from node '{resume_from_node}'
//	                    exec=execution_id node=resume_from_node   details: state_modified (modified_state != null)
//	ExecutionCancelled  execution_cancelled  warning  Execution cancelled: {reason}
//	                    exec=execution_id node=cancelled_at_node; duration_ms   details: {}
//
// Node (all R):
//
//	NodeStarted    node_started    debug    Node '{node_name}' started
//	               exec=execution_id node=node_id   details: node_type, checkpoint_id (entry_checkpoint_id)
//	NodeCompleted  node_completed  success  Node '{node_name}' completed ({tool_invocations} tool calls)
//	               exec, node; duration_ms   details: checkpoint_id (exit_checkpoint_id)
//	NodeFailed     node_failed     error    Node '{node_name}' failed
//	               exec, node; error; duration_ms   details: recoverable
//	NodeSkipped    node_skipped    info     Node '{node_name}' skipped: {reason}
//	               exec, node   details: {}
//
// Checkpoint:
//
//	CheckpointCreated (R)    checkpoint_created        info     Checkpoint '{checkpoint_id}' created (step {step})
//	                         exec=execution_id node=completed_node   details: step, completed_node, is_terminal
//	RollbackCompleted (R)    rollback_performed        warning  Rolled back to checkpoint '{to_checkpoint_id}' ({len(rolled_back_nodes)} nodes reverted)
//	                         exec   details: from_checkpoint, to_checkpoint, rolled_back_nodes
//	BranchCreated (R)        branch_created            info     Branch created: thread {new_thread_id} from {parent_execution_id}
//	                         exec   details: reason (branch_reason)
//	RollbackRequested        rollback_requested        info     Rollback to checkpoint '{target_checkpoint_id}' requested: {reason}
//	                         exec node=target_node_id   details: target_checkpoint, target_node_id, requested_by
//	RollbackFailed           rollback_failed           error    Rollback to checkpoint '{target_checkpoint_id}' failed: {error_message}
//	                         exec; error   details: target_checkpoint
//	NodeBoundaryRecorded     node_boundary_recorded    debug    Node '{node_id}' {boundary_type} boundary recorded ({node_status})
//	                         exec, node; duration_ms   details: boundary_type, checkpoint_id, node_status
//	ExecutionHistoryLoaded   execution_history_loaded  info     Execution history loaded ({checkpoint_count} checkpoints, {len(completed_nodes)} completed nodes)
//	                         exec   details: checkpoint_count, completed_nodes, latest_checkpoint_id
//
// LangGraph: LangGraphAudit maps by kind to "langgraph_<kind>" (23 types),
// so that LangGraph entries never count as the execution's own nodes or
// checkpoints in a Summary. exec=thread_id, node=node_id, error=error,
// duration_ms=duration_ms; details: run_id, parent_run_id, checkpoint_id,
// step, tags, metadata, metrics. Severity: error for execution_failed,
// node_failed, tool_failed; success for execution_completed,
// node_completed; info for execution_started/paused/resumed, node_skipped,
// checkpoint_created/restored, custom_event; debug for the rest
// (node_started, tool_*, llm_*, retriever_*, progress_update, superstep_*).
// Messages: "LangGraph <noun> '{node_id}' <verb>" (e.g. "LangGraph tool
// 'search' completed", "LangGraph LLM 'gpt' streamed"), "LangGraph
// checkpoint '{checkpoint_id}' created (step {step})", "LangGraph super-step
// {step} started", "LangGraph custom event '{node_id}'", "LangGraph progress
// update from '{node_id}'".
//
// Environment (env = "{workflow_id}_{node_id}[_{version_id}]"; exec=—,
// node=node_id; details start with env_id, workflow_id, version_id):
//
//	EnvironmentCreationStarted   environment_creation_started   info     Environment '{env}' creation started (Python {python_version}, {n} packages)
//	                             details: + python_version, packages, source
//	EnvironmentCreated           environment_created            success  Environment '{env}' created
//	                             duration_ms   details: + env_path, python_version, packages, source
//	EnvironmentCreationFailed    environment_creation_failed    error    Environment '{env}' creation failed: {error}
//	                             error; duration_ms   details: + python_version, packages, rollback_performed, source
//	EnvironmentDeleted           environment_deleted            info     Environment '{env}' deleted
//	                             duration_ms   details: + env_path
//	DependenciesAdded            dependencies_added             success  Added {n} packages to environment '{env}'
//	DependenciesUpdated          dependencies_updated           success  Updated {n} packages in environment '{env}'
//	DependenciesRemoved          dependencies_removed           success  Removed {n} packages from environment '{env}'
//	                             (all three: warning and " (exit code {exit_code})" appended when exit_code != 0;
//	                             duration_ms   details: + packages, exit_code)
//	DependencyOperationFailed    dependency_operation_failed    error    Dependency {operation} failed in environment '{env}': {error}
//	                             error; duration_ms   details: + operation, packages
//	EnvironmentSynced            environment_synced             success  Environment '{env}' synced (exit code {exit_code})
//	                             (warning when exit_code != 0); duration_ms   details: + exit_code
//	EnvironmentSyncFailed        environment_sync_failed        error    Environment '{env}' sync failed: {error}
//	                             error; duration_ms
//	EnvironmentCleanupStarted    environment_cleanup_started    info     Environment cleanup started (idle for {idle_hours} hours)
//	                             node=—   details: idle_hours only
//	EnvironmentCleanupCompleted  environment_cleanup_completed  success  Environment cleanup completed: {deleted_count} environments deleted
//	                             node=—; duration_ms   details: deleted_count, deleted_envs (first 5), idle_hours only
//	EnvironmentLockAcquired      environment_lock_acquired      debug    Environment '{env}' locked for {operation}
//	                             details: + operation
//	EnvironmentLockReleased      environment_lock_released      debug    Environment '{env}' unlocked after {operation}
//	                             duration_ms=held_ms   details: + operation
//	EnvironmentLockTimeout       environment_lock_timeout       error    Environment '{env}' lock timed out for {operation} after {timeout_ms:.0f}ms
//	                             duration_ms=timeout_ms   details: + operation, timeout_ms
//
// File processing (exec=— except FileCommitCreated; node=—):
//
//	FileCommitCreated           file_commit_created            success  File commit '{commit_id}' created ({file_count} files, {total_size_bytes} bytes)
//	                            exec=execution_id   details: commit_id, file_count, total_size_bytes, message, file_paths (first 5)
//	FileCommitDeleted           file_commit_deleted            info     File commit '{commit_id}' deleted ({file_count} files)
//	                            details: commit_id, file_count
//	FileCommitVerified          file_commit_verified           info     File commit '{commit_id}' verified ({blobs_verified} blobs)
//	                            details: commit_id, blobs_verified
//	FileRestored                file_restored                  success  Restored {files_restored} files from commit '{commit_id}'
//	                            details: commit_id, files_restored, total_size_bytes, checkpoint_id, restored_paths (first 5)
//	FileRestoreFailed           file_restore_failed            error    File restore from commit '{commit_id}' failed: {error_message}
//	                            error=error_message   details: commit_id, partial_restored (first 5)
//	CheckpointFileLinkCreated   checkpoint_file_link_created   info     Checkpoint {checkpoint_id} linked to file commit '{commit_id}' ({file_count} files)
//	                            details: checkpoint_id, commit_id, file_count, total_size_bytes
//	CheckpointFileLinkVerified  checkpoint_file_link_verified  info     Checkpoint {checkpoint_id} link to file commit '{commit_id}' verified ({blobs_verified} blobs)
//	                            details: checkpoint_id, commit_id, blobs_verified
//	BlobCreated                 blob_created                   debug    Blob '{blob_id}' created ({size_bytes} bytes)
//	                            details: blob_id, size_bytes, is_duplicate
//	BlobDeleted                 blob_deleted                   debug    Blob '{blob_id}' deleted ({size_bytes} bytes)
//	                            details: blob_id, size_bytes
//	FileTrackingStarted         file_tracking_started          debug    File tracking '{operation_id}' started ({n} files)
//	                            details: operation_id, file_paths (first 5), checkpoint_id
//	FileTrackingCompleted       file_tracking_completed        success  File tracking '{operation_id}' completed (commit '{commit_id}')
//	                            duration_ms   details: operation_id, commit_id
//	FileTrackingFailed          file_tracking_failed           error    File tracking '{operation_id}' failed: {error_message}
//	                            error=error_message   details: operation_id, file_path
//
// Ray (exec=batch_test_id; node=execution_id for variant events):
//
//	RayBatchTestStarted (R)            ray_batch_test_started           info     Ray batch test '{batch_test_id}' started ({variant_count} variants, {parallel_workers} workers)
//	                                   details: workflow_id, workflow_name, file_tracking_enabled, max_pending_tasks
//	RayBatchTestCompleted (R)          ray_batch_test_completed         success  Ray batch test completed: {variants_succeeded} succeeded, {variants_failed} failed
//	                                   duration_ms   details: best_combination, best_score, files_tracked, has_comparison_matrix
//	RayBatchTestFailed (R)             ray_batch_test_failed            error    Ray batch test failed: {error_message}
//	                                   error; duration_ms   details: failed_at_variant, variants_succeeded, variants_failed, variants_pending
//	RayBatchTestCancelled (R)          ray_batch_test_cancelled         warning  Ray batch test cancelled: {reason}
//	                                   duration_ms   details: cancelled_by, variants_completed, variants_cancelled
//	RayBatchTestProgress               ray_batch_test_progress          debug    Ray batch test progress: {completed_variants}/{total_variants} variants completed, {failed_variants} failed
//	                                   details: total_variants, completed_variants, failed_variants, in_progress_variants,
//	                                   elapsed_ms, estimated_remaining_ms, variants_per_second
//	RayActorPoolCreated (R)            ray_actor_pool_created           info     Ray actor pool created: {num_actors} actors
//	                                   details: cpus_per_actor, memory_per_actor_gb, actor_ids
//	RayActorInitialized (R)            ray_actor_initialized            debug    Ray actor '{actor_id}' initialized
//	                                   duration_ms=initialization_time_ms   details: state_adapter_type, file_tracking_enabled
//	RayActorFailed (R)                 ray_actor_failed                 error    Ray actor '{actor_id}' failed: {error_message}
//	                                   error   details: executing_variant, executions_completed
//	RayActorRestarted                  ray_actor_restarted              warning  Ray actor '{actor_id}' restarted (restart {restart_count}): {reason}
//	                                   details: restart_count, reason
//	RayVariantExecutionStarted (R)     ray_variant_execution_started    debug    Variant '{combination_name}' started on actor '{actor_id}'
//	                                   details: variants, queue_position, total_in_queue
//	RayVariantExecutionCompleted (R)   ray_variant_execution_completed  success  Variant '{combination_name}' completed (score: {overall_score:.2f})
//	                                   duration_ms   details: checkpoint_count, node_count, metrics, files_tracked, file_commit_id
//	RayVariantExecutionFailed (R)      ray_variant_execution_failed     error    Variant '{combination_name}' failed: {error_message}
//	                                   error; duration_ms   details: failed_at_node, nodes_completed, checkpoints_created
//	RayVariantExecutionCancelled       ray_variant_execution_cancelled  warning  Variant '{combination_name}' cancelled: {reason}
//	                                   duration_ms   details: actor_id
//	RayVariantFilesTracked (R)         ray_files_tracked                info     Tracked {files_tracked} files for variant '{combination_name}'
//	                                   details: file_commit_id, checkpoint_id, file_paths (first 5)
//	RayVariantFilesTrackingFailed      ray_files_tracking_failed        error    File tracking failed for variant '{combination_name}': {error_message}
//	                                   error=error_message   details: actor_id, failed_files (first 5)
//	RayBackpressureApplied (R)         ray_backpressure                 warning  Backpressure applied: {pending_tasks}/{max_pending_tasks} pending tasks
//	                                   duration_ms=wait_time_ms   details: pending_tasks, max_pending_tasks
//	RayBackpressureReleased            ray_backpressure_released        info     Backpressure released: {pending_tasks} pending tasks
//	                                   details: pending_tasks, tasks_completed
//
// Workspace (node=— except VenvInvalidated):
//
//	WorkspaceCreated            workspace_created              info     Workspace '{workspace_id}' created for variant '{variant_name}' ({file_count} files)
//	                            exec=execution_id, else batch_test_id   details: workspace_id, batch_test_id, workspace_path, strategy,
//	                            file_count, total_size_bytes, source_snapshot_commit_id, parent_workspace_id
//	WorkspaceActivated          workspace_activated            debug    Workspace '{workspace_id}' activated
//	                            exec=execution_id   details: workspace_id, new_cwd, previous_cwd
//	WorkspaceDeactivated        workspace_deactivated          debug    Workspace '{workspace_id}' deactivated ({files_written} files written)
//	                            exec=execution_id   details: workspace_id, files_written, output_size_bytes, restored_cwd
//	WorkspaceCleanedUp          workspace_cleaned_up           info     Workspace '{workspace_id}' cleaned up: {reason} ({files_removed} files removed)
//	                            or, when preserved: Workspace '{workspace_id}' preserved: {reason}
//	                            details: workspace_id, reason, files_removed, space_freed_bytes, preserved
//	FileSnapshotCreated         file_snapshot_created          info     File snapshot '{commit_id}' created for workspace '{workspace_id}' ({file_count} files)
//	                            exec=batch_test_id   details: workspace_id, commit_id, file_count, total_size_bytes, source_paths (first 5)
//	FileRestore                 workspace_files_restored       success  Restored {files_restored} files into workspace '{workspace_id}' from checkpoint {checkpoint_id}
//	                            or, when !success, error: File restore into workspace '{workspace_id}' from checkpoint {checkpoint_id} failed: {error_message}
//	                            exec=execution_id; error=error_message   details: workspace_id, checkpoint_id, file_commit_id,
//	                            files_restored, total_size_bytes, restore_target, success
//	WorkspaceFileRestoreFailed  workspace_file_restore_failed  error    File restore into workspace '{workspace_id}' from checkpoint {checkpoint_id} failed: {error_message}
//	                            exec=execution_id; error   details: workspace_id, checkpoint_id
//	ForkRequested               fork_requested                 info     Fork of execution '{parent_execution_id}' requested as '{new_execution_id}' ({fork_type})
//	                            exec=parent_execution_id   details: new_execution_id, fork_checkpoint_id, fork_type, workspace_id
//	ForkCompleted               execution_forked               success  Execution '{new_execution_id}' forked from '{parent_execution_id}' ({files_copied} files copied)
//	                            exec=parent_execution_id   details: new_execution_id, thread_id, fork_checkpoint_id, workspace_id,
//	                            ready_to_execute, files_copied, total_size_bytes
//	VenvCreated                 venv_created                   info     Virtual environment created at '{venv_path}' (Python {python_version}, {n} packages)
//	                            exec=execution_id; duration_ms=creation_time_ms   details: workspace_id, venv_path, python_version,
//	                            packages, venv_spec_hash
//	VenvReused                  venv_reused                    debug    Virtual environment '{venv_path}' reused
//	                            details: workspace_id, venv_path, venv_spec_hash, original_creation_time
//	VenvInvalidated             venv_invalidated               warning  Virtual environment of node '{node_id}' invalidated: {reason}
//	                            node=node_id   details: old_spec_hash, new_spec_hash, reason, affected_workspaces (first 5)
//	VenvMismatchWarning         venv_mismatch                  warning  Virtual environment differs from checkpoint {checkpoint_id}
//	                            details: checkpoint_id, expected_venv_hash, current_venv_hash, expected_packages, current_packages
//	VenvRestored                venv_restored                  info     Virtual environment '{venv_path}' restored from {restored_from}
//	                            duration_ms=restore_time_ms   details: workspace_id, checkpoint_id, venv_path, restored_from
//	ActorCreated                actor_created                  info     Actor '{actor_id}' created[ for a fork| to resume]
//	                            exec=execution_id   details: actor_id, workspace_id, for_fork, for_resume, resources
//	ActorReset                  actor_reset                    info     Actor '{actor_id}' reset: {reason}
//	                            details: actor_id, resources_cleared
//	ActorKilled                 actor_killed                   info     Actor '{actor_id}' killed: {reason}
//	                            details: actor_id, resources_released
//	ResourcesReleased           resources_released             info     Actor '{actor_id}' released resources: {reason}
//	                            details: actor_id, gpu_memory_freed_mb, resources_list
//	ResourcesReacquired         resources_reacquired           info     Actor '{actor_id}' reacquired resources
//	                            duration_ms=reacquisition_time_ms   details: actor_id, gpu_memory_allocated_mb
//	OrphanWorkspaceDetected     orphan_workspace_detected      warning  Orphan workspace '{workspace_path}' detected ({action})
//	                            details: workspace_path, original_pid, age_hours, action
//	OrphanCleanupCompleted      orphan_cleanup_completed       info     Orphan cleanup completed: {orphans_cleaned} of {orphans_found} cleaned ({n} errors)
//	                            (warning when there are errors)   details: orphans_found, orphans_cleaned, space_freed_mb, errors (first 5)
//
// final_state_keys lists the keys of final_state in the order of the
// document the event was decoded from, as the reference lists them in
// insertion order (ExecutionCompleted.FinalStateKeys); an event built in Go
// has no such order and lists them sorted. Maps inside details (variants,
// metrics, resources) are written with sorted keys, which is the same JSON
// value.
//
// The reference's audit types state_modified, breakpoint_hit,
// variant_started and variant_completed exist as constants but no event
// maps to them, as in the reference.
package audit
