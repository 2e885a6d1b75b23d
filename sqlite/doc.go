// Package sqlite is the embedded audit.Store: one SQLite file in WAL mode,
// written by one connection (writes are serialised; each Append is one
// IMMEDIATE transaction) and read by a small pool of connections that never
// block the writer nor each other.
//
// # Schema
//
// Entries live in one table, entries, with seq as the rowid: assigned at
// insert as max(seq)+1 inside the write transaction, so seq order is commit
// order (a reader paging with Filter.After never misses a row committed
// later), strictly increasing and never reused (rows are never deleted).
// Timestamps are Unix nanoseconds in UTC (exact to the nanosecond),
// severities their rank, missing ids empty strings. Indexes: event_id (unique: the
// idempotency key), (execution_id, seq), (node_id, seq), (event_type, seq)
// and ts, so each filter of audit.Filter is an index range already in seq
// order. The schema is created and upgraded on Open by the numbered
// migrations embedded in the binary (migrations/NNNN_name.sql, recorded in
// schema_migrations, applied in one IMMEDIATE transaction so concurrent
// Opens apply them once); a database migrated by a newer program is refused
// with ErrSchemaTooNew.
//
// # Writes
//
// Append validates the batch (audit.Entry.Validate), drops repeats within
// it (the first occurrence wins), and inserts with multi-row INSERT ... ON
// CONFLICT (event_id) DO NOTHING statements of power-of-two sizes, prepared
// once on the write connection and driven through the driver connection
// directly (no database/sql argument copies). When a statement inserts
// every row, the seqs are known (last+1, last+2, ...); when some ids were
// already recorded, the rows it did insert are read back. WAL checkpoints
// run in the background on their own connection, so the writer does not
// pay for them.
//
// # Durability: Options.Sync (--sync normal|full)
//
// SyncNormal (the default; synchronous=NORMAL in WAL mode): a committed
// Append survives a crash or kill of the process (TestCrashSafety kills a
// recording process with SIGKILL 20 times and finds every acknowledged
// entry); a power loss or operating system crash may lose the last
// transactions committed before it, but never corrupts the file and never
// keeps part of a batch. SyncFull (synchronous=FULL): the WAL is synced to
// disk at every commit, so committed batches also survive a power loss, at
// the cost of one fsync per Append (about 40% fewer entries per second
// here).
//
// # Drivers
//
// Two drivers are supported: github.com/mattn/go-sqlite3 (cgo, DriverCgo)
// and modernc.org/sqlite (pure Go, DriverPure). The default is DriverCgo in
// builds with cgo, chosen by measurement (BenchmarkAppend: about 1.5 times
// the rows per second of DriverPure, see README.md), and DriverPure in
// builds without cgo.
package sqlite
