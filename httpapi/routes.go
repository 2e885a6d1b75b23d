package httpapi

import (
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/otlp"
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
	// Description says more, when a line is not enough (CommonMark).
	Description string
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
	// Request lists the request bodies the route takes, one per media
	// type; nil for a route that reads no body.
	Request []Body
	// Answer lists the bodies of the successful answer, one per media
	// type; nil for an answer without a body (101).
	Answer []Body
	// AnswerHeaders names the headers the successful answer carries.
	AnswerHeaders []string
	// Errors are the error answers particular to the route; Responses
	// adds those every route has.
	Errors []Response

	handle func(*Server, http.ResponseWriter, *http.Request) *apiError
}

// Body is a request or answer body in one media type.
type Body struct {
	// Media is the media type ("application/json").
	Media string
	// Type is the Go type whose JSON encoding the body is; the OpenAPI
	// document derives its schema from the type's fields and their doc
	// comments. Nil when Schema names the schema instead.
	Type reflect.Type
	// Schema names a schema of the OpenAPI document's components that is
	// not a Go type's (SchemaEvents, SchemaEntry, ...), or a text or
	// binary format (SchemaText, SchemaBinary); empty when Type is set.
	Schema string
	// Description says what the body holds.
	Description string
}

// Response is an answer of a route with one status.
type Response struct {
	// Status is the HTTP status.
	Status int
	// Description says when it is answered.
	Description string
	// Bodies are its bodies, one per media type.
	Bodies []Body
	// Headers names the headers it carries ("Retry-After").
	Headers []string
}

// Schemas of the OpenAPI document that are not derived from a Go type.
const (
	SchemaEvents          = "Events"          // one event or an array of events
	SchemaEvent           = "Event"           // any event of the catalog
	SchemaCloudEvent      = "CloudEvent"      // one CloudEvent in structured mode
	SchemaCloudEvents     = "CloudEvents"     // an array of CloudEvents
	SchemaLangGraphRecord = "LangGraphRecord" // a LangGraph event stream record
	SchemaOTLPRequest     = "OTLPTraceRequest"
	SchemaOTLPResponse    = "OTLPTraceResponse"
	SchemaRPCStatus       = "RPCStatus" // google.rpc.Status, OTLP's error body
	SchemaWSEntry         = "WSEntry"   // a WebSocket message carrying an entry
	// SchemaText is a text body, SchemaLines text with one JSON document
	// per line (Body.Description says of which schema), SchemaBinary a
	// binary one.
	SchemaText   = "text"
	SchemaLines  = "lines"
	SchemaBinary = "binary"
)

// errorBody is the body of every JSON error answer.
type errorBody struct {
	// Error says what went wrong.
	Error errorDetail `json:"error"`
}

// errorDetail is the error of an errorBody.
type errorDetail struct {
	// Code is the error's code, one of the Code constants (malformed_json,
	// bad_parameter, unauthorized, ...): what a program tests.
	Code string `json:"code"`
	// Message says what is wrong and where, for a reader.
	Message string `json:"message"`
	// Index is the position of the offending event in the request, when
	// there is one.
	Index *int `json:"index,omitempty"`
}

// streamError is the data of the last event "error" of an SSE stream that
// the server ends.
type streamError struct {
	// Code is why the stream ends: slow_consumer, shutdown or store_error.
	Code string `json:"code"`
	// Message says so for a reader.
	Message string `json:"message"`
	// LastSeq is the seq of the last entry delivered: resume after it
	// (Last-Event-ID).
	LastSeq int64 `json:"last_seq"`
}

// auditPage is the answer of GET /v1/audit.
type auditPage struct {
	// Entries are the entries of the page, in seq order.
	Entries []audit.Entry `json:"entries"`
	// NextCursor is the cursor of the next page (the last entry's seq),
	// null when the page is not full: there are no more entries now.
	NextCursor *string `json:"next_cursor"`
}

// executionsPage is the answer of GET /v1/executions.
type executionsPage struct {
	// Executions are the summaries of the page, newest first.
	Executions []audit.Summary `json:"executions"`
	// NextCursor is the cursor of the next page, null when the page is not
	// full.
	NextCursor *string `json:"next_cursor"`
}

// healthAnswer is the answer of /healthz and /readyz.
type healthAnswer struct {
	// Status is "ok" (/healthz) or "ready" (/readyz).
	Status string `json:"status"`
}

// jsonAnswer is a JSON body of Go type T.
func jsonAnswer[T any]() []Body {
	return []Body{{Media: MediaJSON, Type: reflect.TypeFor[T]()}}
}

