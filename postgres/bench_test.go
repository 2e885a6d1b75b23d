package postgres

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// benchIDPrefix starts every benchmark event id: a UUIDv7 of the run, whose
// last 12 hex digits benchEntry replaces by the entry's number, so ids are
// unique, 36 bytes long and time-ordered like real ones, without the cost
// of a random id per entry in the timed loop.
var benchIDPrefix = uuid.Must(uuid.NewV7()).String()[:24]

// benchExecIDs are the execution ids of benchEntry: 1,000 entries each.
var benchExecIDs = func() []string {
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("exec-%04d", i)
	}
	return ids
}()

// benchEntry is a typical entry: ids like the mapping produces, a short
// message and a small details object.
func benchEntry(i int) audit.Entry {
	d := 12.5
	return audit.Entry{
		EventID:     benchIDPrefix + fmt.Sprintf("%012x", i),
		SourceType:  "NodeCompletedEvent",
		Timestamp:   time.Now().UTC(),
		Type:        "node_completed",
		Severity:    audit.SeveritySuccess,
		Message:     "Node 'Transform' completed",
		ExecutionID: benchExecIDs[(i/1000)%len(benchExecIDs)],
		NodeID:      "transform",
		Details:     json.RawMessage(`{"node_name":"Transform","result_keys":["rows","schema"]}`),
		DurationMS:  &d,
	}
}

// benchStore opens a store on a fresh schema for b.
func benchStore(b *testing.B, opts Options) (*Store, string, string) {
	b.Helper()
	dsn, schema := pgtest.NewSchema(b)
	opts.Schema = schema
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, dsn, schema
}

// benchModes are the ways of moving rows into the table, compared.
var benchModes = []struct {
	name string
	mode appendMode
}{
	{"copy", modeCopy},       // the store's way: check and reserve, COPY into entries
	{"insert", modeInsert},   // the same with multi-row INSERT
	{"staging", modeStaging}, // COPY into a temp table, INSERT ... ON CONFLICT DO NOTHING
}

