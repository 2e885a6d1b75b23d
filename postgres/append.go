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
// The batch is copied with COPY into the connection's temporary staging
// table, outside any lock. Then, holding the schema's append lock (a
// transaction-level advisory lock, released by COMMIT), one statement
// reserves a block of sequence numbers and inserts the staged rows with
// ON CONFLICT (event_id) DO NOTHING, returning the seqs it assigned; the
// transaction commits and releases the lock. Because every Append takes the
// lock before it draws seqs and keeps it until its commit is visible, seq
// order is commit order: a reader never sees seq n+1 before seq n's
// transaction has either committed or rolled back for good.
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

// appendTx runs the append transaction and returns, for every staged row k,
// its assigned seq or 0 when its event_id was already recorded.
func (s *Store) appendTx(ctx context.Context, entries []audit.Entry, unique []int) ([]int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit

	src := &stagingSource{entries: entries, unique: unique, row: make([]any, len(stagingColumns))}
	if s.multiRowInsert {
		if err := insertStaging(ctx, tx, src); err != nil {
			return nil, fmt.Errorf("insert into staging: %w", err)
		}
	} else if _, err := tx.CopyFrom(ctx, pgx.Identifier{stagingTable}, stagingColumns, src); err != nil {
		return nil, fmt.Errorf("copy to staging: %w", err)
	}
	if !s.noAppendLock {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.appendKey); err != nil {
			return nil, fmt.Errorf("append lock: %w", err)
		}
	}
	var (
		base     int64
		assigned []int64
	)
	if err := tx.QueryRow(ctx, s.q.insert, len(unique), s.q.seqName).Scan(&base, &assigned); err != nil {
		return nil, fmt.Errorf("insert: %w", err)
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(ctx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
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

// insertStaging fills the staging table with multi-row INSERT statements
// instead of COPY: the alternative the benchmarks compare COPY with.
func insertStaging(ctx context.Context, tx pgx.Tx, src *stagingSource) error {
	const maxParams = 65535 // the protocol's limit on bind parameters
	perStmt := maxParams / len(stagingColumns)
	head := "INSERT INTO pg_temp." + stagingTable + " (" + strings.Join(stagingColumns, ", ") + ") VALUES "
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

// stagingSource feeds the staged rows to COPY, reusing one row buffer.
type stagingSource struct {
	entries []audit.Entry
	unique  []int
	k       int
	row     []any
}

func (s *stagingSource) Next() bool {
	if s.k >= len(s.unique) {
		return false
	}
	e := &s.entries[s.unique[s.k]]
	s.k++
	ts, nanos := splitTime(e.Timestamp)
	var dur any
	if e.DurationMS != nil {
		dur = *e.DurationMS
	}
	r := s.row
	r[0] = int32(s.k) // ord, 1-based
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

func (s *stagingSource) Values() ([]any, error) { return s.row, nil }

func (s *stagingSource) Err() error { return nil }