// Param is a query parameter of a route.
type Param struct {
	// Name is the parameter's name.
	Name string
	// Type is its JSON Schema type: "string", "integer" or "boolean".
	Type string
	// Repeat allows the parameter more than once.
	Repeat bool
	// Required makes the parameter necessary: without it the answer is 400.
	Required bool
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
		Request: []Body{
			{Media: MediaJSON, Schema: SchemaEvents, Description: "One event, or an array of events. With a ce-specversion header: the data of one CloudEvent in binary mode, its attributes in ce-* headers."},
			{Media: MediaNDJSON, Schema: SchemaLines, Description: "One event per line (Event); blank lines are ignored."},
			{Media: MediaCloudEvent, Schema: SchemaCloudEvent},
			{Media: MediaCloudEventsBatch, Schema: SchemaCloudEvents},
		},
		Answer: jsonAnswer[IngestResult](),
		Errors: ingestErrors,
		handle: (*Server).handleIngest,
	},
	{
		Method: "POST", Path: "/v1/langgraph/events", Name: "langgraph", Scope: ScopeIngest,
		Summary: "Ingest a LangGraph event stream (astream_events / streamEvents v2 records, NDJSON), recorded as it arrives",
		Params:  langGraphParams,
		Sample:  Sample{ContentType: MediaNDJSON, Body: sampleLangGraph},
		Request: []Body{
			{Media: MediaNDJSON, Schema: SchemaLines, Description: "One LangGraphRecord per line, gzip allowed (Content-Encoding)."},
			{Media: MediaJSONLines, Schema: SchemaLines, Description: "As application/x-ndjson."},
			{Media: MediaJSON, Schema: SchemaLangGraphRecord, Description: "One record; several, one per line, are read as application/x-ndjson."},
		},
		Answer: jsonAnswer[LangGraphResult](),
		Errors: ingestErrors,
		handle: (*Server).handleLangGraph,
	},
	{
		Method: "POST", Path: "/v1/traces", Name: "otlp", Scope: ScopeIngest,
		Summary: "OTLP/HTTP trace ingest (protobuf or JSON, gzip): spans become workflow events",
		Sample:  Sample{ContentType: "application/json", Body: sampleOTLP},
		Request: []Body{
			{Media: otlp.MediaProtobuf, Schema: SchemaBinary, Description: "An ExportTraceServiceRequest in protobuf, gzip allowed (Content-Encoding)."},
			{Media: otlp.MediaJSON, Schema: SchemaOTLPRequest, Description: "An ExportTraceServiceRequest in OTLP/JSON, gzip allowed (Content-Encoding)."},
		},
		Answer: []Body{
			{Media: otlp.MediaProtobuf, Schema: SchemaBinary, Description: "An ExportTraceServiceResponse in protobuf, for a protobuf request."},
			{Media: otlp.MediaJSON, Schema: SchemaOTLPResponse, Description: "For a JSON request."},
		},
		Errors: otlpErrors,
		handle: (*Server).handleOTLP,
	},
	{
		Method: "GET", Path: "/v1/audit", Name: "audit", Scope: ScopeRead,
		Summary: "Query audit entries in seq order, with cursor paging",
		Description: "Entries in seq order. `next_cursor` is set when the page is full: pass it back as `cursor` for the next page. " +
			"The cursor is a seq, so any seq may be given to read the entries after it.",
		Params: append([]Param{
			{Name: "execution_id", Type: "string", Description: "entries of this execution"},
			{Name: "node_id", Type: "string", Description: "entries of this node"},
			{Name: "event_type", Type: "string", Repeat: true, Description: "entries of this audit event type (repeatable)"},
			{Name: "min_severity", Type: "string", Description: "debug, info, success, warning or error"},
			{Name: "since", Type: "string", Description: "entries at or after this RFC 3339 time"},
			{Name: "until", Type: "string", Description: "entries before this RFC 3339 time"},
		}, pageParams...),
		Sample: Sample{Query: "execution_id=" + SampleExecution + "&limit=10"},
		Answer: jsonAnswer[auditPage](),
		Errors: storeErrors,
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
		Answer: jsonAnswer[executionsPage](),
		Errors: storeErrors,
		handle: (*Server).handleExecutions,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/summary", Name: "summary", Scope: ScopeRead,
		Summary: "The summary of one execution",
		Answer:  jsonAnswer[audit.Summary](),
		Errors:  storeErrors,
		handle:  (*Server).handleSummary,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/timeline", Name: "timeline", Scope: ScopeRead,
		Summary: "The text timeline of one execution, as `wtb audit show` prints it",
		Params: []Param{
			{Name: "all", Type: "boolean", Description: "every entry, debug ones included"},
			{Name: "debug", Type: "boolean", Description: "entry details"},
		},
		Answer: []Body{{Media: MediaText, Schema: SchemaText, Description: "The timeline, as `wtb audit show` prints it."}},
		Errors: wholeRunErrors,
		handle: (*Server).handleTimeline,
	},
	{
		Method: "GET", Path: "/v1/executions/{id}/trace", Name: "trace", Scope: ScopeRead,
		Summary:       "One execution in the Chrome Trace Event format (open it in Perfetto or chrome://tracing)",
		Answer:        jsonAnswer[audit.Trace](),
		AnswerHeaders: []string{"Content-Disposition"},
		Errors:        wholeRunErrors,
		handle:        (*Server).handleTrace,
	},
	{
		Method: "GET", Path: "/v1/compare", Name: "compare", Scope: ScopeRead,
		Summary: "Two executions side by side: aligned node runs, the first divergence, duration deltas, summary differences",
		Params: []Param{
			{Name: "a", Type: "string", Required: true, Description: "the first execution's id"},
			{Name: "b", Type: "string", Required: true, Description: "the second execution's id"},
		},
		Sample: Sample{Query: "a=" + SampleExecution + "&b=" + SampleExecution},
		Answer: jsonAnswer[audit.Comparison](),
		Errors: append([]Response{{Status: http.StatusNotFound, Description: "Execution a or b is not recorded."}}, wholeRunErrors...),
		handle: (*Server).handleCompare,
	},
	{
		Method: "GET", Path: "/v1/batches/{id}", Name: "batch", Scope: ScopeRead,
		Summary: "A Ray batch test with its variants: status, score, metrics, failure, duration, execution",
		Answer:  jsonAnswer[audit.Batch](),
		Errors:  wholeRunErrors,
		handle:  (*Server).handleBatch,
	},
	{
		Method: "GET", Path: "/v1/checkpoint", Name: "checkpoint", Scope: ScopeRead,
		Summary:       "The latest signed checkpoint of the log's Merkle tree (C2SP tlog-checkpoint, a signed note, text/plain)",
		Answer:        []Body{{Media: MediaText, Schema: SchemaText, Description: "A C2SP tlog-checkpoint signed note: origin, tree size, root hash (base64), then the signatures."}},
		AnswerHeaders: []string{"Cache-Control"},
		Errors:        ledgerErrors,
		handle:        (*Server).handleCheckpoint,
	},
	{
		Method: "GET", Path: "/v1/proof/inclusion", Name: "inclusion_proof", Scope: ScopeRead,
		Summary: "The RFC 6962 inclusion proof of one entry in the tree of a checkpoint",
		Params: []Param{
			{Name: "seq", Type: "integer", Required: true, Description: "the entry's seq"},
			{Name: "size", Type: "integer", Description: "the tree size (default: the latest checkpoint's)"},
		},
		Sample: Sample{Query: "seq=1&size=1"},
		Answer: jsonAnswer[InclusionProof](),
		Errors: ledgerErrors,
		handle: (*Server).handleInclusion,
	},
	{
		Method: "GET", Path: "/v1/proof/consistency", Name: "consistency_proof", Scope: ScopeRead,
		Summary: "The RFC 6962 consistency proof between two tree sizes",
		Params: []Param{
			{Name: "from", Type: "integer", Required: true, Description: "the older tree size"},
			{Name: "to", Type: "integer", Description: "the newer tree size (default: the latest checkpoint's)"},
		},
		Sample: Sample{Query: "from=1&to=1"},
		Answer: jsonAnswer[ConsistencyProof](),
		Errors: ledgerErrors,
		handle: (*Server).handleConsistency,
	},
	{
		Method: "GET", Path: "/v1/stream", Name: "sse", Scope: ScopeRead, Stream: true,
		Summary: "Live entries as Server-Sent Events, resumable with Last-Event-ID or after",
		Description: "Each committed entry of the topics, in seq order, once: an event `entry` whose id is the seq and whose data is the entry (`Entry`). " +
			"`Last-Event-ID` (or `after`) replays the entries after that seq first, then goes on live without a gap or a duplicate. " +
			"When the server ends the stream (a client too slow, shutdown, a store error) it sends a last event `error` (`StreamError`) naming the last seq delivered: resume from there.",
		Params: []Param{
			{Name: "topic", Type: "string", Repeat: true, Description: "audit:*, execution:<id>, batch:<id> or type:<audit type> (repeatable)"},
			{Name: "after", Type: "integer", Description: "replay the entries after this seq first (as Last-Event-ID)"},
		},
		Sample: Sample{Query: "topic=audit:*"},
		Answer: []Body{{Media: MediaEventStream, Schema: SchemaText, Description: "Server-Sent Events: a comment first, then an event \"entry\" per entry, " +
			"its id the seq and its data the entry (Entry); heartbeat comments; when the server ends the stream, a last event \"error\" (StreamError)."}},
		Errors: streamErrors,
		handle: (*Server).handleSSE,
	},
	{
		Method: "GET", Path: "/v1/ws", Name: "ws", Scope: ScopeRead, Stream: true,
		Summary: "Live entries over WebSocket, with subscribe, unsubscribe and resume",
		Description: "The client sends `WSRequest` messages (subscribe, with `after` to replay from a seq; unsubscribe; ping). " +
			"The server sends `{\"type\": \"connected\"}` first, then replies (`WSReply`) and an entry message (`WSEntry`) for each entry of the client's topics, in seq order, each once. " +
			"A client too slow is closed with status 1013 and a reason naming `after=SEQ`, from which it resumes; at shutdown the status is 1001.",
		OK: http.StatusSwitchingProtocols,
		Errors: append([]Response{
			{Status: http.StatusBadRequest, Description: "Not a WebSocket handshake, or a bad query parameter.",
				Bodies: []Body{{Media: MediaText, Schema: SchemaText, Description: "A malformed handshake."}}},
			{Status: http.StatusForbidden, Description: "An Origin the server does not allow (Options.OriginPatterns).",
				Bodies: []Body{{Media: MediaText, Schema: SchemaText}}},
			{Status: http.StatusUpgradeRequired, Description: "A request without Upgrade: websocket.",
				Bodies: []Body{{Media: MediaText, Schema: SchemaText}}},
		}, streamErrors...),
		handle: (*Server).handleWS,
	},
	{
		Method: "GET", Path: "/metrics", Name: "metrics", Scope: ScopeRead,
		Summary: "Prometheus metrics",
		Answer:  []Body{{Media: MediaText, Schema: SchemaText, Description: "The Prometheus text exposition format."}},
		handle:  (*Server).handleMetrics,
	},
	{
		Method: "GET", Path: "/healthz", Name: "healthz",
		Summary: "Liveness: answers while the process runs",
		Answer:  jsonAnswer[healthAnswer](),
		handle:  (*Server).handleHealth,
	},
	{
		Method: "GET", Path: "/readyz", Name: "readyz",
		Summary: "Readiness: the store answers and writes succeed",
		Answer:  jsonAnswer[healthAnswer](),
		Errors: []Response{{Status: http.StatusServiceUnavailable, Description: "Not ready: the store does not answer, its writes are failing, or the server is shutting down. " +
			"The store's error is told only to a caller the read scope allows."}},
		handle: (*Server).handleReady,
	},
	{
		Method: "GET", Path: "/v1/openapi.json", Name: "openapi",
		Summary: "This API's OpenAPI 3.1 document",
		Answer:  []Body{{Media: MediaJSON, Schema: SchemaOpenAPI, Description: "An OpenAPI 3.1 document."}},
		handle:  (*Server).handleOpenAPI,
	},
}

