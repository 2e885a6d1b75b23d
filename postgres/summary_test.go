package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres"
)

// TestSummaryMatchesSummarize checks the SQL summary against
// audit.Summarize over the same entries, for random executions.
func TestSummaryMatchesSummarize(t *testing.T) {
	types := []audit.Type{
		"execution_started", "ray_batch_test_started", "node_started", "node_completed", "node_failed",
		"checkpoint_created", "rollback_performed", "execution_completed", "execution_failed",
		"execution_cancelled", "ray_batch_test_completed", "ray_batch_test_failed", "ray_batch_test_cancelled",
	}
	severities := []audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError}
	details := []string{``, `{}`, `{"workflow_id":"wf-1"}`, `{"workflow_id":""}`, `{"workflow_id":7}`, `{"workflow_id":"wf-2","x":[1]}`}

	s := openTest(t, postgres.Options{})
	ctx := context.Background()
	for seed := range uint64(12) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			exec := fmt.Sprintf("exec-%d", seed)
			base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			var batch []audit.Entry
			for i := range 1 + rng.IntN(60) {
				batch = append(batch, audit.Entry{
					EventID:     fmt.Sprintf("%s-%d", exec, i),
					SourceType:  "X",
					Timestamp:   base.Add(time.Duration(rng.IntN(1e9)) * time.Microsecond).Add(time.Duration(rng.IntN(1000))),
					Type:        types[rng.IntN(len(types))],
					Severity:    severities[rng.IntN(len(severities))],
					Message:     "m",
					ExecutionID: exec,
					Details:     json.RawMessage(details[rng.IntN(len(details))]),
				})
			}
			// Another execution interleaved, which must not count.
			batch = append(batch, audit.Entry{EventID: exec + "-other", SourceType: "X", Timestamp: base,
				Type: "node_failed", Severity: audit.SeverityError, Message: "m", ExecutionID: exec + "-other"})
			if _, err := s.Append(ctx, batch); err != nil {
				t.Fatal(err)
			}
			got, err := s.Summary(ctx, exec)
			if err != nil {
				t.Fatal(err)
			}
			want := audit.Summarize(exec, batch[:len(batch)-1])
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Fatalf("Summary:\n got %s\nwant %s", g, w)
			}
			// Executions lists every execution so far, newest first, with
			// the same summary.
			page, err := s.Executions(ctx, audit.Page{Limit: audit.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for i, sm := range page {
				if i > 0 && !audit.Before(page[i-1], sm) {
					t.Fatalf("Executions out of order: %q then %q", page[i-1].ExecutionID, sm.ExecutionID)
				}
				if sm.ExecutionID == exec {
					found = true
					if !reflect.DeepEqual(sm, want) {
						t.Fatalf("Executions summary = %+v, want %+v", sm, want)
					}
				}
			}
			if !found || len(page) != 2*int(seed+1) {
				t.Fatalf("Executions: %d listed (found %s: %v), want %d", len(page), exec, found, 2*(seed+1))
			}
		})
	}
}

// TestRecorderIntoPostgres records through audit.Recorder, the path the
// listener uses, and checks everything arrived once, in order.
func TestRecorderIntoPostgres(t *testing.T) {
	s := openTest(t, postgres.Options{})
	ctx := context.Background()
	rec := audit.NewRecorder(s, audit.RecorderOptions{MaxBatch: 100})
	const n = 2500
	for i := range n {
		e := audit.Entry{EventID: fmt.Sprintf("r-%05d", i), SourceType: "X", Timestamp: time.Now(),
			Type: "node_started", Severity: audit.SeverityInfo, Message: "m", ExecutionID: "e"}
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 { // a resend, which must be recorded once
			if err := rec.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var all []audit.Entry
	for after := int64(0); ; {
		page, err := s.Query(ctx, audit.Filter{After: after, Limit: 700})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != n {
		t.Fatalf("read %d entries, want %d", len(all), n)
	}
	for i, e := range all {
		if want := fmt.Sprintf("r-%05d", i); e.EventID != want {
			t.Fatalf("entry %d is %s, want %s (recording order)", i, e.EventID, want)
		}
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("seq %d after %d", e.Seq, all[i-1].Seq)
		}
	}
}
