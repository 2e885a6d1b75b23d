package event_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wtbdev/wtb/event"
)

var sentinels = []error{
	event.ErrMalformed, event.ErrMissingType, event.ErrUnknownType, event.ErrTypeMismatch, event.ErrFieldType,
	event.ErrBadTimestamp, event.ErrUnknownField, event.ErrMissingID, event.ErrTooLarge,
}

// checkDecodeError asserts that err is a *DecodeError naming wire and field
// whose chain holds want and no other sentinel.
func checkDecodeError(t *testing.T, err error, want error, wire, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%v, %v) = %v", err, s, got)
		}
	}
	var de *event.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%T %v is not a *DecodeError", err, err)
	}
	if de.WireName != wire || de.Field != field {
		t.Errorf("DecodeError names wire %q field %q, want %q %q (%v)", de.WireName, de.Field, wire, field, err)
	}
	msg := err.Error()
	if (wire != "" && !strings.Contains(msg, wire)) || (field != "" && !strings.Contains(msg, field)) {
		t.Errorf("message %q does not name %q and %q", msg, wire, field)
	}
}

const okHead = `"event_id":"e-1","timestamp":"2026-01-27T10:00:00"`

func TestDecodeBadInput(t *testing.T) {
	tests := []struct {
		name        string
		doc         string
		want        error
		wire, field string
	}{
		{"unknown type", `{"event_type":"NoSuchEvent",` + okHead + `}`, event.ErrUnknownType, "NoSuchEvent", "event_type"},
		{"base class", `{"event_type":"WTBEvent",` + okHead + `}`, event.ErrUnknownType, "WTBEvent", "event_type"},
		{"unknown kind", `{"event_type":"node_exploded",` + okHead + `}`, event.ErrUnknownType, "node_exploded", "event_type"},
		{"escaped unknown type", `{"event_type":"No\u0053uch",` + okHead + `}`, event.ErrUnknownType, "NoSuch", "event_type"},
		{"missing type", `{` + okHead + `,"execution_id":"x"}`, event.ErrMissingType, "", "event_type"},
		{"empty object", `{}`, event.ErrMissingType, "", "event_type"},
		{"null type", `{"event_type":null,` + okHead + `}`, event.ErrMissingType, "", "event_type"},
		{"empty type", `{"event_type":"",` + okHead + `}`, event.ErrMissingType, "", "event_type"},
		{"numeric type", `{"event_type":42,` + okHead + `}`, event.ErrFieldType, "", "event_type"},
		{"truncated", `{"event_type":"NodeFailedEvent","event_id":"e`, event.ErrMalformed, "", ""},
		{"missing comma", `{"event_type":"NodeFailedEvent" "event_id":"e"}`, event.ErrMalformed, "", ""},
		{"bad value", `{"event_type":"NodeFailedEvent",` + okHead + `,"duration_ms":1.2.3}`, event.ErrMalformed, "NodeFailedEvent", ""},
		{"trailing data", `{"event_type":"NodeFailedEvent",` + okHead + `} {}`, event.ErrMalformed, "NodeFailedEvent", ""},
		{"array", `[{"event_type":"NodeFailedEvent"}]`, event.ErrMalformed, "", ""},
		{"string", `"NodeFailedEvent"`, event.ErrMalformed, "", ""},
		{"empty input", ``, event.ErrMalformed, "", ""},
		{"string for int", `{"event_type":"CheckpointCreated",` + okHead + `,"step":"seven"}`, event.ErrFieldType, "CheckpointCreated", "step"},
		{"float for int", `{"event_type":"CheckpointCreated",` + okHead + `,"step":1.5}`, event.ErrFieldType, "CheckpointCreated", "step"},
		{"number for string", `{"event_type":"NodeFailedEvent",` + okHead + `,"node_id":7}`, event.ErrFieldType, "NodeFailedEvent", "node_id"},
		{"string for bool", `{"event_type":"NodeFailedEvent",` + okHead + `,"recoverable":"yes"}`, event.ErrFieldType, "NodeFailedEvent", "recoverable"},
		{"list for map", `{"event_type":"ExecutionStartedEvent",` + okHead + `,"initial_state":[]}`, event.ErrFieldType, "ExecutionStartedEvent", "initial_state"},
		{"nested wrong type", `{"event_type":"ray_variant_execution_completed",` + okHead + `,"metrics":{"score":"high"}}`, event.ErrFieldType, "ray_variant_execution_completed", "metrics"},
		{"alias wrong type", `{"event_type":"RayBatchTestStartedEvent",` + okHead + `,"variant_count":"3"}`, event.ErrFieldType, "RayBatchTestStartedEvent", "variant_count"},
		{"number id", `{"event_type":"NodeFailedEvent","event_id":12,"timestamp":"2026-01-27T10:00:00"}`, event.ErrFieldType, "NodeFailedEvent", "event_id"},
		{"bad kind type", `{"event_type":"node_completed",` + okHead + `,"step":"x"}`, event.ErrFieldType, "node_completed", "step"},
		{"bad timestamp", `{"event_type":"NodeFailedEvent","event_id":"e","timestamp":"yesterday"}`, event.ErrBadTimestamp, "NodeFailedEvent", "timestamp"},
		{"numeric timestamp", `{"event_type":"NodeFailedEvent","event_id":"e","timestamp":1769508000}`, event.ErrBadTimestamp, "NodeFailedEvent", "timestamp"},
		{"null timestamp", `{"event_type":"NodeFailedEvent","event_id":"e","timestamp":null}`, event.ErrBadTimestamp, "NodeFailedEvent", "timestamp"},
		{"missing timestamp", `{"event_type":"NodeFailedEvent","event_id":"e"}`, event.ErrBadTimestamp, "NodeFailedEvent", "timestamp"},
		{"out of range timestamp", `{"event_type":"NodeFailedEvent","event_id":"e","timestamp":"0000-01-01T00:00:00+01:00"}`, event.ErrBadTimestamp, "NodeFailedEvent", "timestamp"},
		{"bad optional time", `{"event_type":"VenvReusedEvent",` + okHead + `,"original_creation_time":"soon"}`, event.ErrBadTimestamp, "VenvReusedEvent", "original_creation_time"},
		{"unknown field", `{"event_type":"NodeFailedEvent",` + okHead + `,"bogus":1}`, event.ErrUnknownField, "NodeFailedEvent", "bogus"},
		{"other type's field", `{"event_type":"NodeFailedEvent",` + okHead + `,"node_type":"llm"}`, event.ErrUnknownField, "NodeFailedEvent", "node_type"},
		{"ray field elsewhere", `{"event_type":"ExecutionStartedEvent",` + okHead + `,"ray_job_id":"j"}`, event.ErrUnknownField, "ExecutionStartedEvent", "ray_job_id"},
		{"missing id", `{"event_type":"NodeFailedEvent","timestamp":"2026-01-27T10:00:00"}`, event.ErrMissingID, "NodeFailedEvent", "event_id"},
		{"empty id", `{"event_type":"NodeFailedEvent","event_id":"","timestamp":"2026-01-27T10:00:00"}`, event.ErrMissingID, "NodeFailedEvent", "event_id"},
		{"null id", `{"event_type":"node_started","event_id":null,"timestamp":"2026-01-27T10:00:00"}`, event.ErrMissingID, "node_started", "event_id"},
		{"conflicting type keys", `{"event_type":"NodeFailedEvent","EVENT_TYPE":"NodeStartedEvent",` + okHead + `}`, event.ErrUnknownField, "NodeFailedEvent", "EVENT_TYPE"},
		{"key differing in case", `{"event_type":"NodeFailedEvent",` + okHead + `,"Node_ID":"n"}`, event.ErrUnknownField, "NodeFailedEvent", "Node_ID"},
		{"escaped unknown key", `{"event_type":"NodeFailedEvent",` + okHead + `,"node\u005fidx":"n"}`, event.ErrUnknownField, "NodeFailedEvent", "node_idx"},
		{"duplicate key", `{"event_type":"NodeFailedEvent",` + okHead + `,"node_id":"a","node_id":"b"}`, event.ErrMalformed, "NodeFailedEvent", "node_id"},
		{"duplicate escaped key", `{"event_type":"NodeFailedEvent",` + okHead + `,"node_id":"a","node\u005fid":"b"}`, event.ErrMalformed, "NodeFailedEvent", "node_id"},
		{"too large", `{"event_type":"NodeFailedEvent",` + okHead + `,"error_message":"` + strings.Repeat("x", event.MaxEventSize) + `"}`, event.ErrTooLarge, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := event.Decode([]byte(tt.doc))
			if ev != nil {
				t.Errorf("Decode returned an event with the error: %#v", ev)
			}
			checkDecodeError(t, err, tt.want, tt.wire, tt.field)
		})
	}
}

