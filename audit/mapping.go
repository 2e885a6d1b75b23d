package audit

import "wtb/event"

// FromEvent maps an event to its audit entry.
func FromEvent(ev event.Event) Entry {
	return Entry{EventID: ev.EventID(), SourceType: ev.WireName(), Timestamp: ev.EventTime().UTC()}
}
