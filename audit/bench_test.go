package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// workload is a realistic mix of events of one execution.
func workload() []event.Event {
	ts := time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)
	cp := int64(7)
	node := "retrieve"
	var out []event.Event
	add := func(ev event.Event) { out = append(out, event.Stamp(ev)) }
	for i := range 16 {
		b := event.Base{ID: fmt.Sprintf("ev-%d", i), Timestamp: ts}
		switch i % 4 {
		case 0:
			add(&event.NodeStarted{Base: b, ExecutionID: "exec-1", NodeID: node, NodeName: "Retrieve", NodeType: "tool", EntryCheckpointID: &cp})
		case 1:
			add(&event.NodeCompleted{Base: b, ExecutionID: "exec-1", NodeID: node, NodeName: "Retrieve", DurationMS: 12.5, ToolInvocations: 2, ExitCheckpointID: &cp})
		case 2:
			add(&event.CheckpointCreated{Base: b, ExecutionID: "exec-1", CheckpointID: "cp-7", Step: 3, CompletedNode: &node})
		case 3:
			add(&event.RayVariantExecutionCompleted{Base: b, ExecutionID: "exec-1", BatchTestID: "batch-1", CombinationName: "fast", OverallScore: 0.93, DurationMS: 120, Metrics: event.FloatMap{"accuracy": 0.9}})
		}
	}
	return out
}

// BenchmarkListenerTrail publishes events through a bus into a Listener on
// a Trail, emptying the trail every 4096 events: with FlushTo into a reused
// buffer (the steady state of a caller persisting entries), and with Flush,
// which hands a new slice to the caller every time.
func BenchmarkListenerTrail(b *testing.B) {
	for _, mode := range []string{"FlushTo", "Flush"} {
		b.Run(mode, func(b *testing.B) {
			bs := bus.New()
			defer bs.Close()
			tr := audit.NewTrail("exec-1", "wf-1")
			audit.NewListener(tr).Attach(bs)
			evs := workload()
			ctx := context.Background()
			buf := make([]audit.Entry, 0, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := bs.Publish(ctx, evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
				if i%4096 == 4095 {
					if mode == "Flush" {
						buf = tr.Flush()
					} else {
						buf = tr.FlushTo(buf[:0])
					}
				}
			}
			b.StopTimer()
			if len(buf) != 4096 && b.N >= 4096 {
				b.Fatalf("flushed %d entries", len(buf))
			}
		})
	}
}

func BenchmarkFromEvent(b *testing.B) {
	evs := workload()
	for _, ev := range evs[:4] {
		b.Run(ev.Type().Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = audit.FromEvent(ev)
			}
		})
	}
}

// BenchmarkRecorderMemory records entries through a Recorder into a
// MemoryStore and waits until all are durable.
func BenchmarkRecorderMemory(b *testing.B) {
	entries := make([]audit.Entry, 0, 1024)
	for i := range 1024 {
		e := audit.FromEvent(workload()[i%16])
		entries = append(entries, e)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = event.NewID()
	}
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := entries[i%len(entries)]
		e.EventID = ids[i]
		if err := rec.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	if err := rec.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := rec.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// discardStore accepts every batch and keeps nothing: it isolates the cost
// of the Recorder itself.
type discardStore struct{ audit.Store }

func (discardStore) Append(_ context.Context, es []audit.Entry) (audit.AppendResult, error) {
	for i := range es {
		es[i].Seq = int64(i + 1)
	}
	return audit.AppendResult{Appended: len(es)}, nil
}

// BenchmarkRecorderDiscard measures the Recorder alone (validation, queue,
// batching, writer hand-off) with a store that discards what it gets.
func BenchmarkRecorderDiscard(b *testing.B) {
	e := audit.FromEvent(workload()[1])
	ctx := context.Background()
	rec := audit.NewRecorder(discardStore{}, audit.RecorderOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rec.Record(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	if err := rec.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := rec.Close(ctx); err != nil {
		b.Fatal(err)
	}
}
