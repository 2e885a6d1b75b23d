package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// Append records entries as one atomic batch (see audit.Store).
//
// In one transaction, Append takes the schema's append lock (a
// transaction-level advisory lock, released by COMMIT), reserves a block of
// seqs, COPYs the rows straight into the entries table, and commits.
// Because every Append holds the lock from before it draws seqs until its
// commit is visible, seq order is commit order (a reader never sees seq n+1
// before seq n's transaction has committed or rolled back for good).
// Event ids recorded already are found either by the unique index, which
// sends the batch round again with an explicit check, or by that check
// directly after a batch that had duplicates (see appendTx); no other
// writer can record an event id between the check and the commit.
//
// When the connection is lost during COMMIT the outcome is unknown: Append
// returns an error and leaves every Seq 0, and remembers the transaction.
// A retry of the same batch through the same Store that finds those
// entries recorded recognises them as its own (their rows carry that
// transaction's id) and reports them recorded, with their seqs, not as
// duplicates: a recorder's retry then counts them as accepted and passes
// them to OnCommit. None is recorded twice either way.
func (s *Store) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	res, _, err := s.appendEntries(ctx, entries, false)
	return res, err
}

// AppendLeaves is Append that also returns the leaf hash of each entry
// appended (nil when the tree is off). See ledger.LeafAppender.
func (s *Store) AppendLeaves(ctx context.Context, entries []audit.Entry) (audit.AppendResult, []ledger.Hash, error) {
	return s.appendEntries(ctx, entries, true)
}

func (s *Store) appendEntries(ctx context.Context, entries []audit.Entry, wantLeaves bool) (audit.AppendResult, []ledger.Hash, error) {
	if err := s.check(ctx, "append"); err != nil {
		return audit.AppendResult{}, nil, err
	}
	for i := range entries {
		entries[i].Seq = 0
	}
	if len(entries) == 0 {
		return audit.AppendResult{}, nil, nil
	}
	if len(entries) > s.maxBatch {
		return audit.AppendResult{}, nil, fmt.Errorf("%w: %d entries, at most %d", ErrBatchTooLarge, len(entries), s.maxBatch)
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return audit.AppendResult{}, nil, fmt.Errorf("postgres: append entry %d: %w", i, err)
		}
	}

	// Repeats within the batch are duplicates of their first occurrence:
	// only first occurrences are written. unique[k] is the batch index of
	// the k-th of them.
	unique := make([]int, 0, len(entries))
	seen := make(map[string]struct{}, len(entries))
	for i := range entries {
		if _, dup := seen[entries[i].EventID]; dup {
			continue
		}
		seen[entries[i].EventID] = struct{}{}
		unique = append(unique, i)
	}

	var leaves []ledger.Hash
	if wantLeaves && !s.led.off {
		leaves = make([]ledger.Hash, len(entries))
	}
	seqs, own, err := s.appendTx(ctx, entries, unique, leaves)
	if err != nil {
		return audit.AppendResult{}, nil, s.wrap(ctx, "append", err)
	}

	var res audit.AppendResult
	for k, seq := range seqs {
		if seq != 0 {
			entries[unique[k]].Seq = seq
		} else if own != nil && own[k] != 0 {
			entries[unique[k]].Seq = own[k] // recorded by an earlier try: its leaf is not here
		}
	}
	for i := range entries {
		if entries[i].Seq == 0 {
			res.Duplicates = append(res.Duplicates, entries[i].EventID)
		}
	}
	res.Appended = len(entries) - len(res.Duplicates)
	return res, leaves, nil
}

// rollbackTimeout bounds the ROLLBACK of a failed append (which runs even
// when the caller's context is done). A connection that cannot roll back
// is discarded by the pool anyway.
const rollbackTimeout = 5 * time.Second

// errRecordedAlready reports that an unchecked append met an event id that
// is recorded already; the batch is then appended again, checked.
var errRecordedAlready = errors.New("event id recorded already")

