package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

var (
	_ ledger.Store        = (*Store)(nil)
	_ ledger.LeafAppender = (*Store)(nil)
)

// LedgerHead returns the tree's head as last committed. See ledger.Store.
func (s *Store) LedgerHead(ctx context.Context) (ledger.Head, error) {
	var h ledger.Head
	err := s.read(ctx, "ledger head", func(dc driver.Conn) error {
		var err error
		h, _, err = readHead(ctx, dc)
		return err
	})
	return h, err
}

// ReadTiles returns the stored tiles of level in [from, to). It implements
// ledger.TileReader for proofs.
func (s *Store) ReadTiles(ctx context.Context, level int, from, to uint64) ([]ledger.Tile, error) {
	var ts []ledger.Tile
	err := s.read(ctx, "read tiles", func(dc driver.Conn) error {
		var err error
		ts, err = readTiles(ctx, dc, level, from, to)
		return err
	})
	return ts, err
}

// sqlLeafIndex reads what turns a seq into its leaf index: whether the
// entry exists, the tree's last seq, and the seq run it falls in (the
// primary key finds it).
const sqlLeafIndex = `SELECT EXISTS (SELECT 1 FROM entries WHERE seq = ?1),
	(SELECT last_seq FROM ledger_head WHERE one = 1),
	r.first_seq, r.idx
	FROM (SELECT 1) LEFT JOIN (SELECT first_seq, idx FROM ledger_seq_runs WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1) r`

// LeafIndex returns the leaf index of the entry seq: an indexed read of
// the seq runs the tree keeps (ledger.SeqRun), whatever the log's size.
// See ledger.Store.
func (s *Store) LeafIndex(ctx context.Context, seq int64) (uint64, error) {
	var (
		idx    uint64
		found  bool
		inTree bool
	)
	err := s.read(ctx, "leaf index", func(dc driver.Conn) error {
		return queryRows(ctx, dc, sqlLeafIndex, []driver.NamedValue{{Ordinal: 1, Value: seq}}, func(row []driver.Value) error {
			ex, _ := row[0].(int64)
			last, _ := row[1].(int64)
			first, ok1 := row[2].(int64)
			ri, ok2 := row[3].(int64)
			found, inTree = ex == 1, seq <= last
			idx = ledger.LeafIndexOf(seq, ledger.SeqRun{FirstSeq: first, Index: uint64(ri)}, ok1 && ok2)
			return nil
		})
	})
	switch {
	case err != nil:
	case !found:
		err = fmt.Errorf("sqlite: leaf index: entry %d: %w", seq, audit.ErrNotFound)
	case !inTree:
		err = fmt.Errorf("sqlite: leaf index: entry %d is not in the tree yet: %w", seq, audit.ErrNotFound)
	}
	return idx, err
}

// SealMark returns the seal catch-up's mark. See ledger.Store.
func (s *Store) SealMark(ctx context.Context) (int64, error) {
	var mark int64
	err := s.read(ctx, "seal mark", func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT seq FROM ledger_seal_mark WHERE one = 1", nil, func(row []driver.Value) error {
			var ok bool
			if mark, ok = row[0].(int64); !ok {
				return fmt.Errorf("seal mark is %T", row[0])
			}
			return nil
		})
	})
	return mark, err
}

// RaiseSealMark raises the seal catch-up's mark to seq. See ledger.Store.
func (s *Store) RaiseSealMark(ctx context.Context, seq int64) error {
	return s.write(ctx, "raise seal mark", func(dc driver.Conn) error {
		_, err := dc.(driver.ExecerContext).ExecContext(ctx,
			"INSERT INTO ledger_seal_mark (one, seq) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET seq = max(seq, excluded.seq)",
			[]driver.NamedValue{{Ordinal: 1, Value: seq}})
		return err
	})
}

// runCountsChunk is the most execution ids one RunCounts statement binds:
// SQLite builds older than 3.32 allow 999 parameters.
const runCountsChunk = 500

