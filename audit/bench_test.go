package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"wtb/audit"
	"wtb/bus"
	"wtb/event"
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
// a Trail, flushing the trail every 4096 events.
func BenchmarkListenerTrail(b *testing.B) {
	bs := bus.New()
	defer bs.Close()
	tr := audit.NewTrail("exec-1", "wf-1")
	audit.NewListener(tr).Attach(bs)
	evs := workload()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bs.Publish(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 4095 {
			tr.Flush()
		}
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
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := entries[i%len(entries)]
		e.EventID = fmt.Sprint(i)
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