func TestDecodeAs(t *testing.T) {
	ev, err := event.DecodeAs("NodeFailedEvent", []byte(`{`+okHead+`,"node_id":"n1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if nf, ok := ev.(*event.NodeFailed); !ok || nf.NodeID != "n1" || !nf.Recoverable {
		t.Errorf("DecodeAs without event_type: %#v", ev)
	}
	// Keys spelled with escapes are the same keys.
	ev, err = event.DecodeAs("NodeFailedEvent", []byte(`{`+okHead+`,"node\u005fid":"n2"}`))
	if err != nil || ev.(*event.NodeFailed).NodeID != "n2" {
		t.Errorf("escaped key: %v %v", ev, err)
	}
	ev, err = event.DecodeAs("RollbackPerformedEvent", []byte(`{"event_type":"RollbackCompleted",`+okHead+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.(*event.RollbackCompleted); !ok {
		t.Errorf("alias decoded as %T", ev)
	}
	ev, err = event.DecodeAs("tool_failed", []byte(`{`+okHead+`,"thread_id":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	if lg := ev.(*event.LangGraphAudit); lg.Kind != event.LangGraphToolFailed || lg.WireName() != "tool_failed" {
		t.Errorf("LangGraph kind from the wire name: %q", lg.Kind)
	}

	bad := []struct {
		name, wire, doc string
		want            error
		errWire, field  string
	}{
		{"unknown wire name", "Nope", `{` + okHead + `}`, event.ErrUnknownType, "Nope", "event_type"},
		{"other type in document", "NodeFailedEvent", `{"event_type":"NodeStartedEvent",` + okHead + `}`, event.ErrTypeMismatch, "NodeFailedEvent", "event_type"},
		{"other kind in document", "tool_failed", `{"event_type":"tool_started",` + okHead + `}`, event.ErrTypeMismatch, "tool_failed", "event_type"},
		{"unknown kind in document", "tool_failed", `{"event_type":"tool_exploded",` + okHead + `}`, event.ErrUnknownType, "tool_exploded", "event_type"},
		{"non-string kind", "tool_failed", `{"event_type":3,` + okHead + `}`, event.ErrFieldType, "", "event_type"},
		{"malformed", "NodeFailedEvent", `{"event_id":`, event.ErrMalformed, "NodeFailedEvent", ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.DecodeAs(tt.wire, []byte(tt.doc))
			checkDecodeError(t, err, tt.want, tt.errWire, tt.field)
		})
	}
}

// TestUnmarshalJSONDirect checks that encoding/json callers get the same
// rules and errors as Decode.
func TestUnmarshalJSONDirect(t *testing.T) {
	var nf event.NodeFailed
	nf.ErrorType = "stale"
	if err := json.Unmarshal([]byte(`{`+okHead+`,"node_id":"n"}`), &nf); err != nil {
		t.Fatal(err)
	}
	if nf.ErrorType != "" || !nf.Recoverable || nf.NodeID != "n" {
		t.Errorf("UnmarshalJSON must replace the event and apply defaults: %+v", nf)
	}
	err := json.Unmarshal([]byte(`{"event_type":"NodeStartedEvent",`+okHead+`}`), &nf)
	checkDecodeError(t, err, event.ErrTypeMismatch, "NodeFailedEvent", "event_type")
	var wrapped struct{ Ev *event.NodeFailed }
	err = json.Unmarshal([]byte(`{"Ev":{`+okHead+`,"duration_ms":"slow"}}`), &wrapped)
	checkDecodeError(t, err, event.ErrFieldType, "NodeFailedEvent", "duration_ms")
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		wire, field string
		want        any
	}{
		{"NodeFailedEvent", "Recoverable", true},
		{"RollbackCompleted", "StateRestored", true},
		{"EnvironmentCreationStartedEvent", "Source", "api"},
		{"EnvironmentCreatedEvent", "Source", "api"},
		{"EnvironmentCreationFailedEvent", "Source", "api"},
		{"ray_batch_test_cancelled", "CancelledBy", "user"},
		{"WorkspaceCreatedEvent", "Strategy", "workspace"},
		{"FileRestoreEvent", "Success", true},
		{"ForkRequestedEvent", "ForkType", "variant"},
		{"ForkCompletedEvent", "ReadyToExecute", true},
		{"NodeStartedEvent", "NodeType", ""},
		{"EnvironmentDeletedEvent", "EnvPath", ""},
	}
	for _, tt := range tests {
		t.Run(tt.wire+"."+tt.field, func(t *testing.T) {
			ty, ok := event.Lookup(tt.wire)
			if !ok {
				t.Fatalf("no type %s", tt.wire)
			}
			fromNew := reflect.ValueOf(ty.New()).Elem().FieldByName(tt.field).Interface()
			ev, err := event.Decode([]byte(fmt.Sprintf(`{"event_type":%q,%s}`, tt.wire, okHead)))
			if err != nil {
				t.Fatal(err)
			}
			decoded := reflect.ValueOf(ev).Elem().FieldByName(tt.field).Interface()
			if fromNew != tt.want || decoded != tt.want {
				t.Errorf("Type.New: %#v, Decode of a document without it: %#v, want %#v", fromNew, decoded, tt.want)
			}
		})
	}
	// An explicit zero value in the document overrides the default.
	ev, err := event.Decode([]byte(`{"event_type":"NodeFailedEvent",` + okHead + `,"recoverable":false}`))
	if err != nil || ev.(*event.NodeFailed).Recoverable {
		t.Errorf("explicit false: %v %v", ev, err)
	}
	// Collections the document omits decode as empty, not nil.
	ev, err = event.Decode([]byte(`{"event_type":"ExecutionStartedEvent",` + okHead + `,"initial_state":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if es := ev.(*event.ExecutionStarted); es.InitialState == nil || es.Breakpoints == nil || len(es.InitialState)+len(es.Breakpoints) != 0 {
		t.Errorf("omitted collections: %#v", es)
	}
}

func TestNewGeneric(t *testing.T) {
	before := time.Now().UTC()
	nf := event.New[event.NodeFailed]()
	if !nf.Recoverable || nf.ID == "" || nf.Timestamp.Before(before) || nf.Timestamp.Location() != time.UTC {
		t.Errorf("New[NodeFailed]() = %+v", nf)
	}
	other := event.New[event.NodeFailed]()
	if other.ID == nf.ID {
		t.Error("two events share an id")
	}
	if nf.ID[14] != '7' {
		t.Errorf("id %s is not a UUIDv7", nf.ID)
	}
	if ws := event.New[event.WorkspaceCreated](); ws.Strategy != "workspace" {
		t.Errorf("New[WorkspaceCreated]().Strategy = %q", ws.Strategy)
	}
}

func TestEnvID(t *testing.T) {
	v := func(s string) *string { return &s }
	tests := []struct {
		ev   interface{ EnvID() string }
		want string
	}{
		{&event.EnvironmentCreated{WorkflowID: "wf-001", NodeID: "node-a"}, "wf-001_node-a"},
		{&event.EnvironmentCreated{WorkflowID: "wf-001", NodeID: "node-a", VersionID: v("v1")}, "wf-001_node-a_v1"},
		{&event.DependenciesAdded{WorkflowID: "wf", NodeID: "n", VersionID: v("")}, "wf_n"},
		{&event.EnvironmentLockTimeout{}, "_"},
	}
	for _, tt := range tests {
		if got := tt.ev.EnvID(); got != tt.want {
			t.Errorf("%T.EnvID() = %q, want %q", tt.ev, got, tt.want)
		}
	}
	n := 0
	for _, ty := range event.TypesIn(event.CategoryEnvironment) {
		if _, ok := ty.New().(interface{ EnvID() string }); ok {
			n++
		}
	}
	if n != 13 {
		t.Errorf("%d environment types have EnvID, want 13 (all but the two cleanup events)", n)
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		ev   event.Event
		want error
	}{
		{"nil", nil, event.ErrEncode},
		{"nil pointer", (*event.NodeFailed)(nil), event.ErrEncode},
		{"no id", &event.NodeFailed{}, event.ErrMissingID},
		{"unknown kind", &event.LangGraphAudit{Base: event.Base{ID: "x"}, Kind: "exploded"}, event.ErrUnknownType},
		{"year 10000", &event.NodeFailed{Base: event.Base{ID: "x", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, event.ErrBadTimestamp},
		{"NaN", &event.NodeFailed{Base: event.Base{ID: "x"}, DurationMS: nan()}, event.ErrEncode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := event.Encode(tt.ev)
			if !errors.Is(err, tt.want) || !errors.Is(err, event.ErrEncode) || b != nil {
				t.Errorf("Encode = %s, %v; want %v", b, err, tt.want)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestTimestamps(t *testing.T) {
	want := time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-27T10:00:00Z", want},
		{"2026-01-27T12:00:00+02:00", want},
		{"2026-01-27T05:00:00-05:00", want},
		{"2026-01-27T10:00:00+00:00", want},
		{"2026-01-27T10:00:00", want},
		{"2026-01-27T10:00:00.037000", want.Add(37 * time.Millisecond)},
		{"2026-01-27T10:00:00.000001", want.Add(time.Microsecond)},
		{"2026-01-27T10:00:00.123456789Z", want.Add(123456789)},
		{"2026-01-27T11:30:00.5+01:30", want.Add(500 * time.Millisecond)},
		{"2026-01-27 10:00:00", want},
		{"2026-01-28T00:30:00+14:30", want},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := event.ParseTime(tt.in)
			if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseTime = %v, %v; want %v", got, err, tt.want)
			}
			ev, err := event.Decode([]byte(`{"event_type":"NodeFailedEvent","event_id":"e","timestamp":"` + tt.in + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			if ts := ev.EventTime(); !ts.Equal(tt.want) || ts.Location() != time.UTC {
				t.Errorf("decoded timestamp %v (%v), want %v", ts, ts.Location(), tt.want)
			}
			if got := event.FormatTime(ev.EventTime()); got != tt.want.Format(time.RFC3339Nano) {
				t.Errorf("FormatTime = %s", got)
			}
		})
	}
	for _, bad := range []string{"", "2026-01-27", "10:00:00", "2026-13-01T00:00:00", "2026-01-27T25:00:00", "2026-01-27T10:00:00 UTC", "yesterday", "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"} {
		if got, err := event.ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}
}

// FuzzParseTime: ParseTime agrees with time.Parse on the layouts it
// documents, whichever path it takes.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-01-27T10:00:00", "2026-01-27T10:00:00.037000", "2026-01-27T10:00:00Z",
		"2026-01-27T12:00:00+02:00", "2026-01-27 10:00:00", "2024-02-29T23:59:59.999999999", "2026-02-29T00:00:00",
		"2026-01-27T10:00:00,5", "0000-01-01T00:00:00", "2026-01-27T24:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := event.ParseTime(s)
		var want time.Time
		ok := false
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if v, perr := time.Parse(layout, s); perr == nil {
				want, ok = v.UTC(), true
				break
			}
		}
		if ok && (want.Year() < 0 || want.Year() > 9999) {
			ok = false
		}
		if (err == nil) != ok || (ok && !got.Equal(want)) {
			t.Fatalf("ParseTime(%q) = %v, %v; time.Parse gives %v, %v", s, got, err, want, ok)
		}
		if err == nil && got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) is in %v", s, got.Location())
		}
	})
}

