package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// Route describes one route of the API. Routes returns the list the
// server's router is built from; the authorization tests and the OpenAPI
// document read the same list, so a route is added in one place: the
// table in routeTable.
type Route struct {
	// Method and Path are the route's net/http pattern ("GET",
	// "/v1/executions/{id}/summary").
	Method, Path string
	// Name labels the route in metrics and in the request log.
	Name string
	// Scope is the token scope the route requires when the server has
	// tokens; empty for the open routes (/healthz, /readyz, the OpenAPI
	// document).
	Scope Scope
	// Stream marks a live stream: it is counted against the stream limits
	// and manages its own write deadlines.
	Stream bool
	// Summary is the route's one-line description.
	Summary string
	// Params are the query parameters the route takes. Any other parameter,
	// a malformed escape or a repeated single-valued parameter is answered
	// 400 naming the parameter.
	Params []Param
	// Sample is a request the route answers with success (OK) on a store
	// holding execution SampleExecution: the OpenAPI document's example and
	// the authorization tests' allowed case.
	Sample Sample
	// OK is the status of a successful answer (200 when zero).
	OK int

	handle func(*Server, http.ResponseWriter, *http.Request) *apiError
}

// Param is a query parameter of a route.
type Param struct {
	// Name is the parameter's name.
	Name string
	// Type is its JSON Schema type: "string", "integer" or "boolean".
	Type string
	// Repeat allows the parameter more than once.
	Repeat bool
	// Description says what it does.
	Description string
}

// Sample is an example request of a route.
type Sample struct {
	// Query is the raw query string, without "?".
	Query string
	// ContentType and Body are the request body, if any.
	ContentType string
	Body        string
}

// SampleExecution is the execution id the routes' samples refer to.
const SampleExecution = "exec-1"

// sampleEvent is the body of the ingest route's sample.
const sampleEvent = `{"event_type":"NodeStartedEvent","event_id":"0190b7e2-6a4c-7f55-9a51-52b3a4c7e001",` +
	`"timestamp":"2026-01-15T10:00:00Z","execution_id":"exec-1","node_id":"retrieve","node_name":"retrieve"}`

// pageParams are the paging parameters of the list routes.
var pageParams = []Param{
	{Name: "limit", Type: "integer", Description: "page size, 1 to 10000 (default 100)"},
	{Name: "cursor", Type: "string", Description: "next_cursor of the previous page"},
}

