package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceValidObject is what validObject must answer.
func referenceValidObject(b []byte) bool {
	d := bytes.TrimLeft(b, " \t\r\n")
	return len(d) > 0 && d[0] == '{' && json.Valid(b) && utf8.Valid(b)
}

var validObjectSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"d"}`, `{"a":-0.5e+10,"b":true,"c":false}`,
	`{"a":"\u00e9\n\"\\\/"}`, `{"ü":"€😀"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`,
	`{"a":1e}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `[1]`, `"s"`, `1`, `null`, ``, `{`, `}`,
	`{"a":1}x`, `{"a":1}{}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12"}`,
	`{"a":"\u12g4"}`, `{"a":[}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b":{"c":[[[]]]}}}`, `{"a":1 , "b" : [ 2 , 3 ] }`,
	"{\t\"a\"\r\n:\n1}", `{"a":"unterminated}`, `{"a":-01}`, `{"a":1E-2}`, `{"a":[true,false,null]}`,
	`{"a":"` + strings.Repeat("x", 300) + `"}`,
}

func TestValidObject(t *testing.T) {
	deep := strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1)
	tooDeep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	cases := append(validObjectSeeds, `{"a":`+deep+`}`, `{"a":`+tooDeep+`}`)
	for _, c := range cases {
		if got, want := validObject([]byte(c)), referenceValidObject([]byte(c)); got != want {
			t.Errorf("validObject(%.60q) = %v, want %v", c, got, want)
		}
	}
}

func FuzzValidObject(f *testing.F) {
	for _, s := range validObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validObject(b), referenceValidObject(b); got != want {
			t.Fatalf("validObject(%q) = %v, want %v", b, got, want)
		}
	})
}

func BenchmarkValidObject(b *testing.B) {
	d := []byte(`{"checkpoint_count":185,"node_count":339,"metrics":{"summarize0":1582.41},"files_tracked":433,"file_commit_id":"b539576e5f137fe6f4adba7112fd187ccb686577"}`)
	b.Run("validObject", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !validObject(d) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("json.Valid+utf8.Valid", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !json.Valid(d) || !utf8.Valid(d) {
				b.Fatal("invalid")
			}
		}
	})
}
