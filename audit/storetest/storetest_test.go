package storetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
)

// naive is the simplest correct store: a slice under a mutex. It checks the
// suite itself; the real stores live in their own packages.
type naive struct {
	mu      sync.Mutex
	entries []audit.Entry
	ids     map[string]bool
	closed  bool
	mutant  string // a deliberate bug, for TestSuiteCatchesBugs
}

func newNaive(mutant string) *naive { return &naive{ids: map[string]bool{}, mutant: mutant} }

func (s *naive) check(ctx context.Context) error {
	if s.closed {
		return audit.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("naive: %w", err)
	}
	return nil
}

func (s *naive) Append(ctx context.Context, es []audit.Entry) (audit.AppendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range es {
		es[i].Seq = 0
	}
	if err := s.check(ctx); err != nil {
		return audit.AppendResult{}, err
	}
	for _, e := range es {
		if err := e.Validate(); err != nil && s.mutant != "no-validation" {
			return audit.AppendResult{}, err
		}
	}
	var res audit.AppendResult
	var add []audit.Entry
	seen := map[string]bool{}
	for i := range es {
		e := es[i]
		if (s.ids[e.EventID] || seen[e.EventID]) && s.mutant != "no-dedup" {
			res.Duplicates = append(res.Duplicates, e.EventID)
			continue
		}
		seen[e.EventID] = true
		e.Seq = int64(len(s.entries)+len(add)) + 1
		if s.mutant == "seq-gap-reuse" && e.Seq > 3 {
			e.Seq--
		}
		es[i].Seq = e.Seq
		e.Timestamp = e.Timestamp.UTC()
		if s.mutant == "truncate-micro" {
			e.Timestamp = e.Timestamp.Truncate(time.Microsecond)
		}
		if len(bytes.TrimSpace(e.Details)) == 0 {
			e.Details = json.RawMessage(`{}`)
		}
		e.Details = slices.Clone(e.Details)
		if e.DurationMS != nil {
			d := *e.DurationMS
			e.DurationMS = &d
		}
		add = append(add, e)
	}
	for _, e := range add {
		s.entries = append(s.entries, e)
		s.ids[e.EventID] = true
	}
	res.Appended = len(add)
	return res, nil
}

func (s *naive) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var out []audit.Entry
	for _, e := range s.entries {
		if f.ExecutionID != "" && e.ExecutionID != f.ExecutionID ||
			f.NodeID != "" && e.NodeID != f.NodeID ||
			len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) ||
			f.MinSeverity != "" && e.Severity.Rank() < f.MinSeverity.Rank() ||
			!f.Since.IsZero() && e.Timestamp.Before(f.Since) ||
			!f.Until.IsZero() && !e.Timestamp.Before(f.Until) && !(s.mutant == "until-inclusive" && e.Timestamp.Equal(f.Until)) ||
			e.Seq <= f.After {
			continue
		}
		e.Details = slices.Clone(e.Details)
		if e.DurationMS != nil {
			d := *e.DurationMS
			e.DurationMS = &d
		}
		out = append(out, e)
		if len(out) == f.EffectiveLimit() {
			break
		}
	}
	return out, nil
}

func (s *naive) summary(id string) (audit.Summary, bool) {
	sum := audit.Summary{ExecutionID: id, Status: "running"}
	for _, e := range s.entries {
		if e.ExecutionID != id || id == "" {
			continue
		}
		if sum.TotalEntries == 0 {
			ts := e.Timestamp
			sum.StartedAt, sum.FirstSeq = &ts, e.Seq
		}
		sum.TotalEntries++
		sum.LastSeq = e.Seq
		switch e.Type {
		case "node_completed":
			sum.NodesExecuted++
		case "node_failed":
			sum.NodesFailed++
		case "checkpoint_created":
			sum.CheckpointsCreated++
		case "rollback_performed":
			sum.Rollbacks++
		case "execution_started", "ray_batch_test_started":
			var d struct {
				W string `json:"workflow_id"`
			}
			if sum.WorkflowID == "" && json.Unmarshal(e.Details, &d) == nil {
				sum.WorkflowID = d.W
			}
		}
		if e.Severity == audit.SeverityError {
			sum.Errors++
		}
		t := string(e.Type)
		switch {
		case t == "execution_paused" && s.mutant != "no-pause" && sum.EndedAt == nil:
			sum.Status = "paused"
		case t == "execution_resumed" && sum.EndedAt == nil:
			sum.Status = "running"
		}
		for _, st := range []string{"completed", "failed", "cancelled"} {
			if t == "execution_"+st || t == "ray_batch_test_"+st {
				ts := e.Timestamp
				sum.EndedAt, sum.Status = &ts, st
				d := float64(ts.Sub(*sum.StartedAt)) / 1e6
				sum.DurationMS = &d
			}
		}
	}
	return sum, sum.TotalEntries > 0
}

func (s *naive) Summary(ctx context.Context, id string) (audit.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return audit.Summary{}, err
	}
	sum, ok := s.summary(id)
	if !ok {
		return audit.Summary{}, audit.ErrNotFound
	}
	return sum, nil
}

func (s *naive) Executions(ctx context.Context, p audit.Page) ([]audit.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var idList []string
	for _, e := range s.entries {
		if e.ExecutionID != "" && !slices.Contains(idList, e.ExecutionID) {
			idList = append(idList, e.ExecutionID)
		}
	}
	out := []audit.Summary{}
	for _, id := range idList {
		sum, _ := s.summary(id)
		if s.mutant == "text-case" && p.Text != "" && !strings.Contains(sum.ExecutionID, p.Text) && !strings.Contains(sum.WorkflowID, p.Text) {
			continue
		}
		if p.Match(sum) {
			out = append(out, sum)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if s.mutant == "id-order" {
			return out[i].ExecutionID < out[j].ExecutionID
		}
		return audit.Before(out[i], out[j])
	})
	return out[:min(len(out), p.EffectiveLimit())], nil
}

func (s *naive) Count(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	return int64(len(s.entries)), nil
}

func (s *naive) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

const mutantEnv = "STORETEST_MUTANT"

// TestNaiveStore runs the suite against a correct store: the suite passes.
// With STORETEST_MUTANT set (by TestSuiteCatchesBugs) the store is broken.
func TestNaiveStore(t *testing.T) {
	mutant := os.Getenv(mutantEnv)
	storetest.Run(t, func(t *testing.T) audit.Store { return newNaive(mutant) })
}

// TestSuiteCatchesBugs runs the suite against deliberately broken stores in
// a child process and checks that it fails in the subtest that should see
// the bug.
func TestSuiteCatchesBugs(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("runs the suite once per mutant")
	}
	tests := []struct{ mutant, failing string }{
		{"no-dedup", "IdempotentWithinBatch"},
		{"no-validation", "InvalidEntryRejectsBatch"},
		{"seq-gap-reuse", "AppendAssignsSeq"},
		{"truncate-micro", "RoundTrip"},
		{"until-inclusive", "Filters"},
		{"no-pause", "Summary"},
		{"id-order", "Executions"},
		{"text-case", "ExecutionsFilters"},
	}
	for _, tc := range tests {
		t.Run(tc.mutant, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestNaiveStore$/^"+tc.failing+"$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+tc.mutant)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a store with bug %q:\n%s", tc.mutant, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestNaiveStore/"+tc.failing) {
				t.Fatalf("bug %q not caught by %s:\n%s", tc.mutant, tc.failing, out)
			}
		})
	}
}
