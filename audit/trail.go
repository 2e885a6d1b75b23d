package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wtbdev/wtb/event"
)

// Trail is the in-memory audit trail of one execution, for users without a
// store: entries in recording order plus informational fields (execution
// and workflow ids, start and end times set by the caller, imported AgentGit
// audits). It is safe for concurrent use. The zero value is an empty trail.
//
// A Trail is a Sink: a Listener can record into it.
type Trail struct {
	mu          sync.Mutex
	entries     []Entry
	executionID string
	workflowID  string
	startedAt   *time.Time
	endedAt     *time.Time
	agentgit    map[string]map[string]any
}

// maxReservedEntries bounds the room Flush reserves for the next entries.
const maxReservedEntries = 4096

// NewTrail returns an empty trail for an execution of a workflow; either id
// may be empty.
func NewTrail(executionID, workflowID string) *Trail {
	return &Trail{executionID: executionID, workflowID: workflowID}
}

// Add appends e.
func (t *Trail) Add(e Entry) {
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
}

// Record appends e; it never fails. It makes Trail a Sink.
func (t *Trail) Record(_ context.Context, e Entry) error {
	t.Add(e)
	return nil
}

// RecordEvent maps ev with FromEvent, appends the entry and returns it.
func (t *Trail) RecordEvent(ev event.Event) Entry {
	e := FromEvent(ev)
	t.Add(e)
	return e
}

// Flush returns all entries, oldest first, and empties the trail, as one
// atomic step. The other fields are kept.
func (t *Trail) Flush() []Entry {
	t.mu.Lock()
	out := t.entries
	// The next batch likely has the size of this one: allocate it once
	// instead of growing it step by step.
	t.entries = make([]Entry, 0, min(cap(out), maxReservedEntries))
	t.mu.Unlock()
	if out == nil {
		out = []Entry{}
	}
	return out
}

// FlushTo appends all entries to dst, oldest first, empties the trail and
// returns the extended dst, as one atomic step. Unlike Flush it keeps the
// trail's storage for the next entries, so a caller that persists entries
// periodically and reuses dst allocates nothing per flush.
func (t *Trail) FlushTo(dst []Entry) []Entry {
	t.mu.Lock()
	dst = append(dst, t.entries...)
	clear(t.entries)
	t.entries = t.entries[:0]
	t.mu.Unlock()
	return dst
}

// Len returns the number of entries held.
func (t *Trail) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// Entries returns a copy of the entries, oldest first.
func (t *Trail) Entries() []Entry {
	return t.filter(func(*Entry) bool { return true })
}

// Errors returns the entries of severity error, in order.
func (t *Trail) Errors() []Entry {
	return t.filter(func(e *Entry) bool { return e.Severity == SeverityError })
}

// ByNode returns the entries whose NodeID is nodeID, in order.
func (t *Trail) ByNode(nodeID string) []Entry {
	return t.filter(func(e *Entry) bool { return e.NodeID == nodeID })
}

// ByType returns the entries of audit type typ, in order.
func (t *Trail) ByType(typ Type) []Entry {
	return t.filter(func(e *Entry) bool { return e.Type == typ })
}

func (t *Trail) filter(keep func(*Entry) bool) []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := []Entry{}
	for i := range t.entries {
		if keep(&t.entries[i]) {
			out = append(out, t.entries[i])
		}
	}
	return out
}

// ExecutionID returns the trail's execution id.
func (t *Trail) ExecutionID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.executionID
}

// SetExecutionID sets the trail's execution id (informational: it does not
// filter what is recorded).
func (t *Trail) SetExecutionID(id string) {
	t.mu.Lock()
	t.executionID = id
	t.mu.Unlock()
}

// WorkflowID returns the trail's workflow id.
func (t *Trail) WorkflowID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.workflowID
}

// SetWorkflowID sets the trail's workflow id.
func (t *Trail) SetWorkflowID(id string) {
	t.mu.Lock()
	t.workflowID = id
	t.mu.Unlock()
}

// StartedAt returns when the execution started, as set by SetStartedAt.
func (t *Trail) StartedAt() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.startedAt == nil {
		return time.Time{}, false
	}
	return *t.startedAt, true
}

// SetStartedAt sets when the execution started; the zero time unsets it.
// The trail never sets it by itself.
func (t *Trail) SetStartedAt(at time.Time) {
	t.mu.Lock()
	t.startedAt = optTime(at)
	t.mu.Unlock()
}

// EndedAt returns when the execution ended, as set by SetEndedAt.
func (t *Trail) EndedAt() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.endedAt == nil {
		return time.Time{}, false
	}
	return *t.endedAt, true
}

// SetEndedAt sets when the execution ended; the zero time unsets it.
func (t *Trail) SetEndedAt(at time.Time) {
	t.mu.Lock()
	t.endedAt = optTime(at)
	t.mu.Unlock()
}

func optTime(at time.Time) *time.Time {
	if at.IsZero() {
		return nil
	}
	u := at.UTC()
	return &u
}

// ImportAgentGitAudit keeps an AgentGit audit (an opaque map, e.g.
// {"events": [...]}) under key, replacing any audit kept under that key.
func (t *Trail) ImportAgentGitAudit(key string, audit map[string]any) {
	t.mu.Lock()
	if t.agentgit == nil {
		t.agentgit = make(map[string]map[string]any)
	}
	t.agentgit[key] = audit
	t.mu.Unlock()
}

