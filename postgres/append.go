package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"wtb/audit"
)

// Append records entries as one atomic batch (see audit.Store).
//
// In one transaction, Append takes the schema's append lock (a
// transaction-level advisory lock, released by COMMIT), finds with one
// statement which event ids are recorded already and reserves a block of
// seqs for the others, COPYs those rows straight into the entries table,
// and commits. Because every Append holds the lock from before it draws
// seqs until its commit is visible, seq order is commit order (a reader
// never sees seq n+1 before seq n's transaction has committed or rolled
// back for good), and no other writer can record an event id between the
// duplicate check and the commit.
func (s *Store) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	if err := s.check(ctx, "append"); err != nil {
		return audit.AppendResult{}, err
	}
	for i := range entries {
		entries[i].Seq = 0
	}
	if len(entries) == 0 {
		return audit.AppendResult{}, nil
	}
	if len(entries) > s.maxBatch {
		return audit.AppendResult{}, fmt.Errorf("%w: %d entries, at most %d", ErrBatchTooLarge, len(entries), s.maxBatch)
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return audit.AppendResult{}, fmt.Errorf("postgres: append entry %d: %w", i, err)
		}
	}

	// Repeats within the batch are duplicates of their first occurrence:
	// only first occurrences are staged. unique[k] is the batch index of the
	// k-th staged row, whose ord is k+1.
	unique := make([]int, 0, len(entries))
	seen := make(map[string]struct{}, len(entries))
	for i := range entries {
		if _, dup := seen[entries[i].EventID]; dup {
			continue
		}
		seen[entries[i].EventID] = struct{}{}
		unique = append(unique, i)
	}

	seqs, err := s.appendTx(ctx, entries, unique)
	if err != nil {
		return audit.AppendResult{}, s.wrap(ctx, "append", err)
	}

	res := audit.AppendResult{Appended: len(seqs)}
	for k, seq := range seqs {
		if seq != 0 {
			entries[unique[k]].Seq = seq
		}
	}
	for i := range entries {
		if entries[i].Seq == 0 {
			res.Duplicates = append(res.Duplicates, entries[i].EventID)
		}
	}
	res.Appended = len(entries) - len(res.Duplicates)
	return res, nil
}

// appendTx runs the append transaction and returns, for every row k of
// unique, its assigned seq or 0 when its event_id was already recorded.
func (s *Store) appendTx(ctx context.Context, entries []audit.Entry, unique []int) ([]int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit

	var seqs []int64
	if s.mode == modeStaging {
		seqs, err = s.appendStaging(ctx, tx, entries, unique)
	} else {
		seqs, err = s.appendDirect(ctx, tx, entries, unique)
	}
	if err != nil {
		return nil, err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return seqs, nil
}

// lock takes the schema's append lock for the rest of tx.
func (s *Store) lock(ctx context.Context, tx pgx.Tx) error {
	if s.noAppendLock {
		return nil
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.appendKey); err != nil {
		return fmt.Errorf("append lock: %w", err)
	}
	return nil
}

// appendDirect is the default way: under the append lock, one statement
// finds which event ids are recorded already and reserves a block of seqs
// for the others; then COPY writes those straight into entries with their
// seqs. No other writer can record an event id between the check and the
// commit, because every writer holds the lock for that span.
func (s *Store) appendDirect(ctx context.Context, tx pgx.Tx, entries []audit.Entry, unique []int) ([]int64, error) {
	if err := s.lock(ctx, tx); err != nil {
		return nil, err
	}
	ids := make([]string, len(unique))
	for k, i := range unique {
		ids[k] = entries[i].EventID
	}
	var (
		dups []string
		base int64
	)
	if err := tx.QueryRow(ctx, s.q.reserve, ids, s.q.seqName, len(ids)).Scan(&dups, &base); err != nil {
		return nil, fmt.Errorf("check and reserve: %w", err)
	}
	seqs := make([]int64, len(unique))
	rows := unique
	if len(dups) > 0 {
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
	if s.mode == modeInsert {
		src := &rowSource{entries: entries, rows: rows, base: base, row: make([]any, len(entryInsertColumns))}
		if err := insertRows(ctx, tx, s.q.entries, entryInsertColumns, src); err != nil {
			return nil, fmt.Errorf("insert: %w", err)
		}
	} else if err := s.copyEntries(ctx, tx, entries, rows, base); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	// rows is unique without the duplicates, in order: the j-th of them got base+j+1.
	j := 0
	for k, i := range unique {
		if j < len(rows) && rows[j] == i {
			j++
			seqs[k] = base + int64(j)
		}
	}
	return seqs, nil
}

// appendStaging is the alternative the benchmarks compare with: COPY into
// the connection's temporary staging table outside the lock, then, under
// the lock, one INSERT ... SELECT ... ON CONFLICT (event_id) DO NOTHING
// RETURNING seq that reserves the seqs and moves the rows.
func (s *Store) appendStaging(ctx context.Context, tx pgx.Tx, entries []audit.Entry, unique []int) ([]int64, error) {
	if _, err := tx.Exec(ctx, createStaging); err != nil {
		return nil, fmt.Errorf("staging table: %w", err)
	}
	src := &rowSource{entries: entries, rows: unique, row: make([]any, len(stagingColumns))}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stagingTable}, stagingColumns, src); err != nil {
		return nil, fmt.Errorf("copy to staging: %w", err)
	}
	if err := s.lock(ctx, tx); err != nil {
		return nil, err
	}
	var (
		base     int64
		assigned []int64
	)
	if err := tx.QueryRow(ctx, s.q.insertStaged, len(unique), s.q.seqName).Scan(&base, &assigned); err != nil {
		return nil, fmt.Errorf("insert: %w", err)
	}
	seqs := make([]int64, len(unique))
	for _, seq := range assigned {
		k := seq - base - 1
		if k < 0 || k >= int64(len(seqs)) {
			return nil, fmt.Errorf("insert returned seq %d outside the reserved block %d..%d", seq, base+1, base+int64(len(seqs)))
		}
		seqs[k] = seq
	}
	return seqs, nil
}

// insertRows writes src's rows into table with multi-row INSERT statements
// instead of COPY: the alternative the benchmarks compare COPY with.
func insertRows(ctx context.Context, tx pgx.Tx, table string, columns []string, src *rowSource) error {
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
		_, err := tx.Exec(ctx, b.String(), args...)
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