func TestNewCheckpointCreated(t *testing.T) {
	tests := []struct {
		name      string
		writes    event.Map
		order     []string
		next      []string
		completed string // "" for nil
		terminal  bool
	}{
		{"first real node", event.Map{"__start__": 1, "plan": 2, "act": 3}, []string{"__start__", "plan", "act"}, []string{"act"}, "plan", false},
		{"only internal keys", event.Map{"__start__": 1}, []string{"__start__"}, nil, "", true},
		{"empty writes", event.Map{}, nil, []string{}, "", true},
		{"order key absent from writes", event.Map{"b": 1}, []string{"a", "b"}, []string{"c"}, "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event.NewCheckpointCreated("exec-1", "cp-1", 4, tt.writes, tt.order, tt.next)
			got := ""
			if ev.CompletedNode != nil {
				got = *ev.CompletedNode
			}
			if got != tt.completed || ev.IsTerminal != tt.terminal || ev.Step != 4 || ev.ID == "" || ev.Timestamp.IsZero() {
				t.Errorf("got %+v (completed %q)", ev, got)
			}
		})
	}
	rc := event.NewRollbackCompleted("exec-1", "cp-9", "cp-3", []string{"a"})
	if !rc.StateRestored || rc.FromCheckpointID != "cp-9" || rc.ToCheckpointID != "cp-3" || rc.ID == "" {
		t.Errorf("NewRollbackCompleted = %+v", rc)
	}
}