// RunCounts returns the count and the first and last seqs of the entries
// of each run of ids up to seq through, from the index on (execution_id,
// seq), a statement per runCountsChunk ids. See ledger.Store.
func (s *Store) RunCounts(ctx context.Context, ids []string, through int64) (map[string]ledger.RunCount, error) {
	out := make(map[string]ledger.RunCount, len(ids))
	err := s.read(ctx, "run counts", func(dc driver.Conn) error {
		for rest := ids; len(rest) > 0; {
			n := min(len(rest), runCountsChunk)
			args := make([]driver.NamedValue, n+1)
			for i, id := range rest[:n] {
				args[i] = driver.NamedValue{Ordinal: i + 1, Value: id}
			}
			args[n] = driver.NamedValue{Ordinal: n + 1, Value: through}
			err := queryRows(ctx, dc, sqlRunCounts(n), args, func(row []driver.Value) error {
				id, ok0 := text(row[0])
				count, ok1 := row[1].(int64)
				first, ok2 := row[2].(int64)
				last, ok3 := row[3].(int64)
				if !ok0 || !ok1 || !ok2 || !ok3 {
					return fmt.Errorf("run counts: row of %T %T %T %T", row[0], row[1], row[2], row[3])
				}
				out[id] = ledger.RunCount{Entries: count, FirstSeq: first, LastSeq: last}
				return nil
			})
			if err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sqlRunCounts is the statement of RunCounts for n ids.
func sqlRunCounts(n int) string {
	return "SELECT execution_id, count(*), min(seq), max(seq) FROM entries WHERE execution_id IN (?" +
		strings.Repeat(",?", n-1) + ") AND seq <= ? GROUP BY execution_id"
}

// AddCheckpoint stores a signed checkpoint unless one of the same or a
// larger size is stored already; it reports whether it stored c.
func (s *Store) AddCheckpoint(ctx context.Context, c ledger.SignedCheckpoint) (bool, error) {
	var added bool
	err := s.write(ctx, "add checkpoint", func(dc driver.Conn) error {
		r, err := dc.(driver.ExecerContext).ExecContext(ctx,
			`INSERT INTO ledger_checkpoints (size, note, created_at)
			 SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ledger_checkpoints WHERE size >= ?)`,
			[]driver.NamedValue{{Ordinal: 1, Value: int64(c.Size)}, {Ordinal: 2, Value: string(c.Note)},
				{Ordinal: 3, Value: time.Now().UnixNano()}, {Ordinal: 4, Value: int64(c.Size)}})
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		added = n == 1
		return err
	})
	return added, err
}

// LatestCheckpoint returns the signed note of the largest stored
// checkpoint, or ledger.ErrNoCheckpoint.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	var note []byte
	err := s.read(ctx, "latest checkpoint", func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT note FROM ledger_checkpoints ORDER BY size DESC, id DESC LIMIT 1", nil,
			func(row []driver.Value) error {
				t, ok := text(row[0])
				if !ok {
					return fmt.Errorf("checkpoint note is %T", row[0])
				}
				note = []byte(t)
				return nil
			})
	})
	if err == nil && note == nil {
		return nil, ledger.ErrNoCheckpoint
	}
	return note, err
}

// LedgerSnapshot returns the log as one read transaction sees it, for
// ledger.Verify; close it when done. Appends go on meanwhile.
func (s *Store) LedgerSnapshot(ctx context.Context) (ledger.Snapshot, error) {
	if err := s.enter(ctx, "ledger snapshot"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return nil, wrap(ctx, "ledger snapshot", err)
	}
	snap := &snapshot{conn: conn}
	snap.src.raw = func(fn func(driver.Conn) error) error {
		return conn.Raw(func(dc any) error { return fn(dc.(driver.Conn)) })
	}
	// A read transaction: every read sees the database as of its first one.
	err = snap.src.raw(func(dc driver.Conn) error {
		if _, err := dc.(driver.ExecerContext).ExecContext(ctx, "BEGIN", nil); err != nil {
			return err
		}
		return queryRows(ctx, dc, "SELECT count(*) FROM ledger_head", nil, func([]driver.Value) error { return nil })
	})
	if err != nil {
		conn.Close()
		return nil, wrap(ctx, "ledger snapshot", err)
	}
	return snap, nil
}

type snapshot struct {
	src
	conn *sql.Conn
}

func (s *snapshot) Close() error {
	_ = s.raw(func(dc driver.Conn) error {
		_, err := dc.(driver.ExecerContext).ExecContext(context.Background(), "ROLLBACK", nil)
		return err
	})
	return s.conn.Close()
}

// src is a ledger.Source over a connection inside a transaction.
type src struct {
	raw func(func(driver.Conn) error) error
	cur driver.Conn // the driver connection while a call runs on it
}

// with runs fn on the connection; a call made from within another (a tile
// read while the entries are being read) runs on the same connection.
func (s *src) with(fn func(driver.Conn) error) error {
	if s.cur != nil {
		return fn(s.cur)
	}
	return s.raw(func(dc driver.Conn) error {
		s.cur = dc
		defer func() { s.cur = nil }()
		return fn(dc)
	})
}

func (s *src) Head(ctx context.Context) (ledger.Head, error) {
	var h ledger.Head
	err := s.with(func(dc driver.Conn) error {
		var err error
		h, _, err = readHead(ctx, dc)
		return err
	})
	return h, err
}

func (s *src) ReadTiles(ctx context.Context, level int, from, to uint64) ([]ledger.Tile, error) {
	var ts []ledger.Tile
	err := s.with(func(dc driver.Conn) error {
		var err error
		ts, err = readTiles(ctx, dc, level, from, to)
		return err
	})
	return ts, err
}

func (s *src) Pruned(ctx context.Context) (ledger.Pruned, error) {
	var p ledger.Pruned
	err := s.with(func(dc driver.Conn) error { return readPruned(ctx, dc, &p) })
	return p, err
}

func readPruned(ctx context.Context, dc driver.Conn, p *ledger.Pruned) error {
	return queryRows(ctx, dc, "SELECT leaves, last_seq FROM ledger_prune WHERE one = 1", nil, func(row []driver.Value) error {
		n, ok1 := row[0].(int64)
		last, ok2 := row[1].(int64)
		if !ok1 || !ok2 || n < 0 {
			return fmt.Errorf("prune row holds %T %T", row[0], row[1])
		}
		*p = ledger.Pruned{Leaves: uint64(n), LastSeq: last}
		return nil
	})
}

func (s *src) Entries(ctx context.Context, after int64, fn func(*audit.Entry, error) error) error {
	return s.with(func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT "+selectColumns+" FROM entries WHERE seq > ? ORDER BY seq",
			[]driver.NamedValue{{Ordinal: 1, Value: after}}, func(row []driver.Value) error {
				var e audit.Entry
				err := decodeEntry(row, &e)
				if err != nil {
					e.Seq, _ = row[0].(int64)
				}
				return fn(&e, err)
			})
	})
}

