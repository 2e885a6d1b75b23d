package audit

import (
	"encoding/json"
	"time"
)

// Summary statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Summarize sums up entries (in Seq or recording order) as the summary of
// executionID, with the store semantics documented on Summary. It does not
// filter: pass the entries of that execution.
func Summarize(executionID string, entries []Entry) Summary {
	var b SummaryBuilder
	for i := range entries {
		b.Add(&entries[i])
	}
	return b.Summary(executionID)
}

// SummaryBuilder builds a Summary incrementally, one entry at a time, with
// the store semantics documented on Summary. The zero value is ready to use.
// It is not safe for concurrent use.
type SummaryBuilder struct {
	s        Summary
	started  time.Time
	ended    time.Time
	hasEnded bool
	hasFirst bool
	workflow bool
	paused   bool
}

// Add counts e, which follows every entry added before it.
func (b *SummaryBuilder) Add(e *Entry) {
	s := &b.s
	s.TotalEntries++
	if !b.hasFirst {
		b.hasFirst = true
		b.started = e.Timestamp
	}
	if e.Seq != 0 {
		if s.FirstSeq == 0 || e.Seq < s.FirstSeq {
			s.FirstSeq = e.Seq
		}
		if e.Seq > s.LastSeq {
			s.LastSeq = e.Seq
		}
	}
	switch e.Type {
	case TypeNodeCompleted:
		s.NodesExecuted++
	case TypeNodeFailed:
		s.NodesFailed++
	case TypeCheckpointCreated:
		s.CheckpointsCreated++
	case TypeRollbackPerformed:
		s.Rollbacks++
	case TypeExecutionPaused:
		b.paused = true
	case TypeExecutionResumed:
		b.paused = false
	case TypeExecutionStarted, TypeRayBatchTestStarted:
		if !b.workflow {
			if id := workflowIDDetail(e.Details); id != "" {
				s.WorkflowID = id
				b.workflow = true
			}
		}
	}
	if e.Severity == SeverityError {
		s.Errors++
	}
	if st := terminalStatus(e.Type); st != "" {
		s.Status = st
		b.ended = e.Timestamp
		b.hasEnded = true
	}
}

// Summary returns the summary of the entries added so far, for executionID.
func (b *SummaryBuilder) Summary(executionID string) Summary {
	s := b.s
	s.ExecutionID = executionID
	if s.Status == "" {
		s.Status = ExecutionStatus("", b.paused)
	}
	if b.hasFirst {
		t := b.started.UTC()
		s.StartedAt = &t
	}
	if b.hasEnded {
		t := b.ended.UTC()
		s.EndedAt = &t
		if s.StartedAt != nil {
			d := durationMS(t.Sub(*s.StartedAt))
			s.DurationMS = &d
		}
	}
	return s
}

func durationMS(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// workflowIDDetail returns the string workflow_id of a details object, or "".
func workflowIDDetail(details json.RawMessage) string {
	if len(details) == 0 {
		return ""
	}
	var d struct {
		WorkflowID any `json:"workflow_id"`
	}
	if json.Unmarshal(details, &d) != nil {
		return ""
	}
	s, _ := d.WorkflowID.(string)
	return s
}
