package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StatusPaused is the status of an execution whose last execution_paused or
// execution_resumed entry is a pause and that has no terminal entry.
const StatusPaused = "paused"

// Statuses lists the execution statuses, in the order a run goes through them.
func Statuses() []string {
	return []string{StatusRunning, StatusPaused, StatusCompleted, StatusFailed, StatusCancelled}
}

// ValidStatus reports whether s is one of Statuses().
func ValidStatus(s string) bool {
	switch s {
	case StatusRunning, StatusPaused, StatusCompleted, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// ExecutionStatus is the status of an execution whose last terminal entry
// has type endType ("" when none) and whose last execution_paused or
// execution_resumed entry was a pause (paused): the terminal status when
// there is one, else StatusPaused or StatusRunning.
func ExecutionStatus(endType Type, paused bool) string {
	if st := terminalStatus(endType); st != "" {
		return st
	}
	if paused {
		return StatusPaused
	}
	return StatusRunning
}

// Cursor returns the paging cursor of s for Page.After: its StartedAt in
// Unix nanoseconds and its id, as "NANOS:ID".
func (s Summary) Cursor() string {
	var ns int64
	if s.StartedAt != nil {
		ns = s.StartedAt.UnixNano()
	}
	return strconv.FormatInt(ns, 10) + ":" + s.ExecutionID
}

// ParseCursor reads a cursor made by Summary.Cursor: the execution's start in
// Unix nanoseconds and its id. Errors wrap ErrInvalidFilter.
func ParseCursor(c string) (startedNS int64, executionID string, err error) {
	num, id, ok := strings.Cut(c, ":")
	if ok {
		startedNS, err = strconv.ParseInt(num, 10, 64)
	}
	if !ok || err != nil || id == "" {
		return 0, "", fmt.Errorf("%w: cursor %q is not one this server returned (want NANOS:EXECUTION_ID)", ErrInvalidFilter, c)
	}
	return startedNS, id, nil
}

// Before reports whether a comes before b in the order of Executions:
// started later, or at the same time with a greater id.
func Before(a, b Summary) bool {
	an, bn := startedNS(a), startedNS(b)
	if an != bn {
		return an > bn
	}
	return a.ExecutionID > b.ExecutionID
}

func startedNS(s Summary) int64 {
	if s.StartedAt == nil {
		return 0
	}
	return s.StartedAt.UnixNano()
}

// Match reports whether p selects s, cursor included. It is the reference
// semantics of Page for stores that filter in Go.
func (p Page) Match(s Summary) bool {
	if len(p.Statuses) > 0 {
		found := false
		for _, st := range p.Statuses {
			if st == s.Status {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if p.WorkflowID != "" && s.WorkflowID != p.WorkflowID {
		return false
	}
	if p.Text != "" && !ContainsFold(s.ExecutionID, p.Text) && !ContainsFold(s.WorkflowID, p.Text) {
		return false
	}
	ns := startedNS(s)
	if !p.Since.IsZero() && ns < p.Since.UnixNano() {
		return false
	}
	if !p.Until.IsZero() && ns >= p.Until.UnixNano() {
		return false
	}
	if p.After != "" {
		cns, cid, err := ParseCursor(p.After)
		if err != nil {
			return false
		}
		// After the cursor in the order of Executions.
		if ns > cns || ns == cns && s.ExecutionID >= cid {
			return false
		}
	}
	return true
}

// ContainsFold reports whether s contains sub, ASCII letters compared
// without case (other bytes exactly), as Page.Text matches.
func ContainsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if equalFoldASCII(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ExecutionDelta is what one appended batch adds to the summary of one
// execution. Stores that keep a summary row per execution merge deltas in
// the batch's transaction: counts add up; FirstSeq and StartedAt are kept
// from the first delta; LastSeq is replaced; EndType and EndedAt are
// replaced when the delta has a terminal entry; Paused when it has an
// execution_paused or execution_resumed entry; WorkflowID is kept once
// set.
type ExecutionDelta struct {
	ExecutionID string
	// Total, NodesExecuted, NodesFailed, Checkpoints, Rollbacks and Errors
	// count the batch's entries as Summary counts them.
	Total, NodesExecuted, NodesFailed, Checkpoints, Rollbacks, Errors int
	// FirstSeq and LastSeq are the least and greatest Seq of the batch's entries.
	FirstSeq, LastSeq int64
	// StartedAt is the timestamp of the batch's first entry (by Seq).
	StartedAt time.Time
	// EndType is the type of the batch's last terminal entry ("" when
	// none), EndedAt its timestamp.
	EndType Type
	EndedAt time.Time
	// PauseSet is true when the batch has an execution_paused or
	// execution_resumed entry; Paused is true when the last of them is a pause.
	PauseSet, Paused bool
	// WorkflowID is the first non-empty workflow_id detail of the batch's
	// execution_started and ray_batch_test_started entries ("" when none).
	WorkflowID string
}

// ExecutionDeltas groups the recorded entries of a batch (Seq not 0, in
// ascending Seq order, as Append leaves them) by execution, in the order
// executions first appear. Entries without an execution are left out.
func ExecutionDeltas(entries []Entry) []ExecutionDelta {
	var f DeltaFolder
	return f.Fold(entries)
}

// DeltaFolder computes ExecutionDeltas batch after batch, reusing its
// memory: a store's append path keeps one per writer. The zero value is
// ready to use; a DeltaFolder is not safe for concurrent use.
type DeltaFolder struct {
	out   []ExecutionDelta
	index map[string]int
}

// maxKeptDeltas bounds the memory a DeltaFolder keeps after a batch.
const maxKeptDeltas = 4096

// Fold returns the deltas of a batch, as ExecutionDeltas does. They are
// valid until the next call of Fold.
func (f *DeltaFolder) Fold(entries []Entry) []ExecutionDelta {
	if cap(f.out) > maxKeptDeltas {
		f.out, f.index = nil, nil
	}
	out := f.out[:0]
	index := f.index
	clear(index)
	useIndex := false
	last := -1 // index of the previous entry's delta: batches run by execution
	for i := range entries {
		e := &entries[i]
		if e.Seq == 0 || e.ExecutionID == "" {
			continue
		}
		k := -1
		if last >= 0 && out[last].ExecutionID == e.ExecutionID {
			k = last
		} else if useIndex {
			if j, ok := index[e.ExecutionID]; ok {
				k = j
			}
		} else {
			for j := range out {
				if out[j].ExecutionID == e.ExecutionID {
					k = j
					break
				}
			}
		}
		if k < 0 {
			out = append(out, ExecutionDelta{ExecutionID: e.ExecutionID, FirstSeq: e.Seq, StartedAt: e.Timestamp})
			k = len(out) - 1
			if !useIndex && len(out) > 8 {
				if index == nil {
					index = make(map[string]int, 64)
				}
				for j := range out {
					index[out[j].ExecutionID] = j
				}
				useIndex = true
			} else if useIndex {
				index[e.ExecutionID] = k
			}
		}
		last = k
		d := &out[k]
		d.Total++
		d.LastSeq = e.Seq
		switch e.Type {
		case TypeNodeCompleted:
			d.NodesExecuted++
		case TypeNodeFailed:
			d.NodesFailed++
		case TypeCheckpointCreated:
			d.Checkpoints++
		case TypeRollbackPerformed:
			d.Rollbacks++
		case TypeExecutionPaused:
			d.PauseSet, d.Paused = true, true
		case TypeExecutionResumed:
			d.PauseSet, d.Paused = true, false
		case TypeExecutionStarted, TypeRayBatchTestStarted:
			if d.WorkflowID == "" {
				d.WorkflowID = workflowIDDetail(e.Details)
			}
		}
		if e.Severity == SeverityError {
			d.Errors++
		}
		if terminalStatus(e.Type) != "" {
			d.EndType, d.EndedAt = e.Type, e.Timestamp
		}
	}
	f.out, f.index = out, index
	return out
}
