package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("audit: store is closed")

// ErrNotFound is returned when an execution has no entries.
var ErrNotFound = errors.New("audit: not found")

// ErrInvalidEntry is returned by Append (wrapped, with the reason) when an
// entry breaks the rules of Entry.Validate. The whole batch is rejected.
var ErrInvalidEntry = errors.New("audit: invalid entry")

// ErrInvalidFilter is returned by Query and Executions (wrapped, with the
// reason) when a Filter or Page breaks the rules of its Validate method.
var ErrInvalidFilter = errors.New("audit: invalid filter")

// Size limits of an entry, checked by Entry.Validate.
const (
	// MaxIDSize bounds EventID, SourceType, Type, ExecutionID and NodeID, in
	// bytes. The reference bounds none of them; 1 KiB holds every id seen in
	// practice (LangGraph thread ids, nested node paths) and keeps two of
	// them within one PostgreSQL index entry (at most 2,704 bytes).
	MaxIDSize = 1024
	// MaxTextSize bounds Message and Error, in bytes.
	MaxTextSize = 1 << 20
	// MaxDetailsSize bounds Details, in bytes.
	MaxDetailsSize = 4 << 20
)

// Timestamps a store keeps: those Unix nanoseconds in an int64 represent.
var (
	minTimestamp = time.Unix(0, math.MinInt64)
	maxTimestamp = time.Unix(0, math.MaxInt64)
)

// Validate reports, wrapped in ErrInvalidEntry, why a store must reject e:
// an empty EventID or Type, a zero Timestamp or one outside what Unix
// nanoseconds in an int64 represent (years 1678 to 2262), a Severity that does not rank
// (Rank -1), Details that are not empty and not a JSON object, a DurationMS
// that is NaN or infinite, a text field that is not valid UTF-8 or contains
// a NUL byte, or a field over its size limit (MaxIDSize, MaxTextSize,
// MaxDetailsSize; MaxIDSize also bounds the workflow_id detail of an
// execution_started or ray_batch_test_started entry). Seq is ignored: the store assigns it. Empty Details mean
// the empty object.
func (e Entry) Validate() error {
	if e.EventID == "" {
		return fmt.Errorf("%w: empty event_id", ErrInvalidEntry)
	}
	if e.Type == "" {
		return fmt.Errorf("%w: event %s: empty event_type", ErrInvalidEntry, e.EventID)
	}
	if e.Timestamp.IsZero() {
		return fmt.Errorf("%w: event %s: zero timestamp", ErrInvalidEntry, e.EventID)
	}
	if e.Timestamp.Before(minTimestamp) || e.Timestamp.After(maxTimestamp) {
		return fmt.Errorf("%w: event %s: timestamp %s outside the years 1678-2262", ErrInvalidEntry, e.EventID, e.Timestamp.UTC().Format(time.RFC3339))
	}
	if e.Severity.Rank() < 0 {
		return fmt.Errorf("%w: event %s: unknown severity %q", ErrInvalidEntry, e.EventID, e.Severity)
	}
	if e.DurationMS != nil && (math.IsNaN(*e.DurationMS) || math.IsInf(*e.DurationMS, 0)) {
		return fmt.Errorf("%w: event %s: duration_ms is not finite", ErrInvalidEntry, e.EventID)
	}
	for _, f := range [...]struct {
		name, v string
		max     int
	}{
		{"event_id", e.EventID, MaxIDSize},
		{"source_type", e.SourceType, MaxIDSize},
		{"event_type", string(e.Type), MaxIDSize},
		{"execution_id", e.ExecutionID, MaxIDSize},
		{"node_id", e.NodeID, MaxIDSize},
		{"message", e.Message, MaxTextSize},
		{"error", e.Error, MaxTextSize},
	} {
		if len(f.v) > f.max {
			limit := "text"
			if f.max == MaxIDSize {
				limit = "identifiers"
			}
			return fmt.Errorf("%w: event %s: %s is %d bytes, over the %d-byte limit of %s", ErrInvalidEntry, shortID(e.EventID), f.name, len(f.v), f.max, limit)
		}
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return fmt.Errorf("%w: event %s: %s is not valid UTF-8 text", ErrInvalidEntry, e.EventID, f.name)
		}
	}
	if len(e.Details) > MaxDetailsSize {
		return fmt.Errorf("%w: event %s: details longer than %d bytes", ErrInvalidEntry, e.EventID, MaxDetailsSize)
	}
	if len(e.Details) > 0 && !validObject(e.Details) {
		return fmt.Errorf("%w: event %s: details are not a JSON object", ErrInvalidEntry, e.EventID)
	}
	if e.Type == TypeExecutionStarted || e.Type == TypeRayBatchTestStarted {
		// The workflow id is an identifier of the execution (stores list
		// executions by it): the same limit applies. The details are
		// valid UTF-8 JSON, whose strings decode to at most their encoded
		// length: details within the limit need not be decoded.
		if len(e.Details) > MaxIDSize {
			if n := len(workflowIDDetail(e.Details)); n > MaxIDSize {
				return fmt.Errorf("%w: event %s: workflow_id is %d bytes, over the %d-byte limit of identifiers", ErrInvalidEntry, shortID(e.EventID), n, MaxIDSize)
			}
		}
	}
	return nil
}

