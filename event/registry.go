package event

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

	new func() Event
}

// New returns a new zero event of this type (no id, no timestamp).
func (t *Type) New() Event { return t.new() }

// NumTypes is the number of event types in the catalog.
const NumTypes = 83

// types is filled by the category files, in catalog order.
var types []*Type

// byWire maps every wire name and alias to its type.
var byWire = map[string]*Type{}

// register adds a type to the catalog. It is called from package-level
// variable initialisers, so Index follows declaration order within a file and
// file order (alphabetical) across files; use Types for the stable listing.
func register(t *Type) *Type {
	t.Index = len(types)
	types = append(types, t)
	for _, n := range t.WireNames {
		byWire[n] = t
	}
	for _, n := range t.Aliases {
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
