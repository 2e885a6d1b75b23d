// Package storetest is the conformance suite of audit.Store: one set of tests
// that every store passes, so the memory store, SQLite, PostgreSQL and any
// store a user writes keep the same promises.
//
// Call Run from a test of the store's package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) audit.Store {
//			s, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// Every subtest gets a fresh, empty store from newStore and closes it when it
// ends (Close must therefore be safe to call twice). The contract checked is
// the one written on audit.Store, audit.Entry.Validate, audit.Filter and
// audit.Summary; in short:
//
//   - Append is atomic, idempotent on EventID (within a batch the first
//     occurrence wins), writes the assigned Seq into the caller's slice (0 on
//     duplicates, 0 everywhere when it fails) and rejects batches holding an
//     entry that fails Validate with an error wrapping audit.ErrInvalidEntry.
//   - Seq is strictly increasing and a reader paging with Filter.After never
//     skips nor repeats an entry, even while writers append concurrently.
//   - Entries round-trip exactly: timestamps to the nanosecond, returned in
//     UTC (time.Equal; RFC 3339 with nanoseconds is the text form); Details as
//     an equal JSON value; other fields byte for byte, unicode included.
//   - Filters: ExecutionID, NodeID, Types (any of), MinSeverity (by Rank),
//     Since inclusive, Until exclusive, After, Limit (0 = audit.DefaultLimit,
//     capped at audit.MaxLimit); invalid filters wrap audit.ErrInvalidFilter.
//   - Summary per the audit.Summary doc, audit.ErrNotFound for an unknown or
//     empty execution id, equal to audit.Summarize of the execution's
//     entries however they were batched; Executions newest first (StartedAt
//     descending, then id byte-wise descending), filtered and paged by
//     cursor as audit.Page.Match and audit.Before say.
//   - A done context makes every method fail with an error wrapping the
//     context's error; after Close every method fails wrapping
//     audit.ErrClosed.
//
// The whole suite appends a little over 100,000 entries.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// Run runs the conformance suite against the stores made by newStore, one
// fresh empty store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) audit.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s audit.Store)
	}{
		{"AppendAssignsSeq", testAppendAssignsSeq},
		{"RoundTrip", testRoundTrip},
		{"LargeDetailsAndUnicode", testLargeDetails},
		{"EmptyBatch", testEmptyBatch},
		{"NoAliasing", testNoAliasing},
		{"InvalidEntryRejectsBatch", testInvalidEntry},
		{"IdempotentWithinBatch", testIdempotentWithinBatch},
		{"IdempotentAcrossBatches", testIdempotentAcrossBatches},
		{"AtomicUnderCancellation", testAtomicUnderCancellation},
		{"Filters", testFilters},
		{"Limits", testLimits},
		{"InvalidFilter", testInvalidFilter},
		{"ConcurrentPaging", testConcurrentPaging},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ConcurrentSameIDs", testConcurrentSameIDs},
		{"Summary", testSummary},
		{"SummaryNotFound", testSummaryNotFound},
		{"Executions", testExecutions},
		{"ExecutionsFilters", testExecutionsFilters},
		{"SummariesMatchEntries", testSummariesMatchEntries},
		{"Count", testCount},
		{"ContextDone", testContextDone},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is the timestamp of generated entries: nanoseconds on purpose.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

func f64(v float64) *float64 { return &v }

// mk returns a valid entry with the given event id.
func mk(id string) audit.Entry {
	return audit.Entry{
		EventID:     id,
		SourceType:  "NodeCompletedEvent",
		Timestamp:   base,
		Type:        "node_completed",
		Severity:    audit.SeveritySuccess,
		Message:     "Node 'n1' completed",
		ExecutionID: "exec-1",
		NodeID:      "n1",
		Details:     json.RawMessage(`{"node_id":"n1","result_keys":["a","b"]}`),
		DurationMS:  f64(12.5),
	}
}

// batch returns n valid entries with ids prefix-0 ... prefix-(n-1).
func batch(prefix string, n int) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = mk(fmt.Sprintf("%s-%d", prefix, i))
		es[i].Timestamp = base.Add(time.Duration(i) * time.Microsecond)
	}
	return es
}

func ids(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EventID
	}
	return out
}

func mustAppend(t *testing.T, s audit.Store, es []audit.Entry) audit.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), es)
	if err != nil {
		t.Fatalf("Append(%d entries): %v", len(es), err)
	}
	return res
}

func mustQuery(t *testing.T, s audit.Store, f audit.Filter) []audit.Entry {
	t.Helper()
	es, err := s.Query(context.Background(), f)
	if err != nil {
		t.Fatalf("Query(%+v): %v", f, err)
	}
	return es
}

// queryAll pages through every entry matching f with pages of audit.MaxLimit.
func queryAll(t *testing.T, s audit.Store, f audit.Filter) []audit.Entry {
	t.Helper()
	f.Limit = audit.MaxLimit
	var all []audit.Entry
	for {
		page := mustQuery(t, s, f)
		all = append(all, page...)
		if len(page) < audit.MaxLimit {
			return all
		}
		f.After = page[len(page)-1].Seq
	}
}

