package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// ErrLogTruncated is returned by Append when the log holds fewer entries
// than its tree: entries at its end were deleted behind the store's back.
// Nothing more is recorded until the log is verified and repaired.
var ErrLogTruncated = errors.New("sqlite: the log ends before its Merkle tree: entries were deleted; run wtb audit verify")

// backfillChunk is the number of entries whose leaves Open adds per
// transaction to a log that has entries without leaves (recorded before the
// ledger existed, or with Options.NoLedger).
const backfillChunk = 65536

// ledgerWriter keeps the tree on the write connection (guarded by wsem).
type ledgerWriter struct {
	off      bool
	b        *ledger.Builder // nil until loaded
	h        ledger.Hasher
	stmts    map[string]driver.Stmt
	nv       []driver.NamedValue
	ahead    ledger.Hasher // the hashing goroutine's
	out      []ledger.Hash // when not nil, the leaf of each entry appended, by its index
	pending  chan struct{} // closed when the leaves hashed ahead are in the tree
	mark     ledger.Mark   // the tree before them
	aheadErr error
}

// wait waits for the leaves hashed ahead, if any.
func (l *ledgerWriter) wait() {
	if l.pending != nil {
		<-l.pending
		l.pending = nil
	}
}

// minHashAhead is the smallest batch whose leaves are hashed on another
// goroutine while the rows are inserted.
const minHashAhead = 64

// hashAhead computes, on another goroutine while the writer inserts the
// rows, the leaves of the entries at positions uniq as if they got the
// seqs first, first+1, ... (no duplicates), and appends them to the tree.
// The goroutine reads every field but Seq, which the insert sets
// meanwhile. Call wait before touching the tree again, and before the
// append returns.
func (l *ledgerWriter) hashAhead(entries []audit.Entry, uniq []int, first int64) {
	l.mark = l.b.Mark()
	l.aheadErr = nil
	hash := func() {
		for k, i := range uniq {
			e := withoutSeq(&entries[i])
			e.Seq = first + int64(k)
			leaf := l.ahead.Leaf(&e)
			if l.out != nil {
				l.out[i] = leaf
			}
			if err := l.b.Append(e.Seq, leaf); err != nil {
				l.aheadErr = err
				return
			}
		}
	}
	if len(uniq) < minHashAhead {
		hash()
		return
	}
	done := make(chan struct{})
	l.pending = done
	go func() {
		defer close(done)
		hash()
	}()
}

// withoutSeq copies every field of e but Seq.
func withoutSeq(e *audit.Entry) audit.Entry {
	return audit.Entry{
		EventID: e.EventID, SourceType: e.SourceType, Timestamp: e.Timestamp, Type: e.Type,
		Severity: e.Severity, Message: e.Message, ExecutionID: e.ExecutionID, NodeID: e.NodeID,
		Details: e.Details, Error: e.Error, DurationMS: e.DurationMS,
	}
}

const (
	sqlTile = "INSERT OR REPLACE INTO ledger_tiles (level, idx, hashes) VALUES (?, ?, ?)"
	sqlRun  = "INSERT OR REPLACE INTO ledger_seq_runs (first_seq, idx) VALUES (?, ?)"
	sqlHead = `INSERT INTO ledger_head (one, size, last_seq, root, range) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (one) DO UPDATE SET size = excluded.size, last_seq = excluded.last_seq,
		root = excluded.root, range = excluded.range`
	// sqlLast reads, in the append transaction, the last seq and the
	// tree's head as committed.
	sqlLast = "SELECT coalesce(max(seq), 0), (SELECT size FROM ledger_head), (SELECT last_seq FROM ledger_head) FROM entries"
)

