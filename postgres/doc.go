// Package postgres is the audit.Store on PostgreSQL: the shared store for
// several processes or machines recording into one audit log.
//
//	st, err := postgres.Open(ctx, "postgres://user@host:5432/db?sslmode=disable",
//		postgres.Options{Schema: "tenant1"})
//
// The DSN may also name the schema in a "schema" query parameter
// (postgres://host/db?schema=tenant1), which is how a command line's
// --store flag selects it; Options.Schema wins when both are set.
//
// # Schema and migrations
//
// Everything lives in one schema (default "wtb"), created when missing, so
// tenants and tests stay apart in one database. The migrations are embedded
// in the binary (migrations/NNNN_name.sql) and applied by Open in a single
// transaction holding a transaction-level advisory lock derived from the
// schema name; the applied versions are kept in the schema's
// schema_migrations table. Processes that open the same schema at once
// therefore apply each migration exactly once: the first applies them, the
// others wait for its commit and find nothing left to do. A schema migrated
// by a newer build is refused with ErrSchemaTooNew.
//
// Table entries keeps one row per entry: seq (primary key), event_id
// (unique), the entry's fields, and recorded_at (server time of insertion,
// not part of audit.Entry). Timestamps are kept to the nanosecond: column ts
// (timestamptz, microseconds) plus ts_nanos (the nanoseconds below the
// microsecond). Identifier columns use the "C" collation, so execution ids
// order byte-wise, as the audit.Store contract requires. Index
// (execution_id, seq) serves the queries of one execution, summaries and the
// execution listing (a loose index scan that never reads all entries).
// Table entry_count holds the number of entries, updated by every Append in
// its own transaction, so Count is one row read.
//
// # Append
//
// Append validates the batch (audit.Entry.Validate) and drops repeats within
// it (the first occurrence wins). Then, in one transaction holding the
// schema's append lock (below), it reserves a block of seqs, writes the rows
// straight into entries with COPY in binary format (encoded by the package
// while the server takes the lock, seqs filled in afterwards), and commits.
// BEGIN, the lock and the reservation travel in one pipeline, so a batch
// costs three round trips. The batch is all or nothing. Rows are written
// grouped by execution id, while their seqs follow the batch order: when
// many executions run at once, each one's entries of a batch share a heap
// page, and reading an execution touches about one page per batch instead
// of one per entry.
//
// Idempotency on event_id: duplicates across batches are rare when
// recording (a retried or re-imported batch), so a batch is first written
// without asking which of its ids exist; the unique index on event_id
// rejects it if one does, and the batch is written again after a check that
// returns the recorded ids (reported as duplicates, Seq 0). After a batch
// with duplicates the check runs first until a batch has none, so
// re-importing a file costs one extra attempt, not one per batch. No other
// writer can record an id between the check and the commit: they wait for
// the lock.
//
// Two other ways were measured and kept for comparison in the benchmarks:
// the same with multi-row INSERT instead of COPY, and COPY into a temporary
// staging table followed by INSERT ... SELECT ... ON CONFLICT (event_id) DO
// NOTHING RETURNING seq. Both are slower: INSERT because of parameter
// encoding and per-row executor work, the staging table because every row
// is written twice and ON CONFLICT inserts speculatively (BenchmarkAppend).
//
// # A commit of unknown outcome
//
// When the connection is lost after COMMIT was sent, the client cannot tell
// whether the batch was recorded. Append then returns an error and
// remembers the transaction's id (read with the seqs it reserved, at no
// extra round trip). When the batch is appended again through the same
// Store (the recorder retries), the check for recorded event ids finds
// them, and the rows whose xmin is that transaction are this Store's own:
// they are reported recorded with their seqs rather than as duplicates,
// so the recorder counts them as accepted and passes them to OnCommit
// (and on to live streams). Remembered transactions that did not commit
// (txid_status) are forgotten at the next check; the others after their
// rows are found, or after ten minutes, at most 64 at a time. The staging
// append mode, which the benchmarks compare with, does not do this.
//
// # Seq order is commit order
//
// A PostgreSQL sequence hands out numbers before commit, so with concurrent
// writers a transaction holding seq 7 can commit after one holding seq 8. A
// reader paging with Filter.After = 8 would then never see 7. This store
// closes that gap by serialising the seq-assigning part of Append on a
// transaction-level advisory lock (one per schema): Append takes the lock,
// reserves a block of seqs (nextval + setval in one statement), writes, and
// commits; COMMIT makes the rows visible before it releases the lock. The
// next writer can only draw seqs after that, so every entry with a smaller
// seq is visible before any entry with a larger one, and a reader whose
// previous page ended at seq n can never later discover an entry below n.
// Seqs of rolled-back batches and of duplicates are never used: gaps are
// allowed, reuse is not.
//
// The cost is that appends to one schema commit one at a time. The
// audit.Recorder has a single writer per process, so within a process
// nothing is lost; across processes the lock is held for the COPY and the
// commit of one batch, and with batches of hundreds of entries several
// processes together append about as fast as one: the server's CPU and WAL
// flushes are the limit, not the lock (BenchmarkAppendConcurrent).
//
// The alternatives were a counter row (the same serialisation with more
// WAL) and a reader-side "safe horizon" from pg_snapshot_xmin (no writer
// serialisation, but every reader must hide entries newer than the oldest
// transaction in flight anywhere in the cluster, which stalls readers
// behind unrelated long transactions). The lock is the simplest to prove,
// and the package tests prove it both deterministically
// (TestAppendSeqFollowsCommitOrder: a writer held before its commit blocks
// the next writer's seqs; with the lock off, the same test shows a reader
// skipping an entry) and under stress (TestStressConcurrentStoresPagingReaders:
// several stores, writers and paging readers, every reader sees every entry
// exactly once; with the lock off, readers miss entries).
//
// # Reading
//
// Query builds one statement from the filter (ordered by seq, LIMIT from
// audit.Filter.EffectiveLimit) and decodes the rows' binary form itself.
// Summary and Executions aggregate in SQL with the semantics of
// audit.Summarize (checked against it by the tests).
//
// # Following the log
//
// Store implements audit.Watcher, so that many processes sharing a schema
// can each follow the whole log live (wtb serve's streams do). A statement
// trigger on entries (migration 0004) sends NOTIFY on the schema's channel
// (Channel) in every transaction that inserts entries; PostgreSQL delivers
// it after the commit, to every process listening, and folds the
// notifications of one transaction into one. Watch listens on a connection
// of its own and calls its wake-up function; the follower then reads the
// entries after the last seq it read (Query with After). The notification
// carries nothing but the wake-up: the order, and the absence of gaps, come
// from the seq order being the commit order (above), not from the
// notifications, which may be lost while a listener reconnects. LastSeq
// reads the last seq from the primary key.
package postgres
