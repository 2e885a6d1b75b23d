package event

// RayBatchTestStarted reports that a Ray batch test started. It is the
// reference's RayBatchTestStartedEvent.
//
//wtb:event class=RayBatchTestStartedEvent wire=ray_batch_test_started alias=RayBatchTestStartedEvent
type RayBatchTestStarted struct {
	Base
	RayJobID            *string `json:"ray_job_id"`
	RayAddress          *string `json:"ray_address"`
	BatchTestID         string  `json:"batch_test_id"`
	WorkflowID          string  `json:"workflow_id"`
	WorkflowName        string  `json:"workflow_name"`
	VariantCount        int64   `json:"variant_count"`
	ParallelWorkers     int64   `json:"parallel_workers"`
	MaxPendingTasks     int64   `json:"max_pending_tasks"`
	FileTrackingEnabled bool    `json:"file_tracking_enabled"`
	ConfigSnapshot      Map     `json:"config_snapshot"`
}

// RayBatchTestCompleted reports that a Ray batch test completed. It is the
// reference's RayBatchTestCompletedEvent.
//
//wtb:event class=RayBatchTestCompletedEvent wire=ray_batch_test_completed alias=RayBatchTestCompletedEvent
type RayBatchTestCompleted struct {
	Base
	RayJobID            *string `json:"ray_job_id"`
	RayAddress          *string `json:"ray_address"`
	BatchTestID         string  `json:"batch_test_id"`
	WorkflowID          string  `json:"workflow_id"`
	DurationMS          int64   `json:"duration_ms"`
	VariantsSucceeded   int64   `json:"variants_succeeded"`
	VariantsFailed      int64   `json:"variants_failed"`
	VariantsCancelled   int64   `json:"variants_cancelled"`
	BestCombinationName *string `json:"best_combination_name"`
	BestOverallScore    float64 `json:"best_overall_score"`
	TotalFilesTracked   int64   `json:"total_files_tracked"`
	HasComparisonMatrix bool    `json:"has_comparison_matrix"`
}

// RayBatchTestFailed reports that a Ray batch test failed. It is the
// reference's RayBatchTestFailedEvent.
//
//wtb:event class=RayBatchTestFailedEvent wire=ray_batch_test_failed alias=RayBatchTestFailedEvent
type RayBatchTestFailed struct {
	Base
	RayJobID          *string `json:"ray_job_id"`
	RayAddress        *string `json:"ray_address"`
	BatchTestID       string  `json:"batch_test_id"`
	WorkflowID        string  `json:"workflow_id"`
	DurationMS        int64   `json:"duration_ms"`
	ErrorType         string  `json:"error_type"`
	ErrorMessage      string  `json:"error_message"`
	FailedAtVariant   *string `json:"failed_at_variant"`
	VariantsSucceeded int64   `json:"variants_succeeded"`
	VariantsFailed    int64   `json:"variants_failed"`
	VariantsPending   int64   `json:"variants_pending"`
}

// RayBatchTestCancelled reports that a Ray batch test was cancelled. It is the
// reference's RayBatchTestCancelledEvent.
//
//wtb:event class=RayBatchTestCancelledEvent wire=ray_batch_test_cancelled alias=RayBatchTestCancelledEvent
type RayBatchTestCancelled struct {
	Base
	RayJobID          *string `json:"ray_job_id"`
	RayAddress        *string `json:"ray_address"`
	BatchTestID       string  `json:"batch_test_id"`
	WorkflowID        string  `json:"workflow_id"`
	DurationMS        int64   `json:"duration_ms"`
	Reason            string  `json:"reason"`
	CancelledBy       string  `json:"cancelled_by" default:"user"` // "user", "timeout", "resource_limit"
	VariantsCompleted int64   `json:"variants_completed"`
	VariantsCancelled int64   `json:"variants_cancelled"`
}

// RayBatchTestProgress reports that a Ray batch test made progress. It is the
// reference's RayBatchTestProgressEvent.
//
//wtb:event class=RayBatchTestProgressEvent wire=ray_batch_test_progress alias=RayBatchTestProgressEvent
type RayBatchTestProgress struct {
	Base
	RayJobID             *string `json:"ray_job_id"`
	RayAddress           *string `json:"ray_address"`
	BatchTestID          string  `json:"batch_test_id"`
	TotalVariants        int64   `json:"total_variants"`
	CompletedVariants    int64   `json:"completed_variants"`
	FailedVariants       int64   `json:"failed_variants"`
	InProgressVariants   int64   `json:"in_progress_variants"`
	ElapsedMS            int64   `json:"elapsed_ms"`
	EstimatedRemainingMS *int64  `json:"estimated_remaining_ms"`
	VariantsPerSecond    float64 `json:"variants_per_second"`
}

