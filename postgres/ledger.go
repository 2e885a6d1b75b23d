package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// ErrLogTruncated is returned by Append when the log holds fewer entries
// than its tree: entries at its end were deleted behind the store's back.
// Nothing more is recorded until the log is verified and repaired.
var ErrLogTruncated = errors.New("postgres: the log ends before its Merkle tree: entries were deleted; run wtb audit verify")

// backfillChunk is the number of entries whose leaves Open adds per
// transaction to a log that has entries without leaves.
const backfillChunk = 65536

// ledgerQueries is the SQL of the ledger's tables in one schema.
type ledgerQueries struct {
	entries, tiles, head, checkpoints, redactions, prune, sealMark, runs string // quoted table names
	sync, upsertTiles, upsertHead, readHead, upsertRuns, leafIndex       string
}

func newLedgerQueries(schema string) ledgerQueries {
	id := func(t string) string { return pgx.Identifier{schema, t}.Sanitize() }
	q := ledgerQueries{
		tiles: id("ledger_tiles"), head: id("ledger_head"), checkpoints: id("ledger_checkpoints"),
		redactions: id("ledger_redactions"), prune: id("ledger_prune"), sealMark: id("ledger_seal_mark"),
		runs: id("ledger_seq_runs"),
	}
	q.entries = id("entries")
	entries := q.entries
	q.sync = `SELECT (SELECT size FROM ` + q.head + `), (SELECT last_seq FROM ` + q.head + `),
		(SELECT coalesce(max(seq), 0) FROM ` + entries + `)`
	// The parts' hashes come as one bytea ($4), each part at its offset
	// ($5, from 1) and length ($6): one parameter to encode instead of an
	// array of many.
	q.upsertTiles = `INSERT INTO ` + q.tiles + ` (level, idx, part, hashes)
		SELECT t.level, t.idx, t.part, substring($4::bytea FROM t.off FOR t.len)
		FROM unnest($1::integer[], $2::bigint[], $3::smallint[], $5::integer[], $6::integer[]) AS t(level, idx, part, off, len)
		ON CONFLICT (level, idx, part) DO UPDATE SET hashes = excluded.hashes`
	q.upsertHead = `INSERT INTO ` + q.head + ` (one, size, last_seq, root, range) VALUES (true, $1, $2, $3, $4)
		ON CONFLICT (one) DO UPDATE SET size = excluded.size, last_seq = excluded.last_seq,
		root = excluded.root, range = excluded.range`
	q.readHead = `SELECT size, last_seq, root, range FROM ` + q.head
	q.upsertRuns = `INSERT INTO ` + q.runs + ` (first_seq, idx)
		SELECT * FROM unnest($1::bigint[], $2::bigint[])
		ON CONFLICT (first_seq) DO UPDATE SET idx = excluded.idx`
	// leafIndex reads whether the entry exists, the tree's last seq and
	// the seq run the entry falls in (primary keys find both).
	q.leafIndex = `SELECT EXISTS (SELECT 1 FROM ` + entries + ` WHERE seq = $1),
		(SELECT last_seq FROM ` + q.head + `), r.first_seq, r.idx
		FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT first_seq, idx FROM ` + q.runs + `
			WHERE first_seq <= $1 ORDER BY first_seq DESC LIMIT 1) AS r ON true`
	return q
}

// pgLedger is the store's writer side of the tree. Appends of this process
// use it one at a time: each takes mu once it holds the schema's append
// lock and keeps it until its transaction has ended, so the tree in memory
// follows the commits; appends of other processes are seen in the head.
type pgLedger struct {
	off bool
	q   ledgerQueries
	mu  sync.Mutex
	b   *ledger.Builder // nil until loaded
	h   ledger.Hasher
}

// ledgerTx is one append's part in the tree.
type ledgerTx struct {
	l        *pgLedger
	headSize *int64 // the committed head (nil without one)
	headLast *int64
	maxSeq   int64
	locked   bool
	ahead    ledger.Hasher
	out      []ledger.Hash // when not nil, the leaf of each entry appended, by its index
	pending  chan struct{}
	mark     ledger.Mark
	err      error
}

// begin returns the append's part in the tree, or nil when the tree is off.
func (l *pgLedger) begin() *ledgerTx {
	if l.off {
		return nil
	}
	return &ledgerTx{l: l}
}

// queue adds to b, after the append lock, the read of the committed head
// and of the log's last seq.
func (t *ledgerTx) queue(b *pgx.Batch) {
	b.Queue(t.l.q.sync).QueryRow(func(row pgx.Row) error {
		return row.Scan(&t.headSize, &t.headLast, &t.maxSeq)
	})
}

