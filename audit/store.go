package audit

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("audit: store is closed")

// ErrNotFound is returned when an execution has no entries.
var ErrNotFound = errors.New("audit: not found")

// Store keeps audit entries durably. It is append-only: every entry gets a
// store-assigned Seq, is never updated, and is idempotent on EventID.
// Implementations are safe for concurrent use; storetest.Run checks the
// contract.
type Store interface {
	// Append records entries as one atomic batch. It assigns Seq to every
	// entry it records (in slice order) and leaves Seq 0 on duplicates: entries
	// whose EventID is already recorded, or repeated within the batch.
	Append(ctx context.Context, entries []Entry) (AppendResult, error)
	// Query returns entries matching f in Seq order.
	Query(ctx context.Context, f Filter) ([]Entry, error)
	// Summary summarises one execution; ErrNotFound when it has no entries.
	Summary(ctx context.Context, executionID string) (Summary, error)
	// Executions lists executions with their summaries, ordered by id.
	Executions(ctx context.Context, p Page) ([]Summary, error)
	// Count returns the number of entries recorded.
	Count(ctx context.Context) (int64, error)
	// Close releases the store. Later calls return ErrClosed.
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

// Page selects a page of executions: those with an id greater than After, at
// most Limit of them (0 means DefaultLimit).
type Page struct {
	After string
	Limit int
}
