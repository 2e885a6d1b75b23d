package event

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/internal/refdata"
)

var allSentinels = []error{
	ErrMalformed, ErrMissingType, ErrUnknownType, ErrTypeMismatch, ErrFieldType,
	ErrBadTimestamp, ErrUnknownField, ErrMissingID, ErrTooLarge,
}

// sameResult reports how the results of the generated decoder and of the
// reference (encoding/json) decoder differ, "" when they agree: both accept
// and give deeply equal events, or both reject with the same sentinel, wire
// name and field.
func sameResult(ev Event, err error, refEv Event, refErr error) string {
	if (err == nil) != (refErr == nil) {
		return fmt.Sprintf("error %v, reference error %v", err, refErr)
	}
	if err == nil {
		if !reflect.DeepEqual(ev, refEv) {
			return fmt.Sprintf("decoded\n%#v\nreference\n%#v", ev, refEv)
		}
		return ""
	}
	if ev != nil {
		return fmt.Sprintf("event %#v with the error %v", ev, err)
	}
	for _, s := range allSentinels {
		if errors.Is(err, s) != errors.Is(refErr, s) {
			return fmt.Sprintf("error %v, reference error %v (sentinel %v)", err, refErr, s)
		}
	}
	var de, rde *DecodeError
	if !errors.As(err, &de) || !errors.As(refErr, &rde) {
		return fmt.Sprintf("error %T %v, reference %T %v", err, err, refErr, refErr)
	}
	if de.WireName != rde.WireName || de.Field != rde.Field {
		return fmt.Sprintf("error %v, reference error %v (wire %q/%q, field %q/%q)", err, refErr, de.WireName, rde.WireName, de.Field, rde.Field)
	}
	return ""
}

// checkAgainstReference decodes doc with Decode and, for a few wire names,
// DecodeAs, and compares each result with the reference decoder's.
func checkAgainstReference(t *testing.T, doc []byte) {
	t.Helper()
	ev, err := Decode(doc)
	refEv, refErr := refDecode(doc)
	if diff := sameResult(ev, err, refEv, refErr); diff != "" {
		t.Fatalf("Decode(%q): %s", doc, diff)
	}
	names := []string{"NodeFailedEvent", "tool_failed", "VenvReusedEvent", "ExecutionStartedEvent"}
	if raw, found, ok := scanEventType(doc); ok && found && len(raw) > 2 && raw[0] == '"' {
		names = append(names, string(raw[1:len(raw)-1]))
	}
	for _, name := range names {
		ev, err := DecodeAs(name, doc)
		refEv, refErr := refDecodeAs(name, doc)
		if diff := sameResult(ev, err, refEv, refErr); diff != "" {
			t.Fatalf("DecodeAs(%s, %q): %s", name, doc, diff)
		}
	}
}

const head = `"event_id":"e-1","timestamp":"2026-01-27T10:00:00"`

