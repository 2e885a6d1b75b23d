// Package httpapi is the wtb service over HTTP: ingest of workflow events,
// queries of the audit log, live streams of entries (Server-Sent Events and
// WebSocket), Prometheus metrics, health, and bearer-token authorization.
// `wtb serve` runs it; a Server is an http.Handler usable on its own.
//
// # Ingest
//
// POST /v1/events takes, by Content-Type:
//
//   - application/json: one event object or an array of events, in the wire
//     format of package event;
//   - application/x-ndjson: one event per line (blank lines ignored);
//   - application/cloudevents+json: one CloudEvent in structured mode;
//   - application/cloudevents-batch+json: an array of CloudEvents;
//   - application/json with a ce-specversion header: one CloudEvent in
//     binary mode, its attributes in ce-* headers (ce-type, ce-id,
//     ce-source, ce-time, ce-subject) and its data the body.
//
// A malformed document's error says what to do for the usual mistakes:
// several JSON documents sent as application/json (send NDJSON), and NaN
// or Infinity, which JSON does not have (Python writes them unless
// allow_nan=False).
//
// A CloudEvent's type is "wtb." followed by the event's wire name, its id
// the event_id, its time the timestamp, its subject the execution id and
// its data the event's other fields; an attribute that contradicts a field
// of data is refused.
//
// A request is one atomic batch: every event is decoded and mapped to its
// audit entry first, and one bad event refuses the whole request, recording
// nothing. The entries are then submitted to an audit.Recorder as one group
// and the answer, 200 {"accepted": n, "duplicates": m}, is sent once they
// are durable. An event whose event_id is already recorded (by an earlier
// request, or earlier in the same one) counts as a duplicate and is not
// recorded again, so a client that lost an answer simply sends again.
//
// Ingest writes through the recorder rather than through the bus, because
// the answer must wait for a whole batch to be durable; with Options.Bus
// set, the events recorded are published on the bus afterwards, so that
// in-process subscribers see what the service ingested.
//
// # LangGraph streams and OpenTelemetry traces
//
// POST /v1/langgraph/events takes LangGraph event stream records
// (astream_events / streamEvents v2), one per line (application/x-ndjson,
// application/jsonl or application/json; gzip allowed), and turns them into
// events with package langgraph. The body is read as a stream: records are
// translated as they arrive and their events recorded whenever the producer
// pauses (nothing more buffered) or a batch is full, each batch answered
// durable before more is read, so a producer that streams a running graph
// is followed live. Each record is at most Options.MaxBodyBytes; the wait
// for the next record is at most Options.RecordIdleTimeout. Query:
// execution_id, workflow_id, include_inputs, include_outputs,
// filter_internal, node and exclude_node (repeatable). The answer is
// LangGraphResult. An invalid record stops the request with an error naming
// its line; the records before it stay recorded (resending is harmless:
// event ids derive from run ids).
//
// POST /v1/traces is OTLP/HTTP trace ingest: an ExportTraceServiceRequest
// in protobuf (application/x-protobuf) or JSON (application/json), gzip
// allowed, Content-Length not required, at most Options.MaxBodyBytes before
// and after decompression. Spans become events with package otlp (every
// span: a span no rule matches is a custom event), recorded once durable
// and answered with an ExportTraceServiceResponse in the request's
// encoding, whose partial_success counts the spans that could not be
// recorded and says why. Errors are answered with a google.rpc.Status in
// the request's encoding: 400 (undecodable; exporters do not retry), 413,
// 415, 503 with Retry-After (exporters retry; event ids derive from trace
// and span ids, so a retry records nothing twice). A request's entries are
// recorded grouped by execution and in time order within one.
//
// # Errors
//
// Every error is answered as JSON {"error": {"code", "message", "index"}},
// index being the position of the offending event in the request when there
// is one: 400 malformed JSON or bad query parameter (a malformed
// percent-escape, a parameter the route does not take, or a single-valued
// one given twice: each is named, never silently dropped), 401 missing or unknown
// token, 403 token without the scope, 404 unknown route or execution, 405,
// 413 body over Options.MaxBodyBytes or more than Options.MaxBatchEvents
// events, 415 unsupported Content-Type, 422 unknown event type or invalid
// field, 503 store failing or server shutting down. A request whose client
// went away before its events were durable is counted under code
// client_closed (status 499); its events may be recorded.
//
// # Queries
//
//	GET /v1/audit?execution_id=&node_id=&event_type=...&min_severity=&since=&until=&limit=&cursor=
//	GET /v1/executions?limit=&cursor=
//	GET /v1/executions/{id}/summary
//	GET /v1/executions/{id}/timeline?all=&debug=
//
// /v1/audit answers {"entries": [...], "next_cursor": "..."} with entries
// in seq order in the export's JSON form (audit.Entry); next_cursor is set
// when the page is full and is passed back as cursor. event_type repeats;
// limit defaults to 100 and is at most 10,000. The cursor of /v1/audit is a
// seq: any seq may be given to read the entries after it (`wtb audit tail`
// reads the last entries so). /v1/executions pages the same way over
// executions, newest first. The timeline is text/plain, the text of `wtb audit
// show`. An unknown execution is a 404.
//
// # Runs analysed
//
//	GET /v1/compare?a=&b=
//	GET /v1/executions/{id}/trace
//	GET /v1/batches/{id}
//
// /v1/compare answers audit.Comparison of executions a and b: their
// summaries, the steps (node runs and rollbacks) aligned by node sequence
// with the duration delta of each, the first divergence (step, kind and
// message; null when none), per node the runs, failures and durations of
// each side, and the summary fields that differ. /v1/executions/{id}/trace
// answers the run in the Chrome Trace Event format (audit.ChromeTrace; a
// download, which Perfetto and chrome://tracing open). /v1/batches/{id}
// answers a Ray batch test (audit.BatchOf): its summary, its best
// combination and score once known, and its variants with status, score,
// metrics, duration, failure and execution id. Each reads whole runs: an
// execution of more than Options.MaxTimelineEntries entries is a 422
// naming GET /v1/audit; an unknown one a 404; a missing a or b a 400.
//
// # Live streams
//
// GET /v1/stream?topic=... (Server-Sent Events) and GET /v1/ws (WebSocket)
// deliver entries as they are committed, in seq order, each once. Topics:
//
//	audit:*            every entry
//	execution:<id>     entries of one execution
//	batch:<id>         entries of one Ray batch test (recorded under the
//	                   batch test id, so the same selection as execution:<id>)
//	type:<audit type>  entries of one audit event type
//
// Streams are fed by the recorder's commits, so they never show an entry
// that is not durable. By default they carry the entries recorded through
// this server. With Options.Follow (set by `wtb serve` for a PostgreSQL
// store) they follow the store itself: every commit, by any server sharing
// the store, wakes the server (LISTEN/NOTIFY), which reads the entries
// after the last seq it read and delivers them; so the clients of every
// server see every committed entry in seq order, and resume on any server
// with the same guarantees.
//
// SSE: each entry is an event "entry" whose id is its seq and whose data is
// its JSON. Last-Event-ID (or ?after=SEQ) resumes: the entries after that
// seq are replayed from the store, then the stream continues live without a
// gap or a duplicate (the client is registered for live entries before the
// replay and live entries up to the last replayed seq are dropped). When the
// server ends a stream it sends a last event "error" with {"code",
// "message", "last_seq"}. On HTTP/1.1 the server takes the connection over
// and writes the entries' shared, pre-rendered frames with writev: the
// frames of one committed batch lie back to back, so a run of consecutive
// entries is one buffer.
//
// WebSocket: the client sends {"action": "subscribe", "topics": [...],
// "after": SEQ} (after optional), {"action": "unsubscribe", "topics": [...]}
// or {"action": "ping"}; the server sends {"type": "connected"}, replies
// ("subscribed", "unsubscribed", "pong", "error") and {"type": "entry",
// "seq": N, "entry": {...}}. A subscribe with after replays the entries of
// the topics it adds from that seq, then goes on live; the topics the client
// follows already continue where they are, so nothing committed for them is
// dropped and nothing delivered is sent again. To replay a topic it follows,
// a client unsubscribes it and subscribes it again with after. Cross-origin WebSocket requests are
// refused unless their origin matches Options.OriginPatterns.
//
// A slow client never slows ingest: each client has a buffer of
// Options.ClientBuffer entries; when it overflows the client is
// disconnected with the reason and its last seq (SSE: the error event;
// WebSocket: close status 1013 and a reason naming after=SEQ), and resumes
// from there. Heartbeats (SSE comments, WebSocket pings) go out every
// Options.Heartbeat.
//
// Streams are bounded: at most Options.MaxStreams at once (one more is
// answered 503) and Options.MaxStreamsPerToken per token (429), both with
// the error too_many_streams and Retry-After. A client catching up holds at
// most about Options.ReplayPageBytes of rendered entries at a time, whatever
// the size of the log behind it, and must take the greeting and its first
// page within Options.FirstWriteTimeout; each later write has
// Options.WriteTimeout. A client that does not read is disconnected then.
//
// Connections are bounded too: Serve holds at most Options.MaxConnections
// at once (streams and idle keep-alive connections included); one more is
// answered 503 too_many_connections with Retry-After and closed. A request
// header must arrive within Options.ReadHeaderTimeout and hold at most
// MaxHeaderBytes; an idle connection is closed after Options.IdleTimeout.
//
// # Operations
//
// GET /metrics serves a private Prometheus registry: events ingested by
// wire name, duplicates, rejected requests by code, the recorder's queue
// depth, committed and failed entries and commit latency, live clients by
// transport, server-side disconnects by reason, handler failures and
// request durations by route. GET /healthz answers while the process runs;
// GET /readyz once the store answers a query (Options.ReadyTimeout); it
// tells the store's error only to a caller the read scope allows.
//
// Every request is logged as one line (method, route pattern, status,
// bytes, duration, and the error code of an error answer) at
// Options.RequestLogLevel; never a token, a query or a path value.
//
// Routes returns the list of routes the router is built from; the
// authorization tests and the OpenAPI document read the same list. GET
// /v1/openapi.json serves that document (OpenAPI 3.1, also the file
// openapi.json of this package and OpenAPI()): every route with its
// parameters, bodies and their JSON Schemas, statuses and scope.
//
// With Options.Tokens, every route but /healthz, /readyz and
// /v1/openapi.json needs
// "Authorization: Bearer TOKEN": scope ingest for POST /v1/events,
// /v1/langgraph/events and /v1/traces, read for the rest. Tokens are compared in constant time and never logged.
// CheckListenAddr refuses to serve without tokens on a non-loopback address.
//
// Server.Serve shuts down gracefully when its context ends: it stops
// accepting, ends the live streams with a reason, finishes the requests in
// flight within Options.ShutdownTimeout (closing the connections still busy
// then, such as clients that stopped reading) and drains the recorder under
// a bound of its own. A live stream sends its last event or close frame at
// once and has StreamGoodbyeTimeout to do so: a stream still writing then,
// to a client that stopped reading, is closed; it never waits out its
// write timeout. WebSocket pings go out beside the stream, so waiting for
// the pong of a client that vanished holds up neither; a client that does
// not answer a ping within Options.WriteTimeout is disconnected.
//
// # Hostile and slow clients
//
// Every answer has a write deadline, Options.WriteTimeout from its first
// byte. An error answered before the request body was read to its end (a
// 413, a 401) carries "Connection: close", and the server then reads and
// discards the rest of the body, at most Options.LingerBytes within
// Options.LingerTimeout, so that a client that writes its whole body before
// reading gets the answer rather than a connection reset. When a write to
// the store fails after the recorder's retries (a full disk), ingest answers
// 503 with Retry-After at once for Options.FailFastWindow instead of
// queueing behind the failing writer, and /readyz is 503; afterwards one
// request at a time tries a write, and the first that succeeds recovers.
package httpapi