func mustCount(t *testing.T, s audit.Store) int64 {
	t.Helper()
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

// checkIncreasing fails unless the entries' seqs are positive and strictly increasing.
func checkIncreasing(t *testing.T, what string, es []audit.Entry) {
	t.Helper()
	for i, e := range es {
		if e.Seq <= 0 {
			t.Fatalf("%s: entry %d (%s) has seq %d", what, i, e.EventID, e.Seq)
		}
		if i > 0 && e.Seq <= es[i-1].Seq {
			t.Fatalf("%s: seq not strictly increasing at %d: %d after %d", what, i, e.Seq, es[i-1].Seq)
		}
	}
}

// diffEntry describes how got differs from want ("" when equal). Seq is
// compared too.
func diffEntry(want, got audit.Entry) string {
	var d []string
	add := func(field string, w, g any) { d = append(d, fmt.Sprintf("%s: want %v, got %v", field, w, g)) }
	if want.Seq != got.Seq {
		add("seq", want.Seq, got.Seq)
	}
	if want.EventID != got.EventID {
		add("event_id", want.EventID, got.EventID)
	}
	if want.SourceType != got.SourceType {
		add("source_type", want.SourceType, got.SourceType)
	}
	if !want.Timestamp.Equal(got.Timestamp) {
		add("timestamp", want.Timestamp.Format(time.RFC3339Nano), got.Timestamp.Format(time.RFC3339Nano))
	} else if got.Timestamp.Location() != time.UTC {
		add("timestamp location", "UTC", got.Timestamp.Location())
	}
	if want.Type != got.Type {
		add("event_type", want.Type, got.Type)
	}
	if want.Severity != got.Severity {
		add("severity", want.Severity, got.Severity)
	}
	if want.Message != got.Message {
		add("message", short(want.Message), short(got.Message))
	}
	if want.ExecutionID != got.ExecutionID {
		add("execution_id", want.ExecutionID, got.ExecutionID)
	}
	if want.NodeID != got.NodeID {
		add("node_id", want.NodeID, got.NodeID)
	}
	if want.Error != got.Error {
		add("error", short(want.Error), short(got.Error))
	}
	switch {
	case (want.DurationMS == nil) != (got.DurationMS == nil):
		add("duration_ms", fmtDur(want.DurationMS), fmtDur(got.DurationMS))
	case want.DurationMS != nil && *want.DurationMS != *got.DurationMS:
		add("duration_ms", *want.DurationMS, *got.DurationMS)
	}
	if len(got.Details) == 0 {
		add("details", short(string(want.Details)), "empty (want {} at least)")
	} else if ok, err := jsonEqual(want.Details, got.Details); err != nil || !ok {
		add("details", short(string(want.Details)), fmt.Sprintf("%s (%v)", short(string(got.Details)), err))
	}
	return strings.Join(d, "; ")
}

func fmtDur(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...(%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// jsonEqual reports whether a and b hold the same JSON value; empty means {}.
// Numbers compare by exact decimal value.
func jsonEqual(a, b []byte) (bool, error) {
	if bytes.Equal(a, b) && len(a) > 0 {
		return true, nil
	}
	va, err := decodeJSON(a)
	if err != nil {
		return false, fmt.Errorf("want: %w", err)
	}
	vb, err := decodeJSON(b)
	if err != nil {
		return false, fmt.Errorf("got: %w", err)
	}
	return reflect.DeepEqual(va, vb), nil
}

func decodeJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normNumbers(v), nil
}

func normNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return string(x)
		}
		return r.RatString()
	case map[string]any:
		for k, e := range x {
			x[k] = normNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normNumbers(e)
		}
	}
	return v
}

// checkEntries fails unless got equals want entry by entry (seq included).
func checkEntries(t *testing.T, what string, want, got []audit.Entry) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: want %d entries %v, got %d %v", what, len(want), headIDs(want), len(got), headIDs(got))
	}
	for i := range want {
		if d := diffEntry(want[i], got[i]); d != "" {
			t.Fatalf("%s: entry %d (%s): %s", what, i, want[i].EventID, d)
		}
	}
}

func headIDs(es []audit.Entry) []string {
	if len(es) > 12 {
		return append(ids(es[:12]), "...")
	}
	return ids(es)
}

// recorded returns the entries of es with a non-zero Seq, in order.
func recorded(es []audit.Entry) []audit.Entry {
	var out []audit.Entry
	for _, e := range es {
		if e.Seq != 0 {
			out = append(out, e)
		}
	}
	return out
}

func testAppendAssignsSeq(t *testing.T, s audit.Store) {
	first := batch("a", 5)
	for i := range first {
		first[i].Seq = 999_999 // ignored: the store assigns seq
	}
	res := mustAppend(t, s, first)
	if res.Appended != 5 || len(res.Duplicates) != 0 {
		t.Fatalf("first batch: got %+v, want 5 appended, no duplicates", res)
	}
	checkIncreasing(t, "first batch", first)
	second := batch("b", 3)
	res = mustAppend(t, s, second)
	if res.Appended != 3 || len(res.Duplicates) != 0 {
		t.Fatalf("second batch: got %+v, want 3 appended", res)
	}
	all := append(slices.Clone(first), second...)
	checkIncreasing(t, "both batches", all)
	checkEntries(t, "query", all, mustQuery(t, s, audit.Filter{}))
	if n := mustCount(t, s); n != 8 {
		t.Fatalf("Count = %d, want 8", n)
	}
}