func (s *src) Checkpoints(ctx context.Context, minSize uint64, fn func([]byte) error) error {
	return s.with(func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT note FROM ledger_checkpoints WHERE size >= ? ORDER BY id",
			[]driver.NamedValue{{Ordinal: 1, Value: int64(min(minSize, 1<<62))}}, func(row []driver.Value) error {
				t, _ := text(row[0])
				return fn([]byte(t))
			})
	})
}

func (s *src) Redactions(ctx context.Context) (map[int64]ledger.Hash, error) {
	out := map[int64]ledger.Hash{}
	err := s.with(func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT seq, payload FROM ledger_redactions", nil, func(row []driver.Value) error {
			seq, ok1 := row[0].(int64)
			p, ok2 := row[1].([]byte)
			if !ok1 || !ok2 || len(p) != ledger.HashSize {
				return fmt.Errorf("redaction row holds %T %T", row[0], row[1])
			}
			out[seq] = ledger.Hash(p)
			return nil
		})
	})
	return out, err
}

// read runs fn on a read connection.
func (s *Store) read(ctx context.Context, op string, fn func(driver.Conn) error) error {
	if err := s.enter(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { return fn(dc.(driver.Conn)) }); err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

// write runs fn on the write connection, holding the writer's token.
func (s *Store) write(ctx context.Context, op string, fn func(driver.Conn) error) error {
	if err := s.enter(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opts.ReadOnly {
		return fmt.Errorf("sqlite: %s on %s: %w", op, s.path, ErrReadOnly)
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s: %w", op, ctx.Err())
	}
	defer func() { <-s.wsem }()
	err := s.writer.Raw(func(dc any) error { return fn(dc.(driver.Conn)) })
	if err != nil {
		return wrap(ctx, op, err)
	}
	s.committed()
	return nil
}

// writeTx runs fn in an immediate transaction on the write connection and
// commits, keeping the tree in step; fn may append with w.appendInTx.
func (s *Store) writeTx(ctx context.Context, op string, fn func(dc driver.Conn) error) error {
	return s.write(ctx, op, func(dc driver.Conn) (err error) {
		exec := dc.(driver.ExecerContext)
		if _, err := exec.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				_, _ = exec.ExecContext(context.Background(), "ROLLBACK", nil)
				s.w.led.rollback()
			}
		}()
		if err := fn(dc); err != nil {
			return err
		}
		if _, err := exec.ExecContext(ctx, "COMMIT", nil); err != nil {
			return err
		}
		s.w.led.commit()
		return nil
	})
}

