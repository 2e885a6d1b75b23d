package audit

import (
	"encoding/json"
	"time"
)

// Type is the audit event type of an entry, e.g. "node_completed".
type Type string

// Severity grades an entry. Severities are ordered for filtering:
// debug < info < success < warning < error.
type Severity string

// The five severities of the reference.
const (
	SeverityDebug   Severity = "debug"
	SeverityInfo    Severity = "info"
	SeveritySuccess Severity = "success"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities: debug 0, info 1, success 2, warning 3, error 4;
// an unknown severity ranks -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityDebug:
		return 0
	case SeverityInfo:
		return 1
	case SeveritySuccess:
		return 2
	case SeverityWarning:
		return 3
	case SeverityError:
		return 4
	}
	return -1
}

// Entry is one audit record. Its JSON form uses the reference's keys for the
// reference's fields, plus seq, event_id and source_type. Empty ExecutionID,
// NodeID and Error are written as null.
type Entry struct {
	// Seq is assigned by the store: strictly increasing, never reused. 0 until stored.
	Seq int64 `json:"seq"`
	// EventID is the id of the event the entry was made from.
	EventID string `json:"event_id"`
	// SourceType is the wire name of that event.
	SourceType string `json:"source_type"`

	Timestamp   time.Time `json:"timestamp"`
	Type        Type      `json:"event_type"`
	Severity    Severity  `json:"severity"`
	Message     string    `json:"message"`
	ExecutionID string    `json:"execution_id"`
	NodeID      string    `json:"node_id"`
	// Details is a JSON object. Treat it as read-only: entries made by
	// FromEvent may share its bytes.
	Details    json.RawMessage `json:"details"`
	Error      string          `json:"error"`
	DurationMS *float64        `json:"duration_ms"`
}
