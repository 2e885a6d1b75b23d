package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// EndToEndEvents is the number of events one op of BenchEndToEnd publishes.
const EndToEndEvents = 1_000_000

// BenchEndToEnd measures the whole audit path into a store: it publishes
// EndToEndEvents events through a bus into an audit.Listener and an
// audit.Recorder configured by opts, writing to the store newStore returns
// (a fresh, empty one per op), and waits until every entry is durable. One
// op is the whole million: run it with -benchtime=1x.
//
// The workload is 1,000 executions of 1,000 events each (node started and
// completed, a checkpoint, a Ray variant result, repeated), with
// time-ordered event ids of one width like new UUIDv7 ids. concurrent
// executions run at once, their events interleaved: 1 is one run after the
// other, 100 a busy bench. It reports events/s and cpu-µs/event, the CPU of
// this process per event (for a store with a server, the client's share
// only).
func BenchEndToEnd(b *testing.B, newStore func(tb testing.TB) audit.Store, opts audit.RecorderOptions, concurrent int) {
	ctx := context.Background()
	const perExec = 1000
	if concurrent < 1 || EndToEndEvents%(concurrent*perExec) != 0 {
		b.Fatalf("BenchEndToEnd: concurrent = %d must divide %d executions", concurrent, EndToEndEvents/perExec)
	}
	execs := make([]string, EndToEndEvents/perExec)
	for i := range execs {
		execs[i] = fmt.Sprintf("exec-%04d", i)
	}
	// execOf is the execution of the j-th event: groups of concurrent
	// executions, each group's events interleaved round robin.
	execOf := func(j int) string {
		group := j / (concurrent * perExec)
		return execs[group*concurrent+j%concurrent]
	}
	b.ReportAllocs()
	var total, cpu, mcpu time.Duration
	for i := range b.N {
		b.StopTimer()
		s := newStore(b)
		rec := audit.NewRecorder(s, opts)
		bs := bus.New()
		l := audit.NewListener(rec)
		l.Attach(bs)
		evs := endToEndTemplates()
		prefix := fmt.Sprintf("op%d-", i)
		buf := make([]byte, 0, 32)
		b.StartTimer()
		start, cpu0, mcpu0 := time.Now(), processCPU(), machineCPU()
		for j := range EndToEndEvents {
			ev := evs[(j/concurrent)%len(evs)]
			buf = strconv.AppendInt(append(buf[:0], prefix...), int64(1e9+j), 10)
			setIDs(ev, string(buf), execOf(j))
			if err := bs.Publish(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		if err := rec.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cpu += processCPU() - cpu0
		mcpu += machineCPU() - mcpu0
		b.StopTimer()
		l.Detach()
		if err := rec.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if n, err := s.Count(ctx); err != nil || n != EndToEndEvents {
			b.Fatalf("Count = %d, %v; want %d", n, err, EndToEndEvents)
		}
		bs.Close()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*EndToEndEvents)/total.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*EndToEndEvents), "cpu-µs/event")
	if mcpu > 0 {
		b.ReportMetric(float64(mcpu.Nanoseconds())/1e3/float64(b.N*EndToEndEvents), "machine-cpu-µs/event")
	}
}

// endToEndTemplates is the mix of events BenchEndToEnd publishes, reused
// with new ids for every publish: the recorder keeps entries, not events.
func endToEndTemplates() []event.Event {
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

func setIDs(ev event.Event, id, execution string) {
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

// processCPU is the CPU time (user and system) this process has used.
// machineCPU returns the CPU time every process of the machine used since
// boot (user and system, from /proc/stat), or 0 where that is unknown. On a
// quiet machine its growth during a benchmark is the benchmark's cost
// including a database server's.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 4 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		if i < len(f) {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