// Store keeps audit entries durably. It is append-only: every entry gets a
// store-assigned Seq, is never updated, and is idempotent on EventID.
// Implementations are safe for concurrent use; storetest.Run checks the
// contract.
//
// The contract in detail:
//   - Append rejects the whole batch, wrapping ErrInvalidEntry, when any entry
//     fails Entry.Validate; a failed Append records nothing and leaves every
//     Seq 0. An empty batch is a no-op.
//   - Seq is strictly increasing in commit order and never reused (gaps are
//     allowed). A reader paging with Filter.After never misses an entry
//     committed after its previous page.
//   - Entries read back equal what was appended: Timestamp to the nanosecond
//     (time.Equal; returned in UTC), Details as an equal JSON value (empty
//     Details read back as {}), every other field exactly.
//   - Execution ids order byte-wise (like Go's string comparison). Entries
//     with an empty ExecutionID belong to no execution.
//   - Every method returns an error wrapping the context's error when ctx is
//     done before it completes.
type Store interface {
	// Append records entries as one atomic batch. It assigns Seq to every
	// entry it records (in slice order) and leaves Seq 0 on duplicates: entries
	// whose EventID is already recorded, or repeated within the batch.
	Append(ctx context.Context, entries []Entry) (AppendResult, error)
	// Query returns entries matching f in Seq order.
	Query(ctx context.Context, f Filter) ([]Entry, error)
	// Summary summarises one execution; ErrNotFound when it has no entries.
	Summary(ctx context.Context, executionID string) (Summary, error)
	// Executions lists the executions p selects with their summaries,
	// newest first (see Page).
	Executions(ctx context.Context, p Page) ([]Summary, error)
	// Count returns the number of entries recorded.
	Count(ctx context.Context) (int64, error)
	// Close releases the store; calling it again returns nil. After Close
	// the other methods return errors wrapping ErrClosed.
	Close() error
}

// AppendResult reports what Append did.
type AppendResult struct {
	// Appended is the number of entries recorded.
	Appended int
	// Duplicates lists the EventIDs that were already recorded, in batch order.
	Duplicates []string
}

// DefaultLimit is the number of entries Query returns when Filter.Limit is 0.
const DefaultLimit = 100

// MaxLimit is the largest Filter.Limit a query honours.
const MaxLimit = 10000

