package schema_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/event/schema"
	"github.com/wtbdev/wtb/internal/refdata"
)

// compile compiles a schema with a JSON Schema validator, checking it
// against the draft 2020-12 meta-schema on the way.
func compile(t testing.TB, s *schema.Schema) *jsonschema.Schema {
	t.Helper()
	b, err := schema.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const loc = "urn:wtb:test"
	if err := c.AddResource(loc, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compiling:\n%s\n%v", b, err)
	}
	return sch
}

// instance reads a JSON document as the validator wants it.
func instance(t testing.TB, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

func TestEveryTypeHasACompilingSchema(t *testing.T) {
	types := event.Types()
	if len(types) != event.NumTypes {
		t.Fatalf("%d types, want %d", len(types), event.NumTypes)
	}
	for _, ty := range types {
		s := schema.For(ty)
		compile(t, s)
		// Every field of the type is a property, in declaration order.
		var props []string
		for _, p := range s.Properties {
			props = append(props, p.Name)
		}
		want := ty.Fields()
		if !ty.HasField("event_type") {
			want = append([]string{"event_type"}, want...)
		}
		if strings.Join(props, ",") != strings.Join(want, ",") {
			t.Errorf("%s: properties %v, want %v", ty.Name, props, want)
		}
	}
	compile(t, schema.Document())
}

// samples returns the reference's sample events.
func samples(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(refdata.Events))
	sc.Buffer(nil, event.MaxEventSize)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	if len(out) != 164 {
		t.Fatalf("%d sample events, want 164", len(out))
	}
	return out
}

func TestReferenceSamplesValidate(t *testing.T) {
	doc := compile(t, schema.Document())
	perType := map[*event.Type]*jsonschema.Schema{}
	for _, line := range samples(t) {
		ev, err := event.Decode(line)
		if err != nil {
			t.Fatalf("sample does not decode: %v", err)
		}
		ty := ev.Type()
		sch, ok := perType[ty]
		if !ok {
			sch = compile(t, schema.For(ty))
			perType[ty] = sch
		}
		if err := sch.Validate(instance(t, line)); err != nil {
			t.Errorf("%s sample does not validate against its schema: %v\n%s", ty.Name, err, line)
		}
		if err := doc.Validate(instance(t, line)); err != nil {
			t.Errorf("%s sample does not validate against the document: %v", ty.Name, err)
		}
		// The re-encoded event validates too.
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, b)); err != nil {
			t.Errorf("%s re-encoded does not validate: %v\n%s", ty.Name, err, b)
		}
	}
	if len(perType) != 82 {
		t.Errorf("samples cover %d types, want 82 (every type but LangGraphAudit)", len(perType))
	}
}

// mutations are the values each property is set to in TestSchemaAgreesWithDecoder.
var mutations = []string{
	`"x"`, `""`, `"2026-01-27T10:00:00.851"`, `"2026-01-27T10:00:00Z"`, `"2026-13-01T00:00:00"`, `"yesterday"`,
	`0`, `-1`, `1.5`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775809`,
	`true`, `null`, `{}`, `{"a":1}`, `{"a":"b"}`, `[]`, `["a"]`, `[1]`, `[null]`,
}

// TestSchemaAgreesWithDecoder sets each property of a valid document of
// every type to each mutation in turn, and adds or removes keys: whatever
// the schema accepts, the decoder accepts; whatever the schema rejects, the
// decoder rejects too, except null in a non-optional field or as a string
// of a list (read as the default, "").
func TestSchemaAgreesWithDecoder(t *testing.T) {
	for _, ty := range event.Types() {
		t.Run(ty.Name, func(t *testing.T) {
			sch := compile(t, schema.For(ty))
			base := baseDocument(t, ty)
			check := func(what string, doc map[string]json.RawMessage) {
				t.Helper()
				b, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				schemaErr := sch.Validate(instance(t, b))
				ev, decodeErr := event.Decode(b)
				if decodeErr == nil && ev.Type() != ty {
					decodeErr = fmt.Errorf("decoded as %s", ev.Type().Name)
				}
				switch {
				case schemaErr == nil && decodeErr != nil:
					t.Errorf("%s: the schema accepts what the decoder rejects (%v): %s", what, decodeErr, b)
				case schemaErr != nil && decodeErr == nil && !strings.HasSuffix(what, "= null") && !strings.HasSuffix(what, "= [null]"):
					t.Errorf("%s: the schema rejects what the decoder accepts: %v\n%s", what, schemaErr, b)
				}
			}
			check("unchanged", base)
			if err := sch.Validate(instance(t, mustJSON(t, base))); err != nil {
				t.Fatalf("a new %s does not validate: %v", ty.Name, err)
			}
			for key := range base {
				for _, m := range mutations {
					doc := clone(base)
					doc[key] = json.RawMessage(m)
					check(fmt.Sprintf("%s = %s", key, m), doc)
				}
				doc := clone(base)
				delete(doc, key)
				check("without "+key, doc)
			}
			for _, key := range []string{"unknown", "Event_ID", "eventId"} {
				doc := clone(base)
				doc[key] = json.RawMessage(`"x"`)
				check("with "+key, doc)
			}
		})
	}
}

// baseDocument is a new event of type ty, with its wire name, as a map.
func baseDocument(t *testing.T, ty *event.Type) map[string]json.RawMessage {
	t.Helper()
	ev := event.Stamp(ty.New())
	if lg, ok := ev.(*event.LangGraphAudit); ok {
		lg.Kind = event.LangGraphNodeCompleted
	}
	b, err := event.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func clone(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFind(t *testing.T) {
	for name, want := range map[string]string{
		"NodeFailed":                 "NodeFailed",
		"NodeFailedEvent":            "NodeFailed",
		"nodefailedevent":            "NodeFailed",
		"file_commit.created":        "FileCommitCreated",
		"FileCommitCreatedEvent":     "FileCommitCreated",
		"node_completed":             "LangGraphAudit",
		"LangGraphAuditEvent":        "LangGraphAudit",
		"CheckpointCreatedEvent":     "CheckpointCreated",
		"ray_batch_test_started":     "RayBatchTestStarted",
		"no such type of event here": "",
	} {
		ty, ok := schema.Find(name)
		got := ""
		if ok {
			got = ty.Name
		}
		if want == "" {
			if ok {
				t.Errorf("Find(%q) = %s, want none", name, got)
			}
			continue
		}
		if got != want {
			t.Errorf("Find(%q) = %q, want %q", name, got, want)
		}
	}
}
