package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wtbdev/wtb/audit"
)

// txState is what an append transaction learns on its way: its id, and
// the seqs of the entries an earlier transaction of unknown outcome
// recorded (by row of unique; nil when none).
type txState struct {
	xid   int64 // txid_current(): the epoch in the high 32 bits
	own   []int64
	found []int64 // the unknown transactions whose rows own holds
}

// Bounds of the transactions of unknown outcome a Store remembers: the
// oldest is forgotten first, and none is kept longer than unknownTTL (a
// retry comes within the recorder's backoff; a client that resends a batch
// answered 503 usually does within minutes).
const (
	maxUnknown = 64
	unknownTTL = 10 * time.Minute
)

// unknownTxs remembers the transactions whose COMMIT was sent but not
// answered (the connection was lost), so may have committed.
type unknownTxs struct {
	mu  sync.Mutex
	txs []unknownTx
}

type unknownTx struct {
	xid int64 // txid_current()
	at  time.Time
}

func (u *unknownTxs) add(xid int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.txs) == maxUnknown {
		u.txs = slices.Delete(u.txs, 0, 1)
	}
	u.txs = append(u.txs, unknownTx{xid: xid, at: time.Now()})
}

// pending reports whether transactions of unknown outcome are remembered
// (forgetting those past unknownTTL).
func (u *unknownTxs) pending() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	u.txs = slices.DeleteFunc(u.txs, func(t unknownTx) bool { return now.Sub(t.at) > unknownTTL })
	return len(u.txs) > 0
}

func (u *unknownTxs) list() []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]int64, len(u.txs))
	for i, t := range u.txs {
		out[i] = t.xid
	}
	return out
}

// forget drops xids: they did not commit, or their rows were found.
func (u *unknownTxs) forget(xids []int64) {
	if len(xids) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.txs = slices.DeleteFunc(u.txs, func(t unknownTx) bool { return slices.Contains(xids, t.xid) })
}

// commitFailed returns err, the failure of the COMMIT round trip of
// transaction tx, after remembering tx unless the server answered with an
// error: a lost connection may have lost the answer of a COMMIT that took
// effect. (pgconn.SafeToRetry cannot tell: a connection cut while the
// answer is on its way can report "conn closed".)
func (s *Store) commitFailed(tx txState, err error) error {
	var pe *pgconn.PgError
	if tx.xid != 0 && !errors.As(err, &pe) {
		s.unknown.add(tx.xid)
		return fmt.Errorf("%w (the commit's outcome is unknown: a retry of the batch finds out)", err)
	}
	return err
}

// findOwn looks, under the append lock, among the recorded ids dups of
// the batch for the rows that a transaction of unknown outcome of this
// Store recorded, and gives each its seq in tx.own. It first forgets the
// remembered transactions that did not commit.
func (s *Store) findOwn(ctx context.Context, c *pgx.Conn, entries []audit.Entry, unique []int, dups []string, tx *txState) error {
	xids := s.unknown.list()
	if len(xids) == 0 {
		return nil
	}
	var notCommitted, xid32 []int64
	var batch pgx.Batch
	batch.Queue(s.q.notCommitted, xids).QueryRow(func(row pgx.Row) error { return row.Scan(&notCommitted) })
	if err := c.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("outcome of an unknown commit: %w", err)
	}
	s.unknown.forget(notCommitted)
	for _, x := range xids {
		if !slices.Contains(notCommitted, x) {
			xid32 = append(xid32, x&0xffffffff) // as the rows' xmin shows it
		}
	}
	if len(xid32) == 0 {
		return nil
	}
	rows, err := c.Query(ctx, s.q.findOwn, dups, xid32)
	if err != nil {
		return fmt.Errorf("entries of an unknown commit: %w", err)
	}
	seqOf := map[string]int64{}
	var found []int64
	for rows.Next() {
		var (
			id       string
			seq, xid int64
		)
		if err := rows.Scan(&id, &seq, &xid); err != nil {
			rows.Close()
			return fmt.Errorf("entries of an unknown commit: %w", err)
		}
		seqOf[id] = seq
		for _, x := range xids {
			if x&0xffffffff == xid && !slices.Contains(found, x) {
				found = append(found, x)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("entries of an unknown commit: %w", err)
	}
	if len(seqOf) == 0 {
		return nil
	}
	tx.own = make([]int64, len(unique))
	for k, i := range unique {
		tx.own[k] = seqOf[entries[i].EventID]
	}
	tx.found = found // forgotten once this transaction commits
	return nil
}