// appendTx appends the rows unique of entries and returns, for every row k
// of unique, its assigned seq or 0 when its event_id was already recorded.
//
// Duplicates across batches are rare on the recording path (a retried or
// re-imported batch), so by default a batch is written without asking
// first which of its event ids exist: the unique index on event_id catches
// them, and the batch is then rolled back and written again with the check
// (its first block of seqs stays unused). After a batch that had
// duplicates, batches are checked until one has none.
//
// own, when not nil, gives for row k the seq of an entry that an earlier
// attempt of this Store recorded in a transaction whose outcome it could
// not learn (see Append); such rows have seq 0 in seqs.
func (s *Store) appendTx(ctx context.Context, entries []audit.Entry, unique []int, leaves []ledger.Hash) (seqs, own []int64, err error) {
	check := s.mode == modeStaging || s.expectDuplicates.Load() || s.unknown.pending()
	seqs, own, err = s.appendOnce(ctx, entries, unique, check, leaves)
	if !check && errors.Is(err, errRecordedAlready) {
		check = true
		seqs, own, err = s.appendOnce(ctx, entries, unique, true, leaves)
	}
	if err == nil && check {
		s.expectDuplicates.Store(slices.Contains(seqs, 0))
	}
	return seqs, own, err
}

// appendOnce runs one append transaction (see appendTx). It drives BEGIN
// and COMMIT itself so that BEGIN travels in the same pipeline as the first
// statements: one round trip fewer per batch.
func (s *Store) appendOnce(ctx context.Context, entries []audit.Entry, unique []int, check bool, leaves []ledger.Hash) ([]int64, []int64, error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer pc.Release() // the pool discards a connection left inside a transaction
	c := pc.Conn()
	committed := false
	led := s.led.begin() // the Merkle tree's part (nil when off)
	if led != nil && leaves != nil {
		clear(leaves) // an earlier try's
		led.out = leaves
	}
	defer func() {
		if !committed && !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			c.Exec(rctx, "ROLLBACK") //nolint:errcheck // best effort, see Release
			cancel()
		}
		led.end(committed)
	}()

	var (
		seqs []int64
		tx   txState
	)
	if s.mode == modeStaging {
		seqs, err = s.appendStaging(ctx, c, entries, unique, led)
	} else {
		seqs, err = s.appendDirect(ctx, c, entries, unique, check, led, &tx)
	}
	if err != nil {
		return nil, nil, err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx, c); err != nil {
			return nil, nil, err
		}
	}
	recorded := 0
	for _, seq := range seqs {
		if seq != 0 {
			recorded++
		}
	}
	// One round trip: the executions' summaries, the count update and
	// COMMIT in one pipeline (an error skips the rest; the deferred
	// ROLLBACK follows).
	var tag pgconn.CommandTag
	var b pgx.Batch
	if led != nil {
		if err := led.finish(&b); err != nil { // the tree's tiles and head
			return nil, nil, fmt.Errorf("tree: %w", err)
		}
	}
	if up := deltaArgs(entries, unique, seqs); up != nil || b.Len() > 0 {
		if up != nil {
			b.Queue(s.q.upsertExecs, up...)
		}
		b.Queue(s.q.countAndCommit + strconv.Itoa(recorded))
		b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
		if err := c.SendBatch(ctx, &b).Close(); err != nil {
			return nil, nil, s.commitFailed(tx, fmt.Errorf("summaries, count and commit: %w", err))
		}
	} else {
		q := "COMMIT" // nothing recorded: nothing to count
		if recorded > 0 {
			q = s.q.countAndCommit + strconv.Itoa(recorded) + "; COMMIT"
		}
		if tag, err = c.Exec(ctx, q); err != nil {
			return nil, nil, s.commitFailed(tx, fmt.Errorf("count and commit: %w", err))
		}
	}
	// An aborted transaction "commits" as ROLLBACK, without an error: an
	// error lost before COMMIT must not pass for a commit.
	if tag.String() != "COMMIT" {
		return nil, nil, fmt.Errorf("commit: transaction rolled back (%s)", tag)
	}
	committed = true
	s.unknown.forget(tx.found)
	return seqs, tx.own, nil
}

