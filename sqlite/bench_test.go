package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/sqlite"
)

// cpuTime is the CPU time (user + system) this process has used. On a
// shared machine, rows per CPU second is steadier than rows per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEntries returns n entries with ids prefix-0 ... of a typical size.
func benchEntries(prefix string, n int) []audit.Entry {
	es := make([]audit.Entry, n)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := 12.5
	for i := range es {
		es[i] = audit.Entry{
			EventID: prefix + "-" + strconv.Itoa(i), SourceType: "NodeCompletedEvent",
			Timestamp: ts.Add(time.Duration(i) * time.Microsecond), Type: "node_completed",
			Severity: audit.SeveritySuccess, Message: "Node 'Retrieve' completed",
			ExecutionID: "exec-" + strconv.Itoa(i/1000), NodeID: "retrieve",
			Details:    []byte(`{"node_name":"Retrieve","tool_invocations":2,"exit_checkpoint_id":7}`),
			DurationMS: &d,
		}
	}
	return es
}

// BenchmarkAppend appends batches of 1,000 entries with Store.Append, for
// each driver and sync mode; one op is one batch.
func BenchmarkAppend(b *testing.B) {
	for _, d := range drivers {
		for _, sm := range []sqlite.Sync{sqlite.SyncNormal, sqlite.SyncFull} {
			b.Run(fmt.Sprintf("%s/%s", d, sm), func(b *testing.B) {
				s := openTemp(b, sqlite.Options{Driver: d, Sync: sm})
				ctx := context.Background()
				batches := make([][]audit.Entry, 64)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					es := batches[i%len(batches)]
					if es == nil {
						es = benchEntries("", 1000)
						batches[i%len(batches)] = es
					}
					for j := range es {
						// Time-ordered ids (like UUIDv7) and timestamps, as a live system writes them.
						es[j].EventID = strconv.Itoa(1e9+i) + "-" + strconv.Itoa(1e4+j)
						es[j].Timestamp = time.Unix(0, int64(i*1000+j)*1000)
					}
					b.StartTimer()
					if res, err := s.Append(ctx, es); err != nil || res.Appended != len(es) {
						b.Fatal(res.Appended, err)
					}
				}
				b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(b.N*1000)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
			})
		}
	}
}

