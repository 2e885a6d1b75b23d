// Package schema generates a JSON Schema (draft 2020-12) for every event
// type of the catalog, from the catalog itself: the registry's types, their
// fields in declaration order, the Go type of each field and the
// reference's defaults. It is the description of the wire format for
// readers who do not use Go: `wtb schema [TYPE]` prints it and the HTTP
// API's OpenAPI document refers to it.
//
// A schema describes the documents the reference and wtb write: every
// field with its JSON type, null only where the field is optional
// (Optional[...] in the reference, a pointer, a nil-able map or slice in
// Go), event_type one of the type's wire names or aliases, event_id a
// non-empty string, timestamp in one of the forms event.ParseTime reads, and
// no other key (the decoder rejects unknown keys). Every document a schema
// accepts, event.Decode accepts, with two exceptions a schema cannot
// express: a number with a fraction or exponent whose value is an integer
// (1.0) where an int64 is expected, and a calendar date that does not exist
// (February 30), or a number beyond the range of a float64 (1e400). The
// decoder is more lenient in one way: it also reads null in a non-optional
// field as the field's default, and null in a list of strings as "".
package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wtbdev/wtb/event"
)

// Draft is the JSON Schema dialect of every schema of this package.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// IDPrefix starts the $id of every event schema; the Go type name follows
// ("urn:wtb:event:NodeFailed").
const IDPrefix = "urn:wtb:event:"

// TimestampPattern is the pattern of a timestamp: RFC 3339 with or without
// a zone (read as UTC without), a space allowed in place of the T, at most
// nine fractional digits.
const TimestampPattern = `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$`

// Schema is a JSON Schema object: the keywords the catalog needs. It
// marshals with its keywords in a fixed, readable order and Properties in
// the order of the event's fields.
type Schema struct {
	Schema      string // $schema
	ID          string // $id
	Ref         string // $ref
	Title       string
	Description string
	// Types is the "type" keyword: one type or several (["string", "null"]).
	Types []string
	// Enum lists the allowed values (strings).
	Enum      []string
	MinLength int
	Pattern   string
	// Minimum and Maximum bound integers, when set.
	Minimum, Maximum *int64
	// Properties are the object's properties, in order.
	Properties []Property
	Required   []string
	// Closed writes additionalProperties: false.
	Closed bool
	// Values is the schema of every value of a map (additionalProperties).
	Values *Schema
	// Items is the schema of every element of an array.
	Items *Schema
	// Default is the value a missing field takes, as JSON.
	Default json.RawMessage
	OneOf   []*Schema
	// Defs are named schemas ($defs), in order.
	Defs []Property
	// Extensions are annotations of wtb's own, written as "x-wtb-<key>".
	Extensions []Extension
}

// Property is one named schema (a property or a $defs entry).
type Property struct {
	Name   string
	Schema *Schema
}

// Extension is an annotation "x-wtb-<Key>": <Value>.
type Extension struct {
	Key   string
	Value any
}

