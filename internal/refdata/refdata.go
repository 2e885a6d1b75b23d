// Package refdata embeds the samples written by the reference implementation:
// 164 events (two of every class that has a wire name) and, for each, the
// audit entry the reference made of it (null for the 58 unmapped types).
// Tests use them as conformance data.
package refdata

import _ "embed"

// Events is events.jsonl: one event per line in the reference's wire format.
//
//go:embed events.jsonl
var Events []byte

// AuditEntries is audit-entries.jsonl: per event, in the same order,
// {"event_id", "event_type", "entry"} where entry is the reference's audit
// entry or null.
//
//go:embed audit-entries.jsonl
var AuditEntries []byte
