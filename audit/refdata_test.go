package audit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/internal/refdata"
)

type refEntry struct {
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Entry     *struct {
		Timestamp   string          `json:"timestamp"`
		EventType   string          `json:"event_type"`
		Severity    string          `json:"severity"`
		Message     string          `json:"message"`
		ExecutionID *string         `json:"execution_id"`
		NodeID      *string         `json:"node_id"`
		Details     json.RawMessage `json:"details"`
		Error       *string         `json:"error"`
		DurationMS  *float64        `json:"duration_ms"`
	} `json:"entry"`
}

func lines(b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestReferenceSamples checks FromEvent against the entries the reference
// produced for its own sample events.
func TestReferenceSamples(t *testing.T) {
	evLines, refLines := lines(refdata.Events), lines(refdata.AuditEntries)
	if len(evLines) != 164 || len(refLines) != len(evLines) {
		t.Fatalf("%d events, %d entries", len(evLines), len(refLines))
	}
	mapped, unmapped := 0, 0
	for i, line := range evLines {
		var ref refEntry
		if err := json.Unmarshal(refLines[i], &ref); err != nil {
			t.Fatal(err)
		}
		ev, err := event.Decode(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		got := audit.FromEvent(ev)
		if got.EventID != ref.EventID || got.SourceType != ref.EventType {
			t.Errorf("line %d: event_id %q source_type %q, want %q %q", i+1, got.EventID, got.SourceType, ref.EventID, ref.EventType)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("line %d: invalid entry: %v", i+1, err)
		}
		if ref.Entry == nil {
			unmapped++
			continue
		}
		mapped++
		want := ref.Entry
		wantTS, err := event.ParseTime(want.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		check := func(field string, g, w any) {
			if !reflect.DeepEqual(g, w) {
				t.Errorf("line %d (%s) %s: got %#v, want %#v", i+1, ref.EventType, field, g, w)
			}
		}
		check("timestamp", got.Timestamp, wantTS)
		check("event_type", string(got.Type), want.EventType)
		check("severity", string(got.Severity), want.Severity)
		check("message", got.Message, want.Message)
		check("execution_id", got.ExecutionID, str(want.ExecutionID))
		check("node_id", got.NodeID, str(want.NodeID))
		check("error", got.Error, str(want.Error))
		check("duration_ms", got.DurationMS, want.DurationMS)
		var gd, wd map[string]any
		if err := json.Unmarshal(got.Details, &gd); err != nil {
			t.Fatalf("line %d: details %s: %v", i+1, got.Details, err)
		}
		if err := json.Unmarshal(want.Details, &wd); err != nil {
			t.Fatal(err)
		}
		// final_state_keys too are compared in order: the reference's.
		check("details", gd, wd)
		// the details keys come in the reference's order
		if gk, wk := objectKeys(t, got.Details), objectKeys(t, want.Details); !slices.Equal(gk, wk) {
			t.Errorf("line %d: details keys %v, want %v", i+1, gk, wk)
		}
	}
	if mapped != 50 || unmapped != 114 {
		t.Fatalf("mapped %d, unmapped %d; want 50 and 114", mapped, unmapped)
	}
}

func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("details %s are not an object", raw)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
