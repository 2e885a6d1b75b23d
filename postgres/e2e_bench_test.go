package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"wtb/audit"
	"wtb/bus"
	"wtb/event"
	"wtb/postgres"
	"wtb/postgres/pgtest"
)

// endToEndEvents is the number of events one op of BenchmarkEndToEnd
// publishes.
const endToEndEvents = 1_000_000

// BenchmarkEndToEnd publishes 1,000,000 events through a bus, an
// audit.Listener and an audit.Recorder (batches of 1,000) into PostgreSQL
// and waits until all are recorded; one op is the whole million. Run it
// with -benchtime=1x. Executions: 100 running at once, their events
// interleaved.
func BenchmarkEndToEnd(b *testing.B) {
	for _, async := range []bool{false, true} {
		name := "durable"
		if async {
			name = "async-commit"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var total, cpu time.Duration
			for i := range b.N {
				b.StopTimer()
				dsn, schema := pgtest.NewSchema(b)
				s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, AsyncCommit: async})
				if err != nil {
					b.Fatal(err)
				}
				rec := audit.NewRecorder(s, audit.RecorderOptions{MaxBatch: 1000})
				bs := bus.New()
				l := audit.NewListener(rec)
				l.Attach(bs)
				evs := e2eEvents()
				prefix := fmt.Sprintf("op%d-", i)
				buf := make([]byte, 0, 32)
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()
				for j := range endToEndEvents {
					ev := evs[j%len(evs)]
					// Time-ordered ids of one width, like the UUIDv7 ids of new events.
					buf = strconv.AppendInt(append(buf[:0], prefix...), int64(1e9+j), 10)
					setEvent(ev, string(buf), fmt.Sprintf("exec-%03d", (j/len(evs))%100+(j/100_000)*100))
					if err := bs.Publish(ctx, ev); err != nil {
						b.Fatal(err)
					}
				}
				if err := rec.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				cpu += processCPU() - cpu0
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
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*endToEndEvents), "client-cpu-µs/event")
		})
	}
}

// e2eEvents is a mix of the events of an execution, reused with a new id
// (and execution) for every publish: the recorder keeps entries, not events.
func e2eEvents() []event.Event {
	ts := time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)
	cp := int64(7)
	node := "retrieve"
	b := event.Base{Timestamp: ts}
	return []event.Event{
		&event.NodeStarted{Base: b, NodeID: node, NodeName: "Retrieve", NodeType: "tool", EntryCheckpointID: &cp},
		&event.NodeCompleted{Base: b, NodeID: node, NodeName: "Retrieve", DurationMS: 12.5, ToolInvocations: 2, ExitCheckpointID: &cp},
		&event.CheckpointCreated{Base: b, CheckpointID: "cp-7", Step: 3, CompletedNode: &node},
		&event.RayVariantExecutionCompleted{Base: b, BatchTestID: "batch-1", CombinationName: "fast", OverallScore: 0.93, DurationMS: 120, Metrics: event.FloatMap{"accuracy": 0.9}},
	}
}

func setEvent(ev event.Event, id, execution string) {
	switch e := ev.(type) {
	case *event.NodeStarted:
		e.ID, e.ExecutionID = id, execution
	case *event.NodeCompleted:
		e.ID, e.ExecutionID = id, execution
	case *event.CheckpointCreated:
		e.ID, e.ExecutionID = id, execution
	case *event.RayVariantExecutionCompleted:
		e.ID, e.ExecutionID = id, execution
	}
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
