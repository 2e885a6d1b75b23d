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

	"wtb/audit"
	"wtb/bus"
	"wtb/event"
	"wtb/sqlite"
)

var drivers = []sqlite.Driver{sqlite.DriverCgo, sqlite.DriverPure}

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

// endToEndEvents is the number of events one op of BenchmarkEndToEnd
// publishes.
const endToEndEvents = 1_000_000

// BenchmarkEndToEnd publishes 1,000,000 events through a bus, an
// audit.Listener and an audit.Recorder into a fresh SQLite file, and waits
// until all are durable; one op is the whole million. Run it with
// -benchtime=1x.
func BenchmarkEndToEnd(b *testing.B) {
	cases := []struct {
		sync     sqlite.Sync
		maxBatch int // 0: the recorder's default
	}{{sqlite.SyncNormal, 0}, {sqlite.SyncFull, 0}, {sqlite.SyncNormal, 1000}, {sqlite.SyncFull, 1000}}
	for _, c := range cases {
		sm := c.sync
		name := sm.String()
		if c.maxBatch > 0 {
			name += fmt.Sprintf("/batch=%d", c.maxBatch)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var total, cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := openTemp(b, sqlite.Options{Sync: sm})
				rec := audit.NewRecorder(s, audit.RecorderOptions{MaxBatch: c.maxBatch})
				bs := bus.New()
				l := audit.NewListener(rec)
				l.Attach(bs)
				evs := e2eTemplates()
				prefix := fmt.Sprintf("op%d-", i)
				buf := make([]byte, 0, 32)
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				for j := range endToEndEvents {
					ev := evs[j%len(evs)]
					// Time-ordered ids of one width, like the UUIDv7 ids of new events.
					buf = strconv.AppendInt(append(buf[:0], prefix...), int64(1e9+j), 10)
					setID(ev, string(buf))
					if err := bs.Publish(ctx, ev); err != nil {
						b.Fatal(err)
					}
				}
				if err := rec.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				l.Detach()
				if err := rec.Close(ctx); err != nil {
					b.Fatal(err)
				}
				if n, err := s.Count(ctx); err != nil || n != endToEndEvents {
					b.Fatalf("Count = %d, %v; want %d", n, err, endToEndEvents)
				}
				bs.Close()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*endToEndEvents)/total.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*endToEndEvents), "cpu-µs/event")
		})
	}
}

// e2eTemplates is a mix of the events of an execution. The benchmark
// reuses them with a new id for every publish (the recorder keeps the
// entries, not the events).
func e2eTemplates() []event.Event {
	ts := time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)
	cp := int64(7)
	node := "retrieve"
	b := event.Base{Timestamp: ts}
	return []event.Event{
		&event.NodeStarted{Base: b, ExecutionID: "exec-1", NodeID: node, NodeName: "Retrieve", NodeType: "tool", EntryCheckpointID: &cp},
		&event.NodeCompleted{Base: b, ExecutionID: "exec-1", NodeID: node, NodeName: "Retrieve", DurationMS: 12.5, ToolInvocations: 2, ExitCheckpointID: &cp},
		&event.CheckpointCreated{Base: b, ExecutionID: "exec-1", CheckpointID: "cp-7", Step: 3, CompletedNode: &node},
		&event.RayVariantExecutionCompleted{Base: b, ExecutionID: "exec-1", BatchTestID: "batch-1", CombinationName: "fast", OverallScore: 0.93, DurationMS: 120, Metrics: event.FloatMap{"accuracy": 0.9}},
	}
}

func setID(ev event.Event, id string) {
	switch e := ev.(type) {
	case *event.NodeStarted:
		e.ID = id
	case *event.NodeCompleted:
		e.ID = id
	case *event.CheckpointCreated:
		e.ID = id
	case *event.RayVariantExecutionCompleted:
		e.ID = id
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