// routeTable is the API. Keep it in the order of the documentation.
var routeTable = []Route{
	{
		Method: "POST", Path: "/v1/events", Name: "ingest", Scope: ScopeIngest,
		Summary: "Ingest events (JSON, NDJSON, CloudEvents); answered once they are durable",
		Sample:  Sample{ContentType: MediaJSON, Body: sampleEvent},
		handle:  (*Server).handleIngest,
	},
	{
		Method: "POST", Path: "/v1/langgraph/events", Name: "langgraph", Scope: ScopeIngest,
		Summary: "Ingest a LangGraph event stream (astream_events / streamEvents v2 records, NDJSON), recorded as it arrives",
		Params:  langGraphParams,
		Sample:  Sample{ContentType: MediaNDJSON, Body: sampleLangGraph},
		handle:  (*Server).handleLangGraph,
	},
	{
		Method: "POST", Path: "/v1/traces", Name: "otlp", Scope: ScopeIngest,
		Summary: "OTLP/HTTP trace ingest (protobuf or JSON, gzip): spans become workflow events",
		Sample:  Sample{ContentType: "application/json", Body: sampleOTLP},
		handle:  (*Server).handleOTLP,
	},
	{
		Method: "GET", Path: "/v1/audit", Name: "audit", Scope: ScopeRead,
		Summary: "Query audit entries in seq order, with cursor paging",
		Params: append([]Param{
			{Name: "execution_id", Type: "string", Description: "entries of this execution"},
			{Name: "node_id", Type: "string", Description: "entries of this node"},
			{Name: "event_type", Type: "string", Repeat: true, Description: "entries of this audit event type (repeatable)"},
			{Name: "min_severity", Type: "string", Description: "debug, info, success, warning or error"},
			{Name: "since", Type: "string", Description: "entries at or after this RFC 3339 time"},
			{Name: "until", Type: "string", Description: "entries before this RFC 3339 time"},
		}, pageParams...),
		Sample: Sample{Query: "execution_id=" + SampleExecution + "&limit=10"},
		handle: (*Server).handleAudit,
	},
	{
		Method: "GET", Path: "/v1/executions", Name: "executions", Scope: ScopeRead,
		Summary: "List executions with their summaries, newest first",
		Params: append([]Param{
			{Name: "status", Type: "string", Repeat: true, Description: "running, paused, completed, failed or cancelled (repeatable, or comma-separated)"},
			{Name: "workflow", Type: "string", Description: "executions of this workflow id"},
			{Name: "q", Type: "string", Description: "text in the execution id or the workflow"},
			{Name: "since", Type: "string", Description: "executions started at or after this RFC 3339 time"},
			{Name: "until", Type: "string", Description: "executions started before this RFC 3339 time"},
		}, pageParams...),
		Sample: Sample{Query: "limit=10"},
		handle: (*Server).handleExecutions,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/summary", Name: "summary", Scope: ScopeRead,
		Summary: "The summary of one execution",
		handle:  (*Server).handleSummary,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/timeline", Name: "timeline", Scope: ScopeRead,
		Summary: "The text timeline of one execution, as `wtb audit show` prints it",
		Params: []Param{
			{Name: "all", Type: "boolean", Description: "every entry, debug ones included"},
			{Name: "debug", Type: "boolean", Description: "entry details"},
		},
		handle: (*Server).handleTimeline,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/trace", Name: "trace", Scope: ScopeRead,
		Summary: "One execution in the Chrome Trace Event format (open it in Perfetto or chrome://tracing)",
		handle:  (*Server).handleTrace,
	},
	{
		Method: "GET", Path: "/v1/compare", Name: "compare", Scope: ScopeRead,
		Summary: "Two executions side by side: aligned node runs, the first divergence, duration deltas, summary differences",
		Params: []Param{
			{Name: "a", Type: "string", Description: "the first execution's id"},
			{Name: "b", Type: "string", Description: "the second execution's id"},
		},
		Sample: Sample{Query: "a=" + SampleExecution + "&b=" + SampleExecution},
		handle: (*Server).handleCompare,
	},
	{
		Method: "GET", Path: "/v1/batches/{id}", Name: "batch", Scope: ScopeRead,
		Summary: "A Ray batch test with its variants: status, score, metrics, failure, duration, execution",
		handle:  (*Server).handleBatch,
	},
	{
		Method: "GET", Path: "/v1/checkpoint", Name: "checkpoint", Scope: ScopeRead,
		Summary: "The latest signed checkpoint of the log's Merkle tree (C2SP tlog-checkpoint, a signed note, text/plain)",
		handle:  (*Server).handleCheckpoint,
	},
	{
		Method: "GET", Path: "/v1/proof/inclusion", Name: "inclusion_proof", Scope: ScopeRead,
		Summary: "The RFC 6962 inclusion proof of one entry in the tree of a checkpoint",
		Params: []Param{
			{Name: "seq", Type: "integer", Description: "the entry's seq"},
			{Name: "size", Type: "integer", Description: "the tree size (default: the latest checkpoint's)"},
		},
		Sample: Sample{Query: "seq=1&size=1"},
		handle: (*Server).handleInclusion,
	},
	{
		Method: "GET", Path: "/v1/proof/consistency", Name: "consistency_proof", Scope: ScopeRead,
		Summary: "The RFC 6962 consistency proof between two tree sizes",
		Params: []Param{
			{Name: "from", Type: "integer", Description: "the older tree size"},
			{Name: "to", Type: "integer", Description: "the newer tree size (default: the latest checkpoint's)"},
		},
		Sample: Sample{Query: "from=1&to=1"},
		handle: (*Server).handleConsistency,
	},
	{
		Method: "GET", Path: "/v1/stream", Name: "sse", Scope: ScopeRead, Stream: true,
		Summary: "Live entries as Server-Sent Events, resumable with Last-Event-ID or after",
		Params: []Param{
			{Name: "topic", Type: "string", Repeat: true, Description: "audit:*, execution:<id>, batch:<id> or type:<audit type> (repeatable)"},
			{Name: "after", Type: "integer", Description: "replay the entries after this seq first (as Last-Event-ID)"},
		},
		Sample: Sample{Query: "topic=audit:*"},
		handle: (*Server).handleSSE,
	},
	{
		Method: "GET", Path: "/v1/ws", Name: "ws", Scope: ScopeRead, Stream: true,
		Summary: "Live entries over WebSocket, with subscribe, unsubscribe and resume",
		OK:      http.StatusSwitchingProtocols,
		handle:  (*Server).handleWS,
	},
	{
		Method: "GET", Path: "/metrics", Name: "metrics", Scope: ScopeRead,
		Summary: "Prometheus metrics",
		handle:  (*Server).handleMetrics,
	},
	{
		Method: "GET", Path: "/healthz", Name: "healthz",
		Summary: "Liveness: answers while the process runs",
		handle:  (*Server).handleHealth,
	},
	{
		Method: "GET", Path: "/readyz", Name: "readyz",
		Summary: "Readiness: the store answers and writes succeed",
		handle:  (*Server).handleReady,
	},
}

// Routes returns the routes of the API, in the order of the documentation.
func Routes() []Route {
	out := slices.Clone(routeTable)
	for i := range out {
		out[i].Params = slices.Clone(out[i].Params)
		out[i].handle = nil
	}
	return out
}

// Pattern is the route's net/http pattern, "METHOD PATH".
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// PathParams are the names of the route's {name} path segments.
func (rt Route) PathParams() []string {
	var out []string
	for _, seg := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(seg[1:], "}"))
		}
	}
	return out
}

// SuccessStatus is the status of the route's successful answer.
func (rt Route) SuccessStatus() int {
	if rt.OK != 0 {
		return rt.OK
	}
	return http.StatusOK
}

// SamplePath is the route's path with its path parameters set to
// SampleExecution, and the sample's query.
func (rt Route) SamplePath() string {
	p := rt.Path
	for _, name := range rt.PathParams() {
		p = strings.ReplaceAll(p, "{"+name+"}", SampleExecution)
	}
	if rt.Sample.Query != "" {
		p += "?" + rt.Sample.Query
	}
	return p
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, []byte(`{"status":"ok"}`))
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) *apiError {
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}
