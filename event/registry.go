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

	new  func() Event
	keys map[string]int // the exact top-level JSON keys of the type, numbered
}

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
	t.keys = jsonKeys(reflect.TypeOf(t.new()).Elem())
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

// jsonKeys numbers the JSON keys of an event struct: event_type, the Base
// fields and the struct's own fields.
func jsonKeys(rt reflect.Type) map[string]int {
	keys := map[string]int{"event_type": 0}
	var add func(reflect.Type)
	add = func(rt reflect.Type) {
		for f := range rt.Fields() {
			if f.Anonymous {
				add(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if _, dup := keys[name]; !dup {
				keys[name] = len(keys)
			}
		}
	}
	add(rt)
	if len(keys) > 64 {
		panic("event: " + rt.Name() + " has more than 64 JSON keys")
	}
	return keys
}
