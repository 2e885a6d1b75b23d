package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// expectExecutions is what Executions(p) must return, computed from the
// reference summaries with audit.Page.Match and audit.Before.
func expectExecutions(all []audit.Summary, p audit.Page) []audit.Summary {
	var out []audit.Summary
	for _, s := range all {
		if p.Match(s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return audit.Before(out[i], out[j]) })
	if n := p.EffectiveLimit(); len(out) > n {
		out = out[:n]
	}
	return out
}

func execIDs(list []audit.Summary) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ExecutionID
	}
	return out
}

// checkPage compares a page with the reference, summaries included.
func checkPage(t *testing.T, s audit.Store, all []audit.Summary, p audit.Page) []audit.Summary {
	t.Helper()
	got, err := s.Executions(context.Background(), p)
	if err != nil {
		t.Fatalf("Executions(%+v): %v", p, err)
	}
	want := expectExecutions(all, p)
	if !slices.Equal(execIDs(got), execIDs(want)) {
		t.Fatalf("Executions(%+v) = %q, want %q", p, execIDs(got), execIDs(want))
	}
	for i := range got {
		if d := diffSummary(want[i], got[i]); d != "" {
			t.Fatalf("Executions(%+v): %q: %s", p, got[i].ExecutionID, d)
		}
	}
	return got
}

// walk pages through p with the given page size and returns every id.
func walk(t *testing.T, s audit.Store, p audit.Page, size int) []string {
	t.Helper()
	p.Limit = size
	var ids []string
	for range 10000 {
		list, err := s.Executions(context.Background(), p)
		if err != nil {
			t.Fatalf("Executions(%+v): %v", p, err)
		}
		ids = append(ids, execIDs(list)...)
		if len(list) < size {
			return ids
		}
		p.After = list[len(list)-1].Cursor()
	}
	t.Fatal("paging does not end")
	return nil
}

// summariesOf reads every entry of the store and summarises each execution
// with audit.Summarize: the reference the stores' summaries must equal.
func summariesOf(t *testing.T, s audit.Store) []audit.Summary {
	t.Helper()
	byExec := map[string][]audit.Entry{}
	var order []string
	for _, e := range queryAll(t, s, audit.Filter{}) {
		if e.ExecutionID == "" {
			continue
		}
		if _, ok := byExec[e.ExecutionID]; !ok {
			order = append(order, e.ExecutionID)
		}
		byExec[e.ExecutionID] = append(byExec[e.ExecutionID], e)
	}
	out := make([]audit.Summary, 0, len(order))
	for _, id := range order {
		out = append(out, audit.Summarize(id, byExec[id]))
	}
	return out
}

func testExecutions(t *testing.T, s audit.Store) {
	ctx := context.Background()
	if got, err := s.Executions(ctx, audit.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("Executions on empty store = %v, %v", got, err)
	}
	// Byte-wise order among executions that started at the same time,
	// whatever the database's collation.
	names := []string{"b", "B", "a", "a-1", "a_1", "A", "ä", "exec-10", "exec-2", "z", "_", "1", "é"}
	var in []audit.Entry
	for i, id := range names {
		for j := range i%3 + 1 {
			e := mk(fmt.Sprintf("ex-%d-%d", i, j))
			e.ExecutionID = id
			e.Timestamp = base.Add(time.Duration(i%2) * time.Second).Add(time.Duration(j) * time.Millisecond)
			if j == 0 {
				e.Type, e.Details = "execution_started", json.RawMessage(fmt.Sprintf(`{"workflow_id":"wf-%d"}`, i))
			}
			in = append(in, e)
		}
	}
	orphan := mk("ex-orphan")
	orphan.ExecutionID = ""
	in = append(in, orphan)
	mustAppend(t, s, in)
	all := summariesOf(t, s)
	if len(all) != len(names) {
		t.Fatalf("%d executions recorded, want %d", len(all), len(names))
	}
	list := checkPage(t, s, all, audit.Page{})
	// Newest first, then byte-wise descending ids.
	var odd, even []string
	for i, id := range names {
		if i%2 == 1 {
			odd = append(odd, id)
		} else {
			even = append(even, id)
		}
	}
	slices.Sort(odd)
	slices.Reverse(odd)
	slices.Sort(even)
	slices.Reverse(even)
	if want := append(odd, even...); !slices.Equal(execIDs(list), want) {
		t.Fatalf("Executions order = %q, want %q", execIDs(list), want)
	}
	for _, sum := range list {
		one, err := s.Summary(ctx, sum.ExecutionID)
		if err != nil {
			t.Fatalf("Summary(%q): %v", sum.ExecutionID, err)
		}
		if d := diffSummary(one, sum); d != "" {
			t.Fatalf("Executions entry %q differs from Summary: %s", sum.ExecutionID, d)
		}
	}
	checkPage(t, s, all, audit.Page{Limit: 3})
	checkPage(t, s, all, audit.Page{After: list[2].Cursor(), Limit: 3})
	checkPage(t, s, all, audit.Page{After: list[len(list)-1].Cursor()})
	checkPage(t, s, all, audit.Page{Limit: audit.MaxLimit + 1})
	// Paging by two walks every execution once.
	if got := walk(t, s, audit.Page{}, 2); !slices.Equal(got, execIDs(list)) {
		t.Fatalf("paging walked %q, want %q", got, execIDs(list))
	}
	// Default limit.
	more := make([]audit.Entry, audit.DefaultLimit+5)
	for i := range more {
		more[i] = mk(fmt.Sprintf("exm-%d", i))
		more[i].ExecutionID = fmt.Sprintf("m-%04d", i)
	}
	mustAppend(t, s, more)
	if list, err := s.Executions(ctx, audit.Page{}); err != nil || len(list) != audit.DefaultLimit {
		t.Fatalf("Executions(Page{}) returned %d, %v; want %d", len(list), err, audit.DefaultLimit)
	}
	for _, p := range []audit.Page{
		{Limit: -1}, {Statuses: []string{"done"}}, {After: "nope"}, {After: "12:"}, {After: "x:exec"},
	} {
		if _, err := s.Executions(ctx, p); !errors.Is(err, audit.ErrInvalidFilter) {
			t.Errorf("Executions(%+v) = %v, want ErrInvalidFilter", p, err)
		}
	}
}

