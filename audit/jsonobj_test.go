package audit

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// plainCases are values that object.any writes, plain or not.
func plainCases() []any {
	return []any{
		nil, "", "a", "<&>\u2028\"\\\n\x01", "\xff\xfe bad utf-8", "日本語", true, false,
		0.0, -0.0, 1.5, 1e21, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1),
		int64(-42), int64(math.MaxInt64), 7, json.Number("12"), json.Number("-1.5e+3"),
		json.Number(""), json.Number("01"), json.Number(" 1"), json.Number("1x"), json.Number("-"),
		map[string]any(nil), map[string]any{}, []any(nil), []any{},
		map[string]any{"b": "x", "a": 1.0, "c": []any{true, nil, "<", map[string]any{"z": int64(3), "y": "\u2029"}}},
		map[string]any{"model": "gpt-4o", "operation": "chat", "trace_id": "000102"},
		map[string]any{"k": math.NaN()}, []any{"a", math.Inf(1)},
		map[string]any{"k": json.Number("")}, map[string]any{"t": time.Unix(0, 0).UTC()},
		map[string]any{"bytes": []byte("abc")}, map[string]any{"s": []string{"a"}},
		map[string]any{"f32": float32(1.1)}, map[string]any{"u": uint8(3)},
		map[string]any{"<key>": "v", "\xff": 1, "é": 2, "E": 3},
		json.RawMessage(`{"raw":true}`), json.RawMessage(nil),
	}
}

// TestAnyAsEncodingJSON checks that object.any writes every value as
// json.Marshal does (null when it cannot), whether or not its plain
// writer takes it.
func TestAnyAsEncodingJSON(t *testing.T) {
	deep := any("leaf")
	for range maxPlainDepth + 3 {
		deep = map[string]any{"d": []any{deep}}
	}
	for _, v := range append(plainCases(), deep) {
		want, err := json.Marshal(v)
		if err != nil {
			want = []byte("null")
		}
		if r, ok := v.(json.RawMessage); ok && len(r) == 0 {
			want = []byte("null")
		}
		o := newObject(8)
		o.any("v", v)
		got := string(o.done())
		if w := `{"v":` + string(want) + `}`; got != w {
			t.Errorf("any(%#v) = %s, want %s", v, got, w)
		}
	}
}

// TestAppendPlainTakesPlainValues checks that the plain writer takes the
// values it is for (so that the comparison above tests it) and leaves the
// others to encoding/json.
func TestAppendPlainTakesPlainValues(t *testing.T) {
	for _, v := range []any{nil, "x", true, 1.5, int64(2), 3, json.Number("4"),
		map[string]any{"a": []any{"b", map[string]any{}}}, []any{}} {
		if _, ok := appendPlain(nil, v, 0); !ok {
			t.Errorf("appendPlain(%#v) left it to encoding/json", v)
		}
	}
	for _, v := range []any{math.NaN(), json.Number(""), json.Number("1 "), []byte("x"), float32(1),
		map[string]any{"t": time.Time{}}, []string{}, map[string]string{}} {
		if _, ok := appendPlain(nil, v, 0); ok {
			t.Errorf("appendPlain(%#v) wrote it itself", v)
		}
	}
}

// FuzzAnyAsEncodingJSON writes JSON documents decoded into plain values
// (with and without json.Number) and compares with json.Marshal.
func FuzzAnyAsEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true,{"b":"\u2028<"}]}`, `[1e400]`, `"\ud800"`, `-0`, `{"é":{"":[]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, useNumber := range []bool{false, true} {
			var v any
			d := json.NewDecoder(strings.NewReader(doc))
			if useNumber {
				d.UseNumber()
			}
			if d.Decode(&v) != nil {
				return
			}
			want, err := json.Marshal(v)
			if err != nil {
				want = []byte("null")
			}
			o := newObject(8)
			o.any("v", v)
			if got, w := string(o.done()), `{"v":`+string(want)+`}`; got != w {
				t.Fatalf("any(%#v) = %s, want %s", v, got, w)
			}
		}
	})
}
