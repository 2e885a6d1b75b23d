package audit

import (
	"github.com/wtbdev/wtb/internal/jsonw"

	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 27, 12, 30, 45, 123987000, time.UTC)

func TestEntryMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{
			name: "nulls and empty details",
			e:    Entry{Seq: 7, EventID: "ev-1", SourceType: "NodeStartedEvent", Timestamp: t0, Type: TypeNodeStarted, Severity: SeverityDebug, Message: "Node 'a' started"},
			want: `{"seq":7,"event_id":"ev-1","source_type":"NodeStartedEvent","timestamp":"2026-01-27T12:30:45.123987Z","event_type":"node_started","severity":"debug","message":"Node 'a' started","execution_id":null,"node_id":null,"details":{},"error":null,"duration_ms":null}`,
		},
		{
			name: "all fields, zone converted to UTC",
			e: Entry{EventID: "ev-2", SourceType: "NodeFailedEvent", Timestamp: t0.In(time.FixedZone("X", 3600)), Type: TypeNodeFailed,
				Severity: SeverityError, Message: "Node \"b\"\n failed", ExecutionID: "ex", NodeID: "n", Details: json.RawMessage(`{"recoverable":true}`),
				Error: "KeyError: x", DurationMS: fptr(0)},
			want: `{"seq":0,"event_id":"ev-2","source_type":"NodeFailedEvent","timestamp":"2026-01-27T12:30:45.123987Z","event_type":"node_failed","severity":"error","message":"Node \"b\"\n failed","execution_id":"ex","node_id":"n","details":{"recoverable":true},"error":"KeyError: x","duration_ms":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			var back Entry
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			want := tt.e
			want.Timestamp = want.Timestamp.UTC()
			if len(want.Details) == 0 {
				want.Details = json.RawMessage(`{}`)
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip: got %+v\nwant %+v", back, want)
			}
		})
	}
}

func TestEntryUnmarshalReferenceForm(t *testing.T) {
	in := `{"timestamp": "2025-01-09T12:00:00", "event_type": "node_completed", "severity": "success", "message": "Node completed", "execution_id": "exec-1", "node_id": null, "details": {}, "error": null, "duration_ms": 150.5}`
	var e Entry
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if !e.Timestamp.Equal(time.Date(2025, 1, 9, 12, 0, 0, 0, time.UTC)) || e.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %v", e.Timestamp)
	}
	if e.Type != TypeNodeCompleted || e.Severity != SeveritySuccess || e.ExecutionID != "exec-1" || e.NodeID != "" || e.Error != "" || *e.DurationMS != 150.5 {
		t.Errorf("got %+v", e)
	}
	bad := []struct{ name, in string }{
		{"missing timestamp", `{"event_type":"x","severity":"info","message":"m"}`},
		{"missing message", `{"timestamp":"2025-01-09T12:00:00","event_type":"x","severity":"info"}`},
		{"bad severity", `{"timestamp":"2025-01-09T12:00:00","event_type":"x","severity":"loud","message":"m"}`},
		{"bad time", `{"timestamp":"yesterday","event_type":"x","severity":"info","message":"m"}`},
		{"details not object", `{"timestamp":"2025-01-09T12:00:00","event_type":"x","severity":"info","message":"m","details":[1]}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var e Entry
			if err := json.Unmarshal([]byte(tt.in), &e); !errors.Is(err, ErrBadJSON) {
				t.Fatalf("err = %v, want ErrBadJSON", err)
			}
		})
	}
}

func TestEntryFormat(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"plain", Entry{Timestamp: t0, Severity: SeverityInfo, Message: "hello"}, "[12:30:45.123] [i] hello"},
		{"node duration", Entry{Timestamp: t0, Severity: SeveritySuccess, Message: "Execution completed (5 nodes)", DurationMS: fptr(1500)}, "[12:30:45.123] [+] Execution completed (5 nodes) [1500.0ms]"},
		{"zero duration hidden", Entry{Timestamp: t0, Severity: SeverityWarning, Message: "m", NodeID: "n1", DurationMS: fptr(0)}, "[12:30:45.123] [!] m (node: n1)"},
		{"rounding", Entry{Timestamp: t0, Severity: SeverityDebug, Message: "m", DurationMS: fptr(12.25)}, "[12:30:45.123] [D] m [12.2ms]"},
		{"error line", Entry{Timestamp: time.Date(2026, 1, 1, 12, 0, 0, 5e6, time.UTC), Severity: SeverityError, Message: "Node 'N2' failed", NodeID: "n2", Error: "ValueError: bad"},
			"[12:00:00.005] [X] Node 'N2' failed (node: n2)\n              Error: ValueError: bad"},
		{"unknown severity, local zone", Entry{Timestamp: t0.In(time.FixedZone("Y", -7200)), Severity: "odd", Message: "m"}, "[12:30:45.123]     m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Format(); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ slash", "ctl\x00\x01\x1f\t\r\n", "üñí€😀", "bad\xffutf8", "\u2028\u2029", "<html>&"} {
		got := jsonw.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decoded %q, want %q", s, back, wantBack)
		}
	}
	if got := string(appendJSONFloat(nil, 1e-7)); got != "1e-7" {
		t.Errorf("1e-7 -> %s", got)
	}
	if got := string(appendJSONFloat(nil, 1993.651)); got != "1993.651" {
		t.Errorf("1993.651 -> %s", got)
	}
	if !strings.Contains(string(appendJSONFloat(nil, 1e21)), "e+21") {
		t.Errorf("1e21 -> %s", appendJSONFloat(nil, 1e21))
	}
}

// TestValidateWorkflowIDLimit checks the identifier limit of an execution
// start's workflow_id: measured decoded, found as encoding/json finds it.
func TestValidateWorkflowIDLimit(t *testing.T) {
	entry := func(details string) Entry {
		return Entry{EventID: "ev", SourceType: "ExecutionStartedEvent", Timestamp: t0, Type: TypeExecutionStarted,
			Severity: SeverityInfo, Details: json.RawMessage(details)}
	}
	long := strings.Repeat("w", MaxIDSize)
	for _, tt := range []struct {
		details string
		ok      bool
	}{
		{`{"workflow_id":"` + long + `"}`, true},
		{`{"workflow_id":"` + long + `x"}`, false},
		{`{"WORKFLOW_ID":"` + long + `x"}`, false},
		{`{"workflow_id":"` + long + `x","workflow_id":"short"}`, true},     // the last one counts
		{`{"workflow_id":"` + strings.Repeat(`\n`, MaxIDSize) + `"}`, true}, // 2 KiB encoded, 1 KiB decoded
		{`{"workflow_id":"` + strings.Repeat(`é`, MaxIDSize/2+1) + `"}`, false},
		{`{"workflow_id":["` + long + `x"]}`, true}, // not a string: no workflow id
		{`{"workflow_id":"short","breakpoints":[]}`, true},
	} {
		err := entry(tt.details).Validate()
		if (err == nil) != tt.ok {
			t.Errorf("details of %d bytes starting %.40s: Validate() = %v, want ok %v", len(tt.details), tt.details, err, tt.ok)
		}
	}
}
