package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.NewSchema(t)
	ro := postgres.Options{Schema: schema, ReadOnly: true}

	// No schema yet: an error, and none is created.
	if _, err := postgres.Open(ctx, dsn, ro); !errors.Is(err, postgres.ErrNoSchema) {
		t.Fatalf("read-only open of a missing schema: %v, want ErrNoSchema", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("a read-only open created the schema")
	}

	w, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := audit.Entry{EventID: "ro-1", Type: audit.TypeExecutionStarted, Severity: audit.SeverityInfo, Timestamp: time.Unix(1700000000, 0).UTC(), ExecutionID: "x"}
	if _, err := w.Append(ctx, []audit.Entry{e}); err != nil {
		t.Fatal(err)
	}
	r, err := postgres.Open(ctx, dsn, ro)
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	defer r.Close()
	if n, err := r.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	e.EventID = "ro-2"
	if _, err := r.Append(ctx, []audit.Entry{e}); err == nil {
		t.Fatal("Append on a read-only store succeeded")
	}
}
