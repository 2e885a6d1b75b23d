package audit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

func ExampleTrail() {
	at := time.Date(2026, 1, 27, 12, 0, 0, 5_000_000, time.UTC)
	base := func(id string) event.Base { return event.Base{ID: id, Timestamp: at} }

	trail := audit.NewTrail("exec-1", "wf-1")
	trail.SetStartedAt(at)
	trail.SetEndedAt(at.Add(1500 * time.Millisecond))
	trail.RecordEvent(&event.ExecutionStarted{Base: base("e1"), ExecutionID: "exec-1", WorkflowName: "Demo"})
	trail.RecordEvent(&event.NodeStarted{Base: base("e2"), ExecutionID: "exec-1", NodeID: "n1", NodeName: "N1"})
	trail.RecordEvent(&event.NodeCompleted{Base: base("e3"), ExecutionID: "exec-1", NodeID: "n1", NodeName: "N1", ToolInvocations: 2, DurationMS: 12.3})
	trail.RecordEvent(&event.NodeFailed{Base: base("e4"), ExecutionID: "exec-1", NodeID: "n2", NodeName: "N2", ErrorType: "ValueError", ErrorMessage: "bad"})
	fmt.Println(trail.Format(audit.FormatOptions{}))
	// Output:
	// ============================================================
	//                    WTB AUDIT TRAIL
	// ============================================================
	//
	// Execution: exec-1
	// Workflow:  wf-1
	// Started:   2026-01-27 12:00:00.005Z
	// Duration:  1500ms
	//
	// Nodes: [+] 1 completed | [X] 1 failed
	// Checkpoints: 0
	// [!] Errors: 1
	//
	// ------------------------------------------------------------
	//                       TIMELINE
	// ------------------------------------------------------------
	//
	// [12:00:00.005Z] [i] Execution started for workflow 'Demo'
	// [12:00:00.005Z] [+] Node 'N1' completed (2 tool calls) (node: n1) [12.3ms]
	// [12:00:00.005Z] [X] Node 'N2' failed (node: n2)
	//               Error: ValueError: bad
	//
	// ============================================================
}

func ExampleListener() {
	b := bus.New()
	defer b.Close()
	trail := audit.NewTrail("exec-1", "")
	listener := audit.NewListener(trail) // every event type
	listener.Attach(b)
	defer listener.Detach()

	ctx := context.Background()
	b.Publish(ctx, event.Stamp(&event.ExecutionStarted{ExecutionID: "exec-1", WorkflowName: "Demo"}))
	b.Publish(ctx, event.Stamp(&event.BlobCreated{BlobID: "sha256:ab", SizeBytes: 42}))
	for _, e := range trail.Entries() {
		fmt.Println(e.Type, e.Severity, e.Message)
	}
	// Output:
	// execution_started info Execution started for workflow 'Demo'
	// blob_created debug Blob 'sha256:ab' created (42 bytes)
}

func ExampleRecorder() {
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})

	// Record queues one entry; Submit queues a group written atomically and
	// returns a receipt to wait on until the group is durable.
	ev := event.Stamp(&event.NodeCompleted{ExecutionID: "exec-1", NodeID: "n1", NodeName: "N1"})
	if err := rec.Record(ctx, audit.FromEvent(ev)); err != nil {
		fmt.Println(err)
	}
	receipt, err := rec.Submit(ctx, []audit.Entry{
		audit.FromEvent(event.Stamp(&event.ExecutionCompleted{ExecutionID: "exec-1", NodesExecuted: 1})),
		audit.FromEvent(ev), // already queued: a duplicate
	})
	if err != nil {
		fmt.Println(err)
	}
	res, err := receipt.Wait(ctx)
	fmt.Println(res.Appended, len(res.Duplicates), err)

	if err := rec.Close(ctx); err != nil { // drains the queue
		fmt.Println(err)
	}
	s, _ := store.Summary(ctx, "exec-1")
	fmt.Println(s.TotalEntries, s.NodesExecuted, s.Status)
	// Output:
	// 1 1 <nil>
	// 2 1 completed
}

func ExampleFormatTimeline() {
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	at := time.Date(2026, 1, 27, 9, 30, 0, 0, time.UTC)
	store.Append(ctx, []audit.Entry{
		audit.FromEvent(&event.RayBatchTestStarted{Base: event.Base{ID: "b1", Timestamp: at}, BatchTestID: "batch-1", WorkflowID: "wf-7", VariantCount: 2, ParallelWorkers: 2}),
		audit.FromEvent(&event.RayBatchTestCompleted{Base: event.Base{ID: "b2", Timestamp: at.Add(2 * time.Second)}, BatchTestID: "batch-1", VariantsSucceeded: 2, DurationMS: 2000}),
	})
	s, _ := store.Summary(ctx, "batch-1")
	entries, _ := store.Query(ctx, audit.Filter{ExecutionID: "batch-1"})
	fmt.Println(audit.FormatTimeline(s, entries, audit.FormatOptions{}))
	// Output:
	// ============================================================
	//                    WTB AUDIT TRAIL
	// ============================================================
	//
	// Execution: batch-1
	// Workflow:  wf-7
	// Started:   2026-01-27 09:30:00.000Z
	// Duration:  2000ms
	//
	// Nodes: [+] 0 completed
	// Checkpoints: 0
	//
	// ------------------------------------------------------------
	//                       TIMELINE
	// ------------------------------------------------------------
	//
	// [09:30:00.000Z] [i] Ray batch test 'batch-1' started (2 variants, 2 workers)
	// [09:30:02.000Z] [+] Ray batch test completed: 2 succeeded, 0 failed [2000.0ms]
	//
	// ============================================================
}