func testRoundTrip(t *testing.T, s audit.Store) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("UTC+1", 3600)
	}
	tests := []struct {
		name string
		edit func(e *audit.Entry)
	}{
		{"all fields", func(e *audit.Entry) {}},
		{"nil duration", func(e *audit.Entry) { e.DurationMS = nil }},
		{"zero duration kept", func(e *audit.Entry) { e.DurationMS = f64(0) }},
		{"fractional duration", func(e *audit.Entry) { e.DurationMS = f64(0.1 + 0.2) }},
		{"huge duration", func(e *audit.Entry) { e.DurationMS = f64(1.7976931348623157e308) }},
		{"negative duration", func(e *audit.Entry) { e.DurationMS = f64(-3.25) }},
		{"empty ids and error", func(e *audit.Entry) { e.ExecutionID, e.NodeID, e.Error, e.SourceType = "", "", "", "" }},
		{"error set", func(e *audit.Entry) {
			e.Severity, e.Type, e.Error = audit.SeverityError, "node_failed", "ValueError: bad input\n  at line 3"
		}},
		{"nil details read as {}", func(e *audit.Entry) { e.Details = nil }},
		{"empty object details", func(e *audit.Entry) { e.Details = json.RawMessage(`{}`) }},
		{"nested details", func(e *audit.Entry) {
			e.Details = json.RawMessage(`{"z":1,"a":{"b":[1,2.5,"x",null,true,{"c":{}}]},"big":9007199254740993,"exp":1e300,"s":"\u00e9\n\t\"q\""}`)
		}},
		{"details with spaces", func(e *audit.Entry) { e.Details = json.RawMessage(" \n{ \"k\" : [ ] }\n ") }},
		{"timestamp not UTC", func(e *audit.Entry) { e.Timestamp = time.Date(2025, 7, 1, 23, 30, 0, 1, paris) }},
		{"timestamp nanoseconds", func(e *audit.Entry) { e.Timestamp = time.Date(2025, 1, 9, 12, 0, 0, 999_999_999, time.UTC) }},
		{"timestamp early", func(e *audit.Entry) { e.Timestamp = time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC) }},
		{"timestamp with monotonic reading", func(e *audit.Entry) { e.Timestamp = time.Now() }},
		{"every severity: debug", func(e *audit.Entry) { e.Severity = audit.SeverityDebug }},
		{"every severity: info", func(e *audit.Entry) { e.Severity = audit.SeverityInfo }},
		{"every severity: warning", func(e *audit.Entry) { e.Severity = audit.SeverityWarning }},
		{"type not of the reference", func(e *audit.Entry) { e.Type = "langgraph_custom_kind" }},
		{"unicode text", func(e *audit.Entry) {
			e.Message = "Nœud « 処理 » terminé ✅ 🧪 עברית e\u0301 \u2028 \U0010FFFD"
			e.NodeID = "узел-α"
			e.ExecutionID = "exec-😀"
			e.Error = "Ошибка: ∅"
			e.Details = json.RawMessage(`{"emoji":"🦀","cjk":"漢字","escaped":"\ud83d\ude00","rtl":"مرحبا"}`)
		}},
		{"sql-looking text", func(e *audit.Entry) {
			e.Message = `'); DROP TABLE entries; -- "quoted" \ backslash % _ $1 ?`
			e.NodeID = "n'1"
		}},
		{"ids at size limit", func(e *audit.Entry) {
			// Random text: a store that compresses keys (PostgreSQL's index
			// entries) must hold ids at the limit that do not compress.
			e.NodeID = incompressible(audit.MaxIDSize)
			e.ExecutionID = incompressible(audit.MaxIDSize)
			e.SourceType = incompressible(audit.MaxIDSize)
			e.EventID = incompressible(audit.MaxIDSize-len(e.EventID)) + e.EventID
		}},
		{"execution start with ids at size limit", func(e *audit.Entry) {
			// The workflow id is kept beside the execution id (executions
			// listed by workflow): both at the limit must fit.
			e.Type, e.SourceType, e.NodeID = audit.TypeExecutionStarted, "ExecutionStartedEvent", ""
			e.ExecutionID = incompressible(audit.MaxIDSize)
			e.Details = json.RawMessage(`{"workflow_id":"` + incompressible(audit.MaxIDSize) + `","workflow_name":"w"}`)
		}},
	}
	want := make([]audit.Entry, len(tests))
	for i, tc := range tests {
		want[i] = mk(fmt.Sprintf("rt-%d", i))
		tc.edit(&want[i])
	}
	in := slices.Clone(want)
	res := mustAppend(t, s, in)
	if res.Appended != len(in) {
		t.Fatalf("Appended = %d, want %d", res.Appended, len(in))
	}
	got := mustQuery(t, s, audit.Filter{})
	if len(got) != len(in) {
		t.Fatalf("got %d entries, want %d", len(got), len(in))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := want[i]
			w.Seq = in[i].Seq
			if d := diffEntry(w, got[i]); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func testLargeDetails(t *testing.T, s audit.Store) {
	var sb strings.Builder
	pieces := []string{"abc", "é", "漢", "🧪", `\"`, `\n`, `\u0001`, " "}
	r := rand.New(rand.NewPCG(1, 2))
	for sb.Len() < 1<<20 {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	details, err := json.Marshal(map[string]any{"blob": sb.String(), "n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(details) < 1<<20 {
		t.Fatalf("details only %d bytes", len(details))
	}
	big := mk("large-1")
	big.Details = details
	big.Message = strings.Repeat("мир🌍", 1<<15)
	big.Error = strings.Repeat("x", audit.MaxTextSize)
	small := mk("large-2")
	small.Message = "after the large one"
	in := []audit.Entry{big, small}
	mustAppend(t, s, in)
	checkEntries(t, "query", in, mustQuery(t, s, audit.Filter{}))
	checkEntries(t, "query by node", in[:1], mustQuery(t, s, audit.Filter{NodeID: "n1", Limit: 1}))
}

// testNoAliasing checks that the store keeps its own copy of what it is
// given and hands out copies: changing the caller's entries after Append,
// or the entries a Query returned, changes nothing stored.
func testNoAliasing(t *testing.T, s audit.Store) {
	in := batch("alias", 2)
	in[0].Details = json.RawMessage(`{"k":"original"}`)
	want := slices.Clone(in)
	for i := range want {
		want[i].Details = slices.Clone(in[i].Details)
		want[i].DurationMS = f64(*in[i].DurationMS)
	}
	mustAppend(t, s, in)
	want[0].Seq, want[1].Seq = in[0].Seq, in[1].Seq
	copy(in[0].Details, `{"k":"CHANGED!"}`)
	*in[1].DurationMS = -1
	in[0].Message = "changed"
	got := mustQuery(t, s, audit.Filter{})
	checkEntries(t, "after changing the appended entries", want, got)
	if len(got[0].Details) > 0 {
		got[0].Details[0] = 'X'
	}
	*got[1].DurationMS = -2
	got[1].Message = "changed"
	checkEntries(t, "after changing a query's result", want, mustQuery(t, s, audit.Filter{}))
}

func testEmptyBatch(t *testing.T, s audit.Store) {
	for _, es := range [][]audit.Entry{nil, {}} {
		res, err := s.Append(context.Background(), es)
		if err != nil {
			t.Fatalf("Append(empty): %v", err)
		}
		if res.Appended != 0 || len(res.Duplicates) != 0 {
			t.Fatalf("Append(empty) = %+v, want zero result", res)
		}
	}
	if n := mustCount(t, s); n != 0 {
		t.Fatalf("Count = %d after empty batches", n)
	}
	if es := mustQuery(t, s, audit.Filter{}); len(es) != 0 {
		t.Fatalf("Query on empty store returned %d entries", len(es))
	}
	// The store still works afterwards.
	in := batch("after-empty", 2)
	mustAppend(t, s, in)
	checkEntries(t, "query", in, mustQuery(t, s, audit.Filter{}))
}

func testInvalidEntry(t *testing.T, s audit.Store) {
	tests := []struct {
		name string
		edit func(e *audit.Entry)
	}{
		{"empty event_id", func(e *audit.Entry) { e.EventID = "" }},
		{"empty type", func(e *audit.Entry) { e.Type = "" }},
		{"zero timestamp", func(e *audit.Entry) { e.Timestamp = time.Time{} }},
		{"timestamp beyond 2262", func(e *audit.Entry) { e.Timestamp = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"empty severity", func(e *audit.Entry) { e.Severity = "" }},
		{"unknown severity", func(e *audit.Entry) { e.Severity = "fatal" }},
		{"details not JSON", func(e *audit.Entry) { e.Details = json.RawMessage(`{"a":`) }},
		{"details an array", func(e *audit.Entry) { e.Details = json.RawMessage(`[1,2]`) }},
		{"details a string", func(e *audit.Entry) { e.Details = json.RawMessage(`"x"`) }},
		{"details null", func(e *audit.Entry) { e.Details = json.RawMessage(`null`) }},
		{"details trailing garbage", func(e *audit.Entry) { e.Details = json.RawMessage(`{} {}`) }},
		{"NaN duration", func(e *audit.Entry) { nan := 0.0; nan = nan / nan; e.DurationMS = &nan }},
		{"NUL in message", func(e *audit.Entry) { e.Message = "a\x00b" }},
		{"invalid UTF-8 node id", func(e *audit.Entry) { e.NodeID = "n\xff" }},
		{"event_id too long", func(e *audit.Entry) { e.EventID = strings.Repeat("e", audit.MaxIDSize+1) }},
		{"workflow_id too long", func(e *audit.Entry) {
			e.Type = audit.TypeExecutionStarted
			e.Details = json.RawMessage(`{"workflow_id":"` + strings.Repeat("w", audit.MaxIDSize+1) + `"}`)
		}},
		{"message too long", func(e *audit.Entry) { e.Message = strings.Repeat("m", audit.MaxTextSize+1) }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, pos := range []int{0, 2, 4} { // first, middle, last
				in := batch(fmt.Sprintf("inv-%d-%d", i, pos), 5)
				tc.edit(&in[pos])
				if err := in[pos].Validate(); !errors.Is(err, audit.ErrInvalidEntry) {
					t.Fatalf("Validate = %v, want ErrInvalidEntry (suite bug)", err)
				}
				res, err := s.Append(context.Background(), in)
				if !errors.Is(err, audit.ErrInvalidEntry) {
					t.Fatalf("bad entry at %d: Append error = %v, want ErrInvalidEntry", pos, err)
				}
				if res.Appended != 0 {
					t.Fatalf("failed Append reported %d appended", res.Appended)
				}
				for j, e := range in {
					if e.Seq != 0 {
						t.Fatalf("failed Append left seq %d on entry %d", e.Seq, j)
					}
				}
				if n := mustCount(t, s); n != 0 {
					t.Fatalf("failed Append recorded %d entries", n)
				}
			}
		})
	}
	// The valid entries of the rejected batches were not recorded: they go in now.
	in := batch("inv-0-0", 5)
	res := mustAppend(t, s, in)
	if res.Appended != 5 || len(res.Duplicates) != 0 {
		t.Fatalf("valid batch after rejections: %+v, want 5 appended", res)
	}
	checkEntries(t, "query", in, mustQuery(t, s, audit.Filter{}))
}

func testIdempotentWithinBatch(t *testing.T, s audit.Store) {
	a, b, c := mk("dup-a"), mk("dup-b"), mk("dup-c")
	a2, b2 := a, b
	a2.Message, b2.Message = "second a", "second b"
	b2.Severity = audit.SeverityError
	in := []audit.Entry{a, b, a2, c, b2, a}
	res := mustAppend(t, s, in)
	if res.Appended != 3 {
		t.Fatalf("Appended = %d, want 3", res.Appended)
	}
	if want := []string{"dup-a", "dup-b", "dup-a"}; !slices.Equal(res.Duplicates, want) {
		t.Fatalf("Duplicates = %q, want %q", res.Duplicates, want)
	}
	for _, i := range []int{2, 4, 5} {
		if in[i].Seq != 0 {
			t.Fatalf("duplicate at %d got seq %d, want 0", i, in[i].Seq)
		}
	}
	got := recorded(in)
	checkIncreasing(t, "recorded", got)
	if !slices.Equal(ids(got), []string{"dup-a", "dup-b", "dup-c"}) {
		t.Fatalf("recorded %q", ids(got))
	}
	// The first occurrence wins.
	checkEntries(t, "query", got, mustQuery(t, s, audit.Filter{}))
	if n := mustCount(t, s); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
}

func testIdempotentAcrossBatches(t *testing.T, s audit.Store) {
	first := batch("x", 3)
	mustAppend(t, s, first)
	again := []audit.Entry{mk("x-1"), mk("y-0"), mk("x-0"), mk("y-1")}
	again[0].Message = "changed"
	res := mustAppend(t, s, again)
	if res.Appended != 2 {
		t.Fatalf("Appended = %d, want 2", res.Appended)
	}
	if want := []string{"x-1", "x-0"}; !slices.Equal(res.Duplicates, want) {
		t.Fatalf("Duplicates = %q, want %q", res.Duplicates, want)
	}
	if again[0].Seq != 0 || again[2].Seq != 0 || again[1].Seq <= first[2].Seq || again[3].Seq <= again[1].Seq {
		t.Fatalf("seqs: first %d %d %d, again %d %d %d %d", first[0].Seq, first[1].Seq, first[2].Seq,
			again[0].Seq, again[1].Seq, again[2].Seq, again[3].Seq)
	}
	// All duplicates: nothing recorded, no error.
	all := slices.Concat(batch("x", 3), []audit.Entry{mk("y-0")})
	res = mustAppend(t, s, all)
	if res.Appended != 0 || len(res.Duplicates) != 4 {
		t.Fatalf("all-duplicate batch: %+v", res)
	}
	want := slices.Concat(first, []audit.Entry{again[1], again[3]})
	checkEntries(t, "query", want, mustQuery(t, s, audit.Filter{}))
	if n := mustCount(t, s); n != 5 {
		t.Fatalf("Count = %d, want 5", n)
	}
}

func testAtomicUnderCancellation(t *testing.T, s audit.Store) {
	const n = 4000
	var total int64
	delays := []time.Duration{-1, 0, 20 * time.Microsecond, 200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, time.Hour}
	for round, delay := range delays {
		in := batch(fmt.Sprintf("cancel-%d", round), n)
		ctx, cancel := context.WithCancel(context.Background())
		switch {
		case delay < 0:
			cancel()
		case delay < time.Hour:
			timer := time.AfterFunc(delay, cancel)
			defer timer.Stop()
		}
		res, err := s.Append(ctx, in)
		cancel()
		got := mustCount(t, s)
		switch {
		case err == nil:
			if res.Appended != n || got != total+n {
				t.Fatalf("round %d: Append succeeded with %d appended, count %d -> %d", round, res.Appended, total, got)
			}
			checkIncreasing(t, "appended", in)
			total += n
		case errors.Is(err, context.Canceled):
			if got != total {
				t.Fatalf("round %d: cancelled Append (%v) left %d of %d entries", round, err, got-total, n)
			}
			for i, e := range in {
				if e.Seq != 0 {
					t.Fatalf("round %d: cancelled Append left seq %d on entry %d", round, e.Seq, i)
				}
			}
		default:
			t.Fatalf("round %d: Append error %v does not wrap context.Canceled", round, err)
		}
		if delay < 0 && err == nil {
			t.Fatalf("Append with a cancelled context succeeded")
		}
	}
	if all := queryAll(t, s, audit.Filter{}); int64(len(all)) != total {
		t.Fatalf("query returned %d entries, count says %d", len(all), total)
	}
}

// dataset is a set of entries spread over executions, nodes, types,
// severities and timestamps; timestamps do not follow seq order.
func dataset() []audit.Entry {
	execs := []string{"exec-a", "exec-b", "", "exec-c"}
	nodes := []string{"n1", "n2", "", "n3", "n1"}
	types := []audit.Type{"node_started", "node_completed", "node_failed", "checkpoint_created", "execution_started", "state_modified"}
	sevs := []audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError}
	var es []audit.Entry
	for i := range 240 {
		e := mk(fmt.Sprintf("f-%03d", i))
		e.ExecutionID = execs[i%len(execs)]
		e.NodeID = nodes[(i/2)%len(nodes)]
		e.Type = types[(i/3)%len(types)]
		e.Severity = sevs[(i*7)%len(sevs)]
		// A permutation of 0..239 milliseconds, plus nanoseconds.
		e.Timestamp = base.Add(time.Duration((i*97)%240)*time.Millisecond + time.Duration(i))
		es = append(es, e)
	}
	return es
}

func match(f audit.Filter, e audit.Entry) bool {
	if f.ExecutionID != "" && e.ExecutionID != f.ExecutionID {
		return false
	}
	if f.NodeID != "" && e.NodeID != f.NodeID {
		return false
	}
	if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
		return false
	}
	if f.MinSeverity != "" && e.Severity.Rank() < f.MinSeverity.Rank() {
		return false
	}
	if !f.Since.IsZero() && e.Timestamp.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.Timestamp.Before(f.Until) {
		return false
	}
	return e.Seq > f.After
}

func expect(all []audit.Entry, f audit.Filter) []audit.Entry {
	var out []audit.Entry
	for _, e := range all {
		if match(f, e) {
			out = append(out, e)
		}
	}
	if lim := f.EffectiveLimit(); len(out) > lim {
		out = out[:lim]
	}
	return out
}

func testFilters(t *testing.T, s audit.Store) {
	all := dataset()
	// Several batches, so seq order is the slice order across Append calls.
	for i := 0; i < len(all); i += 50 {
		mustAppend(t, s, all[i:min(i+50, len(all))])
	}
	checkIncreasing(t, "dataset", all)
	ts := func(i int) time.Time { return all[i].Timestamp }
	mid := all[len(all)/2].Seq
	tests := []struct {
		name   string
		f      audit.Filter
		nonNil bool // the expected result must not be empty
	}{
		{"none", audit.Filter{Limit: 1000}, true},
		{"execution", audit.Filter{ExecutionID: "exec-b", Limit: 1000}, true},
		{"unknown execution", audit.Filter{ExecutionID: "exec-zz"}, false},
		{"node", audit.Filter{NodeID: "n1", Limit: 1000}, true},
		{"unknown node", audit.Filter{NodeID: "n9"}, false},
		{"one type", audit.Filter{Types: []audit.Type{"node_failed"}, Limit: 1000}, true},
		{"two types", audit.Filter{Types: []audit.Type{"checkpoint_created", "node_started"}, Limit: 1000}, true},
		{"unknown type", audit.Filter{Types: []audit.Type{"nope"}}, false},
		{"empty types", audit.Filter{Types: []audit.Type{}, Limit: 1000}, true},
		{"min debug", audit.Filter{MinSeverity: audit.SeverityDebug, Limit: 1000}, true},
		{"min info", audit.Filter{MinSeverity: audit.SeverityInfo, Limit: 1000}, true},
		{"min success", audit.Filter{MinSeverity: audit.SeveritySuccess, Limit: 1000}, true},
		{"min warning", audit.Filter{MinSeverity: audit.SeverityWarning, Limit: 1000}, true},
		{"min error", audit.Filter{MinSeverity: audit.SeverityError, Limit: 1000}, true},
		{"since", audit.Filter{Since: ts(10), Limit: 1000}, true},
		{"until", audit.Filter{Until: ts(10), Limit: 1000}, true},
		{"since and until", audit.Filter{Since: ts(3), Until: ts(200), Limit: 1000}, true},
		{"since in other zone", audit.Filter{Since: ts(3).In(time.FixedZone("X", -5*3600)), Limit: 1000}, true},
		{"until before since", audit.Filter{Since: ts(200), Until: ts(3)}, false},
		{"since equals until", audit.Filter{Since: ts(7), Until: ts(7)}, false},
		{"after", audit.Filter{After: mid, Limit: 1000}, true},
		{"after last", audit.Filter{After: all[len(all)-1].Seq}, false},
		{"limit", audit.Filter{Limit: 7}, true},
		{"after and limit", audit.Filter{After: mid, Limit: 5}, true},
		{"execution and node", audit.Filter{ExecutionID: "exec-a", NodeID: "n2", Limit: 1000}, true},
		{"execution and types", audit.Filter{ExecutionID: "exec-c", Types: []audit.Type{"node_started", "node_completed"}, Limit: 1000}, true},
		{"node and severity", audit.Filter{NodeID: "n3", MinSeverity: audit.SeverityWarning, Limit: 1000}, true},
		{"execution, time range and severity", audit.Filter{ExecutionID: "exec-a", Since: ts(20), Until: ts(100), MinSeverity: audit.SeverityInfo, Limit: 1000}, true},
		{"everything", audit.Filter{ExecutionID: "exec-b", NodeID: "n1", Types: []audit.Type{"node_started", "node_completed", "node_failed", "checkpoint_created"},
			MinSeverity: audit.SeverityDebug, Since: ts(5), Until: ts(230), After: all[3].Seq, Limit: 3}, true},
		{"execution paged", audit.Filter{ExecutionID: "exec-a", After: all[100].Seq, Limit: 4}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := expect(all, tc.f)
			if tc.nonNil && len(want) == 0 {
				t.Fatalf("suite bug: empty expectation")
			}
			checkEntries(t, "query", want, mustQuery(t, s, tc.f))
		})
	}
	// Since is inclusive and Until exclusive, to the nanosecond.
	t.Run("bounds", func(t *testing.T) {
		k := all[17]
		got := mustQuery(t, s, audit.Filter{Since: k.Timestamp, Until: k.Timestamp.Add(time.Nanosecond)})
		checkEntries(t, "exact nanosecond", []audit.Entry{k}, got)
		if got := mustQuery(t, s, audit.Filter{Since: k.Timestamp.Add(time.Nanosecond), Until: k.Timestamp.Add(time.Millisecond)}); slices.Contains(ids(got), k.EventID) {
			t.Fatalf("Since one nanosecond later still returns %s", k.EventID)
		}
		if got := mustQuery(t, s, audit.Filter{Until: k.Timestamp, Limit: 1000}); slices.Contains(ids(got), k.EventID) {
			t.Fatalf("Until = timestamp returns %s", k.EventID)
		}
	})
}

