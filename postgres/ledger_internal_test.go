package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// TestLedgerConformance runs the ledger's conformance suite, the tampering
// tests included, on PostgreSQL.
func TestLedgerConformance(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) storetest.LedgerStore {
		dsn, schema := pgtest.NewSchema(t)
		s, err := Open(context.Background(), dsn, Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		tm := &tamperer{dsn: dsn, s: s, free: make(chan *pgx.Conn, tamperConns)}
		t.Cleanup(tm.close)
		skip := func(ctx context.Context, n int64) error {
			// What a rolled-back append leaves: seqs taken, never used.
			_, err := s.pool.Exec(ctx, "SELECT setval($1::regclass, nextval($1::regclass) + $2)", s.q.seqName, n)
			return err
		}
		return storetest.LedgerStore{Store: s, Tamper: tm.begin, Parallel: tamperConns, SkipSeqs: skip}
	})
}

// tamperConns is the number of tampering transactions open at once.
const tamperConns = 4

// tamperer changes the schema's tables behind the store's back, on
// connections of its own, in transactions it rolls back.
type tamperer struct {
	dsn     string
	s       *Store
	mu      sync.Mutex
	conns   []*pgx.Conn
	dropped bool
	free    chan *pgx.Conn
}

func (tm *tamperer) close() {
	for _, c := range tm.conns {
		c.Close(context.Background())
	}
}