// RayActorPoolCreated reports that the actor pool of a batch test was created.
// It is the reference's RayActorPoolCreatedEvent.
//
//wtb:event class=RayActorPoolCreatedEvent wire=ray_actor_pool_created alias=RayActorPoolCreatedEvent
type RayActorPoolCreated struct {
	Base
	RayJobID         *string `json:"ray_job_id"`
	RayAddress       *string `json:"ray_address"`
	BatchTestID      string  `json:"batch_test_id"`
	NumActors        int64   `json:"num_actors"`
	CPUsPerActor     float64 `json:"cpus_per_actor"`
	MemoryPerActorGB float64 `json:"memory_per_actor_gb"`
	ActorIDs         Strings `json:"actor_ids"`
}

// RayActorInitialized reports that a Ray actor was initialised. It is the
// reference's RayActorInitializedEvent.
//
//wtb:event class=RayActorInitializedEvent wire=ray_actor_initialized alias=RayActorInitializedEvent
type RayActorInitialized struct {
	Base
	RayJobID             *string `json:"ray_job_id"`
	RayAddress           *string `json:"ray_address"`
	ActorID              string  `json:"actor_id"`
	BatchTestID          string  `json:"batch_test_id"`
	InitializationTimeMS int64   `json:"initialization_time_ms"`
	StateAdapterType     string  `json:"state_adapter_type"`
	FileTrackingEnabled  bool    `json:"file_tracking_enabled"`
}

// RayActorFailed reports that a Ray actor failed. It is the reference's
// RayActorFailedEvent.
//
//wtb:event class=RayActorFailedEvent wire=ray_actor_failed alias=RayActorFailedEvent
type RayActorFailed struct {
	Base
	RayJobID            *string `json:"ray_job_id"`
	RayAddress          *string `json:"ray_address"`
	ActorID             string  `json:"actor_id"`
	BatchTestID         string  `json:"batch_test_id"`
	ErrorType           string  `json:"error_type"`
	ErrorMessage        string  `json:"error_message"`
	ExecutingVariant    *string `json:"executing_variant"`
	ExecutionsCompleted int64   `json:"executions_completed"`
}

// RayActorRestarted reports that a Ray actor was restarted. It is the
// reference's RayActorRestartedEvent.
//
//wtb:event class=RayActorRestartedEvent wire=ray_actor_restarted alias=RayActorRestartedEvent
type RayActorRestarted struct {
	Base
	RayJobID     *string `json:"ray_job_id"`
	RayAddress   *string `json:"ray_address"`
	ActorID      string  `json:"actor_id"`
	BatchTestID  string  `json:"batch_test_id"`
	RestartCount int64   `json:"restart_count"`
	Reason       string  `json:"reason"`
}

// RayVariantExecutionStarted reports that the execution of one variant
// combination started on an actor. It is the reference's
// RayVariantExecutionStartedEvent.
//
//wtb:event class=RayVariantExecutionStartedEvent wire=ray_variant_execution_started alias=RayVariantExecutionStartedEvent
type RayVariantExecutionStarted struct {
	Base
	RayJobID        *string   `json:"ray_job_id"`
	RayAddress      *string   `json:"ray_address"`
	ExecutionID     string    `json:"execution_id"`
	BatchTestID     string    `json:"batch_test_id"`
	ActorID         string    `json:"actor_id"`
	CombinationName string    `json:"combination_name"`
	Variants        StringMap `json:"variants"`
	QueuePosition   int64     `json:"queue_position"`
	TotalInQueue    int64     `json:"total_in_queue"`
}

// RayVariantExecutionCompleted reports that the execution of a variant
// combination completed. It is the reference's
// RayVariantExecutionCompletedEvent.
//
//wtb:event class=RayVariantExecutionCompletedEvent wire=ray_variant_execution_completed alias=RayVariantExecutionCompletedEvent
type RayVariantExecutionCompleted struct {
	Base
	RayJobID        *string   `json:"ray_job_id"`
	RayAddress      *string   `json:"ray_address"`
	ExecutionID     string    `json:"execution_id"`
	BatchTestID     string    `json:"batch_test_id"`
	ActorID         string    `json:"actor_id"`
	CombinationName string    `json:"combination_name"`
	Variants        StringMap `json:"variants"`
	DurationMS      int64     `json:"duration_ms"`
	CheckpointCount int64     `json:"checkpoint_count"`
	NodeCount       int64     `json:"node_count"`
	Metrics         FloatMap  `json:"metrics"`
	OverallScore    float64   `json:"overall_score"`
	FilesTracked    int64     `json:"files_tracked"`
	FileCommitID    *string   `json:"file_commit_id"`
}