// BenchmarkAppend appends b.N entries in batches, in each append mode.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range benchModes {
		for _, batch := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode.name, batch), func(b *testing.B) {
				s, _, _ := benchStore(b, Options{})
				s.mode = mode.mode
				ctx := context.Background()
				buf := make([]audit.Entry, 0, batch)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; {
					buf = buf[:0]
					for ; len(buf) < batch && i < b.N; i++ {
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
}

// BenchmarkAppendConcurrent runs several stores (as several processes
// would) appending batches of 1,000 into one schema at once: the append
// lock serialises their insert and commit, this shows what that costs.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, writers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			first, dsn, schema := benchStore(b, Options{})
			stores := []*Store{first}
			for len(stores) < writers {
				s, err := Open(context.Background(), dsn, Options{Schema: schema})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				stores = append(stores, s)
			}
			const batch = 1000
			per := (b.N + writers - 1) / writers
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w, s := range stores {
				wg.Go(func() {
					buf := make([]audit.Entry, 0, batch)
					for i := 0; i < per; {
						buf = buf[:0]
						for ; len(buf) < batch && i < per; i++ {
							buf = append(buf, benchEntry(w*per+i))
						}
						if _, err := s.Append(context.Background(), buf); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkRecorder is the sustained path: entries recorded one at a time
// through audit.Recorder (batches of up to 1,000, one writer) into
// PostgreSQL; Close drains the queue inside the timed section. Run it over
// 1,000,000 entries with -benchtime=1000000x. Variants: each append mode
// with durable commits, and the default mode with Options.AsyncCommit.
func BenchmarkRecorder(b *testing.B) {
	type variant struct {
		name  string
		mode  appendMode
		async bool
	}
	variants := []variant{{"copy-async-commit", modeCopy, true}}
	for _, m := range benchModes {
		variants = append(variants, variant{m.name, m.mode, false})
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			s, _, _ := benchStore(b, Options{AsyncCommit: v.async})
			s.mode = v.mode
			ctx := context.Background()
			rec := audit.NewRecorder(s, audit.RecorderOptions{MaxBatch: 1000})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := rec.Record(ctx, benchEntry(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := rec.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			if n, err := s.Count(ctx); err != nil || n != int64(b.N) {
				b.Fatalf("Count = %d, %v; want %d", n, err, b.N)
			}
		})
	}
}

// Schema and shape of the 10-million-entry query benchmark. Its data is
// built once, server-side, and kept for later runs.
const (
	bench10MSchema     = "wtb_bench_10m_v2"
	bench10MEntries    = 10_000_000
	bench10MPerExec    = 1000
	bench10MConcurrent = 100 // executions interleaved at any time
)

// selected10M reports whether -bench names the 10M benchmark explicitly:
// building its data takes minutes, so a plain -bench=. skips it.
func selected10M() bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), "10M")
}

var build10M sync.Once

// open10M opens the 10-million-entry benchmark schema, building it on the
// first use, or skips b unless -bench names a 10M benchmark explicitly.
func open10M(b *testing.B) *Store {
	b.Helper()
	if !selected10M() {
		b.Skip("builds 10,000,000 entries (once, kept in schema " + bench10MSchema + "): select with -bench=10M")
	}
	dsn := pgtest.Require(b)
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{Schema: bench10MSchema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var buildErr error
	build10M.Do(func() { buildErr = s.build10M(ctx, b) })
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return s
}

// BenchmarkQueryExecution10M queries one execution's 1,000 entries among
// 10,000,000. The executions run interleaved, 100 at a time, so one
// execution's entries arrive spread over 100,000 entries, as concurrent
// workflows would leave them; the table is laid out as Append writes such
// a stream through the recorder's batches of 1,000 (each execution's 10
// entries of a batch together), so they lie on about 100 heap pages,
// against 1,000 if rows were written in arrival order. "random" picks any
// of the 10,000 executions (its pages mostly come from the OS page cache
// through the server's shared_buffers), "recent" one of the last 100
// (pages the server holds, as for executions just recorded). Select it
// explicitly: -bench=QueryExecution10M.
func BenchmarkQueryExecution10M(b *testing.B) {
	s := open10M(b)
	ctx := context.Background()
	execs := bench10MEntries / bench10MPerExec
	for _, tc := range []struct {
		name  string
		first int // executions are drawn from first..execs-1
	}{
		{"random", 0},
		{"recent", execs - bench10MConcurrent},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				id := fmt.Sprintf("exec-%06d", tc.first+rng.IntN(execs-tc.first))
				got, err := s.Query(ctx, audit.Filter{ExecutionID: id, Limit: audit.MaxLimit})
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != bench10MPerExec {
					b.Fatalf("execution %s: %d entries, want %d", id, len(got), bench10MPerExec)
				}
			}
		})
	}
}

// BenchmarkSummary10M summarises one execution of 1,000 entries among
// 10,000,000 (select with -bench=10M).
func BenchmarkSummary10M(b *testing.B) {
	s := open10M(b)
	ctx := context.Background()
	execs := bench10MEntries / bench10MPerExec
	rng := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		id := fmt.Sprintf("exec-%06d", rng.IntN(execs))
		sm, err := s.Summary(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if sm.TotalEntries != bench10MPerExec {
			b.Fatalf("execution %s: %d entries, want %d", id, sm.TotalEntries, bench10MPerExec)
		}
	}
}

// BenchmarkExecutions10M lists a page of 100 executions (with their
// summaries) among the 10,000 of the 10M schema (select with -bench=10M).
func BenchmarkExecutions10M(b *testing.B) {
	s := open10M(b)
	ctx := context.Background()
	execs := bench10MEntries / bench10MPerExec
	rng := rand.New(rand.NewPCG(5, 6))
	cursors := make([]string, 100)
	for i := range cursors {
		sum, err := s.Summary(ctx, fmt.Sprintf("exec-%06d", 100+rng.IntN(execs-100)))
		if err != nil {
			b.Fatal(err)
		}
		cursors[i] = sum.Cursor()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		after := cursors[i%len(cursors)]
		page, err := s.Executions(ctx, audit.Page{After: after, Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		if len(page) != 100 {
			b.Fatalf("page after %s: %d executions, want 100", after, len(page))
		}
	}
}

// build10M fills the store's schema with the benchmark's entries unless
// they are there already: one INSERT ... SELECT from generate_series with
// the indexes dropped, then the indexes rebuilt.
func (s *Store) build10M(ctx context.Context, b *testing.B) error {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM "+s.q.entries).Scan(&n); err != nil {
		return err
	}
	if n == bench10MEntries {
		return nil
	}
	b.Logf("building %d entries in schema %s (once)", bench10MEntries, s.schema)
	start := time.Now()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	t := s.q.entries
	steps := []string{
		"SET synchronous_commit = off",
		"SET maintenance_work_mem = '512MB'",
		"TRUNCATE " + t,
		"ALTER TABLE " + t + " DROP CONSTRAINT entries_pkey, DROP CONSTRAINT entries_event_id_key",
		"DROP INDEX " + pgxIdent(s.schema, "entries_execution_seq"),
		// Row i of the heap belongs to batch i/1000 of the recorder;
		// within a batch, Append writes each execution's entries together
		// (slot = (i%1000)/10 of the 100 running executions, k = i%10 its
		// k-th entry of the batch) while seqs follow the batch's order of
		// arrival: round robin over the running executions.
		fmt.Sprintf(`INSERT INTO %[1]s (seq, event_id, source_type, ts, ts_nanos, event_type, severity, message,
			execution_id, node_id, details, error, duration_ms)
		SELECT g,
			'bench-' || lpad(g::text, 10, '0'),
			'NodeCompletedEvent',
			timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond',
			0,
			(ARRAY['node_started','node_completed','checkpoint_created','node_failed'])[1 + g %% 4],
			(ARRAY['info','success','info','error'])[1 + g %% 4],
			'Node ''transform'' completed',
			'exec-' || lpad((((g - 1) / %[2]d) * %[3]d + (g - 1) %% %[3]d)::text, 6, '0'),
			'node-' || (g %% 20),
			'{"node_name":"Transform","result_keys":["rows","schema"]}',
			NULL,
			12.5
		FROM generate_series(0, %[4]d - 1) AS i,
			LATERAL (SELECT (i / 1000) * 1000 + (i %% 10) * %[3]d + (i %% 1000) / 10 + 1 AS g) AS seqs`,
			t, bench10MPerExec*bench10MConcurrent, bench10MConcurrent, bench10MEntries),
		"ALTER TABLE " + t + " ADD CONSTRAINT entries_pkey PRIMARY KEY (seq), ADD CONSTRAINT entries_event_id_key UNIQUE (event_id)",
		"CREATE INDEX entries_execution_seq ON " + t + " (execution_id, seq)",
		fmt.Sprintf("SELECT setval('%s', %d)", strings.ReplaceAll(s.q.seqName, "'", "''"), bench10MEntries),
		fmt.Sprintf("UPDATE %s SET n = %d", pgxIdent(s.schema, "entry_count"), bench10MEntries),
		"VACUUM ANALYZE " + t,
		"SET search_path TO " + pgxIdent(s.schema),
		"TRUNCATE executions",
		executionsBackfill(b),
		"ANALYZE executions",
	}
	for _, q := range steps {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	return nil
}

// executionsBackfill is the part of the executions migration that fills
// the table from the entries.
func executionsBackfill(b *testing.B) string {
	ms, err := embedded()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "executions" {
			_, fill, ok := strings.Cut(m.SQL, "-- The executions recorded before this migration.")
			if ok {
				return fill
			}
		}
	}
	b.Fatal("no executions backfill in the migrations")
	return ""
}

// pgxIdent quotes a qualified identifier.
func pgxIdent(parts ...string) string { return pgx.Identifier(parts).Sanitize() }
