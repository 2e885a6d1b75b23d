package event_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/event"
)

// TestEncodeMatchesReference: for every type, an event with random values
// in every field encodes to the same bytes as with the encoding/json
// encoder it replaced.
func TestEncodeMatchesReference(t *testing.T) {
	for _, ty := range event.Types() {
		t.Run(ty.Name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				ev := ty.New()
				fill(rt, reflect.ValueOf(ev).Elem(), ty.Name)
				got, err := ev.(json.Marshaler).MarshalJSON()
				want, refErr := event.RefMarshal(ev)
				if err != nil || refErr != nil {
					rt.Fatalf("MarshalJSON: %v, reference: %v", err, refErr)
				}
				if !bytes.Equal(got, want) {
					rt.Fatalf("MarshalJSON differs:\n got %s\nwant %s", got, want)
				}
			})
		})
	}
	for i, line := range sampleLines(t) {
		ev, err := event.Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		got, err := event.Encode(ev)
		want, refErr := event.RefMarshal(ev)
		if err != nil || refErr != nil {
			t.Fatalf("sample %d: Encode: %v, reference: %v", i+1, err, refErr)
		}
		if ec, ok := ev.(*event.ExecutionCompleted); ok {
			// final_state keeps the document's key order, where
			// encoding/json sorts: the same JSON value, keys in the order
			// FinalStateKeys reports.
			if !sameJSON(t, got, want) || !slices.Equal(objectKeysOf(t, got, "final_state"), ec.FinalStateKeys()) {
				t.Errorf("sample %d: Encode = %s\nreference %s\nfinal_state keys %q", i+1, got, want, ec.FinalStateKeys())
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("sample %d: Encode = %s\nreference %s", i+1, got, want)
		}
	}
}

// TestEncodeEdgeValues: values on the edges of the JSON encoding give the
// same bytes, or an error in both encoders.
func TestEncodeEdgeValues(t *testing.T) {
	base := event.Base{ID: "e<>&\u2028\u2029\x00\x1f\"\\\xff", Timestamp: time.Date(2026, 1, 27, 10, 0, 0, 1, time.FixedZone("x", 3600))}
	str := "s\t\n\r\b\f"
	tests := []struct {
		name string
		ev   event.Event
	}{
		{"escapes", &event.NodeFailed{Base: base, NodeID: "\u00e9\U0001F600", ErrorMessage: str}},
		{"floats", &event.RayVariantExecutionCompleted{Base: base, OverallScore: 1e21, Metrics: event.FloatMap{"a": 1e-7, "b": -0.0, "c": 123456789.125, "d": 1e20, "e": 5e-324, "f": math.MaxFloat64}}},
		{"untyped", &event.NodeCompleted{Base: base, Result: map[string]any{"z": []any{nil, true, json.Number(""), json.Number("-1.5e+3"), 2.5, 3, int64(4), "x", map[string]any(nil), []any(nil), event.Map(nil), event.List(nil), []string{"a"}}}}},
		{"maps", &event.LangGraphAudit{Base: base, Kind: event.LangGraphToolFailed, Inputs: map[string]any{"b": 1.0, "a": "x", "<": nil}, Tags: []string{}, Metrics: map[string]float64{}}},
		{"optional time", &event.VenvReused{Base: base, OriginalCreationTime: &base.Timestamp}},
		{"NaN", &event.NodeFailed{Base: base, DurationMS: math.NaN()}},
		{"infinity in a map", &event.RayVariantExecutionCompleted{Base: base, Metrics: event.FloatMap{"a": math.Inf(1)}}},
		{"bad number", &event.NodeCompleted{Base: base, Result: json.Number("1.")}},
		{"unsupported value", &event.NodeCompleted{Base: base, Result: map[string]any{"f": func() {}}}},
		{"year out of range", &event.NodeFailed{Base: event.Base{ID: "x", Timestamp: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{"optional time out of range", &event.VenvReused{Base: base, OriginalCreationTime: &time.Time{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ev.(json.Marshaler).MarshalJSON()
			want, refErr := event.RefMarshal(tt.ev)
			if (err == nil) != (refErr == nil) || !bytes.Equal(got, want) {
				t.Errorf("MarshalJSON = %s, %v\nreference %s, %v", got, err, want, refErr)
			}
		})
	}
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// objectKeysOf returns the keys of the object in the top-level field of
// doc, in document order.
func objectKeysOf(t *testing.T, doc []byte, field string) []string {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(top[field]))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