// Redact removes the payload (message, details, error) of the entry seq,
// keeps its digest so that its leaf and every proof stay valid, and
// records the redaction as an entry, in one transaction. It returns that
// entry. See ledger.Store.
func (s *Store) Redact(ctx context.Context, seq int64, reason string) (audit.Entry, error) {
	if s.w.led.off && !s.opts.ReadOnly {
		return audit.Entry{}, fmt.Errorf("sqlite: redact: %w", ledger.ErrLedgerOff)
	}
	var rec audit.Entry
	err := s.writeTx(ctx, "redact", func(dc driver.Conn) error {
		var e audit.Entry
		found := false
		err := queryRows(ctx, dc, "SELECT "+selectColumns+" FROM entries WHERE seq = ?",
			[]driver.NamedValue{{Ordinal: 1, Value: seq}}, func(row []driver.Value) error {
				found = true
				return decodeEntry(row, &e)
			})
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("entry %d: %w", seq, audit.ErrNotFound)
		}
		redacted := false
		if err := queryRows(ctx, dc, "SELECT 1 FROM ledger_redactions WHERE seq = ?",
			[]driver.NamedValue{{Ordinal: 1, Value: seq}}, func([]driver.Value) error { redacted = true; return nil }); err != nil {
			return err
		}
		if redacted {
			return fmt.Errorf("entry %d: %w", seq, ledger.ErrRedacted)
		}
		if rec, err = ledger.RedactionEntry(&e, reason); err != nil {
			return err
		}
		d := ledger.PayloadDigest(&e)
		r := ledger.Redacted(e)
		exec := dc.(driver.ExecerContext)
		if _, err := exec.ExecContext(ctx, "UPDATE entries SET message = ?, details = ?, error = ? WHERE seq = ?",
			[]driver.NamedValue{{Ordinal: 1, Value: r.Message}, {Ordinal: 2, Value: string(r.Details)},
				{Ordinal: 3, Value: r.Error}, {Ordinal: 4, Value: seq}}); err != nil {
			return err
		}
		if _, err := exec.ExecContext(ctx, "INSERT INTO ledger_redactions (seq, payload) VALUES (?, ?)",
			[]driver.NamedValue{{Ordinal: 1, Value: seq}, {Ordinal: 2, Value: d[:]}}); err != nil {
			return err
		}
		recs := []audit.Entry{rec}
		if err := s.w.appendInTx(ctx, dc, recs); err != nil {
			return err
		}
		rec = recs[0]
		return nil
	})
	return rec, err
}

// Prune removes the longest run of entries at the start of the log whose
// timestamps are all before before, keeps their leaf hashes (the tiles)
// so that the log still verifies, and records the prune as an entry, in
// one transaction. See ledger.Store.
func (s *Store) Prune(ctx context.Context, before time.Time) (ledger.PruneRecord, audit.Entry, error) {
	if s.w.led.off && !s.opts.ReadOnly {
		return ledger.PruneRecord{}, audit.Entry{}, fmt.Errorf("sqlite: prune: %w", ledger.ErrLedgerOff)
	}
	var (
		pr  ledger.PruneRecord
		rec audit.Entry
	)
	err := s.writeTx(ctx, "prune", func(dc driver.Conn) error {
		var prev ledger.Pruned
		if err := readPruned(ctx, dc, &prev); err != nil {
			return err
		}
		// The first entry at or after before ends the run (the ts index
		// finds it); the last entry always stays, so seqs go on from it.
		var firstKept int64
		if err := queryRows(ctx, dc, "SELECT coalesce(min(seq), (SELECT max(seq) FROM entries), 0) FROM entries WHERE ts >= ?",
			[]driver.NamedValue{{Ordinal: 1, Value: unixNano(before)}}, func(row []driver.Value) error {
				firstKept, _ = row[0].(int64)
				return nil
			}); err != nil {
			return err
		}
		cond, args := "seq < ?", []driver.NamedValue{{Ordinal: 1, Value: firstKept}}
		var n, first, last int64
		if err := queryRows(ctx, dc, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM entries WHERE "+cond, args,
			func(row []driver.Value) error {
				n, _ = row[0].(int64)
				first, _ = row[1].(int64)
				last, _ = row[2].(int64)
				return nil
			}); err != nil {
			return err
		}
		if n == 0 {
			return ledger.ErrNothingToPrune
		}
		exec := dc.(driver.ExecerContext)
		for _, q := range []string{"DELETE FROM entries WHERE " + cond, "DELETE FROM ledger_redactions WHERE " + cond} {
			if _, err := exec.ExecContext(ctx, q, args); err != nil {
				return err
			}
		}
		p := ledger.Pruned{Leaves: prev.Leaves + uint64(n), LastSeq: last}
		if _, err := exec.ExecContext(ctx, "INSERT OR REPLACE INTO ledger_prune (one, leaves, last_seq) VALUES (1, ?, ?)",
			[]driver.NamedValue{{Ordinal: 1, Value: int64(p.Leaves)}, {Ordinal: 2, Value: p.LastSeq}}); err != nil {
			return err
		}
		pr = ledger.PruneRecord{Pruned: p, Before: before.UTC(), FirstSeq: first, Removed: n}
		var err error
		if rec, err = ledger.PruneEntry(pr); err != nil {
			return err
		}
		recs := []audit.Entry{rec}
		if err := s.w.appendInTx(ctx, dc, recs); err != nil {
			return err
		}
		rec = recs[0]
		return nil
	})
	if errors.Is(err, ledger.ErrNothingToPrune) {
		return ledger.PruneRecord{}, audit.Entry{}, ledger.ErrNothingToPrune
	}
	return pr, rec, err
}