// Error answers shared by several routes.
var (
	retryAfter = []string{"Retry-After"}
	// storeErrors are those of a route that reads the store.
	storeErrors = []Response{
		{Status: http.StatusServiceUnavailable, Description: "The request was cancelled, or the server is shutting down."},
	}
	// wholeRunErrors are those of a route that reads a whole execution.
	wholeRunErrors = append([]Response{
		{Status: http.StatusUnprocessableEntity, Description: "The execution has more than Options.MaxTimelineEntries entries (`wtb serve --max-timeline`): read it with GET /v1/audit."},
	}, storeErrors...)
	ledgerErrors = append([]Response{
		{Status: http.StatusNotFound, Description: "The store keeps no Merkle tree, there is no checkpoint yet, or the entry or tree size does not exist."},
	}, storeErrors...)
	ingestErrors = []Response{
		{Status: http.StatusBadRequest, Description: "A malformed document (the message says where, and what to send instead for the usual mistakes)."},
		{Status: http.StatusRequestEntityTooLarge, Description: "A body over Options.MaxBodyBytes, or more than Options.MaxBatchEvents events."},
		{Status: http.StatusUnsupportedMediaType, Description: "A Content-Type the route does not take."},
		{Status: http.StatusUnprocessableEntity, Description: "An unknown event type or an invalid field; index names the event. Nothing of the request is recorded."},
		{Status: http.StatusServiceUnavailable, Description: "The store's writes are failing (retry after Retry-After), or the server is shutting down. Nothing is lost by retrying: recording is idempotent on event ids.", Headers: retryAfter},
	}
	otlpErrors = func() []Response {
		bodies := []Body{
			{Media: otlp.MediaProtobuf, Schema: SchemaBinary, Description: "A google.rpc.Status in protobuf, for a protobuf request."},
			{Media: otlp.MediaJSON, Schema: SchemaRPCStatus, Description: "A google.rpc.Status, for a JSON request."},
		}
		out := make([]Response, len(ingestErrors))
		for i, r := range ingestErrors {
			r.Bodies = bodies
			out[i] = r
		}
		out[0].Description = "An undecodable request: exporters do not retry it."
		return out
	}()
	streamErrors = []Response{
		{Status: http.StatusTooManyRequests, Description: "The token has Options.MaxStreamsPerToken streams open (too_many_streams).", Headers: retryAfter},
		{Status: http.StatusServiceUnavailable, Description: "Options.MaxStreams streams are open (too_many_streams), or the server is shutting down.", Headers: retryAfter},
	}
)

