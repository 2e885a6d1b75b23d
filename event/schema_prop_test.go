package event_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/event/schema"
)

// TestEncodedEventsValidate: for every type, an event with random values in
// every field encodes to a document its JSON Schema accepts.
func TestEncodedEventsValidate(t *testing.T) {
	for _, ty := range event.Types() {
		t.Run(ty.Name, func(t *testing.T) {
			b, err := schema.Marshal(schema.For(ty))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource("urn:wtb:test", doc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile("urn:wtb:test")
			if err != nil {
				t.Fatal(err)
			}
			rapid.Check(t, func(rt *rapid.T) {
				ev := ty.New()
				fill(rt, reflect.ValueOf(ev).Elem(), ty.Name)
				enc, err := event.Encode(ev)
				if err != nil {
					rt.Fatal(err)
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(enc))
				if err != nil {
					rt.Fatalf("encoded event is not JSON: %v", err)
				}
				if err := sch.Validate(inst); err != nil {
					rt.Fatalf("encoded %s does not validate: %v\n%s", ty.Name, err, enc)
				}
			})
		})
	}
}