// edgeDocs are documents on the edges of the wire format: every one must
// get the same result from both decoders.
var edgeDocs = []string{
	`{"event_type":"NodeFailedEvent",` + head + `}`,
	`{"event_type":"NodeFailedEvent",` + head + `} `,
	`  {"event_type":"NodeFailedEvent",` + head + `}x`,
	`{"event_type":"NodeFailedEvent",` + head + `}}`,
	`{"event_type":"NodeFailedEvent",` + head + `,}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"a" "b"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":null,"duration_ms":null,"recoverable":null}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":1e400}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":-0.0e-5}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":01}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":-}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":1.}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":1e}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":[1]}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"duration_ms":{"a":1}}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"recoverable":nul}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"recoverable":truex}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"recoverable":0}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"\ud800x\u00e9\n\t\"\\\/"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"` + "\xff\xfe" + `"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"` + "\x01" + `"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"\x"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"\u12"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"NODE_ID":"n"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"NODE_ID":5}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"ſtep":5}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":5,"bogus":1}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"bogus":1,"node_id":5}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":5,"timestamp":"x"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"timestamp":"x","node_id":5}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"timestamp":"x","node_id":5,}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"timestamp":"x"} x`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":5} x`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"a","node_id":"b","bogus":1}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"Node_id":"a","node_id":"b"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"event_type":"NodeFailedEvent"}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"event_type":5}`,
	`{"timestamp":"bad","event_type":"RayBatchTestStartedEvent","event_id":"x"}`,
	`{"event_type":"RayBatchTestStartedEvent","timestamp":"bad","event_id":"x"}`,
	`{"event_type":"RayBatchTestStartedEvent",` + head + `,"variant_count":"3"}`,
	`{"event_type":"NodeFailedEvent","event_id":"e","timestamp":"2026-01-27T10:00:00\u005a"}`,
	`{"event_type":"NodeFailedEvent","event_id":"e","timestamp":{"a":[1,2]}}`,
	`{"event_type":"NodeFailedEvent","event_id":"e","timestamp":null}`,
	`{"event_type":"node_completed",` + head + `,"inputs":{"a":{"b":[1,"x",null,true,{}]},"a":2.5e3},"tags":["a",null],"metrics":{"x":1,"y":null},"step":null}`,
	`{"event_type":"node_completed",` + head + `,"inputs":[],"tags":{},"metrics":[]}`,
	`{"event_type":"node_completed",` + head + `,"tags":[1],"metrics":{"a":"b"}}`,
	`{"event_type":"node_completed",` + head + `,"metrics":{"a":1e999}}`,
	`{"event_type":"node_completed",` + head + `,"inputs":null,"outputs":{},"tags":[],"metrics":{}}`,
	`{"event_type":"node_completed","event_type":"tool_failed",` + head + `}`,
	`{"event_type":"node_completed","timestamp":"x","event_type":"tool_failed","event_id":"e"}`,
	`{"event_type":"node_completed","event_type":"exploded",` + head + `}`,
	`{"event_type":"node_completed","event_type":5,` + head + `}`,
	`{"event_type":"node_completed","EVENT_TYPE":"tool_failed",` + head + `}`,
	`{"event_type":"node_completed","Event_Type":"nope",` + head + `}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":{"a":1},"breakpoints":[1,[2],{"c":null}]}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":null,"breakpoints":null}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":"x","breakpoints":{}}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"breakpoints":[1,]}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":{"a":1,}}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":{"a" 1}}`,
	`{"event_type":"ExecutionStartedEvent",` + head + `,"initial_state":{1:1}}`,
	`{"event_type":"VenvReusedEvent",` + head + `,"original_creation_time":null}`,
	`{"event_type":"VenvReusedEvent",` + head + `,"original_creation_time":"2026-01-27 10:00:00+02:00"}`,
	`{"event_type":"VenvReusedEvent",` + head + `,"original_creation_time":5}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":{"a":[1,2.0,"3"]}}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":[]}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":null}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":-12.5E+3}`,
	`{"event_type":"NodeFailedEvent",` + head + `,"node_id":"a"` + strings.Repeat(" ", 3) + `}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"result":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`,
	`{"event_type":"NodeCompletedEvent",` + head + `,"bogus":` + strings.Repeat("{\"a\":", 10001) + "1" + strings.Repeat("}", 10001) + `}`,
	`{"event_type":"NodeFailedEvent"`,
	`{"event_type":"NodeFailedEvent",`,
	`{"event_type":"NodeFailedEvent","event_id"`,
	`{"event_type":"NodeFailedEvent","event_id":`,
	`{"event_type":"NodeFailedEvent","event_id":"a`,
	`{"event_type":"NodeFailedEvent","event_id":"a\`,
	`{"event_type":"NodeFailedEvent","event_id":tru`,
	`{"event_type":"NodeFailedEvent","event_id":1`,
	`{"event_type":"NodeFailedEvent","event_id":[`,
	`{"event_type":"NodeFailedEvent","event_id":[1,`,
	`{"event_type":"NodeFailedEvent","event_id":{`,
	`{"event_type":"NodeFailedEvent","event_id":{"a"`,
	`{"event_type":"NodeFailedEvent","event_id":{"a":`,
	`{"event_type":"NodeFailedEvent",` + head + `,"bogus":[1,2`,
	`[]`, `[1,2] x`, `"x"`, `"x"y`, `5`, `5x`, `01`, `null`, `true`, `{}`, ``, ` `, `{`, `}`, `{"a":1}`,
}

// TestDecodeMatchesReference holds the generated decoder to the reference
// decoder on the edge documents, every reference sample and every seed of
// the fuzz corpus, each also cut short at every length.
func TestDecodeMatchesReference(t *testing.T) {
	var docs [][]byte
	for _, d := range edgeDocs {
		docs = append(docs, []byte(d))
	}
	docs = append(docs, bytes.Split(bytes.TrimSpace(refdata.Events), []byte("\n"))...)
	docs = append(docs, fuzzSeeds(t)...)
	// Encode writes event_type first, the reference last.
	for _, line := range bytes.Split(bytes.TrimSpace(refdata.Events), []byte("\n")) {
		ev, err := refDecode(line)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	for _, doc := range docs {
		checkAgainstReference(t, doc)
	}
	for _, doc := range docs[:len(edgeDocs)+20] {
		if len(doc) > 1000 {
			continue
		}
		for n := range len(doc) {
			checkAgainstReference(t, doc[:n])
		}
	}
}

// fuzzSeeds reads the values of the FuzzDecode seed corpus.
func fuzzSeeds(t testing.TB) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fuzz corpus: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then []byte("...")
		_, v, ok := strings.Cut(string(b), "[]byte(")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		v = strings.TrimSuffix(v, ")")
		s, err := unquoteGo(v)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// FuzzDecodeMatchesReference: on any input, the generated decoder and the
// reference decoder agree.
func FuzzDecodeMatchesReference(f *testing.F) {
	for _, d := range edgeDocs {
		f.Add([]byte(d))
	}
	for _, line := range bytes.Split(bytes.TrimSpace(refdata.Events), []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkAgainstReference(t, doc)
	})
}

// unquoteGo reads a Go string literal as the fuzz corpus files write it.
func unquoteGo(s string) (string, error) { return strconv.Unquote(s) }
