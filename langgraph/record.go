package langgraph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrRecord is wrapped by every error ParseRecord returns.
var ErrRecord = errors.New("langgraph: invalid record")

// MaxRecordSize bounds one record, in bytes.
const MaxRecordSize = 8 << 20

// Record is one record of LangGraph's event stream: astream_events(...,
// version="v2") in Python, streamEvents(..., { version: "v2" }) in
// JavaScript. Its keys are LangGraph's.
type Record struct {
	// Event is the record's kind, such as "on_chain_start" or "on_tool_end".
	Event string `json:"event"`
	// Name is the name of the runnable: the graph, a node, a tool, a model.
	Name string `json:"name"`
	// RunID identifies one run of a runnable (one attempt of a node).
	RunID string `json:"run_id"`
	// Data holds "input", "output", "chunk" (stream records) and, in
	// error records, "error" and "error_type".
	Data map[string]any `json:"data"`
	// Metadata is the run's metadata: thread_id, langgraph_node,
	// langgraph_step, langgraph_checkpoint_ns and others.
	Metadata map[string]any `json:"metadata"`
	// Tags are the run's tags; LangGraph tags a node's run "graph:step:N".
	Tags []string `json:"tags"`
	// ParentIDs lists the run ids of the run's parents, from the root to
	// the immediate parent (Python only; LangGraph.js leaves it out).
	ParentIDs []string `json:"parent_ids"`
	// Time is when the record happened: the producer's optional
	// "timestamp" key (an RFC 3339 string or Unix seconds), which is not
	// one of LangGraph's; zero when absent, and the reader then uses the
	// time it read the record.
	Time time.Time `json:"-"`
}

// ParseRecord decodes one record. It requires "event" to be a non-empty
// string and the other keys, when present, to have LangGraph's types;
// unknown keys are ignored. Errors wrap ErrRecord and name the key.
func ParseRecord(b []byte) (Record, error) {
	var r Record
	if len(b) > MaxRecordSize {
		return r, fmt.Errorf("%w: %d bytes exceed the limit of %d", ErrRecord, len(b), MaxRecordSize)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return r, fmt.Errorf("%w: want a JSON object", ErrRecord)
	}
	var raw struct {
		Record
		Timestamp json.RawMessage `json:"timestamp"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // numbers keep their digits (event.Map writes json.Number as is)
	if err := d.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			field, _, _ := strings.Cut(strings.TrimPrefix(te.Field, "Record."), ".")
			return r, fmt.Errorf("%w: %q must be %s, not a JSON %s", ErrRecord, field, typeName(field), te.Value)
		}
		return r, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	if d.More() {
		return r, fmt.Errorf("%w: more than one JSON value", ErrRecord)
	}
	r = raw.Record
	if r.Event == "" {
		return r, fmt.Errorf("%w: missing \"event\"", ErrRecord)
	}
	if len(raw.Timestamp) > 0 && string(raw.Timestamp) != "null" {
		t, err := parseTimestamp(raw.Timestamp)
		if err != nil {
			return r, fmt.Errorf("%w: \"timestamp\": %v", ErrRecord, err)
		}
		r.Time = t
	}
	return r, nil
}

func typeName(field string) string {
	switch field {
	case "data", "metadata":
		return "an object"
	case "tags", "parent_ids":
		return "an array of strings"
	}
	return "a string"
}

// parseTimestamp reads an RFC 3339 string or Unix seconds.
func parseTimestamp(b json.RawMessage) (time.Time, error) {
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("want RFC 3339 or Unix seconds: %v", err)
		}
		return t.UTC(), nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("want RFC 3339 or Unix seconds, got %s", b)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}
