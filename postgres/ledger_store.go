package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

var (
	_ ledger.Store        = (*Store)(nil)
	_ ledger.LeafAppender = (*Store)(nil)
)

// LedgerHead returns the tree's head as last committed. See ledger.Store.
func (s *Store) LedgerHead(ctx context.Context) (ledger.Head, error) {
	if err := s.check(ctx, "ledger head"); err != nil {
		return ledger.Head{}, err
	}
	h, _, err := readHead(ctx, s.pool, s.led.q)
	if err != nil {
		return h, s.wrap(ctx, "ledger head", err)
	}
	return h, nil
}

// ReadTiles returns the stored tiles of level in [from, to). It implements
// ledger.TileReader for proofs.
func (s *Store) ReadTiles(ctx context.Context, level int, from, to uint64) ([]ledger.Tile, error) {
	if err := s.check(ctx, "read tiles"); err != nil {
		return nil, err
	}
	ts, err := readTiles(ctx, s.pool, s.led.q, level, from, to)
	if err != nil {
		return nil, s.wrap(ctx, "read tiles", err)
	}
	return ts, nil
}

// LeafIndex returns the leaf index of the entry seq: an indexed read of
// the seq runs the tree keeps (ledger.SeqRun), whatever the log's size.
// See ledger.Store.
func (s *Store) LeafIndex(ctx context.Context, seq int64) (uint64, error) {
	if err := s.check(ctx, "leaf index"); err != nil {
		return 0, err
	}
	var (
		found       bool
		last        *int64
		first, ridx *int64
	)
	if err := s.pool.QueryRow(ctx, s.led.q.leafIndex, seq).Scan(&found, &last, &first, &ridx); err != nil {
		return 0, s.wrap(ctx, "leaf index", err)
	}
	switch {
	case !found:
		return 0, fmt.Errorf("postgres: leaf index: entry %d: %w", seq, audit.ErrNotFound)
	case last == nil || seq > *last:
		return 0, fmt.Errorf("postgres: leaf index: entry %d is not in the tree yet: %w", seq, audit.ErrNotFound)
	}
	run, ok := ledger.SeqRun{}, first != nil && ridx != nil
	if ok {
		run = ledger.SeqRun{FirstSeq: *first, Index: uint64(*ridx)}
	}
	return ledger.LeafIndexOf(seq, run, ok), nil
}

// SealMark returns the seal catch-up's mark. See ledger.Store.
func (s *Store) SealMark(ctx context.Context) (int64, error) {
	if err := s.check(ctx, "seal mark"); err != nil {
		return 0, err
	}
	var mark int64
	err := s.pool.QueryRow(ctx, "SELECT seq FROM "+s.led.q.sealMark).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap(ctx, "seal mark", err)
	}
	return mark, nil
}

// RaiseSealMark raises the seal catch-up's mark to seq. See ledger.Store.
func (s *Store) RaiseSealMark(ctx context.Context, seq int64) error {
	if err := s.check(ctx, "raise seal mark"); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO "+s.led.q.sealMark+` (one, seq) VALUES (true, $1)
		ON CONFLICT (one) DO UPDATE SET seq = greatest(`+s.led.q.sealMark+`.seq, excluded.seq)`, seq)
	if err != nil {
		return s.wrap(ctx, "raise seal mark", err)
	}
	return nil
}

// RunCounts returns the count and the first and last seqs of the entries
// of each run of ids up to seq through, in one statement served by the
// index on (execution_id, seq). See ledger.Store.
func (s *Store) RunCounts(ctx context.Context, ids []string, through int64) (map[string]ledger.RunCount, error) {
	if err := s.check(ctx, "run counts"); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT execution_id, count(*), min(seq), max(seq) FROM `+s.led.q.entries+`
		WHERE execution_id = ANY($1::text[]) AND seq <= $2 GROUP BY execution_id`, ids, through)
	if err != nil {
		return nil, s.wrap(ctx, "run counts", err)
	}
	out := make(map[string]ledger.RunCount, len(ids))
	var (
		id string
		c  ledger.RunCount
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &c.Entries, &c.FirstSeq, &c.LastSeq}, func() error {
		out[id] = c
		return nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "run counts", err)
	}
	return out, nil
}