// RayVariantExecutionFailed reports that the execution of a variant
// combination failed. It is the reference's RayVariantExecutionFailedEvent.
//
//wtb:event class=RayVariantExecutionFailedEvent wire=ray_variant_execution_failed alias=RayVariantExecutionFailedEvent
type RayVariantExecutionFailed struct {
	Base
	RayJobID           *string   `json:"ray_job_id"`
	RayAddress         *string   `json:"ray_address"`
	ExecutionID        string    `json:"execution_id"`
	BatchTestID        string    `json:"batch_test_id"`
	ActorID            string    `json:"actor_id"`
	CombinationName    string    `json:"combination_name"`
	Variants           StringMap `json:"variants"`
	ErrorType          string    `json:"error_type"`
	ErrorMessage       string    `json:"error_message"`
	FailedAtNode       *string   `json:"failed_at_node"`
	DurationMS         int64     `json:"duration_ms"`
	NodesCompleted     int64     `json:"nodes_completed"`
	CheckpointsCreated int64     `json:"checkpoints_created"`
}

// RayVariantExecutionCancelled reports that the execution of a variant
// combination was cancelled. It is the reference's
// RayVariantExecutionCancelledEvent.
//
//wtb:event class=RayVariantExecutionCancelledEvent wire=ray_variant_execution_cancelled alias=RayVariantExecutionCancelledEvent
type RayVariantExecutionCancelled struct {
	Base
	RayJobID        *string `json:"ray_job_id"`
	RayAddress      *string `json:"ray_address"`
	ExecutionID     string  `json:"execution_id"`
	BatchTestID     string  `json:"batch_test_id"`
	ActorID         string  `json:"actor_id"`
	CombinationName string  `json:"combination_name"`
	Reason          string  `json:"reason"`
	DurationMS      int64   `json:"duration_ms"`
}

// RayVariantFilesTracked reports that the output files of a variant execution
// were tracked. It is the reference's RayVariantFilesTrackedEvent.
//
//wtb:event class=RayVariantFilesTrackedEvent wire=ray_variant_files_tracked alias=RayVariantFilesTrackedEvent
type RayVariantFilesTracked struct {
	Base
	RayJobID        *string `json:"ray_job_id"`
	RayAddress      *string `json:"ray_address"`
	ExecutionID     string  `json:"execution_id"`
	BatchTestID     string  `json:"batch_test_id"`
	ActorID         string  `json:"actor_id"`
	CombinationName string  `json:"combination_name"`
	FilesTracked    int64   `json:"files_tracked"`
	FileCommitID    string  `json:"file_commit_id"`
	CheckpointID    int64   `json:"checkpoint_id"`
	FilePaths       Strings `json:"file_paths"`
}

// RayVariantFilesTrackingFailed reports that tracking the output files of a
// variant execution failed. It is the reference's
// RayVariantFilesTrackingFailedEvent.
//
//wtb:event class=RayVariantFilesTrackingFailedEvent wire=ray_variant_files_tracking_failed alias=RayVariantFilesTrackingFailedEvent
type RayVariantFilesTrackingFailed struct {
	Base
	RayJobID        *string `json:"ray_job_id"`
	RayAddress      *string `json:"ray_address"`
	ExecutionID     string  `json:"execution_id"`
	BatchTestID     string  `json:"batch_test_id"`
	ActorID         string  `json:"actor_id"`
	CombinationName string  `json:"combination_name"`
	ErrorMessage    string  `json:"error_message"`
	FailedFiles     Strings `json:"failed_files"`
}

// RayBackpressureApplied reports that submission was throttled because too
// many tasks were pending. It is the reference's RayBackpressureAppliedEvent.
//
//wtb:event class=RayBackpressureAppliedEvent wire=ray_backpressure_applied alias=RayBackpressureAppliedEvent
type RayBackpressureApplied struct {
	Base
	RayJobID        *string `json:"ray_job_id"`
	RayAddress      *string `json:"ray_address"`
	BatchTestID     string  `json:"batch_test_id"`
	PendingTasks    int64   `json:"pending_tasks"`
	MaxPendingTasks int64   `json:"max_pending_tasks"`
	WaitTimeMS      int64   `json:"wait_time_ms"`
}

// RayBackpressureReleased reports that throttling of task submission ended. It
// is the reference's RayBackpressureReleasedEvent.
//
//wtb:event class=RayBackpressureReleasedEvent wire=ray_backpressure_released alias=RayBackpressureReleasedEvent
type RayBackpressureReleased struct {
	Base
	RayJobID       *string `json:"ray_job_id"`
	RayAddress     *string `json:"ray_address"`
	BatchTestID    string  `json:"batch_test_id"`
	PendingTasks   int64   `json:"pending_tasks"`
	TasksCompleted int64   `json:"tasks_completed"`
}
