package postgres_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
)

// Open a store in its own schema, record a batch and read one execution
// back. (Not run as a test: it needs a server; see pgtest for tests.)
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		postgres.Options{Schema: "tenant1"})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	batch := []audit.Entry{{
		EventID:     "0193a5b2-0000-7000-8000-000000000001",
		SourceType:  "ExecutionStartedEvent",
		Timestamp:   time.Now(),
		Type:        "execution_started",
		Severity:    audit.SeverityInfo,
		Message:     "Execution started",
		ExecutionID: "exec-1",
	}}
	res, err := st.Append(ctx, batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded", res.Appended, "as seq", batch[0].Seq)

	entries, err := st.Query(ctx, audit.Filter{ExecutionID: "exec-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Seq, e.Type, e.Message)
	}
}

// The DSN can name the schema, as the command line's --store flag does.
func ExampleOpen_schemaInDSN() {
	st, err := postgres.Open(context.Background(),
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable&schema=tenant2", postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Println(st.Schema())
}

// Record through the batching recorder, as the listener does.
func ExampleStore_recorder() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	rec := audit.NewRecorder(st, audit.RecorderOptions{MaxBatch: 1000})
	defer rec.Close(ctx)
	_ = rec.Record(ctx, audit.Entry{
		EventID: "0193a5b2-0000-7000-8000-000000000002", SourceType: "NodeStartedEvent",
		Timestamp: time.Now(), Type: "node_started", Severity: audit.SeverityDebug,
		Message: "Node 'n1' started", ExecutionID: "exec-1", NodeID: "n1",
	})
	if err := rec.Sync(ctx); err != nil {
		log.Fatal(err)
	}
}