func testLimits(t *testing.T, s audit.Store) {
	const n = audit.MaxLimit + 50
	all := batch("lim", n)
	for i := 0; i < n; i += 2000 {
		mustAppend(t, s, all[i:min(i+2000, n)])
	}
	tests := []struct {
		limit, after, want int
	}{
		{0, 0, audit.DefaultLimit},
		{1, 0, 1},
		{audit.DefaultLimit + 1, 0, audit.DefaultLimit + 1},
		{audit.MaxLimit + 1, 0, audit.MaxLimit},
		{0, n - 30, 30},
		{1 << 30, 60, n - 60},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit %d after %d", tc.limit, tc.after), func(t *testing.T) {
			f := audit.Filter{Limit: tc.limit}
			if tc.after > 0 {
				f.After = all[tc.after-1].Seq
			}
			got := mustQuery(t, s, f)
			checkEntries(t, "query", all[tc.after:tc.after+tc.want], got)
		})
	}
	if got := queryAll(t, s, audit.Filter{}); len(got) != n {
		t.Fatalf("paging with MaxLimit returned %d entries, want %d", len(got), n)
	}
}

func testInvalidFilter(t *testing.T, s audit.Store) {
	mustAppend(t, s, batch("if", 3))
	for _, f := range []audit.Filter{
		{MinSeverity: "fatal"},
		{Limit: -1},
		{After: -1},
	} {
		if _, err := s.Query(context.Background(), f); !errors.Is(err, audit.ErrInvalidFilter) {
			t.Errorf("Query(%+v) error = %v, want ErrInvalidFilter", f, err)
		}
	}
	if _, err := s.Executions(context.Background(), audit.Page{Limit: -1}); !errors.Is(err, audit.ErrInvalidFilter) {
		t.Errorf("Executions(Limit -1) error = %v, want ErrInvalidFilter", err)
	}
}