// MarshalJSON writes the schema's keywords in a fixed order.
func (s *Schema) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	add := func(key string, v any) error {
		val, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("schema keyword %s: %w", key, err)
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, key)
		b = append(b, ':')
		b = append(b, val...)
		return nil
	}
	type kw struct {
		key  string
		v    any
		omit bool
	}
	var types any = s.Types
	if len(s.Types) == 1 {
		types = s.Types[0]
	}
	kws := []kw{
		{"$schema", s.Schema, s.Schema == ""},
		{"$id", s.ID, s.ID == ""},
		{"$ref", s.Ref, s.Ref == ""},
		{"title", s.Title, s.Title == ""},
		{"description", s.Description, s.Description == ""},
		{"type", types, len(s.Types) == 0},
		{"enum", s.Enum, s.Enum == nil},
		{"minLength", s.MinLength, s.MinLength == 0},
		{"pattern", s.Pattern, s.Pattern == ""},
		{"minimum", s.Minimum, s.Minimum == nil},
		{"maximum", s.Maximum, s.Maximum == nil},
		{"properties", ordered(s.Properties), s.Properties == nil},
		{"required", s.Required, s.Required == nil},
		{"additionalProperties", false, !s.Closed},
		{"additionalProperties", s.Values, s.Closed || s.Values == nil},
		{"items", s.Items, s.Items == nil},
		{"default", s.Default, s.Default == nil},
		{"oneOf", s.OneOf, s.OneOf == nil},
		{"$defs", ordered(s.Defs), s.Defs == nil},
	}
	for _, e := range s.Extensions {
		kws = append(kws, kw{"x-wtb-" + e.Key, e.Value, false})
	}
	for _, k := range kws {
		if k.omit {
			continue
		}
		if err := add(k.key, k.v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// ordered marshals named schemas as an object in their order.
type ordered []Property

func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, p.Name)
		b = append(b, ':')
		v, err := json.Marshal(p.Schema)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// For returns the schema of one event type: a closed object with the
// type's fields in declaration order, event_type, event_id and timestamp
// required.
func For(t *event.Type) *Schema {
	s := &Schema{
		Schema:      Draft,
		ID:          IDPrefix + t.Name,
		Title:       t.Class,
		Description: description(t),
		Types:       []string{"object"},
		Required:    []string{"event_type", "event_id", "timestamp"},
		Closed:      true,
		Extensions: []Extension{
			{"go-type", "github.com/wtbdev/wtb/event." + t.Name},
			{"category", string(t.Category)},
			{"wire-names", t.WireNames},
		},
	}
	defaults := defaultsOf(t)
	rt := reflect.TypeOf(t.New()).Elem()
	byKey := map[string]reflect.StructField{}
	collect(rt, byKey)
	hasType := false
	for _, key := range t.Fields() {
		f := byKey[key]
		var ps *Schema
		switch {
		case key == "event_type":
			ps = eventType(t)
			hasType = true
		case key == "event_id":
			ps = &Schema{Types: []string{"string"}, MinLength: 1, Description: "The event's unique id; wtb writes a UUIDv7. Recording is idempotent on it."}
		case key == "timestamp":
			ps = &Schema{Types: []string{"string"}, Pattern: TimestampPattern, Description: "When the event happened: RFC 3339, or the reference's ISO form without zone, read as UTC."}
		default:
			ps = fieldSchema(t, key, f.Type)
			ps.Default = defaults[key]
		}
		s.Properties = append(s.Properties, Property{key, ps})
	}
	if !hasType {
		s.Properties = append([]Property{{"event_type", eventType(t)}}, s.Properties...)
	}
	return s
}

// description is a type's schema description.
func description(t *event.Type) string {
	names := append(slices.Clone(t.WireNames), t.Aliases...)
	if len(names) > 4 {
		names = append(names[:3], "...")
	}
	return fmt.Sprintf("The %s event of the %s category (Go type event.%s); event_type %s.",
		t.Class, t.Category, t.Name, strings.Join(quoteAll(names), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

// eventType is the schema of a type's event_type: its wire names and
// aliases.
func eventType(t *event.Type) *Schema {
	return &Schema{
		Types:       []string{"string"},
		Enum:        append(slices.Clone(t.WireNames), t.Aliases...),
		Description: "The event's type: one of its wire names, or an alias wtb also reads.",
	}
}

// collect maps the JSON keys of a struct's fields (embedded ones included)
// to the fields.
func collect(rt reflect.Type, into map[string]reflect.StructField) {
	for f := range rt.Fields() {
		if f.Anonymous {
			collect(f.Type, into)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		into[name] = f
	}
}

var (
	minInt64 int64 = math.MinInt64
	maxInt64 int64 = math.MaxInt64

	typeMap       = reflect.TypeFor[event.Map]()
	typeList      = reflect.TypeFor[event.List]()
	typeStrings   = reflect.TypeFor[event.Strings]()
	typeFloatMap  = reflect.TypeFor[event.FloatMap]()
	typeStringMap = reflect.TypeFor[event.StringMap]()
	typeTime      = reflect.TypeFor[time.Time]()
	typeKind      = reflect.TypeFor[event.LangGraphKind]()
)

// fieldSchema is the schema of a field of Go type rt. It panics on a Go
// type the wire format does not have: the catalog test covers every field.
func fieldSchema(t *event.Type, key string, rt reflect.Type) *Schema {
	nullable := func(s *Schema) *Schema {
		s.Types = append(s.Types, "null")
		return s
	}
	switch rt {
	case typeMap:
		return &Schema{Types: []string{"object"}}
	case typeList:
		return &Schema{Types: []string{"array"}}
	case typeStrings:
		return &Schema{Types: []string{"array"}, Items: &Schema{Types: []string{"string"}}}
	case typeFloatMap:
		return &Schema{Types: []string{"object"}, Values: &Schema{Types: []string{"number"}}}
	case typeStringMap:
		return &Schema{Types: []string{"object"}, Values: &Schema{Types: []string{"string"}}}
	case typeKind:
		return eventType(t)
	}
	switch rt.Kind() {
	case reflect.String:
		return &Schema{Types: []string{"string"}}
	case reflect.Int64:
		return &Schema{Types: []string{"integer"}, Minimum: &minInt64, Maximum: &maxInt64}
	case reflect.Float64:
		return &Schema{Types: []string{"number"}}
	case reflect.Bool:
		return &Schema{Types: []string{"boolean"}}
	case reflect.Interface:
		return &Schema{Description: "Any JSON value."}
	case reflect.Pointer:
		if rt.Elem() == typeTime {
			return &Schema{Types: []string{"string", "null"}, Pattern: TimestampPattern}
		}
		return nullable(fieldSchema(t, key, rt.Elem()))
	case reflect.Slice:
		if rt.Elem().Kind() == reflect.String {
			return &Schema{Types: []string{"array", "null"}, Items: &Schema{Types: []string{"string"}}}
		}
	case reflect.Map:
		switch rt.Elem().Kind() {
		case reflect.Interface:
			return &Schema{Types: []string{"object", "null"}}
		case reflect.Float64:
			return &Schema{Types: []string{"object", "null"}, Values: &Schema{Types: []string{"number"}}}
		}
	}
	panic(fmt.Sprintf("schema: %s.%s: no JSON schema for Go type %s", t.Name, key, rt))
}

// defaultsOf returns the JSON value of every field of a new event of type
// t: the reference's defaults.
func defaultsOf(t *event.Type) map[string]json.RawMessage {
	ev := t.New()
	b, err := json.Marshal(ev)
	if err != nil {
		panic("schema: encoding a new " + t.Name + ": " + err.Error())
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic("schema: reading a new " + t.Name + ": " + err.Error())
	}
	delete(m, "event_type")
	delete(m, "event_id")
	delete(m, "timestamp")
	return m
}

// Any returns the schema of any event: one of the types' schemas, each
// referred to by ref(t) (for instance "#/$defs/NodeFailed" or
// "#/components/schemas/NodeFailed"). The event_type values of the types
// are disjoint, so exactly one matches a valid document.
func Any(ref func(t *event.Type) string) *Schema {
	s := &Schema{
		Title:       "Event",
		Description: "Any event of the catalog; event_type selects its type.",
	}
	for _, t := range event.Types() {
		s.OneOf = append(s.OneOf, &Schema{Ref: ref(t)})
	}
	return s
}

// Document returns one schema for any event, with the schema of every type
// under $defs (keyed by Go type name) and a oneOf over them.
func Document() *Schema {
	s := Any(func(t *event.Type) string { return "#/$defs/" + t.Name })
	s.Schema = Draft
	s.ID = IDPrefix + "Event"
	for _, t := range event.Types() {
		d := For(t)
		d.Schema = "" // the document's dialect applies
		s.Defs = append(s.Defs, Property{t.Name, d})
	}
	return s
}

// Find returns the event type a name designates: a Go type name
// ("NodeFailed"), a reference class ("NodeFailedEvent"), a wire name or an
// alias, matched exactly, else ignoring case.
func Find(name string) (*event.Type, bool) {
	if t, ok := event.Lookup(name); ok {
		return t, true
	}
	for _, fold := range []bool{false, true} {
		for _, t := range event.Types() {
			for _, n := range append([]string{t.Name, t.Class}, append(t.WireNames, t.Aliases...)...) {
				if n == name || fold && strings.EqualFold(n, name) {
					return t, true
				}
			}
		}
	}
	return nil, false
}

// Marshal writes a schema as indented JSON with a final newline.
func Marshal(s *Schema) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