// AddCheckpoint stores a signed checkpoint unless one of the same or a
// larger size is stored already (instances sharing the schema take turns
// under a lock of their own); it reports whether it stored c.
func (s *Store) AddCheckpoint(ctx context.Context, c ledger.SignedCheckpoint) (bool, error) {
	if err := s.check(ctx, "add checkpoint"); err != nil {
		return false, err
	}
	var added bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("checkpoint", s.schema)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+s.led.q.checkpoints+` (size, note)
			SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM `+s.led.q.checkpoints+` WHERE size >= $1)`,
			int64(c.Size), string(c.Note))
		added = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, s.wrap(ctx, "add checkpoint", err)
	}
	return added, nil
}

// LatestCheckpoint returns the signed note of the largest stored
// checkpoint, or ledger.ErrNoCheckpoint.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	if err := s.check(ctx, "latest checkpoint"); err != nil {
		return nil, err
	}
	var note string
	err := s.pool.QueryRow(ctx, "SELECT note FROM "+s.led.q.checkpoints+" ORDER BY size DESC, id DESC LIMIT 1").Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ledger.ErrNoCheckpoint
	}
	if err != nil {
		return nil, s.wrap(ctx, "latest checkpoint", err)
	}
	return []byte(note), nil
}

// LedgerSnapshot returns the log as one repeatable-read transaction sees
// it, for ledger.Verify; close it when done. Appends go on meanwhile.
func (s *Store) LedgerSnapshot(ctx context.Context) (ledger.Snapshot, error) {
	if err := s.check(ctx, "ledger snapshot"); err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, s.wrap(ctx, "ledger snapshot", err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Release()
		return nil, s.wrap(ctx, "ledger snapshot", err)
	}
	return &snapshot{src: src{q: s.led.q, tx: tx}, ptx: tx, conn: conn}, nil
}

type snapshot struct {
	src
	ptx  pgx.Tx
	conn *pgxpool.Conn
}

func (s *snapshot) Close() error {
	err := s.ptx.Rollback(context.Background())
	s.conn.Release()
	return err
}

// src is a ledger.Source over a transaction.
type src struct {
	q  ledgerQueries
	tx queryer
}

// entriesPage is the number of entries src reads per query (the
// connection serves other reads between pages).
const entriesPage = 8192

func (s *src) Head(ctx context.Context) (ledger.Head, error) {
	h, _, err := readHead(ctx, s.tx, s.q)
	return h, err
}

func (s *src) ReadTiles(ctx context.Context, level int, from, to uint64) ([]ledger.Tile, error) {
	return readTiles(ctx, s.tx, s.q, level, from, to)
}

func (s *src) Pruned(ctx context.Context) (ledger.Pruned, error) {
	return readPruned(ctx, s.tx, s.q)
}

func readPruned(ctx context.Context, c queryer, q ledgerQueries) (ledger.Pruned, error) {
	var n, last int64
	err := c.QueryRow(ctx, "SELECT leaves, last_seq FROM "+q.prune).Scan(&n, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Pruned{}, nil
	}
	if err != nil || n < 0 {
		return ledger.Pruned{}, fmt.Errorf("prune row: %d leaves, %v", n, err)
	}
	return ledger.Pruned{Leaves: uint64(n), LastSeq: last}, nil
}

func (s *src) Entries(ctx context.Context, after int64, fn func(*audit.Entry, error) error) error {
	// Pages grow from 256 entries: a verify that stops early reads little.
	for page := 256; ; page = min(2*page, entriesPage) {
		rows, err := s.tx.Query(ctx, "SELECT "+entryColumns+" FROM "+s.q.entries+" WHERE seq > $1 ORDER BY seq LIMIT $2", after, page)
		if err != nil {
			return err
		}
		es, err := readEntries(rows)
		if err != nil {
			return err
		}
		for i := range es {
			if err := fn(&es[i], nil); err != nil {
				return err
			}
		}
		if len(es) < page {
			return nil
		}
		after = es[len(es)-1].Seq
	}
}

