// Command quickstart shows wtb used as a library: publish workflow events on
// an in-process bus, record every one of them durably in SQLite through the
// audit listener and recorder, and print the execution's timeline.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/sqlite"
)

func main() {
	ctx := context.Background()

	// A durable store and a recorder that writes to it with group commit.
	dir, err := os.MkdirTemp("", "wtb-quickstart")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wtb.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})

	// The bus, an audit listener recording every event type, and a typed
	// subscriber of our own.
	b := bus.New()
	listener := audit.NewListener(rec)
	listener.Attach(b)
	defer listener.Detach()
	sub := bus.Subscribe(b, func(ctx context.Context, ev *event.NodeFailed) error {
		fmt.Printf("node %s failed: %s\n", ev.NodeID, ev.ErrorMessage)
		return nil
	})
	defer sub.Close()

	// What a workflow engine publishes while it runs.
	start := time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)
	at := func(ms int) event.Base {
		b := event.NewBase()
		b.Timestamp = start.Add(time.Duration(ms) * time.Millisecond)
		return b
	}
	events := []event.Event{
		&event.ExecutionStarted{Base: at(0), ExecutionID: "exec-1", WorkflowID: "wf-rag", WorkflowName: "RAG"},
		&event.NodeCompleted{Base: at(120), ExecutionID: "exec-1", NodeID: "retrieve", NodeName: "retrieve", DurationMS: 120, ToolInvocations: 2},
		&event.CheckpointCreated{Base: at(121), ExecutionID: "exec-1", CheckpointID: "cp-1", Step: 1},
		&event.NodeFailed{Base: at(900), ExecutionID: "exec-1", NodeID: "generate", NodeName: "generate", ErrorType: "TimeoutError", ErrorMessage: "LLM call timed out", DurationMS: 779, Recoverable: true},
		&event.RollbackCompleted{Base: at(905), ExecutionID: "exec-1", FromCheckpointID: "cp-2", ToCheckpointID: "cp-1", RolledBackNodes: event.Strings{"generate"}, StateRestored: true},
		&event.ExecutionCompleted{Base: at(1500), ExecutionID: "exec-1", WorkflowID: "wf-rag", DurationMS: 1500, NodesExecuted: 3, CheckpointsCreated: 1},
	}
	if err := b.PublishAll(ctx, events); err != nil {
		log.Fatal(err)
	}

	// Wait until everything is on disk, then read the execution back.
	if err := rec.Close(ctx); err != nil {
		log.Fatal(err)
	}
	summary, err := store.Summary(ctx, "exec-1")
	if err != nil {
		log.Fatal(err)
	}
	entries, err := store.Query(ctx, audit.Filter{ExecutionID: "exec-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(audit.FormatTimeline(summary, entries, audit.FormatOptions{}))
}
