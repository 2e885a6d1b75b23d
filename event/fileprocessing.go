package event

// FileCommitCreated reports that a commit of tracked files was created. It is
// the reference's FileCommitCreatedEvent.
//
//wtb:event class=FileCommitCreatedEvent wire=file_commit.created alias=FileCommitCreatedEvent
type FileCommitCreated struct {
	Base
	CommitID       string  `json:"commit_id"` // UUID
	FileCount      int64   `json:"file_count"`
	TotalSizeBytes int64   `json:"total_size_bytes"`
	Message        *string `json:"message"`
	FilePaths      Strings `json:"file_paths"`
	ExecutionID    *string `json:"execution_id"` // optional correlation to a WTB execution
}

// FileCommitDeleted reports that a file commit was deleted (its blobs are
// kept). It is the reference's FileCommitDeletedEvent.
//
//wtb:event class=FileCommitDeletedEvent wire=file_commit.deleted alias=FileCommitDeletedEvent
type FileCommitDeleted struct {
	Base
	CommitID  string `json:"commit_id"`
	FileCount int64  `json:"file_count"` // mementos deleted (blobs are kept)
}

// FileCommitVerified reports that the blobs of a file commit were verified. It
// is the reference's FileCommitVerifiedEvent.
//
//wtb:event class=FileCommitVerifiedEvent wire=file_commit.verified alias=FileCommitVerifiedEvent
type FileCommitVerified struct {
	Base
	CommitID      string `json:"commit_id"`
	BlobsVerified int64  `json:"blobs_verified"`
}

// FileRestored reports that the files of a commit were restored. It is the
// reference's FileRestoredEvent.
//
//wtb:event class=FileRestoredEvent wire=file.restored alias=FileRestoredEvent
type FileRestored struct {
	Base
	CommitID       string  `json:"commit_id"`
	FilesRestored  int64   `json:"files_restored"`
	TotalSizeBytes int64   `json:"total_size_bytes"`
	RestoredPaths  Strings `json:"restored_paths"`
	CheckpointID   *int64  `json:"checkpoint_id"` // set when restore was driven by a checkpoint
}

// FileRestoreFailed reports that restoring the files of a commit failed (file
// processing; not WorkspaceFileRestoreFailed). It is the reference's
// FileRestoreFailedEvent.
//
//wtb:event class=FileRestoreFailedEvent wire=file.restore_failed
type FileRestoreFailed struct {
	Base
	CommitID        string  `json:"commit_id"`
	ErrorMessage    string  `json:"error_message"`
	PartialRestored Strings `json:"partial_restored"` // paths restored before the failure
}

// CheckpointFileLinkCreated reports that a file commit was linked to a
// checkpoint. It is the reference's CheckpointFileLinkCreatedEvent.
//
//wtb:event class=CheckpointFileLinkCreatedEvent wire=checkpoint_file_link.created alias=CheckpointFileLinkCreatedEvent
type CheckpointFileLinkCreated struct {
	Base
	CheckpointID   int64  `json:"checkpoint_id"` // WTB checkpoint id (int here)
	CommitID       string `json:"commit_id"`
	FileCount      int64  `json:"file_count"`
	TotalSizeBytes int64  `json:"total_size_bytes"`
}

// CheckpointFileLinkVerified reports that the link of a checkpoint to a file
// commit was verified. It is the reference's CheckpointFileLinkVerifiedEvent.
//
//wtb:event class=CheckpointFileLinkVerifiedEvent wire=checkpoint_file_link.verified alias=CheckpointFileLinkVerifiedEvent
type CheckpointFileLinkVerified struct {
	Base
	CheckpointID  int64  `json:"checkpoint_id"`
	CommitID      string `json:"commit_id"`
	BlobsVerified int64  `json:"blobs_verified"`
}

// BlobCreated reports that a content-addressed blob was stored. It is the
// reference's BlobCreatedEvent.
//
//wtb:event class=BlobCreatedEvent wire=blob.created alias=BlobCreatedEvent
type BlobCreated struct {
	Base
	BlobID      string `json:"blob_id"` // SHA-256 content hash
	SizeBytes   int64  `json:"size_bytes"`
	IsDuplicate bool   `json:"is_duplicate"` // false for new blobs (not emitted for duplicates)
}

// BlobDeleted reports that a blob was deleted. It is the reference's
// BlobDeletedEvent.
//
//wtb:event class=BlobDeletedEvent wire=blob.deleted alias=BlobDeletedEvent
type BlobDeleted struct {
	Base
	BlobID    string `json:"blob_id"`
	SizeBytes int64  `json:"size_bytes"`
}

// FileTrackingStarted reports that a file-tracking operation started. It is
// the reference's FileTrackingStartedEvent.
//
//wtb:event class=FileTrackingStartedEvent wire=file_tracking.started alias=FileTrackingStartedEvent
type FileTrackingStarted struct {
	Base
	OperationID  string  `json:"operation_id"`
	FilePaths    Strings `json:"file_paths"`
	CheckpointID *int64  `json:"checkpoint_id"` // target checkpoint for track-and-link
}

// FileTrackingCompleted reports that a file-tracking operation completed. It
// is the reference's FileTrackingCompletedEvent.
//
//wtb:event class=FileTrackingCompletedEvent wire=file_tracking.completed alias=FileTrackingCompletedEvent
type FileTrackingCompleted struct {
	Base
	OperationID string `json:"operation_id"`
	CommitID    string `json:"commit_id"`
	DurationMS  int64  `json:"duration_ms"`
}

// FileTrackingFailed reports that a file-tracking operation failed. It is the
// reference's FileTrackingFailedEvent.
//
//wtb:event class=FileTrackingFailedEvent wire=file_tracking.failed alias=FileTrackingFailedEvent
type FileTrackingFailed struct {
	Base
	OperationID  string  `json:"operation_id"`
	ErrorMessage string  `json:"error_message"`
	FilePath     *string `json:"file_path"` // offending file, if any
}

// TotalSizeMB returns TotalSizeBytes in mebibytes (bytes / 1048576), as the
// reference's total_size_mb.
func (e *FileCommitCreated) TotalSizeMB() float64 { return float64(e.TotalSizeBytes) / 1048576 }
