package httpapi

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// With PostgreSQL, a batch whose COMMIT took effect but whose answer was
// lost (the connection cut right after COMMIT) is still accepted, not
// reported as duplicates, and still reaches the live streams.
func TestIngestCommitOutcomeUnknown(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	proxy, pdsn := pgtest.NewCutProxy(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := postgres.Open(ctx, pdsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Recorder: audit.RecorderOptions{Linger: time.Millisecond, RetryBackoff: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOn(t, srv, st)
	sse, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer sse.close()
	env.ingest(nodeEvents("pg-cut", 1))
	readEntries(t, sse, 1)

	proxy.CutNextCommit()
	res := env.ingest(nodeEvents("pg-cut", 10))
	if proxy.Cuts() != 1 {
		t.Fatalf("%d cuts: the commit was not cut", proxy.Cuts())
	}
	if res.Accepted != 10 || res.Duplicates != 0 {
		t.Fatalf("after the unknown commit: %+v, want 10 accepted", res)
	}
	checkSameEntries(t, readEntries(t, sse, 10), env.stored(audit.Filter{After: 1}))
}