// lifecycle returns the entries of execution i of testExecutionsFilters:
// its status is Statuses()[i%5], its workflow wf-(i%3), it starts at
// base + (i%7) seconds (so that several start at once).
func lifecycle(i int) (string, []audit.Entry) {
	id := fmt.Sprintf("Exec-%03d", i)
	if i%4 == 0 {
		id = fmt.Sprintf("run/%03d", i)
	}
	start := base.Add(time.Duration(i%7) * time.Second)
	n := 0
	add := func(typ audit.Type, sev audit.Severity, details string) audit.Entry {
		e := mk(fmt.Sprintf("flt-%d-%d", i, n))
		e.ExecutionID, e.Type, e.Severity = id, typ, sev
		e.Timestamp = start.Add(time.Duration(n) * time.Millisecond)
		if details != "" {
			e.Details = json.RawMessage(details)
		}
		n++
		return e
	}
	es := []audit.Entry{
		add("execution_started", audit.SeverityInfo, fmt.Sprintf(`{"workflow_id":"wf-%d"}`, i%3)),
		add("node_completed", audit.SeveritySuccess, ""),
	}
	switch audit.Statuses()[i%5] {
	case audit.StatusPaused:
		es = append(es, add("execution_paused", audit.SeverityInfo, ""))
	case audit.StatusCompleted:
		es = append(es, add("execution_paused", audit.SeverityInfo, ""), add("execution_resumed", audit.SeverityInfo, ""),
			add("execution_completed", audit.SeveritySuccess, ""))
	case audit.StatusFailed:
		es = append(es, add("node_failed", audit.SeverityError, ""), add("execution_failed", audit.SeverityError, ""))
	case audit.StatusCancelled:
		es = append(es, add("execution_cancelled", audit.SeverityWarning, ""))
	}
	return id, es
}

func testExecutionsFilters(t *testing.T, s audit.Store) {
	const n = 60
	// Two rounds of batches: every execution's first half, then its
	// second half, so that statuses change across batches.
	var first, second []audit.Entry
	for i := range n {
		_, es := lifecycle(i)
		h := len(es) / 2
		first = append(first, es[:h]...)
		second = append(second, es[h:]...)
	}
	mustAppend(t, s, first)
	for k := 0; k < len(second); k += 7 {
		mustAppend(t, s, second[k:min(k+7, len(second))])
	}
	all := summariesOf(t, s)
	count := map[string]int{}
	for _, sum := range all {
		count[sum.Status]++
	}
	for _, st := range audit.Statuses() {
		if count[st] != n/5 {
			t.Fatalf("reference has %d %s executions, want %d", count[st], st, n/5)
		}
	}
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	pages := []audit.Page{
		{},
		{Statuses: []string{audit.StatusFailed}},
		{Statuses: []string{audit.StatusPaused}},
		{Statuses: []string{audit.StatusRunning}},
		{Statuses: []string{audit.StatusCompleted, audit.StatusCancelled}},
		{WorkflowID: "wf-1"},
		{WorkflowID: "wf-9"},
		{Text: "exec-01"},
		{Text: "RUN/"},
		{Text: "WF-2"},
		{Text: "%"},
		{Text: "_"},
		{Since: at(3)},
		{Until: at(3)},
		{Since: at(2), Until: at(4)},
		{Since: at(2), Until: at(4), Statuses: []string{audit.StatusFailed}, WorkflowID: "wf-0"},
		{Statuses: []string{audit.StatusRunning}, Text: "exec", Limit: 2},
	}
	for _, p := range pages {
		checkPage(t, s, all, p)
		// Paging by three through the filter walks the same executions.
		p.Limit = 0
		want := execIDs(expectExecutions(all, audit.Page{Statuses: p.Statuses, WorkflowID: p.WorkflowID,
			Text: p.Text, Since: p.Since, Until: p.Until, Limit: audit.MaxLimit}))
		if got := walk(t, s, p, 3); !slices.Equal(got, want) {
			t.Fatalf("paging %+v walked %q, want %q", p, got, want)
		}
	}
}

