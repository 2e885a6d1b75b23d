package audit

import "time"

// Summary sums up one execution: the reference's summary fields plus the
// entry's seq range and a status.
//
// For a store, StartedAt is the timestamp of the execution's first entry,
// EndedAt that of its last terminal entry (execution or batch completed,
// failed or cancelled; nil while none exists), DurationMS their difference,
// and WorkflowID the workflow_id detail of its execution_started or
// ray_batch_test_started entry. Status is "completed", "failed" or
// "cancelled" after a terminal entry (the last one decides), otherwise
// "paused" when the last execution_paused or execution_resumed entry is a
// pause, otherwise "running" (see ExecutionStatus).
type Summary struct {
	TotalEntries           int        `json:"total_entries"`
	ExecutionID            string     `json:"execution_id"`
	WorkflowID             string     `json:"workflow_id"`
	StartedAt              *time.Time `json:"started_at"`
	EndedAt                *time.Time `json:"ended_at"`
	DurationMS             *float64   `json:"duration_ms"`
	NodesExecuted          int        `json:"nodes_executed"`
	NodesFailed            int        `json:"nodes_failed"`
	CheckpointsCreated     int        `json:"checkpoints_created"`
	Rollbacks              int        `json:"rollbacks"`
	Errors                 int        `json:"errors"`
	AgentGitAuditsImported int        `json:"agentgit_audits_imported"`

	Status   string `json:"status"`
	FirstSeq int64  `json:"first_seq"`
	LastSeq  int64  `json:"last_seq"`
}
