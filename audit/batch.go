package audit

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Variant is one variant of a Ray batch test, read from the batch's
// ray_variant_* entries (recorded under the batch id, with the variant's
// execution id as node_id).
type Variant struct {
	// ExecutionID is the variant's own execution.
	ExecutionID string `json:"execution_id"`
	// Name is the variant's combination name.
	Name string `json:"name"`
	// Actor is the Ray actor it ran on, when known.
	Actor string `json:"actor,omitempty"`
	// Status is running, completed, failed or cancelled.
	Status string `json:"status"`
	// Score is the overall score of a completed variant.
	Score *float64 `json:"score"`
	// Metrics are the metrics of a completed variant (a JSON object).
	Metrics json.RawMessage `json:"metrics"`
	// DurationMS is the duration of an ended variant.
	DurationMS *float64 `json:"duration_ms"`
	// Error and FailedAtNode describe a failed variant; Error also a
	// cancelled one's reason.
	Error        string `json:"error,omitempty"`
	FailedAtNode string `json:"failed_at_node,omitempty"`
	// NodeCount and CheckpointCount come from the completed entry.
	NodeCount       *int64 `json:"node_count,omitempty"`
	CheckpointCount *int64 `json:"checkpoint_count,omitempty"`
	// StartedAt and EndedAt are the timestamps of its first and ending entries.
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

// Batch is a Ray batch test and its variants, in the order they started.
type Batch struct {
	Summary  Summary   `json:"summary"`
	Variants []Variant `json:"variants"`
	// BestCombination and BestScore come from ray_batch_test_completed.
	BestCombination string   `json:"best_combination,omitempty"`
	BestScore       *float64 `json:"best_score,omitempty"`
}

// BatchOf reads a batch test from its summary and entries (in Seq order).
// The variant's name and score are read from the entries' messages, which
// carry them in the reference's mapping ("Variant 'NAME' completed
// (score: 0.93)").
func BatchOf(s Summary, entries []Entry) Batch {
	b := Batch{Summary: s, Variants: []Variant{}}
	index := map[string]int{}
	for i := range entries {
		e := &entries[i]
		switch e.Type {
		case TypeRayBatchTestCompleted:
			var d struct {
				Best  string   `json:"best_combination"`
				Score *float64 `json:"best_score"`
			}
			if json.Unmarshal(e.Details, &d) == nil {
				b.BestCombination, b.BestScore = d.Best, d.Score
			}
			continue
		case TypeRayVariantExecutionStarted, TypeRayVariantExecutionCompleted,
			TypeRayVariantExecutionFailed, TypeRayVariantExecutionCancelled:
		default:
			continue
		}
		if e.NodeID == "" {
			continue
		}
		k, ok := index[e.NodeID]
		if !ok {
			b.Variants = append(b.Variants, Variant{ExecutionID: e.NodeID, Status: StatusRunning, StartedAt: e.Timestamp})
			k = len(b.Variants) - 1
			index[e.NodeID] = k
		}
		v := &b.Variants[k]
		if name := quoted(e.Message); name != "" {
			v.Name = name
		}
		end := e.Timestamp
		switch e.Type {
		case TypeRayVariantExecutionStarted:
			if _, after, ok := strings.Cut(e.Message, " on actor "); ok {
				v.Actor = quoted(after)
			}
			continue
		case TypeRayVariantExecutionCompleted:
			v.Status = StatusCompleted
			if _, after, ok := strings.Cut(e.Message, "(score: "); ok {
				if f, err := strconv.ParseFloat(strings.TrimSuffix(after, ")"), 64); err == nil {
					v.Score = &f
				}
			}
			var d struct {
				Metrics     json.RawMessage `json:"metrics"`
				Nodes       *int64          `json:"node_count"`
				Checkpoints *int64          `json:"checkpoint_count"`
			}
			if json.Unmarshal(e.Details, &d) == nil {
				v.Metrics, v.NodeCount, v.CheckpointCount = d.Metrics, d.Nodes, d.Checkpoints
			}
		case TypeRayVariantExecutionFailed:
			v.Status, v.Error = StatusFailed, e.Error
			var d struct {
				Node string `json:"failed_at_node"`
			}
			if json.Unmarshal(e.Details, &d) == nil {
				v.FailedAtNode = d.Node
			}
		case TypeRayVariantExecutionCancelled:
			v.Status = StatusCancelled
			if _, reason, ok := strings.Cut(e.Message, "cancelled: "); ok {
				v.Error = reason
			}
		}
		v.EndedAt = &end
		if e.DurationMS != nil {
			d := *e.DurationMS
			v.DurationMS = &d
		}
	}
	return b
}

// quoted returns the text between the first pair of single quotes of s.
func quoted(s string) string {
	_, rest, ok := strings.Cut(s, "'")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "'")
	if !ok {
		return ""
	}
	return name
}
