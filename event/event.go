// Package event holds the typed vocabulary of workflow events: one Go struct
// for every domain event of the reference catalog (83 types in eight
// categories), the registry that lists them, and the JSON codec that reads
// and writes the reference's wire format.
//
// Every event is a pointer to a struct that embeds Base (event_id and
// timestamp). The wire name of an event is the reference's own event_type
// value: the class name for most families ("ExecutionStartedEvent",
// "CheckpointCreated"), dotted names for file processing
// ("file_commit.created"), "ray_..." names for the Ray family, and the kind
// for LangGraphAudit ("node_completed"). Decode also accepts the aliases
// listed in Type.Aliases (the reference class names of the dotted and Ray
// families, CheckpointCreatedEvent and RollbackPerformedEvent).
//
// Field names follow the reference's JSON names in Go spelling (duration_ms
// is DurationMS, total_size_mb TotalSizeMB). Reference types map to Go as
// follows: str to string, int to int64, float to float64, Optional[X] to *X,
// Dict[str, Any] to Map, list to List, List[str] and tuple to Strings,
// Dict[str, float] to FloatMap, Dict[str, str] to StringMap, Any to any.
// Those named collection types are written as {} or [] when nil, as the
// reference's defaults are; optional collections are plain Go maps and
// slices, written as null when nil.
//
// The codec: Decode and DecodeAs read the wire format strictly (unknown
// fields, wrong JSON types, unreadable timestamps, a missing event_id are
// errors, reported as *DecodeError with a sentinel for errors.Is); Encode
// writes it. Types, TypesIn and Lookup list the catalog; New creates an event
// with the reference's defaults, a UUIDv7 id and the current time.
//
// The per-type methods (Type, WireName, MarshalJSON, UnmarshalJSON, EnvID)
// are generated from the struct declarations into events_gen.go by
// internal/gen; run go generate after editing a struct.
package event

//go:generate go run ./internal/gen

import (
	"time"

	"github.com/google/uuid"
)

// Category groups event types the way the reference's modules do.
type Category string

// The eight categories of the catalog.
const (
	CategoryExecution      Category = "execution"
	CategoryNode           Category = "node"
	CategoryCheckpoint     Category = "checkpoint"
	CategoryLangGraph      Category = "langgraph"
	CategoryEnvironment    Category = "environment"
	CategoryFileProcessing Category = "file_processing"
	CategoryRay            Category = "ray"
	CategoryWorkspace      Category = "workspace"
)

// Categories lists every category in catalog order.
var Categories = []Category{
	CategoryExecution, CategoryNode, CategoryCheckpoint, CategoryLangGraph,
	CategoryEnvironment, CategoryFileProcessing, CategoryRay, CategoryWorkspace,
}

// Event is implemented by a pointer to every event struct of the catalog.
// The set is closed: only the types of this package implement it.
type Event interface {
	// EventID returns the event's unique id (event_id).
	EventID() string
	// EventTime returns when the event happened (timestamp), in UTC.
	EventTime() time.Time
	// WireName returns the reference's event_type value for this event.
	WireName() string
	// Type returns the registry descriptor of the event's Go type. It is
	// safe to call on a nil pointer.
	Type() *Type

	base() *Base
}

// Base carries the fields every event has. Embed it; do not use it alone.
type Base struct {
	// ID is the event_id: a UUIDv7 for new events, any non-empty string on input.
	ID string `json:"event_id"`
	// Timestamp is when the event happened, kept in UTC.
	Timestamp time.Time `json:"timestamp"`
}

// NewBase returns a Base with a fresh UUIDv7 id and the current UTC time.
func NewBase() Base {
	return Base{ID: NewID(), Timestamp: time.Now().UTC()}
}

// NewID returns a fresh event id: a UUIDv7 in canonical form.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source fails.
		return uuid.NewString()
	}
	return id.String()
}

// EventID returns the event's id.
func (b *Base) EventID() string { return b.ID }

// EventTime returns the event's timestamp.
func (b *Base) EventTime() time.Time { return b.Timestamp }

func (b *Base) base() *Base { return b }

// Stamp gives ev a fresh id and the current time where they are missing,
// and normalises its timestamp to UTC. It returns ev.
func Stamp(ev Event) Event {
	b := ev.base()
	if b.ID == "" {
		b.ID = NewID()
	}
	if b.Timestamp.IsZero() {
		b.Timestamp = time.Now().UTC()
	} else if b.Timestamp.Location() != time.UTC {
		b.Timestamp = b.Timestamp.UTC()
	}
	return ev
}