func testConcurrentPaging(t *testing.T, s audit.Store) {
	const writers, perWriter = 4, 1500
	ctx := context.Background()
	var wg sync.WaitGroup
	var done atomic.Bool
	errc := make(chan error, writers+1)
	// Each writer also re-sends some ids of its neighbour: they must be recorded once.
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < perWriter; {
				n := min(1+r.IntN(40), perWriter-i)
				es := make([]audit.Entry, 0, n+1)
				for j := range n {
					es = append(es, mk(fmt.Sprintf("cp-%d-%d", w, i+j)))
				}
				if i > 0 && r.IntN(4) == 0 {
					es = append(es, mk(fmt.Sprintf("cp-%d-%d", (w+1)%writers, r.IntN(i))))
				}
				if _, err := s.Append(ctx, es); err != nil {
					errc <- err
					return
				}
				i += n
			}
		})
	}
	var pages [][]audit.Entry
	var reader sync.WaitGroup
	reader.Go(func() {
		r := rand.New(rand.NewPCG(99, 1))
		var after int64
		for {
			last := done.Load() // read before the query: a page after done is final
			page, err := s.Query(ctx, audit.Filter{After: after, Limit: 1 + r.IntN(64)})
			if err != nil {
				errc <- err
				return
			}
			if len(page) > 0 {
				pages = append(pages, page)
				after = page[len(page)-1].Seq
				continue
			}
			if last {
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	wg.Wait()
	done.Store(true)
	reader.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var union []audit.Entry
	for _, p := range pages {
		union = append(union, p...)
	}
	checkIncreasing(t, "union of pages", union)
	final := queryAll(t, s, audit.Filter{})
	if len(final) != writers*perWriter {
		t.Fatalf("store holds %d entries, want %d", len(final), writers*perWriter)
	}
	checkEntries(t, fmt.Sprintf("union of %d pages vs final read", len(pages)), final, union)
	seen := make(map[string]bool, len(final))
	for _, e := range final {
		seen[e.EventID] = true
	}
	for w := range writers {
		for i := range perWriter {
			if id := fmt.Sprintf("cp-%d-%d", w, i); !seen[id] {
				t.Fatalf("%s missing", id)
			}
		}
	}
}

func testConcurrentAppend(t *testing.T, s audit.Store) {
	const goroutines, perG, batchSize = 8, 10000, 500
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	batches := make([][][]audit.Entry, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := 0; i < perG; i += batchSize {
				es := make([]audit.Entry, batchSize)
				for j := range es {
					es[j] = mk(fmt.Sprintf("ca-%d-%05d", g, i+j))
					es[j].ExecutionID = fmt.Sprintf("exec-%d", g)
					es[j].Timestamp = base.Add(time.Duration(i+j) * time.Microsecond)
				}
				res, err := s.Append(ctx, es)
				if err != nil {
					errc <- err
					return
				}
				if res.Appended != batchSize {
					errc <- fmt.Errorf("goroutine %d batch %d: appended %d", g, i, res.Appended)
					return
				}
				batches[g] = append(batches[g], es)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if n := mustCount(t, s); n != goroutines*perG {
		t.Fatalf("Count = %d, want %d", n, goroutines*perG)
	}
	all := queryAll(t, s, audit.Filter{})
	checkIncreasing(t, "all entries", all)
	if len(all) != goroutines*perG {
		t.Fatalf("query returned %d entries, want %d", len(all), goroutines*perG)
	}
	bySeq := make(map[int64]audit.Entry, len(all))
	for _, e := range all {
		bySeq[e.Seq] = e
	}
	for g := range goroutines {
		var mine []audit.Entry
		for _, b := range batches[g] {
			checkIncreasing(t, "batch", b)
			for _, e := range b {
				got, ok := bySeq[e.Seq]
				if !ok {
					t.Fatalf("%s (seq %d) not found", e.EventID, e.Seq)
				}
				if d := diffEntry(e, got); d != "" {
					t.Fatalf("%s: %s", e.EventID, d)
				}
				mine = append(mine, e)
			}
		}
		// One goroutine's entries come back in its order.
		var theirs []audit.Entry
		for _, e := range all {
			if e.ExecutionID == fmt.Sprintf("exec-%d", g) {
				theirs = append(theirs, e)
			}
		}
		checkEntries(t, "one goroutine's entries", mine, theirs)
	}
	// The execution filter agrees, paged.
	page := mustQuery(t, s, audit.Filter{ExecutionID: "exec-3", After: batches[3][5][0].Seq - 1, Limit: 700})
	checkEntries(t, "execution page", slices.Concat(batches[3][5], batches[3][6][:200]), page)
}

// testConcurrentSameIDs has several writers append the same ids at once,
// in different orders and batchings: each id is recorded by exactly one
// Append and reported as a duplicate by all the others.
func testConcurrentSameIDs(t *testing.T, s audit.Store) {
	const writers, n = 4, 600
	ctx := context.Background()
	var wg sync.WaitGroup
	appended := make([]map[string]int64, writers)
	dups := make([]map[string]bool, writers)
	errc := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			order := r.Perm(n)
			appended[w], dups[w] = map[string]int64{}, map[string]bool{}
			for len(order) > 0 {
				k := min(1+r.IntN(60), len(order))
				es := make([]audit.Entry, k)
				for j, i := range order[:k] {
					es[j] = mk(fmt.Sprintf("same-%04d", i))
					es[j].Message = fmt.Sprintf("from writer %d", w)
				}
				order = order[k:]
				res, err := s.Append(ctx, es)
				if err != nil {
					errc <- err
					return
				}
				for _, e := range es {
					if e.Seq != 0 {
						appended[w][e.EventID] = e.Seq
					}
				}
				for _, id := range res.Duplicates {
					dups[w][id] = true
				}
				if res.Appended+len(res.Duplicates) != k || len(res.Duplicates) != len(recordedNot(es)) {
					errc <- fmt.Errorf("writer %d: result %d appended, %d duplicates for %d entries", w, res.Appended, len(res.Duplicates), k)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	all := queryAll(t, s, audit.Filter{})
	if len(all) != n {
		t.Fatalf("store holds %d entries, want %d", len(all), n)
	}
	for _, e := range all {
		owners := 0
		for w := range writers {
			if seq, ok := appended[w][e.EventID]; ok {
				owners++
				if seq != e.Seq {
					t.Fatalf("%s: Append assigned seq %d, store has %d", e.EventID, seq, e.Seq)
				}
				if want := fmt.Sprintf("from writer %d", w); e.Message != want {
					t.Fatalf("%s: stored %q, but appended by writer %d", e.EventID, e.Message, w)
				}
			} else if !dups[w][e.EventID] {
				t.Fatalf("%s: writer %d got neither a seq nor a duplicate", e.EventID, w)
			}
		}
		if owners != 1 {
			t.Fatalf("%s recorded by %d Appends, want 1", e.EventID, owners)
		}
	}
}

// recordedNot returns the entries of es left with Seq 0.
func recordedNot(es []audit.Entry) []audit.Entry {
	var out []audit.Entry
	for _, e := range es {
		if e.Seq == 0 {
			out = append(out, e)
		}
	}
	return out
}

// Summary scenario entries: type, severity, offset from base in ms, details.
type step struct {
	typ     audit.Type
	sev     audit.Severity
	ms      int
	details string
}

func testSummary(t *testing.T, s audit.Store) {
	at := func(ms int) *time.Time { v := base.Add(time.Duration(ms) * time.Millisecond); return &v }
	dur := func(ms float64) *float64 { return &ms }
	tests := []struct {
		name  string
		steps []step
		want  audit.Summary // ExecutionID, FirstSeq and LastSeq are filled in
	}{
		{"running", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-1","initial_state_keys":[]}`},
			{"node_started", audit.SeverityDebug, 1, ``},
			{"node_completed", audit.SeveritySuccess, 2, ``},
			{"node_completed", audit.SeveritySuccess, 3, ``},
			{"node_failed", audit.SeverityError, 4, ``},
			{"checkpoint_created", audit.SeverityDebug, 5, ``},
			{"rollback_performed", audit.SeverityWarning, 6, ``},
			{"state_modified", audit.SeverityError, 7, ``},
		}, audit.Summary{TotalEntries: 8, WorkflowID: "wf-1", StartedAt: at(0), NodesExecuted: 2, NodesFailed: 1,
			CheckpointsCreated: 1, Rollbacks: 1, Errors: 2, Status: "running"}},
		{"completed", []step{
			{"execution_started", audit.SeverityInfo, 10, `{"workflow_id":"wf-2"}`},
			{"node_completed", audit.SeveritySuccess, 20, ``},
			{"execution_completed", audit.SeveritySuccess, 1510, ``},
		}, audit.Summary{TotalEntries: 3, WorkflowID: "wf-2", StartedAt: at(10), EndedAt: at(1510), DurationMS: dur(1500),
			NodesExecuted: 1, Status: "completed"}},
		{"failed", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-3"}`},
			{"execution_failed", audit.SeverityError, 250, ``},
		}, audit.Summary{TotalEntries: 2, WorkflowID: "wf-3", StartedAt: at(0), EndedAt: at(250), DurationMS: dur(250), Errors: 1, Status: "failed"}},
		{"cancelled, then more entries", []step{
			{"node_started", audit.SeverityDebug, 5, ``},
			{"execution_cancelled", audit.SeverityWarning, 7, ``},
			{"node_skipped", audit.SeverityInfo, 9, ``},
		}, audit.Summary{TotalEntries: 3, StartedAt: at(5), EndedAt: at(7), DurationMS: dur(2), Status: "cancelled"}},
		{"last terminal wins", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-5"}`},
			{"execution_failed", audit.SeverityError, 100, ``},
			{"execution_resumed", audit.SeverityInfo, 200, ``},
			{"execution_completed", audit.SeveritySuccess, 300, ``},
		}, audit.Summary{TotalEntries: 4, WorkflowID: "wf-5", StartedAt: at(0), EndedAt: at(300), DurationMS: dur(300), Errors: 1, Status: "completed"}},
		{"started at first entry by seq", []step{
			{"node_started", audit.SeverityDebug, 50, ``},
			{"execution_started", audit.SeverityInfo, 40, `{"workflow_id":"wf-6"}`},
			{"execution_completed", audit.SeveritySuccess, 90, ``},
		}, audit.Summary{TotalEntries: 3, WorkflowID: "wf-6", StartedAt: at(50), EndedAt: at(90), DurationMS: dur(40), Status: "completed"}},
		{"ray batch", []step{
			{"ray_batch_test_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-ray","variant_count":3}`},
			{"ray_variant_execution_completed", audit.SeveritySuccess, 5, ``},
			{"ray_batch_test_completed", audit.SeveritySuccess, 8, ``},
		}, audit.Summary{TotalEntries: 3, WorkflowID: "wf-ray", StartedAt: at(0), EndedAt: at(8), DurationMS: dur(8), Status: "completed"}},
		{"ray batch failed", []step{
			{"ray_batch_test_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-r2"}`},
			{"ray_batch_test_failed", audit.SeverityError, 3, ``},
		}, audit.Summary{TotalEntries: 2, WorkflowID: "wf-r2", StartedAt: at(0), EndedAt: at(3), DurationMS: dur(3), Errors: 1, Status: "failed"}},
		{"ray batch cancelled", []step{
			{"ray_batch_test_started", audit.SeverityInfo, 0, ``},
			{"ray_batch_test_cancelled", audit.SeverityWarning, 1, ``},
		}, audit.Summary{TotalEntries: 2, StartedAt: at(0), EndedAt: at(1), DurationMS: dur(1), Status: "cancelled"}},
		{"paused", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"workflow_id":"wf-p"}`},
			{"execution_paused", audit.SeverityInfo, 5, ``},
		}, audit.Summary{TotalEntries: 2, WorkflowID: "wf-p", StartedAt: at(0), Status: "paused"}},
		{"paused then resumed", []step{
			{"execution_paused", audit.SeverityInfo, 0, ``},
			{"execution_resumed", audit.SeverityInfo, 5, ``},
			{"node_started", audit.SeverityDebug, 6, ``},
		}, audit.Summary{TotalEntries: 3, StartedAt: at(0), Status: "running"}},
		{"terminal wins over a later pause", []step{
			{"execution_completed", audit.SeveritySuccess, 3, ``},
			{"execution_paused", audit.SeverityInfo, 4, ``},
		}, audit.Summary{TotalEntries: 2, StartedAt: at(3), EndedAt: at(3), DurationMS: dur(0), Status: "completed"}},
		{"no workflow id", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"other":"x"}`},
		}, audit.Summary{TotalEntries: 1, StartedAt: at(0), Status: "running"}},
		{"first non-empty workflow id", []step{
			{"execution_started", audit.SeverityInfo, 0, `{"workflow_id":""}`},
			{"execution_started", audit.SeverityInfo, 1, `{"workflow_id":7}`},
			{"node_started", audit.SeverityDebug, 2, `{"workflow_id":"not-this"}`},
			{"ray_batch_test_started", audit.SeverityInfo, 3, `{"workflow_id":"wf-second"}`},
			{"execution_started", audit.SeverityInfo, 4, `{"workflow_id":"wf-third"}`},
		}, audit.Summary{TotalEntries: 5, WorkflowID: "wf-second", StartedAt: at(0), Status: "running"}},
		{"langgraph kinds do not count", []step{
			{"langgraph_node_completed", audit.SeveritySuccess, 0, ``},
			{"langgraph_checkpoint_created", audit.SeverityDebug, 1, ``},
		}, audit.Summary{TotalEntries: 2, StartedAt: at(0), Status: "running"}},
	}
	// Interleave the scenarios' entries in one stream, so every summary has
	// to pick its own entries.
	entries := make([][]audit.Entry, len(tests))
	for i, tc := range tests {
		for j, st := range tc.steps {
			e := mk(fmt.Sprintf("sum-%d-%d", i, j))
			e.ExecutionID = fmt.Sprintf("sum-exec-%02d", i)
			e.Type, e.Severity = st.typ, st.sev
			e.Timestamp = base.Add(time.Duration(st.ms) * time.Millisecond)
			e.Details = json.RawMessage(st.details)
			entries[i] = append(entries[i], e)
		}
	}
	for j := 0; ; j++ {
		var round []audit.Entry
		var owner []int
		for i := range entries {
			if j < len(entries[i]) {
				round = append(round, entries[i][j])
				owner = append(owner, i)
			}
		}
		if len(round) == 0 {
			break
		}
		mustAppend(t, s, round)
		for k, e := range round {
			entries[owner[k]][j].Seq = e.Seq
		}
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			want.ExecutionID = fmt.Sprintf("sum-exec-%02d", i)
			want.FirstSeq = entries[i][0].Seq
			want.LastSeq = entries[i][len(entries[i])-1].Seq
			got, err := s.Summary(context.Background(), want.ExecutionID)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffSummary(want, got); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// diffSummary describes how got differs from want ("" when equal).
func diffSummary(want, got audit.Summary) string {
	var d []string
	tm := func(p *time.Time) string {
		if p == nil {
			return "nil"
		}
		return p.Format(time.RFC3339Nano)
	}
	if (want.StartedAt == nil) != (got.StartedAt == nil) || want.StartedAt != nil && !want.StartedAt.Equal(*got.StartedAt) {
		d = append(d, fmt.Sprintf("started_at: want %s, got %s", tm(want.StartedAt), tm(got.StartedAt)))
	}
	if (want.EndedAt == nil) != (got.EndedAt == nil) || want.EndedAt != nil && !want.EndedAt.Equal(*got.EndedAt) {
		d = append(d, fmt.Sprintf("ended_at: want %s, got %s", tm(want.EndedAt), tm(got.EndedAt)))
	}
	if (want.DurationMS == nil) != (got.DurationMS == nil) ||
		want.DurationMS != nil && (*want.DurationMS-*got.DurationMS > 1e-6 || *got.DurationMS-*want.DurationMS > 1e-6) {
		d = append(d, fmt.Sprintf("duration_ms: want %s, got %s", fmtDur(want.DurationMS), fmtDur(got.DurationMS)))
	}
	w, g := want, got
	w.StartedAt, w.EndedAt, w.DurationMS = nil, nil, nil
	g.StartedAt, g.EndedAt, g.DurationMS = nil, nil, nil
	if w != g {
		d = append(d, fmt.Sprintf("want %+v\n got %+v", w, g))
	}
	return strings.Join(d, "; ")
}

func testSummaryNotFound(t *testing.T, s audit.Store) {
	ctx := context.Background()
	if _, err := s.Summary(ctx, "exec-1"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("Summary on empty store: %v, want ErrNotFound", err)
	}
	e := mk("nf-1")
	e.ExecutionID = ""
	mustAppend(t, s, []audit.Entry{e, mk("nf-2")})
	for _, id := range []string{"", "exec-2", "EXEC-1", "exec-1 "} {
		if _, err := s.Summary(ctx, id); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("Summary(%q): %v, want ErrNotFound", id, err)
		}
	}
	if sum, err := s.Summary(ctx, "exec-1"); err != nil || sum.TotalEntries != 1 {
		t.Fatalf("Summary(exec-1) = %+v, %v", sum, err)
	}
}

func testCount(t *testing.T, s audit.Store) {
	if n := mustCount(t, s); n != 0 {
		t.Fatalf("Count on empty store = %d", n)
	}
	mustAppend(t, s, batch("c", 7))
	mustAppend(t, s, batch("c", 9)) // 7 duplicates, 2 new
	if n := mustCount(t, s); n != 9 {
		t.Fatalf("Count = %d, want 9", n)
	}
}

func testContextDone(t *testing.T, s audit.Store) {
	mustAppend(t, s, batch("ctx", 3))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"cancelled", cancelled, context.Canceled}, {"deadline", expired, context.DeadlineExceeded}} {
		t.Run(c.name, func(t *testing.T) {
			calls := map[string]func() error{
				"Append":     func() error { _, err := s.Append(c.ctx, batch("ctx-new", 2)); return err },
				"Query":      func() error { _, err := s.Query(c.ctx, audit.Filter{}); return err },
				"Summary":    func() error { _, err := s.Summary(c.ctx, "exec-1"); return err },
				"Executions": func() error { _, err := s.Executions(c.ctx, audit.Page{}); return err },
				"Count":      func() error { _, err := s.Count(c.ctx); return err },
			}
			for _, name := range slices.Sorted(maps.Keys(calls)) {
				if err := calls[name](); !errors.Is(err, c.want) {
					t.Errorf("%s with a %s context: error %v, want one wrapping %v", name, c.name, err, c.want)
				}
			}
		})
	}
	if n := mustCount(t, s); n != 3 {
		t.Fatalf("Count = %d after failed appends, want 3", n)
	}
}

func testClosed(t *testing.T, s audit.Store) {
	ctx := context.Background()
	mustAppend(t, s, batch("cl", 2))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	checks := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { _, err := s.Append(ctx, batch("cl-new", 1)); return err }},
		{"Append empty", func() error { _, err := s.Append(ctx, nil); return err }},
		{"Query", func() error { _, err := s.Query(ctx, audit.Filter{}); return err }},
		{"Summary", func() error { _, err := s.Summary(ctx, "exec-1"); return err }},
		{"Executions", func() error { _, err := s.Executions(ctx, audit.Page{}); return err }},
		{"Count", func() error { _, err := s.Count(ctx); return err }},
	}
	for _, c := range checks {
		if err := c.call(); !errors.Is(err, audit.ErrClosed) {
			t.Errorf("%s after Close: error %v, want one wrapping audit.ErrClosed", c.name, err)
		}
	}
}

// incompressible returns n bytes of random letters and digits.
func incompressible(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
