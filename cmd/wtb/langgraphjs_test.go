package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// langGraphJSDir holds the LangGraph.js producer: package.json, its
// lockfile, graph.mjs and run.mjs. .ci/run installs it with npm ci.
const langGraphJSDir = "testdata/langgraphjs"

// needLangGraphJS skips the test when Node.js or the producer's packages
// are missing, and fails it in CI.
func needLangGraphJS(t *testing.T) string {
	t.Helper()
	miss := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI installs them: .ci/run runs npm ci in cmd/wtb/%s)", why, langGraphJSDir)
		}
		t.Skipf("%s: skipping the LangGraph.js test (run npm ci in cmd/wtb/%s)", why, langGraphJSDir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		miss("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(langGraphJSDir, "node_modules", "@langchain", "langgraph")); err != nil {
		miss("the LangGraph.js packages are not installed")
	}
	return node
}

// runProducer runs run.mjs in mode against base and returns its output.
func runProducer(t *testing.T, node, mode, base, thread string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs", mode, base, thread)
	cmd.Dir = langGraphJSDir
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node run.mjs %s: %v\n%s\n%s", mode, err, out, stderr)
	}
	return string(out)
}

// entries returns every entry of execution exec, in seq order.
func entriesOf(t *testing.T, base, exec string) []audit.Entry {
	t.Helper()
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	getJSON(t, base, "/v1/audit?limit=10000&execution_id="+exec, &page)
	return page.Entries
}

// outline is what must be the same in both runs: the execution's and the
// nodes' entries that the timeline shows (outcomes in order), the node
// starts per node, and the LangGraph audit entries that end a tool, model
// or chain run, per kind and name.
type outline struct {
	outcomes []string
	starts   map[string]int
	audit    map[string]int
}

func outlineOf(entries []audit.Entry) outline {
	o := outline{starts: map[string]int{}, audit: map[string]int{}}
	for _, e := range entries {
		switch e.Type {
		case audit.TypeExecutionStarted, audit.TypeExecutionCompleted, audit.TypeExecutionFailed,
			audit.TypeNodeCompleted, audit.TypeNodeFailed:
			o.outcomes = append(o.outcomes, string(e.Type)+" "+e.NodeID)
		case audit.TypeNodeStarted:
			o.starts[e.NodeID]++
		default:
			// Tools, models and inner chains: the stream has a record for
			// their start and one for their end, a span is recorded once
			// at its end; only the stream has the model's token stream.
			if t := string(e.Type); strings.HasSuffix(t, "_completed") || strings.HasSuffix(t, "_failed") {
				o.audit[t+" "+e.NodeID]++
			}
		}
	}
	return o
}

var durationRE = regexp.MustCompile(`^\[[0-9:.TZ+-]+\] (.*?)( \[[0-9.]+ms\])?$`)

// timelineNodes returns the timeline's execution and node lines without
// their times and durations.
func timelineNodes(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		m := durationRE.FindStringSubmatch(l)
		if m == nil || strings.Contains(m[1], "LangGraph ") {
			continue
		}
		out = append(out, m[1])
	}
	return out
}

// A real LangGraph.js graph (a model asking for a tool, the tool, a
// conditional branch, a node that fails once and is retried, a
// checkpointer) runs twice: once streaming its streamEvents v2 records into
// /v1/langgraph/events, once under the OpenInference instrumentation with
// the OTLP/HTTP exporter into /v1/traces. wtb records the same execution.
func TestLangGraphJSProducers(t *testing.T) {
	node := needLangGraphJS(t)
	bin := buildWTB(t)
	srv := startServe(t, bin, filepath.Join(t.TempDir(), "lg.db"))

	for _, mode := range []string{"stream", "otlp"} {
		out := runProducer(t, node, mode, srv.url, "thread-"+mode)
		var res struct {
			Mode    string          `json:"mode"`
			Answer  json.RawMessage `json:"answer"`
			Failure *string         `json:"failure"`
		}
		if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil || res.Mode != mode || res.Failure != nil {
			t.Fatalf("%s: producer said %q (%v)", mode, out, err)
		}
	}

	var sums [2]audit.Summary
	var outlines [2]outline
	var timelines [2][]string
	for i, mode := range []string{"stream", "otlp"} {
		exec := "thread-" + mode
		getJSON(t, srv.url, "/v1/executions/"+exec+"/summary", &sums[i])
		outlines[i] = outlineOf(entriesOf(t, srv.url, exec))
		timelines[i] = timelineNodes(getText(t, srv.url, "/v1/executions/"+exec+"/timeline?all=true"))
	}
	wantOutcomes := []string{
		"execution_started ",
		"node_completed agent",
		"node_completed tools",
		"node_completed agent",
		"node_failed report", // the first attempt
		"node_completed report",
		"execution_completed ",
	}
	for i, mode := range []string{"stream", "otlp"} {
		s := sums[i]
		if s.Status != audit.StatusCompleted || s.WorkflowID != "LangGraph" || s.NodesExecuted != 4 || s.NodesFailed != 1 || s.Errors != 1 {
			t.Errorf("%s: summary %+v", mode, s)
		}
		if !slices.Equal(outlines[i].outcomes, wantOutcomes) {
			t.Errorf("%s: outcomes\n  %s\nwant\n  %s", mode, strings.Join(outlines[i].outcomes, "\n  "), strings.Join(wantOutcomes, "\n  "))
		}
	}
	if a, b := outlines[0], outlines[1]; !mapsEqual(a.starts, b.starts) || !mapsEqual(a.audit, b.audit) {
		t.Errorf("node starts %v / %v\nLangGraph audit entries %v / %v", a.starts, b.starts, a.audit, b.audit)
	}
	if want := map[string]int{"agent": 2, "tools": 1, "report": 2}; !mapsEqual(outlines[0].starts, want) {
		t.Errorf("node starts %v, want %v", outlines[0].starts, want)
	}
	for i, tl := range timelines {
		if len(tl) < len(wantOutcomes) {
			t.Fatalf("run %d: %d timeline lines read, want at least %d (has the timeline's format changed?)", i, len(tl), len(wantOutcomes))
		}
	}
	if !slices.Equal(timelines[0], timelines[1]) {
		t.Errorf("timelines differ:\nstream:\n  %s\notlp:\n  %s", strings.Join(timelines[0], "\n  "), strings.Join(timelines[1], "\n  "))
	}
	for _, tl := range timelines {
		if !slices.Contains(tl, "[+] Node 'tools' completed (1 tool calls) (node: tools)") {
			t.Errorf("timeline without the tool call:\n  %s", strings.Join(tl, "\n  "))
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