func TestKindOfStreamEvent(t *testing.T) {
	tests := map[string]event.LangGraphKind{
		"on_chain_start": event.LangGraphNodeStarted, "on_chain_end": event.LangGraphNodeCompleted,
		"on_chain_error": event.LangGraphNodeFailed, "on_tool_start": event.LangGraphToolStarted,
		"on_tool_end": event.LangGraphToolCompleted, "on_tool_error": event.LangGraphToolFailed,
		"on_chat_model_start": event.LangGraphLLMStarted, "on_chat_model_end": event.LangGraphLLMCompleted,
		"on_chat_model_stream": event.LangGraphLLMStreamed, "on_retriever_start": event.LangGraphRetrieverStarted,
		"on_retriever_end": event.LangGraphRetrieverCompleted,
		"unknown":          event.LangGraphCustomEvent, "on_chat_model_error": event.LangGraphCustomEvent,
		"on_retriever_error": event.LangGraphCustomEvent, "on_custom_event": event.LangGraphCustomEvent, "": event.LangGraphCustomEvent,
	}
	for name, want := range tests {
		if got := event.KindOfStreamEvent(name); got != want {
			t.Errorf("KindOfStreamEvent(%q) = %q, want %q", name, got, want)
		}
	}
	if n := len(event.LangGraphKinds()); n != 23 {
		t.Errorf("%d kinds", n)
	}
	for _, k := range event.LangGraphKinds() {
		if !k.Valid() {
			t.Errorf("%s not valid", k)
		}
	}
	if event.LangGraphKind("nope").Valid() || event.LangGraphKind("").Valid() {
		t.Error("invalid kinds reported valid")
	}
}