// lock runs once the append lock is held (queue's results are in): it
// takes the tree, reloads it if another process moved the head, and adds
// the leaves of entries that have none (at most limit; limit < 0: all).
// It reports whether the tree covers every entry.
func (t *ledgerTx) lock(ctx context.Context, c *pgx.Conn, limit int) (bool, error) {
	l := t.l
	l.mu.Lock()
	t.locked = true
	size, last := int64(0), int64(0)
	if t.headSize != nil && t.headLast != nil {
		size, last = *t.headSize, *t.headLast
	}
	if l.b == nil || int64(l.b.Size()) != size || l.b.LastSeq() != last {
		b, err := loadBuilder(ctx, c, l.q)
		if err != nil {
			return false, fmt.Errorf("load tree: %w", err)
		}
		l.b = b
	}
	l.b.Begin()
	if t.maxSeq < l.b.LastSeq() {
		return false, fmt.Errorf("%w (last seq %d, tree up to seq %d)", ErrLogTruncated, t.maxSeq, l.b.LastSeq())
	}
	for n := 0; t.maxSeq > l.b.LastSeq() && (limit < 0 || n < limit); {
		chunk := backfillChunk
		if limit >= 0 {
			chunk = min(chunk, limit-n)
		}
		rows, err := c.Query(ctx, "SELECT "+entryColumns+" FROM "+l.q.entries+" WHERE seq > $1 ORDER BY seq LIMIT $2",
			l.b.LastSeq(), chunk)
		if err != nil {
			return false, err
		}
		es, err := readEntries(rows)
		if err != nil {
			return false, fmt.Errorf("add leaves: %w", err)
		}
		if len(es) == 0 {
			break
		}
		for i := range es {
			if err := l.b.Append(es[i].Seq, l.h.Leaf(&es[i])); err != nil {
				return false, err
			}
		}
		n += len(es)
	}
	return t.maxSeq == l.b.LastSeq(), nil
}

// hashAhead computes, on another goroutine, the leaves of the entries at
// positions unique that get the seqs seqs (0: recorded already) and adds
// them to the tree, while the rows are sent. The goroutine reads every
// field but Seq.
func (t *ledgerTx) hashAhead(entries []audit.Entry, unique []int, seqs []int64) {
	b := t.l.b
	t.mark = b.Mark()
	hash := func() {
		for k, i := range unique {
			if seqs[k] == 0 {
				continue
			}
			e := withoutSeq(&entries[i])
			e.Seq = seqs[k]
			leaf := t.ahead.Leaf(&e)
			if t.out != nil {
				t.out[i] = leaf
			}
			if err := b.Append(e.Seq, leaf); err != nil {
				t.err = err
				return
			}
		}
	}
	if len(unique) < 64 {
		hash()
		return
	}
	done := make(chan struct{})
	t.pending = done
	go func() {
		defer close(done)
		hash()
	}()
}

// wait waits for hashAhead.
func (t *ledgerTx) wait() {
	if t != nil && t.pending != nil {
		<-t.pending
		t.pending = nil
	}
}

// finish queues on b the writes of the changed tiles and the new head.
func (t *ledgerTx) finish(b *pgx.Batch) error {
	t.wait()
	if t.err != nil {
		return t.err
	}
	queueTree(b, t.l.q, t.l.b)
	return nil
}

// tilePart is the number of hashes in one stored part of a tile: 1 KiB,
// small enough to stay in the row (see migration 0006).
const tilePart = 32

func queueTree(b *pgx.Batch, q ledgerQueries, tree *ledger.Builder) {
	var (
		levels      []int32
		idxs        []int64
		parts       []int16
		offs, lens  []int32
		hashes, all []byte
	)
	tiles := tree.Flush()
	n := 0
	for _, tl := range tiles {
		n += len(tl.Hashes) - tl.From/tilePart*tilePart*ledger.HashSize
	}
	all = make([]byte, 0, n)
	for _, tl := range tiles {
		w := tl.Width()
		for p := tl.From / tilePart; p*tilePart < w; p++ {
			hashes = tl.Hashes[p*tilePart*ledger.HashSize : min((p+1)*tilePart, w)*ledger.HashSize]
			levels = append(levels, int32(tl.Level))
			idxs = append(idxs, int64(tl.Index))
			parts = append(parts, int16(p))
			offs = append(offs, int32(len(all)+1))
			lens = append(lens, int32(len(hashes)))
			all = append(all, hashes...)
		}
	}
	if len(levels) > 0 {
		b.Queue(q.upsertTiles, levels, idxs, parts, all, offs, lens)
	}
	if runs := tree.Runs(); len(runs) > 0 { // rare: seqs skipped by a rolled-back append
		first, idx := make([]int64, len(runs)), make([]int64, len(runs))
		for i, r := range runs {
			first[i], idx[i] = r.FirstSeq, int64(r.Index)
		}
		b.Queue(q.upsertRuns, first, idx)
	}
	h := tree.Head()
	b.Queue(q.upsertHead, int64(h.Size), h.LastSeq, h.Root[:], h.Range)
}

