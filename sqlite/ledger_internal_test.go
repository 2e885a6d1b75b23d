package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/ledger"
)

// TestLedgerConformance runs the ledger's conformance suite, the tampering
// tests included, on SQLite.
func TestLedgerConformance(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) storetest.LedgerStore {
		path := filepath.Join(t.TempDir(), "wtb.db")
		s, err := Open(context.Background(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		tm := &tamperer{path: path, opts: s.Options()}
		t.Cleanup(tm.close)
		return storetest.LedgerStore{Store: s, Tamper: tm.begin}
	})
}

// tamperer changes the database file behind the store's back, on a
// connection of its own, in transactions it rolls back.
type tamperer struct {
	path string
	opts Options
	db   *sql.DB
	conn *sql.Conn
}

func (tm *tamperer) close() {
	if tm.conn != nil {
		tm.conn.Close()
		tm.db.Close()
	}
}

func (tm *tamperer) begin(ctx context.Context) (storetest.Tamper, error) {
	if tm.conn == nil {
		db, err := sql.Open(string(tm.opts.Driver), dsn(tm.path, tm.opts, false))
		if err != nil {
			return nil, err
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		tm.db, tm.conn = db, conn
		// Out of the way once and for all: copies repeat event ids.
		if _, err := conn.ExecContext(ctx, "DROP INDEX entries_event_id"); err != nil {
			return nil, err
		}
	}
	tx := &tamperTx{conn: tm.conn}
	tx.raw = func(fn func(driver.Conn) error) error {
		return tm.conn.Raw(func(dc any) error { return fn(dc.(driver.Conn)) })
	}
	if err := tx.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, err
	}
	return tx, nil
}

type tamperTx struct {
	src
	conn *sql.Conn
}

func (tx *tamperTx) exec(ctx context.Context, q string, args ...any) error {
	return tx.with(func(dc driver.Conn) error {
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		r, err := dc.(driver.ExecerContext).ExecContext(ctx, q, nv)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		if n, err := r.RowsAffected(); err == nil && n == 0 && q != "BEGIN IMMEDIATE" && q != "ROLLBACK" {
			return fmt.Errorf("%s %v: no row changed", q, args)
		}
		return nil
	})
}

func (tx *tamperTx) Columns() []string {
	return []string{"event_id", "source_type", "ts", "event_type", "severity", "message", "execution_id", "node_id", "details", "error", "duration_ms"}
}

func (tx *tamperTx) Change(ctx context.Context, seq int64, column string) error {
	set := column + " = " + column + " || 'x'"
	switch column {
	case "ts":
		set = "ts = ts + 1"
	case "severity":
		set = "severity = (severity + 1) % 5"
	case "details":
		set = `details = '{"tampered":true}'`
	case "duration_ms":
		set = "duration_ms = CASE WHEN duration_ms IS NULL THEN 1.5 ELSE duration_ms + 1 END"
	}
	return tx.exec(ctx, "UPDATE entries SET "+set+" WHERE seq = ?", seq)
}

func (tx *tamperTx) Delete(ctx context.Context, seq int64) error {
	return tx.exec(ctx, "DELETE FROM entries WHERE seq = ?", seq)
}

func (tx *tamperTx) Move(ctx context.Context, seq, to int64) error {
	return tx.exec(ctx, "UPDATE entries SET seq = ? WHERE seq = ?", to, seq)
}

func (tx *tamperTx) Copy(ctx context.Context, seq, to int64) error {
	return tx.exec(ctx, "INSERT INTO entries (seq, "+insertColumns+") SELECT ?, "+insertColumns+" FROM entries WHERE seq = ?", to, seq)
}

func (tx *tamperTx) Insert(ctx context.Context, e audit.Entry) error {
	var dur any
	if e.DurationMS != nil {
		dur = *e.DurationMS
	}
	details := string(e.Details)
	if details == "" {
		details = "{}"
	}
	return tx.exec(ctx, "INSERT INTO entries (seq, "+insertColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		e.Seq, e.EventID, e.SourceType, e.Timestamp.UnixNano(), string(e.Type), int64(e.Severity.Rank()),
		e.Message, e.ExecutionID, e.NodeID, details, e.Error, dur)
}

func (tx *tamperTx) DeleteEntriesAfter(ctx context.Context, seq int64) error {
	return tx.exec(ctx, "DELETE FROM entries WHERE seq > ?", seq)
}

func (tx *tamperTx) CorruptCheckpoint(ctx context.Context, k int) error {
	var (
		id   int64
		note string
	)
	err := tx.with(func(dc driver.Conn) error {
		return queryRows(ctx, dc, "SELECT id, note FROM ledger_checkpoints ORDER BY id LIMIT 1 OFFSET ?",
			[]driver.NamedValue{{Ordinal: 1, Value: int64(k)}}, func(row []driver.Value) error {
				id, _ = row[0].(int64)
				note, _ = text(row[1])
				return nil
			})
	})
	if err != nil {
		return err
	}
	b := []byte(note)
	i := len(b) - 6 // inside the base64 signature
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return tx.exec(ctx, "UPDATE ledger_checkpoints SET note = ? WHERE id = ?", string(b), id)
}

func (tx *tamperTx) AppendCheckpointNote(ctx context.Context, note []byte) error {
	c, err := ledger.ParseUnverified(note)
	if err != nil {
		return err
	}
	return tx.exec(ctx, "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?, ?, ?)",
		int64(c.Size), string(note), time.Now().UnixNano())
}

func (tx *tamperTx) DeleteCheckpointsAbove(ctx context.Context, size uint64) error {
	return tx.exec(ctx, "DELETE FROM ledger_checkpoints WHERE size > ?", int64(size))
}

func (tx *tamperTx) Rollback() error {
	return tx.exec(context.Background(), "ROLLBACK")
}