// queueLock queues taking the schema's append lock, unless disabled.
func (s *Store) queueLock(b *pgx.Batch) {
	if !s.noAppendLock {
		b.Queue("SELECT pg_advisory_xact_lock($1)", s.appendKey)
	}
}

// appendDirect is the default way: in one pipeline, BEGIN, the append lock,
// and one statement that reserves a block of seqs and, when check is set,
// first finds which event ids are recorded already (they get no seq); then
// COPY writes the rows straight into entries with their seqs. No other
// writer can record an event id between the check and the commit, because
// every writer holds the lock for that span. Each statement of the pipeline
// takes its own snapshot, so the check sees every commit made before the
// lock was granted. Unchecked, a row whose event id exists fails the COPY
// with errRecordedAlready.
//
// The pipeline also reads the transaction's id into tx; when check finds
// recorded ids and an earlier append's outcome is unknown, the entries that
// transaction recorded are looked up and their seqs put in tx.own.
func (s *Store) appendDirect(ctx context.Context, c *pgx.Conn, entries []audit.Entry, unique []int, check bool, led *ledgerTx, tx *txState) ([]int64, error) {
	var (
		dups  []string
		base  int64
		batch pgx.Batch
	)
	batch.Queue("BEGIN")
	s.queueLock(&batch)
	if led != nil {
		led.queue(&batch)
	}
	if check {
		ids := make([]string, len(unique))
		for k, i := range unique {
			ids[k] = entries[i].EventID
		}
		batch.Queue(s.q.reserve, ids, s.q.seqName, len(ids)).QueryRow(func(row pgx.Row) error {
			return row.Scan(&dups, &base, &tx.xid)
		})
	} else {
		batch.Queue(s.q.reserveBlock, s.q.seqName, len(unique)).QueryRow(func(row pgx.Row) error {
			return row.Scan(&base, &tx.xid)
		})
	}
	results := c.SendBatch(ctx, &batch)
	// While the server takes the lock and checks, encode the rows.
	var cs copyStream
	defer cs.release()
	if s.mode == modeCopy {
		cs.encode(entries, unique)
	}
	if err := results.Close(); err != nil {
		return nil, fmt.Errorf("lock, check and reserve: %w", err)
	}
	if led != nil {
		if _, err := led.lock(ctx, c, -1); err != nil {
			return nil, err
		}
	}
	seqs := make([]int64, len(unique))
	rows := unique
	if len(dups) > 0 {
		if err := s.findOwn(ctx, c, entries, unique, dups, tx); err != nil {
			return nil, err
		}
		isDup := make(map[string]struct{}, len(dups))
		for _, id := range dups {
			isDup[id] = struct{}{}
		}
		rows = make([]int, 0, len(unique)-len(dups))
		for _, i := range unique {
			if _, dup := isDup[entries[i].EventID]; !dup {
				rows = append(rows, i)
			}
		}
	}
	if len(rows) == 0 {
		return seqs, nil
	}
	// rows is unique without the duplicates, in order: the j-th of them gets base+j+1.
	j := 0
	for k, i := range unique {
		if j < len(rows) && rows[j] == i {
			j++
			seqs[k] = base + int64(j)
		}
	}
	if led != nil {
		led.hashAhead(entries, unique, seqs) // while the rows go in
	}
	if s.mode == modeInsert {
		src := &rowSource{entries: entries, rows: rows, base: base, row: make([]any, len(entryInsertColumns))}
		if err := insertRows(ctx, c, s.q.entries, entryInsertColumns, src); err != nil {
			return nil, fmt.Errorf("insert: %w", recordedAlready(err))
		}
	} else {
		if len(rows) != len(unique) {
			cs.encode(entries, rows) // without the duplicates
		}
		cs.setSeqs(base)
		if err := cs.send(ctx, c, s.q.copy); err != nil {
			return nil, fmt.Errorf("copy: %w", recordedAlready(err))
		}
	}
	return seqs, nil
}

// sqlstateUniqueViolation is PostgreSQL's error code unique_violation.
const sqlstateUniqueViolation = "23505"

