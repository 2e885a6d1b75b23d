package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/httpapi"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
	"github.com/wtbdev/wtb/sqlite"
)

// benchExecutions is the number of executions the listing benchmarks page
// through; each has 4 entries (started, two nodes, an end), one in five
// failed, one in seven paused.
const benchExecutions = 100_000

// fillExecutions appends benchExecutions executions to st.
func fillExecutions(tb testing.TB, st audit.Store) {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const perBatch = 1000 // executions per Append
	for from := 0; from < benchExecutions; from += perBatch {
		var es []audit.Entry
		for i := from; i < from+perBatch; i++ {
			id := fmt.Sprintf("bench-exec-%06d", i)
			at := base.Add(time.Duration(i) * time.Second)
			add := func(k int, typ audit.Type, sev audit.Severity, details string) {
				es = append(es, audit.Entry{EventID: fmt.Sprintf("%s-%d", id, k), SourceType: "X", Type: typ, Severity: sev,
					Timestamp: at.Add(time.Duration(k) * time.Millisecond), Message: "m", ExecutionID: id, NodeID: "n",
					Details: json.RawMessage(details)})
			}
			add(0, audit.TypeExecutionStarted, audit.SeverityInfo, fmt.Sprintf(`{"workflow_id":"wf-%d"}`, i%10))
			add(1, audit.TypeNodeCompleted, audit.SeveritySuccess, `{}`)
			add(2, audit.TypeNodeCompleted, audit.SeveritySuccess, `{}`)
			switch {
			case i%5 == 0:
				add(3, audit.TypeExecutionFailed, audit.SeverityError, `{}`)
			case i%7 == 0:
				add(3, audit.TypeExecutionPaused, audit.SeverityInfo, `{}`)
			default:
				add(3, audit.TypeExecutionCompleted, audit.SeveritySuccess, `{}`)
			}
		}
		if _, err := st.Append(ctx, es); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkExecutionsPage pages GET /v1/executions?limit=100 over
// 100,000 executions through the HTTP API: the first page, a page deep in
// the list (by cursor), and pages filtered by status, workflow, time range
// and text. One op is one page, answered and decoded.
func BenchmarkExecutionsPage(b *testing.B) {
	b.Run("store=sqlite", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "executions.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		fillExecutions(b, st)
		benchPages(b, st)
	})
	b.Run("store=postgres", func(b *testing.B) {
		dsn, schema := pgtest.NewSchema(b)
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		fillExecutions(b, st)
		benchPages(b, st)
	})
}

func benchPages(b *testing.B, st audit.Store) {
	srv, err := httpapi.New(st, httpapi.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close(context.Background())
	deep, err := st.Summary(context.Background(), fmt.Sprintf("bench-exec-%06d", benchExecutions/3))
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct{ name, query string }{
		{"first", ""},
		{"deep", "cursor=" + url.QueryEscape(deep.Cursor())},
		{"status", "status=failed&cursor=" + url.QueryEscape(deep.Cursor())},
		{"paused", "status=paused"},
		{"workflow", "workflow=wf-3"},
		{"time", "since=2026-01-01T12:00:00Z&until=2026-01-02T00:00:00Z"},
		{"text", "q=EXEC-0999"},
		{"text-rare", "q=no-such-execution"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			u := ts.URL + "/v1/executions?limit=100&" + tc.query
			for b.Loop() {
				res, err := client.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%d %s %v", res.StatusCode, body, err)
				}
				var page struct {
					Executions []audit.Summary `json:"executions"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					b.Fatal(err)
				}
				if tc.name != "text-rare" && len(page.Executions) == 0 {
					b.Fatalf("empty page for %s", tc.query)
				}
			}
		})
	}
}