// Media types of answers.
const (
	MediaText        = "text/plain"
	MediaEventStream = "text/event-stream"
)

// SchemaOpenAPI is the schema of an OpenAPI document.
const SchemaOpenAPI = "OpenAPIDocument"

// Responses returns every answer of the route, by status: its success
// (SuccessStatus, with Answer); those of every route, 400 for a bad query
// parameter and 500; 401 and 403 for a route with a Scope; 404 for a route
// with a path parameter; and the route's Errors. An error answer whose
// Bodies are not given is a JSON error ({"error": {"code", "message", "index"}}); the bodies of two
// answers of one status are both listed.
func (rt Route) Responses() []Response {
	jsonError := []Body{{Media: MediaJSON, Type: reflect.TypeFor[errorBody]()}}
	out := []Response{{Status: rt.SuccessStatus(), Description: successDescription(rt), Bodies: rt.Answer, Headers: rt.AnswerHeaders}}
	add := func(r Response) {
		if r.Bodies == nil {
			r.Bodies = jsonError
		}
		for i := range out {
			if out[i].Status == r.Status {
				out[i].Description += " " + r.Description
				for _, b := range r.Bodies {
					if !slices.Contains(out[i].Bodies, b) {
						out[i].Bodies = append(out[i].Bodies, b)
					}
				}
				for _, h := range r.Headers {
					if !slices.Contains(out[i].Headers, h) {
						out[i].Headers = append(out[i].Headers, h)
					}
				}
				return
			}
		}
		r.Bodies = slices.Clone(r.Bodies)
		r.Headers = slices.Clone(r.Headers)
		out = append(out, r)
	}
	add(Response{Status: http.StatusBadRequest, Description: "A bad query: a parameter the route does not take, a malformed escape, a single-valued parameter given twice, or a bad value (the message names the parameter)."})
	if rt.Scope != "" {
		add(Response{Status: http.StatusUnauthorized, Description: "No token, or an unknown one (only when the server has tokens).", Headers: []string{"WWW-Authenticate"}})
		add(Response{Status: http.StatusForbidden, Description: "The token lacks the scope " + string(rt.Scope) + "."})
	}
	if len(rt.PathParams()) > 0 {
		add(Response{Status: http.StatusNotFound, Description: "No execution of this id is recorded."})
	}
	for _, e := range rt.Errors {
		add(e)
	}
	add(Response{Status: http.StatusInternalServerError, Description: "The store failed, or the server did."})
	slices.SortStableFunc(out, func(a, b Response) int { return a.Status - b.Status })
	return out
}

// successDescription describes the successful answer of a route.
func successDescription(rt Route) string {
	if rt.SuccessStatus() == http.StatusSwitchingProtocols {
		return "The connection is a WebSocket from now on."
	}
	return "Success."
}

// Routes returns the routes of the API, in the order of the documentation.
func Routes() []Route {
	out := slices.Clone(routeTable)
	for i := range out {
		out[i].Params = slices.Clone(out[i].Params)
		out[i].Request = slices.Clone(out[i].Request)
		out[i].Answer = slices.Clone(out[i].Answer)
		out[i].AnswerHeaders = slices.Clone(out[i].AnswerHeaders)
		out[i].Errors = slices.Clone(out[i].Errors)
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