// Filter selects entries. Zero fields do not filter.
type Filter struct {
	ExecutionID string
	NodeID      string
	// Types keeps entries of any of these audit types.
	Types []Type
	// MinSeverity keeps entries at least this severe.
	MinSeverity Severity
	// Since keeps entries with Timestamp >= Since; Until those with Timestamp < Until.
	Since, Until time.Time
	// After keeps entries with Seq > After: the cursor of the previous page.
	After int64
	// Limit caps the result: 0 means DefaultLimit, values above MaxLimit mean MaxLimit.
	Limit int
}

// Validate reports, wrapped in ErrInvalidFilter, why a store must reject f:
// a MinSeverity that is set but does not rank, a negative After or Limit.
func (f Filter) Validate() error {
	if f.MinSeverity != "" && f.MinSeverity.Rank() < 0 {
		return fmt.Errorf("%w: unknown severity %q", ErrInvalidFilter, f.MinSeverity)
	}
	if f.After < 0 {
		return fmt.Errorf("%w: negative after %d", ErrInvalidFilter, f.After)
	}
	if f.Limit < 0 {
		return fmt.Errorf("%w: negative limit %d", ErrInvalidFilter, f.Limit)
	}
	return nil
}

// EffectiveLimit is the number of entries f asks for: Limit, DefaultLimit
// when 0, at most MaxLimit.
func (f Filter) EffectiveLimit() int { return effectiveLimit(f.Limit) }

// Page selects a page of executions, newest first: ordered by StartedAt,
// latest first, then by execution id, byte-wise descending. Zero fields do
// not filter.
type Page struct {
	// After is the cursor of the previous page: the Cursor of its last
	// execution ("" for the first page). A cursor outside that form is an
	// invalid filter.
	After string
	// Limit caps the page: 0 means DefaultLimit, values above MaxLimit mean
	// MaxLimit.
	Limit int
	// Statuses keeps executions in any of these statuses (StatusRunning,
	// StatusPaused, StatusCompleted, StatusFailed, StatusCancelled).
	Statuses []string
	// WorkflowID keeps executions of this workflow.
	WorkflowID string
	// Text keeps executions whose id or workflow id contains it, ASCII
	// letters compared without case.
	Text string
	// Since keeps executions with StartedAt >= Since; Until those with
	// StartedAt < Until.
	Since, Until time.Time
}

// Validate reports, wrapped in ErrInvalidFilter, a negative Limit, an
// unknown status or a malformed cursor.
func (p Page) Validate() error {
	if p.Limit < 0 {
		return fmt.Errorf("%w: negative limit %d", ErrInvalidFilter, p.Limit)
	}
	for _, st := range p.Statuses {
		if !ValidStatus(st) {
			return fmt.Errorf("%w: unknown status %q (want running, paused, completed, failed or cancelled)", ErrInvalidFilter, st)
		}
	}
	if p.After != "" {
		if _, _, err := ParseCursor(p.After); err != nil {
			return err
		}
	}
	return nil
}

// EffectiveLimit is the number of executions p asks for: Limit, DefaultLimit
// when 0, at most MaxLimit.
func (p Page) EffectiveLimit() int { return effectiveLimit(p.Limit) }

func effectiveLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Watcher is implemented by stores that several processes share (such as
// PostgreSQL): it tells a process when entries may have been committed by
// any of them, so that it can read them by seq (Filter.After) and follow the
// whole log, not only its own commits.
type Watcher interface {
	// Watch calls wake once it is watching, then whenever entries may have
	// been committed since. It returns when ctx is done or the watch fails
	// (the caller may call it again; commits made while nobody watched are
	// found by reading after the first wake of the new call). wake must not
	// block.
	Watch(ctx context.Context, wake func()) error
	// LastSeq returns the highest seq committed, 0 for an empty store.
	LastSeq(ctx context.Context) (int64, error)
}

// shortID returns an id for an error message, cut to 64 bytes.
func shortID(id string) string {
	if len(id) <= 64 {
		return id
	}
	cut := 61
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	return id[:cut] + "..."
}
