package langgraph_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/langgraph"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// readRecords parses every line of a testdata file.
func readRecords(t *testing.T, name string) []langgraph.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var recs []langgraph.Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, langgraph.MaxRecordSize)
	for n := 1; sc.Scan(); n++ {
		r, err := langgraph.ParseRecord(sc.Bytes())
		if err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// counts of the outcomes of a translation.
type counts struct{ recorded, filtered, folded int }

// translate runs recs through tr, the i-th record read at t0 + i ms.
func translate(t *testing.T, tr *langgraph.Translator, recs []langgraph.Record, opts *langgraph.Options, first int) ([]event.Event, counts) {
	t.Helper()
	var evs []event.Event
	var c counts
	for i := range recs {
		var out langgraph.Outcome
		var err error
		evs, out, err = tr.Translate(evs, &recs[i], t0.Add(time.Duration(first+i)*time.Millisecond), opts)
		if err != nil {
			t.Fatalf("record %d: %v", first+i, err)
		}
		switch out {
		case langgraph.Recorded:
			c.recorded++
		case langgraph.Filtered:
			c.filtered++
		case langgraph.Folded:
			c.folded++
		}
	}
	return evs, c
}

// sig describes an event in one short line: its wire name and node.
func sig(ev event.Event) string {
	switch e := ev.(type) {
	case *event.ExecutionStarted:
		return "ExecutionStarted " + e.ExecutionID + " " + e.WorkflowName
	case *event.ExecutionCompleted:
		return "ExecutionCompleted nodes=" + itoa(e.NodesExecuted)
	case *event.ExecutionFailed:
		return "ExecutionFailed at=" + e.FailedAtNode + " " + e.ErrorType + ": " + e.ErrorMessage
	case *event.ExecutionPaused:
		return "ExecutionPaused at=" + e.PausedAtNode + " " + e.Reason
	case *event.ExecutionResumed:
		return "ExecutionResumed from=" + e.ResumeFromNode
	case *event.NodeStarted:
		return "NodeStarted " + e.NodeID + " attempt=" + itoa(e.Context["attempt"].(int64))
	case *event.NodeCompleted:
		return "NodeCompleted " + e.NodeID + " tools=" + itoa(e.ToolInvocations)
	case *event.NodeFailed:
		return "NodeFailed " + e.NodeID + " " + e.ErrorType
	case *event.LangGraphAudit:
		s := ev.WireName()
		if e.NodeID != nil {
			s += " " + *e.NodeID
		}
		return s
	}
	return ev.WireName()
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func sigs(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = sig(ev)
	}
	return out
}

func checkSigs(t *testing.T, got []event.Event, want []string) {
	t.Helper()
	g := sigs(got)
	if !slices.Equal(g, want) {
		t.Errorf("events:\n got %d:\n  %s\nwant %d:\n  %s", len(g), strings.Join(g, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

// A real LangGraph.js run (graph.mjs of cmd/wtb/testdata/langgraphjs): a
// model asks for a tool, the tool runs, the model answers, a conditional
// branch goes to a node that fails once and succeeds when retried.
func TestJSAgentRun(t *testing.T) {
	recs := readRecords(t, "js-agent.ndjson")
	evs, c := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs, nil, 0)
	checkSigs(t, evs, []string{
		"ExecutionStarted t-dump LangGraph",
		"NodeStarted agent attempt=1",
		"llm_started FakeStreamingChatModel",
		"llm_streamed FakeStreamingChatModel",
		"llm_completed FakeStreamingChatModel",
		"node_started RunnableLambda",
		"node_completed RunnableLambda",
		"NodeCompleted agent tools=0",
		"NodeStarted tools attempt=1",
		"tool_started get_weather",
		"tool_completed get_weather",
		"NodeCompleted tools tools=1",
		"NodeStarted agent attempt=1",
		"llm_started FakeListChatModel",
		"llm_streamed FakeListChatModel",
		"llm_completed FakeListChatModel",
		"node_started RunnableLambda",
		"node_completed RunnableLambda",
		"NodeCompleted agent tools=0",
		"NodeStarted report attempt=1",
		"NodeFailed report Unknown",
		"NodeStarted report attempt=2",
		"NodeCompleted report tools=0",
		"ExecutionCompleted nodes=4",
	})
	// 2 __start__ records filtered; 4 graph stream records and 20 of the
	// second model's 21 chunks folded.
	if c != (counts{recorded: 49 - 2 - 24, filtered: 2, folded: 24}) {
		t.Errorf("outcomes %+v", c)
	}
	var failed *event.NodeFailed
	var lastLLM *event.LangGraphAudit
	for _, ev := range evs {
		switch e := ev.(type) {
		case *event.NodeFailed:
			failed = e
		case *event.LangGraphAudit:
			if e.Kind == event.LangGraphLLMCompleted {
				lastLLM = e
			}
		}
	}
	if !failed.Recoverable || !strings.Contains(failed.ErrorMessage, "retried") || failed.DurationMS <= 0 {
		t.Errorf("inferred failure %+v", failed)
	}
	if lastLLM.Metrics["stream_chunks"] != 21 || lastLLM.DurationMS == nil || *lastLLM.DurationMS != 22 {
		t.Errorf("model end: metrics %v duration %v", lastLLM.Metrics, lastLLM.DurationMS)
	}
	if ids := eventIDs(evs); len(ids) != len(evs) {
		t.Errorf("%d distinct ids for %d events", len(ids), len(evs))
	}
}

func eventIDs(evs []event.Event) map[string]bool {
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.EventID()] = true
	}
	return ids
}

// The same stream translated again, by the same translator or another,
// split into parts or in one, yields the same event ids: posting a stream
// twice records it once.
func TestIdempotent(t *testing.T) {
	recs := readRecords(t, "js-agent.ndjson")
	first, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs, nil, 0)
	want := eventIDs(first)

	tr := langgraph.NewTranslator(langgraph.Limits{})
	a, _ := translate(t, tr, recs[:17], nil, 1000)
	b, _ := translate(t, tr, recs[17:], nil, 2000)
	again, _ := translate(t, tr, recs, nil, 3000) // the whole stream once more
	for name, evs := range map[string][]event.Event{"split": append(a, b...), "again": again} {
		got := eventIDs(evs)
		if len(got) != len(want) {
			t.Errorf("%s: %d ids, want %d", name, len(got), len(want))
		}
		for id := range got {
			if !want[id] {
				t.Errorf("%s: id %s not in the first translation", name, id)
			}
		}
	}
	checkSigs(t, append(a, b...), sigs(first))
	// Another execution name gives other ids.
	other, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs, &langgraph.Options{ExecutionID: "other"}, 0)
	for id := range eventIDs(other) {
		if want[id] {
			t.Errorf("id %s shared between two executions", id)
		}
	}
}

