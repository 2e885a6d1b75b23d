package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "wtb-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wtb.db"), sqlite.Options{Sync: sqlite.SyncNormal})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	entry := audit.Entry{
		EventID: "ev-1", SourceType: "ExecutionStartedEvent", Type: "execution_started",
		Timestamp: time.Date(2026, 1, 9, 12, 0, 0, 0, time.UTC), Severity: audit.SeverityInfo,
		Message: "Execution started", ExecutionID: "exec-1",
		Details: []byte(`{"workflow_id":"wf-1"}`),
	}
	batch := []audit.Entry{entry, entry} // the same event twice
	res, _ := store.Append(ctx, batch)
	fmt.Println("appended", res.Appended, "duplicates", res.Duplicates, "seq", batch[0].Seq)

	got, _ := store.Query(ctx, audit.Filter{ExecutionID: "exec-1"})
	fmt.Println(got[0].Seq, got[0].Message, got[0].Timestamp.Format(time.RFC3339Nano))
	sum, _ := store.Summary(ctx, "exec-1")
	fmt.Println(sum.WorkflowID, sum.Status, sum.TotalEntries)
	// Output:
	// appended 1 duplicates [ev-1] seq 1
	// 1 Execution started 2026-01-09T12:00:00Z
	// wf-1 running 1
}

func ExampleParseSync() {
	for _, flag := range []string{"normal", "full", "off"} {
		s, err := sqlite.ParseSync(flag)
		fmt.Println(s, err)
	}
	// Output:
	// normal <nil>
	// full <nil>
	// normal sqlite: unknown sync mode "off" (want normal or full)
}