func (s *src) Checkpoints(ctx context.Context, minSize uint64, fn func([]byte) error) error {
	rows, err := s.tx.Query(ctx, "SELECT note FROM "+s.q.checkpoints+" WHERE size >= $1 ORDER BY id", int64(min(minSize, 1<<62)))
	if err != nil {
		return err
	}
	var notes []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		notes = append(notes, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range notes {
		if err := fn([]byte(n)); err != nil {
			return err
		}
	}
	return nil
}

func (s *src) Redactions(ctx context.Context) (map[int64]ledger.Hash, error) {
	rows, err := s.tx.Query(ctx, "SELECT seq, payload FROM "+s.q.redactions)
	if err != nil {
		return nil, err
	}
	out := map[int64]ledger.Hash{}
	for rows.Next() {
		var (
			seq int64
			p   []byte
		)
		if err := rows.Scan(&seq, &p); err != nil {
			return nil, err
		}
		if len(p) != ledger.HashSize {
			return nil, fmt.Errorf("redaction of seq %d holds %d bytes", seq, len(p))
		}
		out[seq] = ledger.Hash(p)
	}
	return out, rows.Err()
}

// ledgerWrite runs fn in an append transaction: the append lock held and
// the tree ready (led), then writes the tree and commits.
func (s *Store) ledgerWrite(ctx context.Context, op string, fn func(c *pgx.Conn, led *ledgerTx) error) error {
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if s.led.off {
		return fmt.Errorf("postgres: %s: %w", op, ledger.ErrLedgerOff)
	}
	err := s.pool.AcquireFunc(ctx, func(pc *pgxpool.Conn) (err error) {
		c := pc.Conn()
		led := s.led.begin()
		committed := false
		defer func() {
			if !committed && !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
				c.Exec(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // best effort
			}
			led.end(committed)
		}()
		var b pgx.Batch
		b.Queue("BEGIN")
		s.queueLock(&b)
		led.queue(&b)
		if err := c.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		if _, err := led.lock(ctx, c, -1); err != nil {
			return err
		}
		if err := fn(c, led); err != nil {
			return err
		}
		b = pgx.Batch{}
		if err := led.finish(&b); err != nil {
			return err
		}
		b.Queue("COMMIT")
		if err := c.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		committed = true
		return nil
	})
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	return nil
}

// appendRecord appends the ledger's own entry e inside an append
// transaction and sets its Seq.
func (s *Store) appendRecord(ctx context.Context, c *pgx.Conn, led *ledgerTx, e *audit.Entry) error {
	var seq int64
	if err := c.QueryRow(ctx, "SELECT nextval($1::regclass)", s.q.seqName).Scan(&seq); err != nil {
		return err
	}
	es := []audit.Entry{*e}
	src := &rowSource{entries: es, rows: []int{0}, base: seq - 1, row: make([]any, len(entryInsertColumns))}
	if err := insertRows(ctx, c, s.q.entries, entryInsertColumns, src); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, s.q.countAndCommit+"1"); err != nil {
		return err
	}
	led.hashAhead(es, []int{0}, []int64{seq})
	e.Seq = seq
	return nil
}

