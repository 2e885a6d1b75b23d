package event

// EnvironmentCreationStarted reports that the creation of a node's Python
// environment started. It is the reference's EnvironmentCreationStartedEvent.
//
//wtb:event class=EnvironmentCreationStartedEvent wire=EnvironmentCreationStartedEvent
type EnvironmentCreationStarted struct {
	Base
	WorkflowID    string  `json:"workflow_id"`
	NodeID        string  `json:"node_id"`
	VersionID     *string `json:"version_id"`
	PythonVersion string  `json:"python_version"`
	Packages      Strings `json:"packages"`
	Source        string  `json:"source" default:"api"` // "api", "grpc", "internal"
}

// EnvironmentCreated reports that a node's Python environment was created. It
// is the reference's EnvironmentCreatedEvent.
//
//wtb:event class=EnvironmentCreatedEvent wire=EnvironmentCreatedEvent
type EnvironmentCreated struct {
	Base
	WorkflowID    string  `json:"workflow_id"`
	NodeID        string  `json:"node_id"`
	VersionID     *string `json:"version_id"`
	EnvPath       string  `json:"env_path"`
	PythonVersion string  `json:"python_version"`
	Packages      Strings `json:"packages"`
	DurationMS    float64 `json:"duration_ms"`
	Source        string  `json:"source" default:"api"` // "api", "grpc", "internal"
}

// EnvironmentCreationFailed reports that the creation of an environment
// failed. It is the reference's EnvironmentCreationFailedEvent.
//
//wtb:event class=EnvironmentCreationFailedEvent wire=EnvironmentCreationFailedEvent
type EnvironmentCreationFailed struct {
	Base
	WorkflowID        string  `json:"workflow_id"`
	NodeID            string  `json:"node_id"`
	VersionID         *string `json:"version_id"`
	Error             string  `json:"error"`
	PythonVersion     string  `json:"python_version"`
	Packages          Strings `json:"packages"`
	DurationMS        float64 `json:"duration_ms"`
	RollbackPerformed bool    `json:"rollback_performed"`   // true when partial creation was rolled back
	Source            string  `json:"source" default:"api"` // "api", "grpc", "internal"
}

// EnvironmentDeleted reports that an environment was deleted. It is the
// reference's EnvironmentDeletedEvent.
//
//wtb:event class=EnvironmentDeletedEvent wire=EnvironmentDeletedEvent
type EnvironmentDeleted struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	EnvPath    string  `json:"env_path"`
	DurationMS float64 `json:"duration_ms"`
}

// DependenciesAdded reports that packages were added to an environment. It is
// the reference's DependenciesAddedEvent.
//
//wtb:event class=DependenciesAddedEvent wire=DependenciesAddedEvent
type DependenciesAdded struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Packages   Strings `json:"packages"`
	DurationMS float64 `json:"duration_ms"`
	ExitCode   int64   `json:"exit_code"`
}

// DependenciesUpdated reports that packages of an environment were updated. It
// is the reference's DependenciesUpdatedEvent.
//
//wtb:event class=DependenciesUpdatedEvent wire=DependenciesUpdatedEvent
type DependenciesUpdated struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Packages   Strings `json:"packages"`
	DurationMS float64 `json:"duration_ms"`
	ExitCode   int64   `json:"exit_code"`
}

// DependenciesRemoved reports that packages were removed from an environment.
// It is the reference's DependenciesRemovedEvent.
//
//wtb:event class=DependenciesRemovedEvent wire=DependenciesRemovedEvent
type DependenciesRemoved struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Packages   Strings `json:"packages"`
	DurationMS float64 `json:"duration_ms"`
	ExitCode   int64   `json:"exit_code"`
}

// DependencyOperationFailed reports that adding, updating or removing packages
// failed. It is the reference's DependencyOperationFailedEvent.
//
//wtb:event class=DependencyOperationFailedEvent wire=DependencyOperationFailedEvent
type DependencyOperationFailed struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Operation  string  `json:"operation"` // "add", "update", "remove"
	Packages   Strings `json:"packages"`
	Error      string  `json:"error"`
	DurationMS float64 `json:"duration_ms"`
}

// EnvironmentSynced reports that an environment was synchronised with its lock
// file. It is the reference's EnvironmentSyncedEvent.
//
//wtb:event class=EnvironmentSyncedEvent wire=EnvironmentSyncedEvent
type EnvironmentSynced struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	DurationMS float64 `json:"duration_ms"`
	ExitCode   int64   `json:"exit_code"`
}

// EnvironmentSyncFailed reports that synchronising an environment failed. It
// is the reference's EnvironmentSyncFailedEvent.
//
//wtb:event class=EnvironmentSyncFailedEvent wire=EnvironmentSyncFailedEvent
type EnvironmentSyncFailed struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Error      string  `json:"error"`
	DurationMS float64 `json:"duration_ms"`
}

// EnvironmentCleanupStarted reports that the cleanup of idle environments
// started. It is the reference's EnvironmentCleanupStartedEvent.
//
//wtb:event class=EnvironmentCleanupStartedEvent wire=EnvironmentCleanupStartedEvent
type EnvironmentCleanupStarted struct {
	Base
	IdleHours int64 `json:"idle_hours"`
}

// EnvironmentCleanupCompleted reports that the cleanup of idle environments
// completed. It is the reference's EnvironmentCleanupCompletedEvent.
//
//wtb:event class=EnvironmentCleanupCompletedEvent wire=EnvironmentCleanupCompletedEvent
type EnvironmentCleanupCompleted struct {
	Base
	DeletedEnvs  Strings `json:"deleted_envs"`
	DeletedCount int64   `json:"deleted_count"`
	DurationMS   float64 `json:"duration_ms"`
	IdleHours    int64   `json:"idle_hours"`
}

// EnvironmentLockAcquired reports that the lock of an environment was
// acquired. It is the reference's EnvironmentLockAcquiredEvent.
//
//wtb:event class=EnvironmentLockAcquiredEvent wire=EnvironmentLockAcquiredEvent
type EnvironmentLockAcquired struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Operation  string  `json:"operation"`
}

// EnvironmentLockReleased reports that the lock of an environment was
// released. It is the reference's EnvironmentLockReleasedEvent.
//
//wtb:event class=EnvironmentLockReleasedEvent wire=EnvironmentLockReleasedEvent
type EnvironmentLockReleased struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Operation  string  `json:"operation"`
	HeldMS     float64 `json:"held_ms"`
}

// EnvironmentLockTimeout reports that waiting for the lock of an environment
// timed out. It is the reference's EnvironmentLockTimeoutEvent.
//
//wtb:event class=EnvironmentLockTimeoutEvent wire=EnvironmentLockTimeoutEvent
type EnvironmentLockTimeout struct {
	Base
	WorkflowID string  `json:"workflow_id"`
	NodeID     string  `json:"node_id"`
	VersionID  *string `json:"version_id"`
	Operation  string  `json:"operation"`
	TimeoutMS  float64 `json:"timeout_ms"`
}
