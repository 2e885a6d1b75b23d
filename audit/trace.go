package audit

import (
	"encoding/json"
	"time"
)

// TraceEvent is one event of the Chrome Trace Event format (the JSON that
// Perfetto and chrome://tracing open). Times are microseconds.
type TraceEvent struct {
	Name  string         `json:"name"`
	Cat   string         `json:"cat,omitempty"`
	Ph    string         `json:"ph"`
	TS    float64        `json:"ts"`
	Dur   *float64       `json:"dur,omitempty"`
	PID   int            `json:"pid"`
	TID   int            `json:"tid"`
	Scope string         `json:"s,omitempty"`
	CName string         `json:"cname,omitempty"`
	Args  map[string]any `json:"args,omitempty"`
}

// Trace is a document of the Chrome Trace Event format.
type Trace struct {
	TraceEvents     []TraceEvent   `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	Metadata        map[string]any `json:"metadata,omitempty"`
}

// The tracks of a trace: the execution, its events, then one track per
// lane of node runs (runs that overlap in time get lanes of their own).
const (
	traceTrackExecution = 1
	traceTrackEvents    = 2
	traceTrackNodes     = 3
)

// ChromeTrace renders an execution (its summary and its entries in Seq
// order) in the Chrome Trace Event format: the execution as one slice,
// every node run as a slice (failed runs in red, running ones up to the
// last entry), checkpoints, rollbacks, branches, forks and errors as
// instant events. Times are microseconds since the Unix epoch.
func ChromeTrace(s Summary, entries []Entry) Trace {
	us := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e3 }
	var last time.Time
	for _, e := range entries {
		if e.Timestamp.After(last) {
			last = e.Timestamp
		}
	}
	tr := Trace{DisplayTimeUnit: "ms", TraceEvents: []TraceEvent{},
		Metadata: map[string]any{"execution_id": s.ExecutionID, "workflow_id": s.WorkflowID, "status": s.Status}}
	meta := func(tid int, name string) {
		tr.TraceEvents = append(tr.TraceEvents, TraceEvent{Name: "thread_name", Ph: "M", PID: 1, TID: tid,
			Args: map[string]any{"name": name}})
	}
	tr.TraceEvents = append(tr.TraceEvents, TraceEvent{Name: "process_name", Ph: "M", PID: 1,
		Args: map[string]any{"name": "execution " + s.ExecutionID}})
	meta(traceTrackExecution, "execution")
	meta(traceTrackEvents, "checkpoints, rollbacks, errors")
	if s.StartedAt != nil {
		end := last
		if s.EndedAt != nil {
			end = *s.EndedAt
		}
		d := us(end) - us(*s.StartedAt)
		name := s.WorkflowID
		if name == "" {
			name = s.ExecutionID
		}
		tr.TraceEvents = append(tr.TraceEvents, TraceEvent{Name: name, Cat: "execution", Ph: "X", TS: us(*s.StartedAt),
			Dur: &d, PID: 1, TID: traceTrackExecution, Args: map[string]any{"status": s.Status, "entries": s.TotalEntries}})
	}
	var laneEnds []float64
	for _, r := range NodeRuns(entries) {
		start := us(r.Start)
		end := us(last)
		if r.End != nil {
			end = us(*r.End)
		}
		if end < start {
			end = start
		}
		lane := -1
		for i, e := range laneEnds {
			if e <= start {
				lane = i
				break
			}
		}
		if lane < 0 {
			lane = len(laneEnds)
			laneEnds = append(laneEnds, 0)
			meta(traceTrackNodes+lane, "nodes")
		}
		laneEnds[lane] = end
		d := end - start
		ev := TraceEvent{Name: r.NodeID, Cat: "node", Ph: "X", TS: start, Dur: &d, PID: 1, TID: traceTrackNodes + lane,
			Args: map[string]any{"status": r.Status, "attempt": r.Attempt, "start_seq": r.StartSeq, "end_seq": r.EndSeq}}
		switch r.Status {
		case RunFailed:
			ev.CName = "terrible"
			ev.Args["error"] = r.Error
		case RunRunning:
			ev.CName = "grey"
		}
		if r.AfterRollback {
			ev.Args["after_rollback"] = true
		}
		tr.TraceEvents = append(tr.TraceEvents, ev)
	}
	for _, e := range entries {
		var cat string
		switch {
		case e.Type == TypeCheckpointCreated:
			cat = "checkpoint"
		case e.Type == TypeRollbackPerformed || e.Type == TypeRollbackRequested || e.Type == TypeRollbackFailed:
			cat = "rollback"
		case e.Type == TypeBranchCreated || e.Type == TypeExecutionForked || e.Type == TypeForkRequested:
			cat = "lineage"
		case e.Severity == SeverityError && e.Type != TypeNodeFailed:
			cat = "error"
		default:
			continue
		}
		args := map[string]any{"seq": e.Seq, "message": e.Message}
		if len(e.Details) > 0 {
			args["details"] = json.RawMessage(e.Details)
		}
		if e.Error != "" {
			args["error"] = e.Error
		}
		ev := TraceEvent{Name: string(e.Type), Cat: cat, Ph: "i", Scope: "t", TS: us(e.Timestamp), PID: 1,
			TID: traceTrackEvents, Args: args}
		if cat == "error" || cat == "rollback" {
			ev.CName = "bad"
		}
		tr.TraceEvents = append(tr.TraceEvents, ev)
	}
	return tr
}
