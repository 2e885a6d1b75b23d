package audit

import (
	"encoding/json"
	"time"
)

// Node run statuses.
const (
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
	RunSkipped   = "skipped"
)

// NodeRun is one run of a node: from its node_started entry to the
// node_completed, node_failed or node_skipped entry that ends it.
type NodeRun struct {
	// NodeID is the node's id.
	NodeID string `json:"node_id"`
	// Attempt counts the runs of this node in the execution: 1, 2, ...
	Attempt int `json:"attempt"`
	// Status is RunCompleted, RunFailed, RunSkipped, or RunRunning while
	// no entry has ended the run.
	Status string `json:"status"`
	// Start is the timestamp of the node_started entry; without one, the
	// end less the duration.
	Start time.Time `json:"start"`
	// End is the timestamp of the entry that ended the run (nil while running).
	End *time.Time `json:"end"`
	// DurationMS is the ending entry's duration_ms, else End - Start (nil
	// while running).
	DurationMS *float64 `json:"duration_ms"`
	// Error is the error of a failed run.
	Error string `json:"error,omitempty"`
	// StartSeq and EndSeq are the seqs of the entries that started and
	// ended the run (0 when there is none).
	StartSeq int64 `json:"start_seq"`
	EndSeq   int64 `json:"end_seq"`
	// AfterRollback is true for a run of a node that an earlier rollback
	// reverted: the node runs again.
	AfterRollback bool `json:"after_rollback,omitempty"`
}

// Rollback is a rollback_performed entry: the execution went back to a
// checkpoint and reverted nodes.
type Rollback struct {
	Seq            int64     `json:"seq"`
	At             time.Time `json:"at"`
	FromCheckpoint string    `json:"from_checkpoint"`
	ToCheckpoint   string    `json:"to_checkpoint"`
	RevertedNodes  []string  `json:"reverted_nodes"`
}

// NodeRuns pairs an execution's node entries (in Seq order) into runs, in
// the order the runs started. A node_completed or node_failed entry ends
// the open run of its node, or is a run of its own when none is open (its
// start is then the end less its duration); node_skipped is a run of no
// length.
func NodeRuns(entries []Entry) []NodeRun {
	var runs []NodeRun
	open := map[string]int{} // node id -> index of its open run
	attempts := map[string]int{}
	reverted := map[string]bool{}
	begin := func(node string, at time.Time, seq int64) int {
		attempts[node]++
		runs = append(runs, NodeRun{NodeID: node, Attempt: attempts[node], Status: RunRunning, Start: at,
			StartSeq: seq, AfterRollback: reverted[node]})
		delete(reverted, node)
		return len(runs) - 1
	}
	for i := range entries {
		e := &entries[i]
		switch e.Type {
		case TypeNodeStarted:
			// Started again without an end: the earlier run stays running.
			open[e.NodeID] = begin(e.NodeID, e.Timestamp, e.Seq)
		case TypeNodeCompleted, TypeNodeFailed, TypeNodeSkipped:
			k, ok := open[e.NodeID]
			if !ok {
				start := e.Timestamp
				if e.DurationMS != nil && e.Type != TypeNodeSkipped {
					start = start.Add(-time.Duration(*e.DurationMS * float64(time.Millisecond)))
				}
				k = begin(e.NodeID, start, 0)
			}
			delete(open, e.NodeID)
			r := &runs[k]
			end := e.Timestamp
			r.End, r.EndSeq = &end, e.Seq
			switch e.Type {
			case TypeNodeCompleted:
				r.Status = RunCompleted
			case TypeNodeFailed:
				r.Status, r.Error = RunFailed, e.Error
			default:
				r.Status = RunSkipped
			}
			d := durationMS(end.Sub(r.Start))
			if e.DurationMS != nil {
				d = *e.DurationMS
			}
			r.DurationMS = &d
		case TypeRollbackPerformed:
			for _, n := range RollbackOf(*e).RevertedNodes {
				reverted[n] = true
			}
		}
	}
	return runs
}

// RollbackOf reads a rollback_performed entry.
func RollbackOf(e Entry) Rollback {
	var d struct {
		From  any      `json:"from_checkpoint"`
		To    any      `json:"to_checkpoint"`
		Nodes []string `json:"rolled_back_nodes"`
	}
	_ = json.Unmarshal(e.Details, &d)
	return Rollback{Seq: e.Seq, At: e.Timestamp, FromCheckpoint: idText(d.From), ToCheckpoint: idText(d.To), RevertedNodes: d.Nodes}
}

// idText renders a checkpoint id, which producers send as a string or a number.
func idText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}

// stringListDetail returns the list of strings under key in details.
func stringListDetail(details json.RawMessage, key string) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(details, &m) != nil {
		return nil
	}
	var out []string
	if json.Unmarshal(m[key], &out) != nil {
		return nil
	}
	return out
}