// exec runs a cached prepared statement on dc.
func (l *ledgerWriter) exec(ctx context.Context, dc driver.Conn, q string, args ...driver.Value) error {
	st := l.stmts[q]
	if st == nil {
		var err error
		if st, err = dc.(driver.ConnPrepareContext).PrepareContext(ctx, q); err != nil {
			return err
		}
		if l.stmts == nil {
			l.stmts = map[string]driver.Stmt{}
		}
		l.stmts[q] = st
	}
	l.nv = l.nv[:0]
	for i, a := range args {
		l.nv = append(l.nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	_, err := st.(driver.StmtExecContext).ExecContext(ctx, l.nv)
	clear(l.nv)
	return err
}

func (l *ledgerWriter) close() {
	for _, st := range l.stmts {
		st.Close()
	}
	l.stmts = nil
}

// begin readies the tree for an append whose transaction is open on dc:
// the log's last seq is last, the committed head has headSize leaves up to
// headLast (both nil without a head). It reloads the tree when another
// writer moved the head, and adds the leaves of entries that have none (at
// most limit of them; limit < 0: all). It reports whether the tree now
// covers every entry.
func (l *ledgerWriter) begin(ctx context.Context, dc driver.Conn, last int64, headSize, headLast any, limit int) (bool, error) {
	size, _ := headSize.(int64)
	hlast, _ := headLast.(int64)
	if l.b == nil || int64(l.b.Size()) != size || l.b.LastSeq() != hlast {
		b, err := loadBuilder(ctx, dc)
		if err != nil {
			return false, err
		}
		l.b = b
	}
	l.b.Begin()
	switch {
	case last < l.b.LastSeq():
		return false, fmt.Errorf("%w (last seq %d, tree up to seq %d)", ErrLogTruncated, last, l.b.LastSeq())
	case last == l.b.LastSeq():
		return true, nil
	}
	n := 0
	err := queryRows(ctx, dc, "SELECT "+selectColumns+" FROM entries WHERE seq > ? ORDER BY seq",
		[]driver.NamedValue{{Ordinal: 1, Value: l.b.LastSeq()}}, func(row []driver.Value) error {
			if limit >= 0 && n >= limit {
				return io.EOF
			}
			var e audit.Entry
			if err := decodeEntry(row, &e); err != nil {
				return fmt.Errorf("add leaf: %w", err)
			}
			n++
			return l.b.Append(e.Seq, l.h.Leaf(&e))
		})
	if err != nil && err != io.EOF {
		return false, err
	}
	return l.b.LastSeq() == last, nil
}

// record completes the tree with the entries at positions uniq just
// inserted (Seq set; 0 for those recorded already), whose leaves
// hashAhead added assuming the seqs first, first+1, ..., and writes the
// changed tiles and the new head, in the open transaction.
func (l *ledgerWriter) record(ctx context.Context, dc driver.Conn, entries []audit.Entry, uniq []int, first int64) error {
	l.wait()
	guessed := l.aheadErr == nil
	for k, i := range uniq {
		if entries[i].Seq != first+int64(k) {
			guessed = false
			break
		}
	}
	if !guessed { // duplicates moved the seqs: add the leaves again
		l.b.Undo(l.mark)
		for _, i := range uniq {
			var leaf ledger.Hash
			if e := &entries[i]; e.Seq != 0 {
				leaf = l.h.Leaf(e)
				if err := l.b.Append(e.Seq, leaf); err != nil {
					return err
				}
			}
			if l.out != nil {
				l.out[i] = leaf
			}
		}
	}
	return l.write(ctx, dc)
}

// write writes the changed tiles and the head.
func (l *ledgerWriter) write(ctx context.Context, dc driver.Conn) error {
	for _, t := range l.b.Flush() {
		if err := l.exec(ctx, dc, sqlTile, int64(t.Level), int64(t.Index), t.Hashes); err != nil {
			return fmt.Errorf("write tile: %w", err)
		}
	}
	for _, r := range l.b.Runs() {
		if err := l.exec(ctx, dc, sqlRun, r.FirstSeq, int64(r.Index)); err != nil {
			return fmt.Errorf("write seq run: %w", err)
		}
	}
	h := l.b.Head()
	if err := l.exec(ctx, dc, sqlHead, int64(h.Size), h.LastSeq, h.Root[:], h.Range); err != nil {
		return fmt.Errorf("write tree head: %w", err)
	}
	return nil
}

func (l *ledgerWriter) commit() {
	if l.b != nil {
		l.b.Commit()
	}
}

func (l *ledgerWriter) rollback() {
	if l.b != nil {
		l.b.Rollback()
	}
}

// loadBuilder restores the tree from the head and the last tiles.
func loadBuilder(ctx context.Context, dc driver.Conn) (*ledger.Builder, error) {
	head, ok, err := readHead(ctx, dc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return ledger.NewBuilder(), nil
	}
	var last []ledger.Tile
	for l := range ledger.TileLevels(head.Size) {
		idx, _ := ledger.LastTile(head.Size, l)
		ts, err := readTiles(ctx, dc, l, idx, idx+1)
		if err != nil {
			return nil, err
		}
		last = append(last, ts...)
	}
	b, err := ledger.RestoreBuilder(head, last)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return b, nil
}

func readHead(ctx context.Context, dc driver.Conn) (ledger.Head, bool, error) {
	var (
		h  ledger.Head
		ok bool
	)
	err := queryRows(ctx, dc, "SELECT size, last_seq, root, range FROM ledger_head WHERE one = 1", nil, func(row []driver.Value) error {
		size, ok1 := row[0].(int64)
		last, ok2 := row[1].(int64)
		root, ok3 := row[2].([]byte)
		rng, ok4 := row[3].([]byte)
		if !ok1 || !ok2 || !ok3 || !ok4 || len(root) != ledger.HashSize || size < 0 {
			return fmt.Errorf("tree head holds %T %T %T %T", row[0], row[1], row[2], row[3])
		}
		h = ledger.Head{Size: uint64(size), LastSeq: last, Root: ledger.Hash(root), Range: append([]byte(nil), rng...)}
		ok = true
		return nil
	})
	if !ok && err == nil {
		h.Root = ledger.EmptyRoot
	}
	return h, ok, err
}

func readTiles(ctx context.Context, dc driver.Conn, level int, from, to uint64) ([]ledger.Tile, error) {
	var out []ledger.Tile
	err := queryRows(ctx, dc, "SELECT idx, hashes FROM ledger_tiles WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
		[]driver.NamedValue{{Ordinal: 1, Value: int64(level)}, {Ordinal: 2, Value: int64(from)}, {Ordinal: 3, Value: int64(min(to, 1<<62))}},
		func(row []driver.Value) error {
			idx, ok1 := row[0].(int64)
			hs, ok2 := row[1].([]byte)
			if !ok1 || !ok2 {
				return fmt.Errorf("tile holds %T %T", row[0], row[1])
			}
			out = append(out, ledger.Tile{Level: level, Index: uint64(idx), Hashes: append([]byte(nil), hs...)})
			return nil
		})
	return out, err
}

// backfill adds the leaves of entries that have none, a chunk per
// transaction: after an upgrade from a version without the ledger, or
// entries recorded with NoLedger.
func (s *Store) backfill(ctx context.Context) error {
	for {
		done := false
		err := s.writer.Raw(func(dc any) error {
			c := dc.(driver.Conn)
			exec := c.(driver.ExecerContext)
			if _, err := exec.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
				return err
			}
			ok := false
			defer func() {
				if !ok {
					_, _ = exec.ExecContext(context.Background(), "ROLLBACK", nil)
					s.w.led.rollback()
				}
			}()
			last, hs, hl, err := readLast(ctx, c)
			if err != nil {
				return err
			}
			if done, err = s.w.led.begin(ctx, c, last, hs, hl, backfillChunk); err != nil {
				return err
			}
			if err := s.w.led.write(ctx, c); err != nil {
				return err
			}
			if _, err := exec.ExecContext(ctx, "COMMIT", nil); err != nil {
				return err
			}
			ok = true
			s.w.led.commit()
			return nil
		})
		if err != nil {
			return fmt.Errorf("add leaves to the tree: %w", err)
		}
		if done {
			return nil
		}
	}
}

// readLast runs sqlLast.
func readLast(ctx context.Context, dc driver.Conn) (last int64, headSize, headLast any, err error) {
	err = queryRows(ctx, dc, sqlLast, nil, func(row []driver.Value) error {
		var ok bool
		if last, ok = row[0].(int64); !ok {
			return fmt.Errorf("max(seq) is %T", row[0])
		}
		headSize, headLast = row[1], row[2]
		return nil
	})
	return last, headSize, headLast, err
}
