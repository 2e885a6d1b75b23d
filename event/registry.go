package event

import (
	"reflect"
	"slices"
	"strings"
)

// Type describes one event type of the catalog.
type Type struct {
	// Index is the type's position in Types(): dense, 0 to NumTypes-1.
	Index int
	// Name is the Go type name, e.g. "ExecutionStarted".
	Name string
	// Class is the reference's class name, e.g. "ExecutionStartedEvent".
	Class string
	// Category is the catalog category.
	Category Category
	// WireNames are the event_type values the type is written with. All
	// types have one, except LangGraphAudit, which has one per kind (23).
	WireNames []string
	// Aliases are further event_type values accepted on input.
	Aliases []string

	new    func() Event
	keys   map[string]int // the exact top-level JSON keys of the type, numbered
	fields []string       // the JSON keys of the struct, in declaration order
}

// Fields lists the JSON keys of the type's fields in declaration order,
// event_id and timestamp first; event_type is not among them, except for
// LangGraphAudit, whose kind is the field event_type.
func (t *Type) Fields() []string { return slices.Clone(t.fields) }

// HasField reports whether the type has a field with this JSON key.
func (t *Type) HasField(jsonKey string) bool { return slices.Contains(t.fields, jsonKey) }

// New returns a new event of this type with the reference's defaults where
// they differ from Go's zero value (NodeFailed.Recoverable is true,
// environment Source is "api", ...), and no id or timestamp: see the
// generic New or Stamp for those.
func (t *Type) New() Event { return t.new() }

// NumTypes is the number of event types in the catalog.
const NumTypes = 83

// types is filled by the category files, in catalog order.
var types []*Type

// byWire maps every wire name and alias to its type.
var byWire = map[string]*Type{}

// register adds a type to the catalog. It is called from the package-level
// variable initialisers of events_gen.go, which the generator writes in
// catalog order (category, then the reference's declaration order).
func register(t *Type) *Type {
	t.fields = jsonFields(reflect.TypeOf(t.new()).Elem())
	t.keys = map[string]int{"event_type": 0}
	for _, f := range t.fields {
		if _, dup := t.keys[f]; !dup {
			t.keys[f] = len(t.keys)
		}
	}
	if len(t.keys) > 64 {
		panic("event: " + t.Name + " has more than 64 JSON keys")
	}
	t.Index = len(types)
	types = append(types, t)
	for _, n := range append(slices.Clone(t.WireNames), t.Aliases...) {
		if prev, dup := byWire[n]; dup {
			panic("event: " + t.Name + " and " + prev.Name + " both claim the name " + n)
		}
		byWire[n] = t
	}
	return t
}

// Types lists every event type of the catalog.
func Types() []*Type {
	out := make([]*Type, len(types))
	copy(out, types)
	return out
}

// Lookup returns the type registered for a wire name or alias.
func Lookup(wireName string) (*Type, bool) {
	t, ok := byWire[wireName]
	return t, ok
}

// TypesIn lists the event types of one category, in catalog order.
func TypesIn(c Category) []*Type {
	var out []*Type
	for _, t := range types {
		if t.Category == c {
			out = append(out, t)
		}
	}
	return out
}

// New returns a new event of type T with the reference's defaults, a fresh
// UUIDv7 id and the current UTC time:
//
//	ev := event.New[event.NodeFailed]() // ev.Recoverable == true
func New[T any, P interface {
	*T
	Event
}]() P {
	return Stamp(P(nil).Type().New()).(P)
}

// jsonFields lists the JSON keys of an event struct's fields, Base first.
func jsonFields(rt reflect.Type) []string {
	var out []string
	for f := range rt.Fields() {
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue // state of the codec, not a wire field
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}