// end ends the append's part: the tree keeps the batch if its transaction
// committed, and goes back otherwise.
func (t *ledgerTx) end(committed bool) {
	if t == nil {
		return
	}
	t.wait()
	if !t.locked {
		return
	}
	if committed {
		t.l.b.Commit()
	} else if t.l.b != nil {
		t.l.b.Rollback()
	}
	t.locked = false
	t.l.mu.Unlock()
}

// withoutSeq copies every field of e but Seq.
func withoutSeq(e *audit.Entry) audit.Entry {
	return audit.Entry{
		EventID: e.EventID, SourceType: e.SourceType, Timestamp: e.Timestamp, Type: e.Type,
		Severity: e.Severity, Message: e.Message, ExecutionID: e.ExecutionID, NodeID: e.NodeID,
		Details: e.Details, Error: e.Error, DurationMS: e.DurationMS,
	}
}

// loadBuilder restores the tree from the head and the last tiles.
func loadBuilder(ctx context.Context, c queryer, q ledgerQueries) (*ledger.Builder, error) {
	head, ok, err := readHead(ctx, c, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		return ledger.NewBuilder(), nil
	}
	var last []ledger.Tile
	for l := range ledger.TileLevels(head.Size) {
		idx, _ := ledger.LastTile(head.Size, l)
		ts, err := readTiles(ctx, c, q, l, idx, idx+1)
		if err != nil {
			return nil, err
		}
		last = append(last, ts...)
	}
	b, err := ledger.RestoreBuilder(head, last)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return b, nil
}

// queryer is what the ledger's reads run on: a connection or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readHead(ctx context.Context, c queryer, q ledgerQueries) (ledger.Head, bool, error) {
	var (
		h          ledger.Head
		size       int64
		root, rang []byte
	)
	err := c.QueryRow(ctx, q.readHead).Scan(&size, &h.LastSeq, &root, &rang)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Head{Root: ledger.EmptyRoot}, false, nil
	}
	if err != nil {
		return h, false, err
	}
	if len(root) != ledger.HashSize || size < 0 {
		return h, false, fmt.Errorf("tree head holds a root of %d bytes, size %d", len(root), size)
	}
	h.Size, h.Root, h.Range = uint64(size), ledger.Hash(root), rang
	return h, true, nil
}

func readTiles(ctx context.Context, c queryer, q ledgerQueries, level int, from, to uint64) ([]ledger.Tile, error) {
	rows, err := c.Query(ctx, "SELECT idx, part, hashes FROM "+q.tiles+" WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx, part",
		level, int64(min(from, 1<<62)), int64(min(to, 1<<62)))
	if err != nil {
		return nil, err
	}
	var out []ledger.Tile
	gap := false // a part is missing: the rest of the tile is unusable
	for rows.Next() {
		var (
			idx  int64
			part int16
			hs   []byte
		)
		if err := rows.Scan(&idx, &part, &hs); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Index != uint64(idx) {
			out = append(out, ledger.Tile{Level: level, Index: uint64(idx)})
			gap = false
		}
		t := &out[len(out)-1]
		if gap || int(part)*tilePart != t.Width() || len(hs)%ledger.HashSize != 0 {
			gap = true
			continue
		}
		t.Hashes = append(t.Hashes, hs...)
	}
	return out, rows.Err()
}

// backfill adds the leaves of entries that have none, a chunk per
// transaction: after an upgrade from a version without the ledger, or
// entries recorded with NoLedger.
func (s *Store) backfill(ctx context.Context) error {
	for {
		done := false
		err := s.pool.AcquireFunc(ctx, func(pc *pgxpool.Conn) error {
			var err error
			done, err = s.backfillOnce(ctx, pc.Conn())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: add leaves to the tree: %w", err)
		}
		if done {
			return nil
		}
	}
}

func (s *Store) backfillOnce(ctx context.Context, c *pgx.Conn) (done bool, err error) {
	t := s.led.begin()
	committed := false
	defer func() {
		if !committed && !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			c.Exec(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // best effort
		}
		t.end(committed)
	}()
	var b pgx.Batch
	b.Queue("BEGIN")
	s.queueLock(&b)
	t.queue(&b)
	if err := c.SendBatch(ctx, &b).Close(); err != nil {
		return false, err
	}
	if done, err = t.lock(ctx, c, backfillChunk); err != nil {
		return false, err
	}
	b = pgx.Batch{}
	queueTree(&b, s.led.q, s.led.b)
	b.Queue("COMMIT")
	if err := c.SendBatch(ctx, &b).Close(); err != nil {
		return false, err
	}
	committed = true
	return done, nil
}
