package event_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
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
		if err != nil || refErr != nil || !bytes.Equal(got, want) {
			t.Errorf("sample %d: Encode = %s, %v\nreference %s, %v", i+1, got, err, want, refErr)
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
