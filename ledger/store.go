package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// LeafAppender is a Store that hands out the leaf hashes it computed for
// the entries it appended, so that a Sealer keeps them (CommittedLeaves)
// without hashing the entries again.
type LeafAppender interface {
	// AppendLeaves is Append that also returns each entry's leaf hash:
	// leaves[i] is entries[i]'s, zero for an entry it did not append (a
	// duplicate) or whose leaf it did not compute. leaves is nil when the
	// store keeps no tree.
	AppendLeaves(ctx context.Context, entries []audit.Entry) (audit.AppendResult, []Hash, error)
}

// Store is an audit.Store that keeps the ledger: the tree over its entries
// written in the same transaction as them, signed checkpoints, redactions
// and prunes that keep the proofs. The SQLite and PostgreSQL stores
// implement it; storetest.RunLedger checks the contract, tampering included.
type Store interface {
	audit.Store
	TileReader
	// LedgerHead returns the tree's head as last committed.
	LedgerHead(ctx context.Context) (Head, error)
	// AddCheckpoint stores a signed checkpoint unless one of the same or a
	// larger size is stored already, and reports whether it stored it.
	AddCheckpoint(ctx context.Context, c SignedCheckpoint) (bool, error)
	// LatestCheckpoint returns the note of the largest stored checkpoint,
	// or ErrNoCheckpoint.
	LatestCheckpoint(ctx context.Context) ([]byte, error)
	// LeafIndex returns the leaf index (position in the log) of the entry
	// seq, or audit.ErrNotFound (also for an entry not in the tree yet).
	// It reads the seq runs (SeqRun) the store writes with the tiles: one
	// indexed read, whatever the log's size.
	LeafIndex(ctx context.Context, seq int64) (uint64, error)
	// SealMark returns the seal catch-up's mark: every run end (RunEnds)
	// at or before this seq has been sealed or found sealed (see
	// Sealer.CatchUp); 0 for a new store.
	SealMark(ctx context.Context) (int64, error)
	// RaiseSealMark raises the seal mark to seq; it never lowers it.
	RaiseSealMark(ctx context.Context, seq int64) error
	// RunCounts returns, for each run of ids that has entries with a seq
	// at most through, their number and their first and last seqs, read
	// together for all the runs (from an index on execution id and seq);
	// runs without such entries are left out. A Sealer compares them with
	// the entries of a run it kept in memory (see SealerOptions).
	RunCounts(ctx context.Context, ids []string, through int64) (map[string]RunCount, error)
	// LedgerSnapshot returns the log as one read transaction sees it.
	LedgerSnapshot(ctx context.Context) (Snapshot, error)
	// Redact replaces the payload of entry seq by its digest and records
	// the redaction as an entry (returned), in one transaction. It fails
	// with audit.ErrNotFound for an unknown seq and ErrRedacted for an
	// entry redacted already.
	Redact(ctx context.Context, seq int64, reason string) (audit.Entry, error)
	// Prune removes the longest run of entries at the start of the log
	// whose timestamps are all before before (never the last entry),
	// keeping their leaf hashes, and records the prune as an entry
	// (returned), in one transaction. ErrNothingToPrune when no entry goes.
	Prune(ctx context.Context, before time.Time) (PruneRecord, audit.Entry, error)
}

// RunCount is what a store holds of one run up to a seq (Store.RunCounts):
// the number of its entries and the seqs of the first and the last.
type RunCount struct {
	Entries           int64
	FirstSeq, LastSeq int64
}

// Snapshot is a Source to close when done.
type Snapshot interface {
	Source
	Close() error
}

// Errors of Store.
var (
	// ErrNoCheckpoint is returned when no checkpoint is stored yet.
	ErrNoCheckpoint = errors.New("ledger: no checkpoint yet")
	// ErrRedacted is returned by Redact for an entry redacted already.
	ErrRedacted = errors.New("ledger: entry redacted already")
	// ErrNothingToPrune is returned by Prune when no entry is old enough.
	ErrNothingToPrune = errors.New("ledger: nothing to prune")
	// ErrLedgerOff is returned by a store opened without its ledger.
	ErrLedgerOff = errors.New("ledger: the store was opened without its ledger")
)
