package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"wtb/audit"
)

// insertColumns are the columns Append writes; seq is the rowid, assigned
// by SQLite as max(seq)+1 for each row in order.
const insertColumns = "event_id, source_type, ts, event_type, severity, message, execution_id, node_id, details, error, duration_ms"

const (
	numColumns = 11
	// maxChunkRows is the largest number of rows per INSERT statement
	// (11,264 bound parameters; both drivers allow 32,766). A batch goes in
	// as chunks of power-of-two sizes, so at most 11 statements are ever
	// prepared.
	maxChunkRows = 1024
)

// maxKeptIndex is the largest batch whose id index the writer keeps for the
// next Append.
const maxKeptIndex = 1 << 16

// chunkSize is the number of rows of the next INSERT when n rows are left:
// the largest power of two not above n and maxChunkRows.
func chunkSize(n int) int {
	k := maxChunkRows
	for k > n {
		k >>= 1
	}
	return k
}

// writeState belongs to the write connection and is guarded by Store.wsem.
type writeState struct {
	inserts map[int]*sql.Stmt // INSERT of n rows, prepared on the writer
	args    []any
	index   map[string]int // event id -> position, reused per Append
	uniq    []int          // positions of the first occurrence of each id
}

func (w *writeState) prepare(ctx context.Context, conn *sql.Conn) error {
	w.inserts = make(map[int]*sql.Stmt)
	w.args = make([]any, 0, maxChunkRows*numColumns)
	w.index = make(map[string]int)
	return nil
}

// insert returns the prepared INSERT of n rows.
func (w *writeState) insert(ctx context.Context, conn *sql.Conn, n int) (*sql.Stmt, error) {
	if st := w.inserts[n]; st != nil {
		return st, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO entries (" + insertColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (event_id) DO NOTHING")
	st, err := conn.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	w.inserts[n] = st
	return st, nil
}

func (w *writeState) close() {
	for _, st := range w.inserts {
		st.Close()
	}
	w.inserts = nil
}

// Append records entries as one transaction. See audit.Store.
func (s *Store) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	for i := range entries {
		entries[i].Seq = 0
	}
	if err := s.enter(ctx, "append"); err != nil {
		return audit.AppendResult{}, err
	}
	defer s.mu.RUnlock()
	if len(entries) == 0 {
		return audit.AppendResult{}, nil
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return audit.AppendResult{}, fmt.Errorf("sqlite: append: entry %d: %w", i, err)
		}
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return audit.AppendResult{}, fmt.Errorf("sqlite: append: %w", ctx.Err())
	}
	defer func() { <-s.wsem }()
	res, err := s.w.append(ctx, s.writer, entries)
	if res.Appended > 0 {
		s.committed()
	}
	if err != nil {
		for i := range entries {
			entries[i].Seq = 0
		}
		return audit.AppendResult{}, wrap(ctx, "append", err)
	}
	return res, nil
}

// append runs one Append on the write connection.
func (w *writeState) append(ctx context.Context, conn *sql.Conn, entries []audit.Entry) (res audit.AppendResult, err error) {
	// Repeats within the batch: the first occurrence wins.
	w.uniq = w.uniq[:0]
	clear(w.index)
	for i := range entries {
		id := entries[i].EventID
		if _, seen := w.index[id]; seen {
			continue
		}
		w.index[id] = i
		w.uniq = append(w.uniq, i)
	}

	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var last int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM entries").Scan(&last); err != nil {
		return res, err
	}
	for rest := w.uniq; len(rest) > 0; {
		k := chunkSize(len(rest))
		if last, err = w.insertChunk(ctx, conn, entries, rest[:k], last); err != nil {
			return res, err
		}
		rest = rest[k:]
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return res, err
	}
	if len(w.index) > maxKeptIndex {
		w.index = make(map[string]int) // do not keep the memory of a huge batch
		w.uniq = nil
	}
	for i := range entries {
		if entries[i].Seq != 0 {
			res.Appended++
		} else {
			res.Duplicates = append(res.Duplicates, entries[i].EventID)
		}
	}
	return res, nil
}

// insertChunk inserts the entries at positions chunk, after the row with
// seq last, sets their Seq (left 0 for ids already recorded) and returns
// the new last seq.
func (w *writeState) insertChunk(ctx context.Context, conn *sql.Conn, entries []audit.Entry, chunk []int, last int64) (int64, error) {
	st, err := w.insert(ctx, conn, len(chunk))
	if err != nil {
		return 0, err
	}
	args := w.args[:0]
	for _, i := range chunk {
		e := &entries[i]
		details := "{}"
		if len(e.Details) > 0 {
			details = string(e.Details)
		}
		var dur any
		if e.DurationMS != nil {
			dur = *e.DurationMS
		}
		args = append(args, e.EventID, e.SourceType, e.Timestamp.UnixNano(), string(e.Type),
			int64(e.Severity.Rank()), e.Message, e.ExecutionID, e.NodeID, details, e.Error, dur)
	}
	r, err := st.ExecContext(ctx, args...)
	clear(args)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if int(n) == len(chunk) {
		// No duplicates: the rows took last+1, last+2, ... in order.
		for k, i := range chunk {
			entries[i].Seq = last + 1 + int64(k)
		}
		return last + n, nil
	}
	if n == 0 {
		return last, nil
	}
	// Some ids were already recorded: read back which rows went in.
	rows, err := conn.QueryContext(ctx, "SELECT seq, event_id FROM entries WHERE seq > ? ORDER BY seq", last)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return 0, err
		}
		i, ok := w.index[id]
		if !ok {
			return 0, fmt.Errorf("row %d (%s) was not inserted by this batch", seq, id)
		}
		entries[i].Seq = seq
		last = seq
	}
	return last, rows.Err()
}