// AgentGitAudit returns the AgentGit audit kept under key.
func (t *Trail) AgentGitAudit(key string) (map[string]any, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.agentgit[key]
	return a, ok
}

// Summary returns the reference's summary of the trail: counts over the
// entries held, the trail's ids, StartedAt and EndedAt as set by the caller
// and DurationMS their difference when both are set. Status follows the
// last terminal entry held; FirstSeq and LastSeq span the entries' Seq.
func (t *Trail) Summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.summaryLocked()
}

func (t *Trail) summaryLocked() Summary {
	var b SummaryBuilder
	for i := range t.entries {
		b.Add(&t.entries[i])
	}
	s := b.Summary(t.executionID)
	s.WorkflowID = t.workflowID
	s.StartedAt, s.EndedAt, s.DurationMS = nil, nil, nil
	if t.startedAt != nil {
		v := *t.startedAt
		s.StartedAt = &v
	}
	if t.endedAt != nil {
		v := *t.endedAt
		s.EndedAt = &v
	}
	if s.StartedAt != nil && s.EndedAt != nil {
		d := durationMS(s.EndedAt.Sub(*s.StartedAt))
		s.DurationMS = &d
	}
	s.AgentGitAuditsImported = len(t.agentgit)
	return s
}

// Format renders the trail as the reference's text display; see
// FormatTimeline.
func (t *Trail) Format(opts FormatOptions) string {
	t.mu.Lock()
	s := t.summaryLocked()
	entries := slices.Clone(t.entries)
	t.mu.Unlock()
	return FormatTimeline(s, entries, opts)
}

// MarshalJSON writes the trail in the reference's dict form: execution_id,
// workflow_id, started_at, ended_at (RFC 3339 or null), entries, agentgit_audits,
// summary (the reference's twelve summary keys).
func (t *Trail) MarshalJSON() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.summaryLocked()
	o := newObject(256 + 256*len(t.entries))
	o.strOrNull("execution_id", t.executionID)
	o.strOrNull("workflow_id", t.workflowID)
	o.timePtr("started_at", t.startedAt)
	o.timePtr("ended_at", t.endedAt)
	o.key("entries")
	o.b = append(o.b, '[')
	for i := range t.entries {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = t.entries[i].appendJSON(o.b)
	}
	o.b = append(o.b, ']')
	agentgit := t.agentgit
	if agentgit == nil {
		agentgit = map[string]map[string]any{}
	}
	o.key("agentgit_audits")
	a, err := json.Marshal(agentgit)
	if err != nil {
		return nil, fmt.Errorf("audit: trail agentgit_audits: %w", err)
	}
	o.b = append(o.b, a...)
	o.key("summary")
	o.b = appendReferenceSummary(o.b, &s)
	return o.done(), nil
}

// appendReferenceSummary writes the reference's twelve summary keys.
func appendReferenceSummary(b []byte, s *Summary) []byte {
	o := object{b: append(b, '{')}
	o.int("total_entries", int64(s.TotalEntries))
	o.strOrNull("execution_id", s.ExecutionID)
	o.strOrNull("workflow_id", s.WorkflowID)
	o.timePtr("started_at", s.StartedAt)
	o.timePtr("ended_at", s.EndedAt)
	o.floatPtr("duration_ms", s.DurationMS)
	o.int("nodes_executed", int64(s.NodesExecuted))
	o.int("nodes_failed", int64(s.NodesFailed))
	o.int("checkpoints_created", int64(s.CheckpointsCreated))
	o.int("rollbacks", int64(s.Rollbacks))
	o.int("errors", int64(s.Errors))
	o.int("agentgit_audits_imported", int64(s.AgentGitAuditsImported))
	return o.done()
}

// UnmarshalJSON restores a trail from its dict form (MarshalJSON's or the
// reference's): ids, times (RFC 3339 or the reference's ISO form; null or
// empty means unset), entries and agentgit_audits. The summary key is ignored.
func (t *Trail) UnmarshalJSON(b []byte) error {
	var in struct {
		ExecutionID *string                   `json:"execution_id"`
		WorkflowID  *string                   `json:"workflow_id"`
		StartedAt   *string                   `json:"started_at"`
		EndedAt     *string                   `json:"ended_at"`
		Entries     []Entry                   `json:"entries"`
		AgentGit    map[string]map[string]any `json:"agentgit_audits"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("%w: trail: %w", ErrBadJSON, err)
	}
	started, err := parseOptTime(in.StartedAt)
	if err != nil {
		return fmt.Errorf("%w: trail started_at: %w", ErrBadJSON, err)
	}
	ended, err := parseOptTime(in.EndedAt)
	if err != nil {
		return fmt.Errorf("%w: trail ended_at: %w", ErrBadJSON, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.executionID = deref(in.ExecutionID)
	t.workflowID = deref(in.WorkflowID)
	t.startedAt, t.endedAt = started, ended
	t.entries = in.Entries
	t.agentgit = in.AgentGit
	return nil
}

func parseOptTime(s *string) (*time.Time, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	v, err := event.ParseTime(*s)
	if err != nil {
		return nil, err
	}
	return &v, nil
}