// A node that fails for good: LangGraph.js's stream stops after the node's
// start, and the producer adds an error record for the graph (run.mjs).
func TestJSFatalFailure(t *testing.T) {
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), readRecords(t, "js-fatal.ndjson"), nil, 0)
	checkSigs(t, evs, []string{
		"ExecutionStarted t-fatal LangGraph",
		"NodeStarted ok attempt=1",
		"NodeCompleted ok tools=0",
		"NodeStarted boom attempt=1",
		"NodeFailed boom TypeError",
		"ExecutionFailed at=boom TypeError: boom failed for good",
	})
	if f := evs[4].(*event.NodeFailed); f.Recoverable || f.ErrorMessage != "boom failed for good" {
		t.Errorf("node failure %+v", f)
	}
}

// A run whose stream has no end for the graph stays running: no completion
// is invented.
func TestUnfinishedRunStaysRunning(t *testing.T) {
	recs := readRecords(t, "js-agent.ndjson")
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs[:len(recs)-3], nil, 0)
	for _, ev := range evs {
		switch ev.(type) {
		case *event.ExecutionCompleted, *event.ExecutionFailed:
			t.Fatalf("a run without its graph's end record ended: %s", sig(ev))
		}
	}
}

// An interrupt pauses the execution at the interrupted node; the
// invocation that resumes it is an ExecutionResumed, and the completed
// nodes of both invocations are counted.
func TestJSInterruptAndResume(t *testing.T) {
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), readRecords(t, "js-interrupt.ndjson"), nil, 0)
	checkSigs(t, evs, []string{
		"ExecutionStarted t-interrupt LangGraph",
		"NodeStarted ask attempt=1",
		"ExecutionPaused at=ask interrupt",
		"ExecutionResumed from=ask",
		"NodeStarted ask attempt=1",
		"NodeCompleted ask tools=0",
		"NodeStarted after attempt=1",
		"NodeCompleted after tools=0",
		"ExecutionCompleted nodes=2",
	})
}

