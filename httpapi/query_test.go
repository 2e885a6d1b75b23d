package httpapi

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

func (e *testEnv) auditPage(q url.Values) auditPage {
	e.t.Helper()
	r := e.get("/v1/audit?" + q.Encode())
	if r.status != 200 {
		e.t.Fatalf("GET /v1/audit?%s: %d %s", q.Encode(), r.status, r.body)
	}
	var p auditPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// seedExecution records a small execution: started, n nodes, one failed
// node, completed; timestamps one second apart from base.
func seedExecution(t *testing.T, env *testEnv, exec string, base time.Time, nodes int) []event.Event {
	t.Helper()
	var evs []event.Event
	start := execStarted(exec)
	evs = append(evs, start)
	for i := range nodes {
		evs = append(evs, nodeStarted(exec, "node-"+strconv.Itoa(i)))
	}
	failed := event.New[event.NodeFailed]()
	failed.ExecutionID, failed.NodeID, failed.ErrorMessage = exec, "node-x", "boom"
	evs = append(evs, failed, execCompleted(exec))
	for i, ev := range evs {
		switch v := ev.(type) {
		case *event.ExecutionStarted:
			v.Timestamp = base.Add(time.Duration(i) * time.Second)
		case *event.NodeStarted:
			v.Timestamp = base.Add(time.Duration(i) * time.Second)
		case *event.NodeFailed:
			v.Timestamp = base.Add(time.Duration(i) * time.Second)
		case *event.ExecutionCompleted:
			v.Timestamp = base.Add(time.Duration(i) * time.Second)
		}
	}
	env.ingest(evs)
	return evs
}

func TestQueryFilters(t *testing.T) {
	env := newEnv(t, Options{})
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	seedExecution(t, env, "exec-a", base, 3)
	seedExecution(t, env, "exec-b", base.Add(time.Hour), 2)

	tests := []struct {
		name  string
		q     url.Values
		count int
		check func(e audit.Entry) bool
	}{
		{"all", url.Values{}, 11, func(audit.Entry) bool { return true }},
		{"execution", url.Values{"execution_id": {"exec-a"}}, 6, func(e audit.Entry) bool { return e.ExecutionID == "exec-a" }},
		{"node", url.Values{"node_id": {"node-1"}}, 2, func(e audit.Entry) bool { return e.NodeID == "node-1" }},
		{"one type", url.Values{"event_type": {"node_started"}}, 5, func(e audit.Entry) bool { return e.Type == audit.TypeNodeStarted }},
		{"two types", url.Values{"event_type": {"execution_started", "execution_completed"}}, 4, func(e audit.Entry) bool {
			return e.Type == audit.TypeExecutionStarted || e.Type == audit.TypeExecutionCompleted
		}},
		{"min severity", url.Values{"min_severity": {"error"}}, 2, func(e audit.Entry) bool { return e.Severity == audit.SeverityError }},
		{"since", url.Values{"since": {base.Add(time.Hour).Format(time.RFC3339)}}, 5, func(e audit.Entry) bool { return e.ExecutionID == "exec-b" }},
		{"until", url.Values{"until": {base.Add(2 * time.Second).Format(time.RFC3339)}}, 2, func(e audit.Entry) bool { return e.ExecutionID == "exec-a" }},
		{"combined", url.Values{"execution_id": {"exec-b"}, "event_type": {"node_started"}}, 2, func(e audit.Entry) bool {
			return e.ExecutionID == "exec-b" && e.Type == audit.TypeNodeStarted
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := env.auditPage(tc.q)
			if len(p.Entries) != tc.count {
				t.Fatalf("%d entries, want %d", len(p.Entries), tc.count)
			}
			var prev int64
			for _, e := range p.Entries {
				if !tc.check(e) {
					t.Fatalf("entry does not match the filter: %+v", e)
				}
				if e.Seq <= prev {
					t.Fatalf("entries out of seq order: %d after %d", e.Seq, prev)
				}
				prev = e.Seq
			}
			if p.NextCursor != nil {
				t.Fatalf("next_cursor %q on a partial page", *p.NextCursor)
			}
		})
	}
}

func TestQueryCursorPaging(t *testing.T) {
	env := newEnv(t, Options{})
	evs := nodeEvents("exec-page", 25)
	env.ingest(evs)
	env.ingest(nodeEvents("exec-other", 5))
	var got []string
	q := url.Values{"execution_id": {"exec-page"}, "limit": {"10"}}
	pages := 0
	for {
		p := env.auditPage(q)
		pages++
		for _, e := range p.Entries {
			got = append(got, e.EventID)
		}
		if p.NextCursor == nil {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		q.Set("cursor", *p.NextCursor)
	}
	if pages != 3 || len(got) != 25 {
		t.Fatalf("%d pages, %d entries; want 3 pages, 25 entries", pages, len(got))
	}
	for i, ev := range evs {
		if got[i] != ev.EventID() {
			t.Fatalf("entry %d is %s, want %s", i, got[i], ev.EventID())
		}
	}
	// A full last page has a cursor; the page after it is empty.
	q = url.Values{"execution_id": {"exec-page"}, "limit": {"25"}}
	p := env.auditPage(q)
	if p.NextCursor == nil {
		t.Fatal("full page without next_cursor")
	}
	q.Set("cursor", *p.NextCursor)
	if p := env.auditPage(q); len(p.Entries) != 0 || p.NextCursor != nil {
		t.Fatalf("after the last page: %+v", p)
	}
}

func TestQueryBadParameters(t *testing.T) {
	env := newEnv(t, Options{})
	for _, q := range []string{
		"limit=0", "limit=10001", "limit=x", "cursor=-1", "cursor=abc",
		"event_type=nope", "min_severity=loud", "since=yesterday", "until=2026-13-01",
	} {
		r := env.get("/v1/audit?" + q)
		if r.status != 400 || parseError(t, r).Error.Code != CodeBadParameter {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
		if !strings.Contains(string(r.body), strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("%s: error does not name the parameter: %s", q, r.body)
		}
	}
}

func TestExecutionsSummaryTimeline(t *testing.T) {
	env := newEnv(t, Options{})
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"exec-c", "exec-a", "exec-b"} {
		seedExecution(t, env, id, base, 2)
	}

	t.Run("executions paged", func(t *testing.T) {
		var ids []string
		cursor := ""
		for range 5 {
			r := env.get("/v1/executions?limit=2&cursor=" + url.QueryEscape(cursor))
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var out struct {
				Executions []audit.Summary `json:"executions"`
				NextCursor *string         `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			for _, s := range out.Executions {
				ids = append(ids, s.ExecutionID)
				if s.TotalEntries != 5 || s.Status != audit.StatusCompleted || s.NodesFailed != 1 {
					t.Fatalf("summary %+v", s)
				}
			}
			if out.NextCursor == nil {
				break
			}
			cursor = *out.NextCursor
		}
		// Started at the same time: ids byte-wise descending.
		if strings.Join(ids, ",") != "exec-c,exec-b,exec-a" {
			t.Fatalf("executions %v", ids)
		}
	})

	t.Run("executions filtered", func(t *testing.T) {
		for _, tc := range []struct{ query, want string }{
			{"status=completed", "exec-c,exec-b,exec-a"},
			{"status=running,failed", ""},
			{"status=paused&status=completed&q=EXEC-B", "exec-b"},
			{"q=C-c", "exec-c"},
			{"workflow=nope", ""},
			{"since=2026-03-01T10:00:00Z&until=2026-03-01T10:00:00.001Z", "exec-c,exec-b,exec-a"},
			{"since=2026-03-01T10:00:00.001Z", ""},
		} {
			r := env.get("/v1/executions?" + tc.query)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", tc.query, r.status, r.body)
			}
			var out struct {
				Executions []audit.Summary `json:"executions"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range out.Executions {
				ids = append(ids, s.ExecutionID)
			}
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("%s: executions %q, want %q", tc.query, got, tc.want)
			}
		}
		for _, q := range []string{"status=done", "cursor=exec-a", "since=yesterday", "limit=0"} {
			if r := env.get("/v1/executions?" + q); r.status != 400 || !strings.Contains(string(r.body), "bad_parameter") {
				t.Errorf("%s: %d %s, want 400 bad_parameter", q, r.status, r.body)
			}
		}
	})

	t.Run("summary", func(t *testing.T) {
		r := env.get("/v1/executions/exec-b/summary")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var s audit.Summary
		if err := json.Unmarshal(r.body, &s); err != nil {
			t.Fatal(err)
		}
		want, err := env.store.Summary(t.Context(), "exec-b")
		if err != nil {
			t.Fatal(err)
		}
		if s.ExecutionID != "exec-b" || s.TotalEntries != want.TotalEntries || s.LastSeq != want.LastSeq || s.WorkflowID != "wf-1" {
			t.Fatalf("summary %+v, want %+v", s, want)
		}
	})

	t.Run("timeline", func(t *testing.T) {
		sum, err := env.store.Summary(t.Context(), "exec-a")
		if err != nil {
			t.Fatal(err)
		}
		entries, err := env.store.Query(t.Context(), audit.Filter{ExecutionID: "exec-a"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			query string
			opts  audit.FormatOptions
		}{
			{"", audit.FormatOptions{}},
			{"?all=true", audit.FormatOptions{All: true}},
			{"?debug", audit.FormatOptions{Debug: true}},
			{"?all=1&debug=1", audit.FormatOptions{All: true, Debug: true}},
		} {
			r := env.get("/v1/executions/exec-a/timeline" + q.query)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Fatalf("%s: %d %s", q.query, r.status, r.body)
			}
			want := audit.FormatTimeline(sum, entries, q.opts) + "\n"
			if string(r.body) != want {
				t.Fatalf("%s: timeline\n%s\nwant\n%s", q.query, r.body, want)
			}
		}
		if r := env.get("/v1/executions/exec-a/timeline?all=maybe"); r.status != 400 {
			t.Fatalf("all=maybe: %d", r.status)
		}
	})

	t.Run("unknown execution", func(t *testing.T) {
		for _, p := range []string{"/v1/executions/nope/summary", "/v1/executions/nope/timeline"} {
			r := env.get(p)
			if r.status != 404 || parseError(t, r).Error.Code != CodeNotFound {
				t.Fatalf("%s: %d %s", p, r.status, r.body)
			}
			if msg := parseError(t, r).Error.Message; msg != `execution "nope" not found` {
				t.Errorf("%s: message %q names no execution", p, msg)
			}
		}
	})
}

func TestTimelineLimit(t *testing.T) {
	env := newEnv(t, Options{MaxTimelineEntries: 5})
	env.ingest(nodeEvents("long", 6))
	env.ingest(nodeEvents("short", 5))
	if r := env.get("/v1/executions/short/timeline"); r.status != 200 {
		t.Fatalf("short: %d %s", r.status, r.body)
	}
	r := env.get("/v1/executions/long/timeline")
	if r.status != 422 || parseError(t, r).Error.Code != CodeTooManyEntries {
		t.Fatalf("long: %d %s", r.status, r.body)
	}
}