// recordedAlready marks a unique violation of event_id as errRecordedAlready.
func recordedAlready(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlstateUniqueViolation && pe.ConstraintName == "entries_event_id_key" {
		return fmt.Errorf("%w: %w", errRecordedAlready, err)
	}
	return err
}

// appendStaging is the alternative the benchmarks compare with: COPY into
// the connection's temporary staging table outside the lock, then, under
// the lock, one INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING
// RETURNING seq that reserves the seqs and moves the rows.
func (s *Store) appendStaging(ctx context.Context, c *pgx.Conn, entries []audit.Entry, unique []int, led *ledgerTx) ([]int64, error) {
	var batch pgx.Batch
	batch.Queue("BEGIN")
	batch.Queue(createStaging)
	if err := c.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, fmt.Errorf("staging table: %w", err)
	}
	src := &rowSource{entries: entries, rows: unique, row: make([]any, len(stagingColumns))}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{stagingTable}, stagingColumns, src); err != nil {
		return nil, fmt.Errorf("copy to staging: %w", err)
	}
	var (
		base     int64
		assigned []int64
	)
	batch = pgx.Batch{}
	s.queueLock(&batch)
	if led != nil {
		led.queue(&batch)
	}
	batch.Queue(s.q.insertStaged, len(unique), s.q.seqName).QueryRow(func(row pgx.Row) error {
		return row.Scan(&base, &assigned)
	})
	if err := c.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, fmt.Errorf("lock and insert: %w", err)
	}
	if led != nil {
		if _, err := led.lock(ctx, c, -1); err != nil {
			return nil, err
		}
	}
	seqs := make([]int64, len(unique))
	for _, seq := range assigned {
		k := seq - base - 1
		if k < 0 || k >= int64(len(seqs)) {
			return nil, fmt.Errorf("insert returned seq %d outside the reserved block %d..%d", seq, base+1, base+int64(len(seqs)))
		}
		seqs[k] = seq
	}
	if led != nil {
		led.hashAhead(entries, unique, seqs)
	}
	return seqs, nil
}

// insertRows writes src's rows into table with multi-row INSERT statements
// instead of COPY: the alternative the benchmarks compare COPY with.
func insertRows(ctx context.Context, c *pgx.Conn, table string, columns []string, src *rowSource) error {
	const maxParams = 65535 // the protocol's limit on bind parameters
	perStmt := maxParams / len(columns)
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	var (
		b    strings.Builder
		args []any
	)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := c.Exec(ctx, b.String(), args...)
		b.Reset()
		args = args[:0]
		return err
	}
	rows := 0
	for src.Next() {
		if rows == 0 {
			b.WriteString(head)
		} else {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i, v := range src.row {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		b.WriteByte(')')
		if rows++; rows == perStmt {
			if err := flush(); err != nil {
				return err
			}
			rows = 0
		}
	}
	return flush()
}

// rowSource feeds entries[rows[k]] to COPY or INSERT, reusing one row
// buffer. The first column is base+k+1: the seq in entries, the ord in the
// staging table (base 0).
type rowSource struct {
	entries []audit.Entry
	rows    []int
	base    int64
	k       int
	row     []any
}

func (s *rowSource) Next() bool {
	if s.k >= len(s.rows) {
		return false
	}
	e := &s.entries[s.rows[s.k]]
	s.k++
	ts, nanos := splitTime(e.Timestamp)
	var dur any
	if e.DurationMS != nil {
		dur = *e.DurationMS
	}
	r := s.row
	r[0] = s.base + int64(s.k)
	r[1] = e.EventID
	r[2] = e.SourceType
	r[3] = ts
	r[4] = nanos
	r[5] = string(e.Type)
	r[6] = string(e.Severity)
	r[7] = e.Message
	r[8] = nullable(e.ExecutionID)
	r[9] = nullable(e.NodeID)
	r[10] = nullableJSON(e.Details)
	r[11] = nullable(e.Error)
	r[12] = dur
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.row, nil }

func (s *rowSource) Err() error { return nil }