// BenchmarkNaiveInsert is the baseline of the issue: a prepared one-row
// INSERT in a loop, 1,000 rows per transaction, straight on database/sql.
func BenchmarkNaiveInsert(b *testing.B) {
	for _, d := range drivers {
		b.Run(string(d), func(b *testing.B) {
			s := openTemp(b, sqlite.Options{Driver: d})
			path := s.Path()
			s.Close()
			var params string
			if d == sqlite.DriverCgo {
				params = "?_journal_mode=WAL&_synchronous=NORMAL"
			} else {
				params = "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
			}
			db, err := sql.Open(string(d), "file:"+path+params)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			es := benchEntries("", 1000)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				st, err := tx.Prepare(`INSERT INTO entries (event_id, source_type, ts, event_type, severity, message,
					execution_id, node_id, details, error, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
				if err != nil {
					b.Fatal(err)
				}
				for j := range es {
					e := &es[j]
					if _, err := st.Exec(strconv.Itoa(1e9+i)+"-"+strconv.Itoa(1e4+j), e.SourceType, int64(i*1000+j)*1000, string(e.Type),
						e.Severity.Rank(), e.Message, e.ExecutionID, e.NodeID, string(e.Details), e.Error, *e.DurationMS); err != nil {
						b.Fatal(err)
					}
				}
				st.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N*1000)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
		})
	}
}

// BenchmarkEndToEnd runs storetest.BenchEndToEnd (bus -> audit.Listener ->
// audit.Recorder -> a fresh SQLite file, 1,000,000 events) with both sync
// modes, with the recorder's default batches and batches of 1,000, and with
// executions one after the other or 100 interleaved. Run it with
// -benchtime=1x.
func BenchmarkEndToEnd(b *testing.B) {
	cases := []struct {
		sync     sqlite.Sync
		maxBatch int  // 0: the recorder's default
		noTree   bool // Options.NoLedger: what the Merkle tree costs
	}{{sqlite.SyncNormal, 0, false}, {sqlite.SyncNormal, 0, true}, {sqlite.SyncFull, 0, false},
		{sqlite.SyncNormal, 1000, false}, {sqlite.SyncFull, 1000, false}}
	for _, c := range cases {
		name := c.sync.String()
		if c.maxBatch > 0 {
			name += fmt.Sprintf("/batch=%d", c.maxBatch)
		}
		if c.noTree {
			name += "/tree=off"
		}
		for _, conc := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/executions=%d", name, conc), func(b *testing.B) {
				storetest.BenchEndToEnd(b, func(tb testing.TB) audit.Store {
					return openTemp(tb, sqlite.Options{Sync: c.sync, NoLedger: c.noTree})
				}, audit.RecorderOptions{MaxBatch: c.maxBatch}, conc)
			})
		}
	}
}

// benchSelected reports whether -test.bench names the benchmark explicitly
// (not "." or a pattern that merely matches everything).
func benchSelected(name string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), name)
}

// Layout of the 10-million-entry database of BenchmarkQueryExecution:
// 10,000 executions of 1,000 entries; 100 executions run at once, their
// entries interleaved (so one execution's entries are spread over 100,000
// rows, a different page each).
const (
	bigRows       = 10_000_000
	bigPerExec    = 1000
	bigConcurrent = 100
	bigCacheName  = "wtb-sqlite-bench-10m-v1.db"
)

// BenchmarkQueryExecution reads one execution's 1,000 entries among 10
// million (a random execution per op). The database is built once into
// os.TempDir() and reused. It runs only when -bench names it.
func BenchmarkQueryExecution(b *testing.B) {
	if !benchSelected("QueryExecution") {
		b.Skip("builds a 10-million-entry database: run with -bench QueryExecution")
	}
	path := filepath.Join(os.TempDir(), bigCacheName)
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if err := buildBig(path); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v", path, time.Since(start))
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Count(ctx); err != nil || n != bigRows {
		b.Fatalf("cache %s holds %d rows (%v): remove it", path, n, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	execs := bigRows / bigPerExec
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("exec-%05d", r.IntN(execs))
		es, err := s.Query(ctx, audit.Filter{ExecutionID: id, Limit: bigPerExec})
		if err != nil || len(es) != bigPerExec {
			b.Fatalf("%s: %d entries, %v", id, len(es), err)
		}
	}
}

// buildBig writes the 10-million-entry database with one INSERT ... SELECT
// (rows generated inside SQLite), into a temporary file renamed when done.
func buildBig(path string) error {
	tmp := path + ".building"
	os.Remove(tmp)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, tmp, sqlite.Options{})
	if err != nil {
		return err
	}
	s.Close()
	db, err := sql.Open("sqlite3", "file:"+tmp+"?_journal_mode=WAL&_synchronous=OFF&_cache_size=-1048576")
	if err != nil {
		return err
	}
	defer db.Close()
	block := bigPerExec * bigConcurrent
	_, err = db.Exec(fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
		INSERT INTO entries (event_id, source_type, ts, event_type, severity, message, execution_id, node_id, details, error, duration_ms)
		SELECT printf('ev-%%08d', i), 'NodeCompletedEvent', 1767225600000000000 + i * 1000,
			CASE i %% 5 WHEN 0 THEN 'node_started' WHEN 1 THEN 'node_completed' WHEN 2 THEN 'checkpoint_created' WHEN 3 THEN 'node_started' ELSE 'node_completed' END,
			i %% 5, 'Node ''Retrieve'' completed', printf('exec-%%05d', (i / %d) * %d + i %% %d), printf('node-%%d', i %% 7),
			'{"node_name":"Retrieve","tool_invocations":2}', '', 12.5
		FROM c`, bigRows-1, block, bigConcurrent, bigConcurrent))
	if err != nil {
		return err
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	db.Close()
	return os.Rename(tmp, path)
}
