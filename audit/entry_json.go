package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wtbdev/wtb/event"
)

var jsonNull = []byte("null")

// MarshalJSON writes the entry as one JSON object with the keys seq,
// event_id, source_type, then the reference's nine keys in its order:
// timestamp (RFC 3339, UTC), event_type, severity, message, execution_id,
// node_id, details, error, duration_ms. Empty ExecutionID, NodeID and Error
// are written as null, empty Details as {}.
func (e Entry) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, 256+len(e.Message)+len(e.Details)+len(e.Error))), nil
}

func (e *Entry) appendJSON(b []byte) []byte {
	o := object{b: append(b, '{')}
	o.int("seq", e.Seq)
	o.str("event_id", e.EventID)
	o.str("source_type", e.SourceType)
	e.appendReference(&o)
	return o.done()
}

// appendReference writes the reference's nine keys.
func (e *Entry) appendReference(o *object) {
	o.time("timestamp", e.Timestamp)
	o.str("event_type", string(e.Type))
	o.str("severity", string(e.Severity))
	o.str("message", e.Message)
	o.strOrNull("execution_id", e.ExecutionID)
	o.strOrNull("node_id", e.NodeID)
	o.key("details")
	if d := bytes.TrimSpace(e.Details); len(d) == 0 || bytes.Equal(d, jsonNull) {
		o.b = append(o.b, '{', '}')
	} else {
		o.b = append(o.b, d...)
	}
	o.strOrNull("error", e.Error)
	o.floatPtr("duration_ms", e.DurationMS)
}

// entryJSON is the input form of an Entry.
type entryJSON struct {
	Seq         int64           `json:"seq"`
	EventID     string          `json:"event_id"`
	SourceType  string          `json:"source_type"`
	Timestamp   *string         `json:"timestamp"`
	Type        *string         `json:"event_type"`
	Severity    *string         `json:"severity"`
	Message     *string         `json:"message"`
	ExecutionID *string         `json:"execution_id"`
	NodeID      *string         `json:"node_id"`
	Details     json.RawMessage `json:"details"`
	Error       *string         `json:"error"`
	DurationMS  *float64        `json:"duration_ms"`
}

// ErrBadJSON is returned (wrapped, with the reason) by the JSON decoders of
// this package when a required key is missing or a value has the wrong form.
var ErrBadJSON = errors.New("audit: bad JSON")

// UnmarshalJSON reads an entry written by MarshalJSON or by the reference
// (its nine keys; seq, event_id and source_type are then empty). timestamp,
// event_type, severity and message are required; the timestamp may be RFC
// 3339 or the reference's ISO form without zone, read as UTC. A null or
// missing execution_id, node_id or error reads as "", missing details as
// empty.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var in entryJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("%w: entry: %w", ErrBadJSON, err)
	}
	for _, req := range [...]struct {
		name string
		v    *string
	}{{"timestamp", in.Timestamp}, {"event_type", in.Type}, {"severity", in.Severity}, {"message", in.Message}} {
		if req.v == nil {
			return fmt.Errorf("%w: entry: missing %s", ErrBadJSON, req.name)
		}
	}
	ts, err := event.ParseTime(*in.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: entry: %w", ErrBadJSON, err)
	}
	sev := Severity(*in.Severity)
	if sev.Rank() < 0 {
		return fmt.Errorf("%w: entry: unknown severity %q", ErrBadJSON, *in.Severity)
	}
	details := bytes.TrimSpace(in.Details)
	if bytes.Equal(details, jsonNull) {
		details = nil
	}
	if len(details) > 0 && details[0] != '{' {
		return fmt.Errorf("%w: entry: details are not a JSON object", ErrBadJSON)
	}
	*e = Entry{
		Seq:         in.Seq,
		EventID:     in.EventID,
		SourceType:  in.SourceType,
		Timestamp:   ts,
		Type:        Type(*in.Type),
		Severity:    sev,
		Message:     *in.Message,
		ExecutionID: deref(in.ExecutionID),
		NodeID:      deref(in.NodeID),
		Details:     bytes.Clone(details),
		Error:       deref(in.Error),
		DurationMS:  in.DurationMS,
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Format renders the entry as one line of the text timeline, like the
// reference: "[HH:MM:SS.mmm] <icon> <message>", then " (node: <node_id>)"
// when NodeID is set, " [<duration>ms]" with one decimal when DurationMS is
// set and non-zero, and when Error is set a new line, 14 spaces and
// "Error: <error>". The time is the UTC wall clock, milliseconds truncated.
func (e Entry) Format() string {
	return string(e.appendFormat(make([]byte, 0, 64+len(e.Message)+len(e.Error)), nil))
}

// appendFormat appends the entry's line; with loc set, the time is in loc
// and followed by its zone ("Z" for UTC, else the offset "+01:00").
func (e *Entry) appendFormat(b []byte, loc *time.Location) []byte {
	t := e.Timestamp.UTC()
	if loc != nil {
		t = e.Timestamp.In(loc)
	}
	b = append(b, '[')
	b = append2(b, t.Hour())
	b = append(b, ':')
	b = append2(b, t.Minute())
	b = append(b, ':')
	b = append2(b, t.Second())
	b = append(b, '.')
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	if loc != nil {
		b = t.AppendFormat(b, "Z07:00")
	}
	b = append(b, ']', ' ')
	b = append(b, e.Severity.Icon()...)
	b = append(b, ' ')
	b = append(b, e.Message...)
	if e.NodeID != "" {
		b = append(b, " (node: "...)
		b = append(b, e.NodeID...)
		b = append(b, ')')
	}
	if e.DurationMS != nil && *e.DurationMS != 0 {
		b = append(b, " ["...)
		b = strconv.AppendFloat(b, *e.DurationMS, 'f', 1, 64)
		b = append(b, "ms]"...)
	}
	if e.Error != "" {
		b = append(b, "\n              Error: "...)
		b = append(b, e.Error...)
	}
	return b
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}