func (tm *tamperer) conn(ctx context.Context) (*pgx.Conn, error) {
	select {
	case c := <-tm.free:
		return c, nil
	default:
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if len(tm.conns) >= tamperConns {
		tm.mu.Unlock()
		c := <-tm.free
		tm.mu.Lock()
		return c, nil
	}
	dsn, _, err := splitSchemaParam(tm.dsn)
	if err != nil {
		return nil, err
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	tm.conns = append(tm.conns, c)
	if !tm.dropped {
		// Out of the way once and for all: copies repeat event ids.
		if _, err := c.Exec(ctx, "ALTER TABLE "+tm.s.q.entries+" DROP CONSTRAINT entries_event_id_key"); err != nil {
			return nil, err
		}
		tm.dropped = true
	}
	return c, nil
}

func (tm *tamperer) begin(ctx context.Context) (storetest.Tamper, error) {
	c, err := tm.conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	return &tamperTx{src: src{q: tm.s.led.q, tx: c}, c: c, e: tm.s.q.entries, tm: tm}, nil
}

type tamperTx struct {
	src
	c  *pgx.Conn
	e  string // the entries table
	tm *tamperer
}

func (tx *tamperTx) exec(ctx context.Context, q string, args ...any) error {
	tag, err := tx.c.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %v: no row changed", q, args)
	}
	return nil
}

func (tx *tamperTx) Columns() []string {
	return []string{"event_id", "source_type", "ts", "ts_nanos", "event_type", "severity", "message",
		"execution_id", "node_id", "details", "error", "duration_ms"}
}

func (tx *tamperTx) Change(ctx context.Context, seq int64, column string) error {
	set := column + " = " + column + " || 'x'"
	switch column {
	case "execution_id", "node_id", "error":
		set = column + " = coalesce(" + column + ", '') || 'x'"
	case "ts":
		set = "ts = ts + interval '1 microsecond'"
	case "ts_nanos":
		set = "ts_nanos = (ts_nanos + 1) % 1000"
	case "severity":
		set = "severity = CASE severity WHEN 'error' THEN 'info' ELSE 'error' END"
	case "details":
		set = `details = '{"tampered":true}'::json`
	case "duration_ms":
		set = "duration_ms = coalesce(duration_ms + 1, 1.5)"
	}
	return tx.exec(ctx, "UPDATE "+tx.e+" SET "+set+" WHERE seq = $1", seq)
}

func (tx *tamperTx) Delete(ctx context.Context, seq int64) error {
	return tx.exec(ctx, "DELETE FROM "+tx.e+" WHERE seq = $1", seq)
}

func (tx *tamperTx) Move(ctx context.Context, seq, to int64) error {
	return tx.exec(ctx, "UPDATE "+tx.e+" SET seq = $1 WHERE seq = $2", to, seq)
}

const tamperColumns = "event_id, source_type, ts, ts_nanos, event_type, severity, message, execution_id, node_id, details, error, duration_ms, recorded_at"

func (tx *tamperTx) Copy(ctx context.Context, seq, to int64) error {
	return tx.exec(ctx, "INSERT INTO "+tx.e+" (seq, "+tamperColumns+") SELECT $1, "+tamperColumns+" FROM "+tx.e+" WHERE seq = $2", to, seq)
}

func (tx *tamperTx) Insert(ctx context.Context, e audit.Entry) error {
	r := &rowSource{entries: []audit.Entry{e}, rows: []int{0}, base: e.Seq - 1, row: make([]any, len(entryInsertColumns))}
	return insertRows(ctx, tx.c, tx.e, entryInsertColumns, r)
}

func (tx *tamperTx) DeleteEntriesAfter(ctx context.Context, seq int64) error {
	return tx.exec(ctx, "DELETE FROM "+tx.e+" WHERE seq > $1", seq)
}

func (tx *tamperTx) CorruptCheckpoint(ctx context.Context, k int) error {
	var (
		id   int64
		note string
	)
	if err := tx.c.QueryRow(ctx, "SELECT id, note FROM "+tx.q.checkpoints+" ORDER BY id LIMIT 1 OFFSET $1", k).Scan(&id, &note); err != nil {
		return err
	}
	b := []byte(note)
	i := len(b) - 6 // inside the base64 signature
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return tx.exec(ctx, "UPDATE "+tx.q.checkpoints+" SET note = $1 WHERE id = $2", string(b), id)
}

func (tx *tamperTx) AppendCheckpointNote(ctx context.Context, note []byte) error {
	c, err := ledger.ParseUnverified(note)
	if err != nil {
		return err
	}
	return tx.exec(ctx, "INSERT INTO "+tx.q.checkpoints+" (size, note) VALUES ($1, $2)", int64(c.Size), string(note))
}

func (tx *tamperTx) DeleteCheckpointsAbove(ctx context.Context, size uint64) error {
	return tx.exec(ctx, "DELETE FROM "+tx.q.checkpoints+" WHERE size > $1", int64(size))
}

func (tx *tamperTx) Rollback() error {
	_, err := tx.c.Exec(context.Background(), "ROLLBACK")
	tx.tm.free <- tx.c
	return err
}

// BenchmarkAppendTree appends batches of 1,000 entries with the Merkle tree
// on and off: what the tree costs the write path, client and server. One
// op is one entry.
func BenchmarkAppendTree(b *testing.B) {
	for _, tree := range []string{"off", "on", "off", "on"} {
		b.Run("tree="+tree, func(b *testing.B) {
			s, _, _ := benchStore(b, Options{NoLedger: tree == "off"})
			ctx := context.Background()
			buf := make([]audit.Entry, 0, 1000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				buf = buf[:0]
				for ; len(buf) < 1000 && i < b.N; i++ {
					buf = append(buf, benchEntry(i))
				}
				if _, err := s.Append(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// TestSeqRunsMigration: migration 0008 fills the seq runs of a store
// written before it, gaps in the seqs and a prune included, so that
// LeafIndex finds every entry's leaf.
func TestSeqRunsMigration(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.NewSchema(t)
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	for b := range 3 {
		es := make([]audit.Entry, 100)
		for j := range es {
			es[j] = audit.Entry{EventID: fmt.Sprintf("m-%d-%d", b, j), SourceType: "test", Type: audit.TypeNodeStarted,
				Severity: audit.SeverityInfo, Timestamp: time.Unix(int64(b*100+j), 0)}
		}
		if _, err := s.Append(ctx, es); err != nil {
			t.Fatal(err)
		}
		if _, err := s.pool.Exec(ctx, "SELECT setval($1::regclass, nextval($1::regclass) + 7)", s.q.seqName); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Prune(ctx, time.Unix(50, 0)); err != nil {
		t.Fatal(err)
	}
	want := map[int64]uint64{}
	all, err := s.Query(ctx, audit.Filter{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if want[e.Seq], err = s.LeafIndex(ctx, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// The store as the previous version left it.
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TABLE " + pgx.Identifier{schema, "ledger_seq_runs"}.Sanitize(),
		"DELETE FROM " + pgx.Identifier{schema, "schema_migrations"}.Sanitize() + " WHERE version >= 8"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close(ctx)
	s, err = Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for seq, idx := range want {
		if got, err := s.LeafIndex(ctx, seq); err != nil || got != idx {
			t.Fatalf("after the migration LeafIndex(%d) = %d, %v; want %d", seq, got, err, idx)
		}
	}
	if len(want) < 200 {
		t.Fatalf("%d entries checked", len(want))
	}
}

// TestLedgerRunsIndex: the ledger's queries of seals and of run ends
// (ledger.TypeRunSealed, ledger.RunEnds) read the partial index of
// migration 0009 instead of scanning the entries after a seq.
func TestLedgerRunsIndex(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, dsn, Options{Schema: schema, NoLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Many entries, few of them seals or run ends, as in a real log.
	const n = 20000
	es := make([]audit.Entry, n)
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := range es {
		typ := audit.TypeNodeCompleted
		switch i % 500 {
		case 0:
			typ = ledger.TypeRunSealed
		case 1:
			typ = audit.TypeExecutionCompleted
		}
		es[i] = audit.Entry{EventID: fmt.Sprintf("ev-%d", i), SourceType: "test", Timestamp: base.Add(time.Duration(i)),
			Type: typ, Severity: audit.SeverityInfo, Message: "m", ExecutionID: fmt.Sprintf("ex-%d", i/500)}
	}
	if _, err := s.Append(ctx, es); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE "+s.q.entries); err != nil {
		t.Fatal(err)
	}
	for _, f := range []audit.Filter{
		{Types: []audit.Type{ledger.TypeRunSealed}, After: 100, Limit: audit.MaxLimit},
		{Types: ledger.RunEnds, After: 100, Limit: 1000},
	} {
		sql, args := s.buildQuery(f)
		rows, err := s.pool.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), "entries_ledger_runs") {
			t.Errorf("types %v: the plan does not use entries_ledger_runs:\n%s", f.Types, strings.Join(plan, "\n"))
		}
		got, err := s.Query(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 39 {
			t.Errorf("types %v after seq 100: %d entries, want 39", f.Types, len(got))
		}
	}
}