// Parallel tasks of one node (Send) are two attempts of two tasks, not a
// failure and a retry.
func TestJSParallelTasks(t *testing.T) {
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), readRecords(t, "js-send.ndjson"), nil, 0)
	checkSigs(t, evs, []string{
		"ExecutionStarted t-send LangGraph",
		"NodeStarted fan attempt=1",
		"node_started RunnableLambda",
		"node_completed RunnableLambda",
		"NodeCompleted fan tools=0",
		"NodeStarted work attempt=1",
		"NodeStarted work attempt=1",
		"NodeCompleted work tools=0",
		"NodeCompleted work tools=0",
		"ExecutionCompleted nodes=3",
	})
}

// Python's records carry parent_ids, error records and (as a wtb
// extension) timestamps.
func TestPythonShapedRun(t *testing.T) {
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), readRecords(t, "py-shaped.ndjson"), &langgraph.Options{IncludeInputs: true}, 0)
	checkSigs(t, evs, []string{
		"ExecutionStarted thread-py LangGraph",
		"NodeStarted retrieve attempt=1",
		"retriever_started VectorStoreRetriever",
		"retriever_completed VectorStoreRetriever",
		"NodeCompleted retrieve tools=0",
		"NodeStarted generate attempt=1",
		"llm_started ChatOpenAI",
		"llm_streamed ChatOpenAI",
		"llm_completed ChatOpenAI",
		"NodeCompleted generate tools=0",
		"NodeStarted publish attempt=1",
		"NodeFailed publish QuotaError",
		"ExecutionFailed at=publish QuotaError: quota exceeded",
	})
	start := evs[0].(*event.ExecutionStarted)
	if start.InitialState["question"] != "What is wtb?" || !start.Timestamp.Equal(t0) {
		t.Errorf("start %+v", start)
	}
	llm := evs[8].(*event.LangGraphAudit)
	if *llm.ParentRunID != "r-gen" {
		t.Errorf("parent run %q, want the immediate parent r-gen", *llm.ParentRunID)
	}
	if llm.Metrics["input_tokens"] != 12 || llm.Metrics["output_tokens"] != 4 || llm.Metrics["total_tokens"] != 16 || llm.Metrics["stream_chunks"] != 3 {
		t.Errorf("metrics %v", llm.Metrics)
	}
	if *llm.DurationMS != 250 {
		t.Errorf("model duration %d ms, want 250 (from the records' timestamps)", *llm.DurationMS)
	}
	if ttf := evs[7].(*event.LangGraphAudit).Metrics["time_to_first_chunk_ms"]; ttf != 200 {
		t.Errorf("time to first chunk %v", ttf)
	}
	if d := evs[4].(*event.NodeCompleted).DurationMS; d != 50 {
		t.Errorf("node duration %v, want 50", d)
	}
	if f := evs[12].(*event.ExecutionFailed); f.DurationMS != 410 {
		t.Errorf("execution duration %v", f.DurationMS)
	}
}

