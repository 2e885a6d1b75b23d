package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/event"
)

func TestSchemaCommand(t *testing.T) {
	var doc struct {
		Schema string                     `json:"$schema"`
		Defs   map[string]json.RawMessage `json:"$defs"`
		OneOf  []map[string]string        `json:"oneOf"`
	}
	r := mustRun(t, "", "schema")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("wtb schema: %v", err)
	}
	if len(doc.Defs) != event.NumTypes || len(doc.OneOf) != event.NumTypes || !strings.Contains(doc.Schema, "2020-12") {
		t.Fatalf("wtb schema: %d $defs, %d oneOf, $schema %q", len(doc.Defs), len(doc.OneOf), doc.Schema)
	}
	for _, name := range []string{"NodeFailed", "nodefailedevent", "NodeFailedEvent"} {
		var one struct {
			ID         string                     `json:"$id"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		r := mustRun(t, "", "schema", name)
		if err := json.Unmarshal([]byte(r.stdout), &one); err != nil {
			t.Fatalf("wtb schema %s: %v", name, err)
		}
		if one.ID != "urn:wtb:event:NodeFailed" || one.Properties["recoverable"] == nil {
			t.Fatalf("wtb schema %s: $id %q, properties %v", name, one.ID, one.Properties)
		}
	}
	if r := mustRun(t, "", "schema", "--list"); strings.Count(r.stdout, "\n") != event.NumTypes+1 || !strings.Contains(r.stdout, "file_commit.created") {
		t.Fatalf("wtb schema --list:\n%s", r.stdout)
	}
	if r := run(t, "", "schema", "NoSuchEvent"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown event type "NoSuchEvent"`) {
		t.Fatalf("unknown type: exit %d, stderr %q", r.code, r.stderr)
	}
}
