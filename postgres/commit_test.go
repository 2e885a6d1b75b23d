package postgres

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

func batchOf(prefix, execution string, n int) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = entry(fmt.Sprintf("%s-%d", prefix, i), execution)
	}
	return es
}

// An aborted transaction is never reported committed: when an error before
// COMMIT went unnoticed, COMMIT answers ROLLBACK (without an error), and
// Append checks that tag.
//
// Without the Merkle tree, an append that records nothing commits with a
// bare COMMIT, which is where a lost error shows only in the tag.
func TestCommitTagChecked(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{NoLedger: true})
	first := batchOf("tag", "", 3)
	if _, err := s.Append(ctx, slices.Clone(first)); err != nil {
		t.Fatal(err)
	}
	// An error lost before COMMIT: the transaction is aborted.
	s.beforeCommit = func(ctx context.Context, c *pgx.Conn) error {
		_, _ = c.Exec(ctx, "SELECT 1/0")
		return nil
	}
	// All duplicates: nothing to count, COMMIT alone, answered ROLLBACK.
	res, err := s.Append(ctx, slices.Clone(first))
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Append in an aborted transaction: %+v, %v; want the rollback reported", res, err)
	}
	// New entries: the count update fails first.
	more := batchOf("tag-more", "", 2)
	if res, err := s.Append(ctx, more); err == nil {
		t.Fatalf("Append in an aborted transaction: %+v, nil error", res)
	}
	for _, e := range more {
		if e.Seq != 0 {
			t.Fatalf("entry %s has seq %d after a failed Append", e.EventID, e.Seq)
		}
	}
	s.beforeCommit = nil
	if n, err := s.Count(ctx); err != nil || n != 3 {
		t.Fatalf("Count = %d, %v; want 3", n, err)
	}
}

// When the connection is cut right after the server committed, before the
// answer reaches the client, the outcome is unknown to Append; the
// recorder's retry finds the batch recorded by that very transaction and
// counts it as accepted, with its seqs, and passes it to OnCommit, instead
// of reporting duplicates that no live stream would ever see. A real
// duplicate afterwards is still a duplicate.
func TestCommitOutcomeUnknown(t *testing.T) {
	for _, execution := range []string{"", "exec-unknown"} { // COMMIT alone, or in the summaries pipeline
		t.Run("execution="+execution, func(t *testing.T) {
			dsn, schema := pgtest.NewSchema(t)
			proxy, pdsn := pgtest.NewCutProxy(t, dsn)
			ctx := testCtx(t)
			s := openSchema(t, pdsn, schema, Options{})
			var (
				mu        sync.Mutex
				committed []audit.Entry
			)
			rec := audit.NewRecorder(s, audit.RecorderOptions{
				RetryBackoff: time.Millisecond,
				Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
				OnCommit: func(es []audit.Entry, _ time.Duration) {
					mu.Lock()
					committed = append(committed, es...)
					mu.Unlock()
				},
			})
			defer rec.Close(context.Background())

			if err := rec.Record(ctx, entry("warm-up", execution)); err != nil {
				t.Fatal(err)
			}
			if err := rec.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			batch := batchOf("cut", execution, 10)
			proxy.CutNextCommit()
			receipt, err := rec.Submit(ctx, slices.Clone(batch))
			if err != nil {
				t.Fatal(err)
			}
			res, err := receipt.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if proxy.Cuts() != 1 || rec.Stats().Retries == 0 {
				t.Fatalf("%d cuts, %d retries: the commit was not cut", proxy.Cuts(), rec.Stats().Retries)
			}
			if res.Appended != len(batch) || len(res.Duplicates) != 0 {
				t.Fatalf("after the unknown commit: appended %d, duplicates %d; want %d accepted", res.Appended, len(res.Duplicates), len(batch))
			}
			stored, err := s.Query(ctx, audit.Filter{Limit: audit.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1+len(batch) {
				t.Fatalf("%d entries stored, want %d", len(stored), 1+len(batch))
			}
			mu.Lock()
			got := slices.Clone(committed)
			mu.Unlock()
			if len(got) != len(stored) {
				t.Fatalf("OnCommit saw %d entries, the store holds %d", len(got), len(stored))
			}
			for i := range stored {
				if got[i].EventID != stored[i].EventID || got[i].Seq != stored[i].Seq {
					t.Fatalf("OnCommit entry %d: %s seq %d, stored %s seq %d", i, got[i].EventID, got[i].Seq, stored[i].EventID, stored[i].Seq)
				}
			}
			if n, err := s.Count(ctx); err != nil || n != int64(len(stored)) {
				t.Fatalf("Count = %d, %v; want %d (the unknown commit counted once)", n, err, len(stored))
			}

			// The same events sent again are duplicates, as ever.
			receipt, err = rec.Submit(ctx, slices.Clone(batch))
			if err != nil {
				t.Fatal(err)
			}
			if res, err := receipt.Wait(ctx); err != nil || res.Appended != 0 || len(res.Duplicates) != len(batch) {
				t.Fatalf("sent again: %+v, %v; want %d duplicates", res, err, len(batch))
			}
		})
	}
}

// A transaction remembered as of unknown outcome that in fact did not
// commit is forgotten at the next append, which records its batch as new.
func TestUnknownCommitThatAborted(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx := testCtx(t)
	s := openSchema(t, dsn, schema, Options{})
	if _, err := s.Append(ctx, batchOf("before", "", 1)); err != nil {
		t.Fatal(err)
	}
	// The id of a transaction that rolled back.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var xid int64
	if err := tx.QueryRow(ctx, "SELECT txid_current()").Scan(&xid); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	s.unknown.add(xid)
	batch := batchOf("aborted", "", 5)
	res, err := s.Append(ctx, batch)
	if err != nil || res.Appended != 5 {
		t.Fatalf("Append: %+v, %v", res, err)
	}
	// The next duplicate check forgets it.
	if res, err := s.Append(ctx, batchOf("aborted", "", 5)); err != nil || len(res.Duplicates) != 5 {
		t.Fatalf("Append again: %+v, %v", res, err)
	}
	if s.unknown.pending() {
		t.Fatalf("the aborted transaction %d is still remembered", xid)
	}
}