// testSummariesMatchEntries appends random batches (interleaved
// executions, duplicates, pauses, terminal entries) and checks that every
// Summary and the Executions listing equal audit.Summarize of the entries.
func testSummariesMatchEntries(t *testing.T, s audit.Store) {
	rng := rand.New(rand.NewPCG(7, 11))
	types := []struct {
		typ audit.Type
		sev audit.Severity
	}{
		{"execution_started", audit.SeverityInfo}, {"node_started", audit.SeverityDebug},
		{"node_completed", audit.SeveritySuccess}, {"node_failed", audit.SeverityError},
		{"checkpoint_created", audit.SeverityInfo}, {"rollback_performed", audit.SeverityWarning},
		{"execution_paused", audit.SeverityInfo}, {"execution_resumed", audit.SeverityInfo},
		{"execution_completed", audit.SeveritySuccess}, {"execution_failed", audit.SeverityError},
		{"execution_cancelled", audit.SeverityWarning}, {"ray_batch_test_started", audit.SeverityInfo},
		{"ray_batch_test_completed", audit.SeveritySuccess}, {"state_modified", audit.SeverityError},
	}
	var sent []audit.Entry
	for b := range 40 {
		var batch []audit.Entry
		for k := range 1 + rng.IntN(30) {
			if len(sent) > 0 && rng.IntN(8) == 0 {
				batch = append(batch, sent[rng.IntN(len(sent))]) // a duplicate
				continue
			}
			tp := types[rng.IntN(len(types))]
			e := mk(fmt.Sprintf("rnd-%d-%d", b, k))
			e.ExecutionID = fmt.Sprintf("rnd-exec-%d", rng.IntN(12))
			if rng.IntN(20) == 0 {
				e.ExecutionID = ""
			}
			e.Type, e.Severity = tp.typ, tp.sev
			e.Timestamp = base.Add(time.Duration(rng.IntN(100000)) * time.Millisecond)
			if rng.IntN(2) == 0 {
				e.Details = json.RawMessage(fmt.Sprintf(`{"workflow_id":"wf-%d"}`, rng.IntN(3)))
			}
			batch = append(batch, e)
		}
		mustAppend(t, s, batch)
		sent = append(sent, batch...)
	}
	// Batches touching many executions at once (a store may write their
	// summaries in chunks): 150 and 97 executions, some of them known.
	for b, n := range []int{150, 97} {
		var batch []audit.Entry
		for k := range 2 * n {
			tp := types[rng.IntN(len(types))]
			e := mk(fmt.Sprintf("wide-%d-%d", b, k))
			e.ExecutionID = fmt.Sprintf("wide-exec-%03d", (k+b*40)%n)
			e.Type, e.Severity = tp.typ, tp.sev
			e.Timestamp = base.Add(time.Duration(rng.IntN(100000)) * time.Millisecond)
			batch = append(batch, e)
		}
		mustAppend(t, s, batch)
	}
	all := summariesOf(t, s)
	for _, want := range all {
		got, err := s.Summary(context.Background(), want.ExecutionID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffSummary(want, got); d != "" {
			t.Fatalf("Summary(%q): %s", want.ExecutionID, d)
		}
	}
	checkPage(t, s, all, audit.Page{})
	for _, st := range audit.Statuses() {
		checkPage(t, s, all, audit.Page{Statuses: []string{st}})
	}
	if got, want := walk(t, s, audit.Page{}, 5), execIDs(expectExecutions(all, audit.Page{Limit: audit.MaxLimit})); !slices.Equal(got, want) {
		t.Fatalf("paging walked %q, want %q", got, want)
	}
}