func TestFilters(t *testing.T) {
	recs := readRecords(t, "js-agent.ndjson")
	tests := []struct {
		name string
		opts langgraph.Options
		has  []string
		not  []string
	}{
		{"keep internal", langgraph.Options{KeepInternal: true}, []string{"NodeStarted __start__ attempt=1", "NodeCompleted __start__ tools=0"}, nil},
		{"only agent", langgraph.Options{Nodes: []string{"agent"}}, []string{"ExecutionStarted t-dump LangGraph", "NodeStarted agent attempt=1", "llm_started FakeListChatModel"}, []string{"NodeStarted tools attempt=1", "tool_started get_weather", "NodeStarted report attempt=1"}},
		{"without tools", langgraph.Options{ExcludeNodes: []string{"tools"}}, []string{"NodeStarted report attempt=2"}, []string{"NodeStarted tools attempt=1", "tool_started get_weather"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs, &tc.opts, 0)
			got := sigs(evs)
			for _, h := range tc.has {
				if !slices.Contains(got, h) {
					t.Errorf("missing %q", h)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(got, n) {
					t.Errorf("has %q", n)
				}
			}
		})
	}
	// Outputs: kept by default, left out on request; inputs the other way.
	evs, _ := translate(t, langgraph.NewTranslator(langgraph.Limits{}), recs, &langgraph.Options{OmitOutputs: true}, 0)
	for _, ev := range evs {
		if c, ok := ev.(*event.NodeCompleted); ok && c.Result != nil {
			t.Errorf("OmitOutputs: result %v", c.Result)
		}
		if s, ok := ev.(*event.ExecutionStarted); ok && len(s.InitialState) != 0 {
			t.Errorf("inputs recorded without IncludeInputs: %v", s.InitialState)
		}
	}
}

func TestNoExecution(t *testing.T) {
	r, err := langgraph.ParseRecord([]byte(`{"event":"on_chain_start","name":"LangGraph","run_id":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	tr := langgraph.NewTranslator(langgraph.Limits{})
	if _, _, err := tr.Translate(nil, &r, t0, nil); err != langgraph.ErrNoExecution {
		t.Errorf("err = %v", err)
	}
	evs, _, err := tr.Translate(nil, &r, t0, &langgraph.Options{ExecutionID: "named"})
	if err != nil || len(evs) != 1 || evs[0].(*event.ExecutionStarted).ExecutionID != "named" {
		t.Errorf("named: %v %v", evs, err)
	}
}

// The translator forgets the least recently used execution past its limit.
func TestLimits(t *testing.T) {
	tr := langgraph.NewTranslator(langgraph.Limits{MaxExecutions: 2})
	for _, id := range []string{"a", "b", "c"} {
		r := langgraph.Record{Event: "on_chain_start", Name: "LangGraph", RunID: "run-" + id}
		if _, _, err := tr.Translate(nil, &r, t0, &langgraph.Options{ExecutionID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if tr.InFlight() != 2 || tr.Evicted() != 1 {
		t.Errorf("in flight %d, evicted %d", tr.InFlight(), tr.Evicted())
	}
}

func TestParseRecord(t *testing.T) {
	good := `{"event":"on_tool_end","name":"t","run_id":"r","data":{"output":1},"metadata":{},"tags":["a"],"parent_ids":["p"],"timestamp":1795991796.5,"extra":true}`
	r, err := langgraph.ParseRecord([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Time.Equal(time.Unix(1795991796, 5e8)) || r.ParentIDs[0] != "p" {
		t.Errorf("%+v", r)
	}
	for _, tc := range []struct{ in, want string }{
		{`[]`, "want a JSON object"},
		{`{"name":"x"}`, `missing "event"`},
		{`{"event":"on_chain_start","tags":"x"}`, `"tags" must be an array of strings`},
		{`{"event":"on_chain_start","data":[]}`, `"data" must be an object`},
		{`{"event":"on_chain_start","run_id":7}`, `"run_id" must be a string`},
		{`{"event":"on_chain_start","timestamp":"yesterday"}`, `"timestamp"`},
		{`{"event":"x"} {}`, "more than one JSON value"},
		{`{"event":`, "unexpected EOF"},
	} {
		_, err := langgraph.ParseRecord([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.in, err, tc.want)
		}
	}
}
