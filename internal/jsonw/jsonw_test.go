package jsonw

import (
	"encoding/json"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// TestMatchesEncodingJSON: both appenders write exactly what encoding/json
// writes, for any string (valid UTF-8 or not) and any finite float.
func TestMatchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Any unicode text, then arbitrary bytes (control characters,
		// invalid UTF-8).
		s := rapid.String().Draw(t, "s") + string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw"))
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		f := rapid.Float64().Draw(t, "f")
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return
		}
		want, _ = json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Fatalf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	})
}

func TestEdgeCases(t *testing.T) {
	for _, s := range []string{"", "<a&b>", "\b\f\n\r\t\x00\x1f", "\u2028\u2029", "\xff", "é漢字🙂", `"\`} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	for _, f := range []float64{0, -0.0, 1e-7, 1e21, 123456789.125, 1e-6, 5e-324, math.MaxFloat64} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