func TestDecodeErrorClipsInput(t *testing.T) {
	long := strings.Repeat("é", 1000)
	for _, doc := range []string{
		`{"event_type":"` + long + `",` + okHead + `}`,
		`{"event_type":"NodeFailedEvent",` + okHead + `,"` + long + `":1}`,
	} {
		_, err := event.Decode([]byte(doc))
		var de *event.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%v", err)
		}
		if len(de.WireName) > 260 || len(de.Field) > 260 || len(err.Error()) > 1000 {
			t.Errorf("error repeats too much input: wire %d, field %d, message %d bytes", len(de.WireName), len(de.Field), len(err.Error()))
		}
		if !strings.HasSuffix(de.WireName, "...") && !strings.HasSuffix(de.Field, "...") {
			t.Errorf("clipped name not marked: wire %q field %q", de.WireName, de.Field)
		}
		if !utf8.ValidString(de.WireName) || !utf8.ValidString(de.Field) || !utf8.ValidString(err.Error()) {
			t.Error("clipped at a byte inside a rune")
		}
	}
}

func TestEncodeNilCollections(t *testing.T) {
	base := event.Base{ID: "e", Timestamp: time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)}
	tests := []struct {
		ev   event.Event
		want []string
	}{
		{&event.ExecutionStarted{Base: base}, []string{`"initial_state":{}`, `"breakpoints":[]`}},
		{&event.RayVariantExecutionCompleted{Base: base}, []string{`"variants":{}`, `"metrics":{}`, `"ray_job_id":null`, `"file_commit_id":null`}},
		{&event.FileCommitCreated{Base: base}, []string{`"file_paths":[]`, `"message":null`}},
		{&event.LangGraphAudit{Base: base}, []string{`"event_type":"custom_event"`, `"inputs":null`, `"tags":null`, `"metrics":null`, `"step":null`}},
		{&event.ExecutionResumed{Base: base}, []string{`"modified_state":null`}},
		{&event.VenvReused{Base: base}, []string{`"original_creation_time":null`}},
		{&event.NodeCompleted{Base: base}, []string{`"result":null`, `"output_variables":{}`}},
	}
	for _, tt := range tests {
		b, err := event.Encode(tt.ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: %s lacks %s", tt.ev.WireName(), b, w)
			}
		}
	}
	for _, tt := range []struct {
		v    json.Marshaler
		want string
	}{
		{event.Map(nil), `{}`}, {event.List(nil), `[]`}, {event.Strings(nil), `[]`}, {event.FloatMap(nil), `{}`},
		{event.StringMap(nil), `{}`}, {event.Strings{"a"}, `["a"]`}, {event.FloatMap{"x": 1.5}, `{"x":1.5}`},
		{event.LangGraphKind(""), `"custom_event"`}, {event.LangGraphToolFailed, `"tool_failed"`},
	} {
		if b, err := tt.v.MarshalJSON(); err != nil || string(b) != tt.want {
			t.Errorf("%#v.MarshalJSON() = %s, %v; want %s", tt.v, b, err, tt.want)
		}
	}
}
