package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`[]`, nil, true},
		{` [ ] `, nil, true},
		{`[1]`, []string{`1`}, true},
		{`[{"a":"]"}, {"b":[1,{"c":"}"}]} ,"x\"]"]`, []string{`{"a":"]"}`, `{"b":[1,{"c":"}"}]}`, `"x\"]"`}, true},
		{`[{"a":"\\"},2]`, []string{`{"a":"\\"}`, `2`}, true},
		{`[1,]`, nil, false},
		{`[,1]`, nil, false},
		{`[1,,2]`, nil, false},
		{`[1] x`, nil, false},
		{`[1`, nil, false},
		{`[{"a":"x]`, nil, false},
		{`[}]`, nil, false},
		{`{}`, nil, false},
		{``, nil, false},
	}
	for _, tc := range tests {
		got, err := splitArray([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %q", tc.in, got)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("%q: element %d %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// Every array encoding/json writes splits into the elements it wrote.
func TestSplitArrayProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOf(rapid.OneOf(
			rapid.Just[any](nil),
			rapid.Map(rapid.String(), func(s string) any { return s }),
			rapid.Map(rapid.Int(), func(i int) any { return i }),
			rapid.Map(rapid.MapOf(rapid.String(), rapid.String()), func(m map[string]string) any { return m }),
			rapid.Map(rapid.SliceOf(rapid.String()), func(s []string) any { return s }),
		)).Draw(t, "values")
		b, err := json.Marshal(vals)
		if err != nil {
			t.Fatal(err)
		}
		got, err := splitArray(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if len(got) != len(vals) {
			t.Fatalf("%s: %d elements, want %d", b, len(got), len(vals))
		}
		for i, el := range got {
			want, _ := json.Marshal(vals[i])
			if string(el) != string(want) {
				t.Fatalf("element %d %s, want %s", i, el, want)
			}
		}
		if len(b) > 2 {
			cut := rapid.IntRange(1, len(b)-1).Draw(t, "cut")
			if _, err := splitArray(b[:cut]); err == nil && !strings.HasSuffix(string(b[:cut]), "]") {
				t.Fatalf("truncated %s split without error", b[:cut])
			}
		}
	})
}

func BenchmarkSplitArray(b *testing.B) {
	evs := nodeEvents("bench", 100)
	body := jsonArray(b, evs)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := splitArray(body); err != nil {
			b.Fatal(err)
		}
	}
}