// Redact removes the payload (message, details, error) of the entry seq,
// keeps its digest so that its leaf and every proof stay valid, and
// records the redaction as an entry, in one transaction. It returns that
// entry. See ledger.Store.
func (s *Store) Redact(ctx context.Context, seq int64, reason string) (audit.Entry, error) {
	var rec audit.Entry
	err := s.ledgerWrite(ctx, "redact", func(c *pgx.Conn, led *ledgerTx) error {
		rows, err := c.Query(ctx, "SELECT "+entryColumns+" FROM "+s.q.entries+" WHERE seq = $1", seq)
		if err != nil {
			return err
		}
		es, err := readEntries(rows)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return fmt.Errorf("entry %d: %w", seq, audit.ErrNotFound)
		}
		var one int
		err = c.QueryRow(ctx, "SELECT 1 FROM "+s.led.q.redactions+" WHERE seq = $1", seq).Scan(&one)
		if err == nil {
			return fmt.Errorf("entry %d: %w", seq, ledger.ErrRedacted)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		e := es[0]
		if rec, err = ledger.RedactionEntry(&e, reason); err != nil {
			return err
		}
		d := ledger.PayloadDigest(&e)
		r := ledger.Redacted(e)
		if _, err := c.Exec(ctx, "UPDATE "+s.q.entries+" SET message = $1, details = $2, error = NULL WHERE seq = $3",
			r.Message, string(r.Details), seq); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "INSERT INTO "+s.led.q.redactions+" (seq, payload) VALUES ($1, $2)", seq, d[:]); err != nil {
			return err
		}
		return s.appendRecord(ctx, c, led, &rec)
	})
	return rec, err
}

// Prune removes the longest run of entries at the start of the log whose
// timestamps are all before before (never the last entry), keeps their
// leaf hashes (the tiles) so that the log still verifies, and records the
// prune as an entry, in one transaction. See ledger.Store.
func (s *Store) Prune(ctx context.Context, before time.Time) (ledger.PruneRecord, audit.Entry, error) {
	var (
		pr  ledger.PruneRecord
		rec audit.Entry
	)
	err := s.ledgerWrite(ctx, "prune", func(c *pgx.Conn, led *ledgerTx) error {
		prev, err := readPruned(ctx, c, s.led.q)
		if err != nil {
			return err
		}
		// The first entry at or after before ends the run; the last entry
		// always stays. (No index on ts: one scan, in seq order.)
		us, nanos := splitTime(before.UTC())
		var firstKept int64
		if err := c.QueryRow(ctx, `SELECT coalesce(
				(SELECT min(seq) FROM `+s.q.entries+` WHERE (ts, ts_nanos) >= ($1, $2)),
				(SELECT max(seq) FROM `+s.q.entries+`), 0)`, us, nanos).Scan(&firstKept); err != nil {
			return err
		}
		var n, first, last int64
		if err := c.QueryRow(ctx, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM "+s.q.entries+" WHERE seq < $1",
			firstKept).Scan(&n, &first, &last); err != nil {
			return err
		}
		if n == 0 {
			return ledger.ErrNothingToPrune
		}
		for _, t := range []string{s.q.entries, s.led.q.redactions} {
			if _, err := c.Exec(ctx, "DELETE FROM "+t+" WHERE seq < $1", firstKept); err != nil {
				return err
			}
		}
		if _, err := c.Exec(ctx, s.q.countAndCommit+fmt.Sprint(-n)); err != nil {
			return err
		}
		p := ledger.Pruned{Leaves: prev.Leaves + uint64(n), LastSeq: last}
		if _, err := c.Exec(ctx, `INSERT INTO `+s.led.q.prune+` (one, leaves, last_seq) VALUES (true, $1, $2)
			ON CONFLICT (one) DO UPDATE SET leaves = excluded.leaves, last_seq = excluded.last_seq`,
			int64(p.Leaves), p.LastSeq); err != nil {
			return err
		}
		pr = ledger.PruneRecord{Pruned: p, Before: before.UTC(), FirstSeq: first, Removed: n}
		if rec, err = ledger.PruneEntry(pr); err != nil {
			return err
		}
		return s.appendRecord(ctx, c, led, &rec)
	})
	if errors.Is(err, ledger.ErrNothingToPrune) {
		return ledger.PruneRecord{}, audit.Entry{}, ledger.ErrNothingToPrune
	}
	return pr, rec, err
}
