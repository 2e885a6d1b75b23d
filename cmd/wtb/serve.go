package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/console"
	"github.com/wtbdev/wtb/httpapi"
)

// Environment variables of serve, read when the matching flag is not given.
const (
	envAddr         = "WTB_ADDR"
	envTokens       = "WTB_TOKENS"
	envMaxBody      = "WTB_MAX_BODY"
	envMaxBatch     = "WTB_MAX_BATCH"
	envClientBuffer = "WTB_CLIENT_BUFFER"
	envHeartbeat    = "WTB_HEARTBEAT"
	envStreamDelay  = "WTB_STREAM_DELAY"
	envLogLevel     = "WTB_LOG_LEVEL"
	envRequestLog   = "WTB_REQUEST_LOG"
	envRecordIdle   = "WTB_RECORD_IDLE_TIMEOUT"

	envMaxStreams         = "WTB_MAX_STREAMS"
	envMaxStreamsPerToken = "WTB_MAX_STREAMS_PER_TOKEN"
	envReplayPageBytes    = "WTB_REPLAY_PAGE_BYTES"
	envFirstWriteTimeout  = "WTB_FIRST_WRITE_TIMEOUT"
	envWriteTimeout       = "WTB_WRITE_TIMEOUT"
	envShutdownTimeout    = "WTB_SHUTDOWN_TIMEOUT"
	envLingerBytes        = "WTB_LINGER_BYTES"
	envLingerTimeout      = "WTB_LINGER_TIMEOUT"
	envFailFastWindow     = "WTB_FAIL_FAST_WINDOW"
	envMemoryLimit        = "WTB_MEMORY_LIMIT"
	envMaxConnections     = "WTB_MAX_CONNECTIONS"
	envReadHeaderTimeout  = "WTB_READ_HEADER_TIMEOUT"
	envIdleTimeout        = "WTB_IDLE_TIMEOUT"
)

// defaultAddr is the address serve listens on by default: loopback only.
const defaultAddr = "127.0.0.1:8420"

// serveFlags are the flags of serve.
var serveFlags struct {
	addr, tokens string
	maxBody      int64
	maxBatch     int
	clientBuffer int
	heartbeat    time.Duration
	streamDelay  time.Duration
	logLevel     levelFlag
	requestLog   levelFlag
	recordIdle   time.Duration

	maxStreams         int
	maxStreamsPerToken int
	replayPageBytes    int
	firstWriteTimeout  time.Duration
	writeTimeout       time.Duration
	shutdownTimeout    time.Duration
	lingerBytes        int64
	lingerTimeout      time.Duration
	failFastWindow     time.Duration
	memoryLimit        int64
	maxConnections     int
	readHeaderTimeout  time.Duration
	idleTimeout        time.Duration
}

// levelFlag is a log level flag: debug, info, warn or error, and off when
// allowed.
type levelFlag struct {
	level    slog.Level
	allowOff bool
}

func (l *levelFlag) String() string {
	if l.level >= httpapi.RequestLogOff {
		return "off"
	}
	return strings.ToLower(l.level.String())
}

func (l *levelFlag) Set(v string) error {
	if l.allowOff && strings.EqualFold(v, "off") {
		l.level = httpapi.RequestLogOff
		return nil
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(v)); err != nil {
		if l.allowOff {
			return fmt.Errorf("want debug, info, warn, error or off")
		}
		return fmt.Errorf("want debug, info, warn or error")
	}
	l.level = lv
	return nil
}

func (l *levelFlag) Type() string { return "level" }

var serveCmd = &cobra.Command{
	Use:   "serve [--addr 127.0.0.1:8420] [--tokens FILE]",
	Short: "Serve the HTTP API: ingest, queries, live streams, metrics",
	Long: `Serve the wtb HTTP API on --addr (default 127.0.0.1:8420, env WTB_ADDR):

  POST /v1/events                     ingest events (JSON, NDJSON, CloudEvents)
  POST /v1/langgraph/events           a LangGraph event stream (astream_events /
                                      streamEvents v2 records, NDJSON), recorded
                                      as it arrives
  POST /v1/traces                     OTLP/HTTP traces (protobuf or JSON, gzip):
                                      point OTEL_EXPORTER_OTLP_ENDPOINT here
  GET  /v1/audit                      query entries (filters, cursor paging)
  GET  /v1/executions[/{id}/summary]  executions and their summaries
  GET  /v1/executions/{id}/timeline   the text timeline of 'wtb audit show'
  GET  /v1/executions/{id}/trace      the run in Chrome Trace Event format
  GET  /v1/compare?a=&b=              two runs compared (wtb audit diff)
  GET  /v1/batches/{id}               a batch test and its variants
  GET  /v1/stream, /v1/ws             live entries (Server-Sent Events, WebSocket)
  GET  /v1/checkpoint, /v1/proof/...  the signed checkpoint, inclusion and
                                      consistency proofs (wtb audit verify)
  GET  /v1/openapi.json               the OpenAPI 3.1 document of all routes
  GET  /metrics, /healthz, /readyz    Prometheus metrics, liveness, readiness
  GET  /                              the web console: runs live, compare

Events are recorded into the store chosen by --db or --store; an ingest
request is answered once its events are durable. --tokens FILE (env
WTB_TOKENS) requires bearer tokens: one "TOKEN ingest,read" per line. Without
tokens, serve refuses to listen on an address other machines can reach.

Limits: at most --max-connections connections at once (one more is
answered 503), each with --read-header-timeout to send a request's header
(at most 64 KiB) and kept idle at most --idle-timeout; at most --max-streams
live streams (--max-streams-per-token per token), each buffering at most
--client-buffer entries and --replay-page-bytes of a replay, with
--first-write-timeout and then --write-timeout to take each write.
--max-body bounds a request body (for /v1/langgraph/events, whose body is a
stream, each record; a refused body is read and discarded up to
--linger-bytes within --linger-timeout); --max-batch the events recorded per
commit; a LangGraph stream waits at most --record-idle-timeout for its next
record. --memory-limit is the process's soft memory limit.
The state kept between requests is bounded: 10,000 LangGraph executions in
flight and 10,000 traces (the least recently used are forgotten first).

With a PostgreSQL store, any number of instances may share one schema: the
live streams of each follow the store, so their clients see every entry
whichever instance recorded it. --nats URL also records the events of the
JetStream stream (default WTB_EVENTS), as one of the instances sharing its
durable consumer; a message is acknowledged after its store commit. See
docs/scaling.md.

SIGINT or SIGTERM stops accepting, finishes the requests in flight, ends the
live streams, drains the recorder and exits 0.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		return runServe(cmd)
	},
}

func init() {
	f := serveCmd.Flags()
	f.StringVar(&serveFlags.addr, "addr", defaultAddr, "listen address (env "+envAddr+")")
	f.StringVar(&serveFlags.tokens, "tokens", "", "bearer tokens file, lines \"TOKEN ingest,read\" (env "+envTokens+")")
	sizeVar(f, &serveFlags.maxBody, "max-body", httpapi.DefaultMaxBodyBytes, "largest ingest body (env "+envMaxBody+")")
	f.IntVar(&serveFlags.maxBatch, "max-batch", httpapi.DefaultMaxBatchEvents, "most events in one ingest request (env "+envMaxBatch+")")
	f.IntVar(&serveFlags.clientBuffer, "client-buffer", httpapi.DefaultClientBuffer, "entries buffered per live client before it is disconnected (env "+envClientBuffer+")")
	f.DurationVar(&serveFlags.heartbeat, "heartbeat", httpapi.DefaultHeartbeat, "interval of live stream heartbeats (env "+envHeartbeat+")")
	f.DurationVar(&serveFlags.streamDelay, "stream-delay", httpapi.DefaultStreamDelay, "how long a live stream gathers entries before a write, 0 for none (env "+envStreamDelay+")")
	f.IntVar(&serveFlags.maxConnections, "max-connections", httpapi.DefaultMaxConnections, "most connections open at once, live streams and idle keep-alive ones included; one more is answered 503 and closed (env "+envMaxConnections+")")
	f.DurationVar(&serveFlags.readHeaderTimeout, "read-header-timeout", httpapi.DefaultReadHeaderTimeout, "time a client has to send a request's header (env "+envReadHeaderTimeout+")")
	f.DurationVar(&serveFlags.idleTimeout, "idle-timeout", httpapi.DefaultIdleTimeout, "how long an idle keep-alive connection is kept (env "+envIdleTimeout+")")
	f.IntVar(&serveFlags.maxStreams, "max-streams", httpapi.DefaultMaxStreams, "most live streams (SSE and WebSocket) open at once; one more is answered 503 (env "+envMaxStreams+")")
	f.IntVar(&serveFlags.maxStreamsPerToken, "max-streams-per-token", httpapi.DefaultMaxStreamsPerToken, "most live streams of one token; one more is answered 429 (env "+envMaxStreamsPerToken+")")
	sizeVar(f, &serveFlags.replayPageBytes, "replay-page-bytes", httpapi.DefaultReplayPageBytes, "bytes of entries a catching-up stream renders at a time (env "+envReplayPageBytes+")")
	f.DurationVar(&serveFlags.firstWriteTimeout, "first-write-timeout", httpapi.DefaultFirstWriteTimeout, "time a new stream's client has to take its greeting and first page (env "+envFirstWriteTimeout+")")
	f.DurationVar(&serveFlags.writeTimeout, "write-timeout", httpapi.DefaultWriteTimeout, "time a client has to take one answer or stream write (env "+envWriteTimeout+")")
	f.DurationVar(&serveFlags.shutdownTimeout, "shutdown-timeout", httpapi.DefaultShutdownTimeout, "on SIGINT or SIGTERM, how long requests in flight may finish before their connections are closed; draining the recorder has the same bound again; live streams get their last event or close frame at once and "+httpapi.StreamGoodbyeTimeout.String()+" to take it (env "+envShutdownTimeout+")")
	sizeVar(f, &serveFlags.lingerBytes, "linger-bytes", httpapi.DefaultLingerBytes, "how much of a refused request's body is read and discarded after the error answer, so that the client reads the answer (env "+envLingerBytes+")")
	f.DurationVar(&serveFlags.lingerTimeout, "linger-timeout", httpapi.DefaultLingerTimeout, "time spent at most reading and discarding a refused request's body (env "+envLingerTimeout+")")
	f.DurationVar(&serveFlags.failFastWindow, "fail-fast-window", httpapi.DefaultFailFastWindow, "after a failed write to the store, how long ingest answers 503 at once before it tries again (env "+envFailFastWindow+")")
	sizeVar(f, &serveFlags.memoryLimit, "memory-limit", defaultMemoryLimit, "soft limit of the Go runtime's memory: the garbage collector works harder near it; 0 for none; GOMEMLIMIT wins (env "+envMemoryLimit+")")
	serveFlags.logLevel = levelFlag{level: slog.LevelInfo}
	f.Var(&serveFlags.logLevel, "log-level", "least severe level logged: debug, info, warn or error (env "+envLogLevel+")")
	serveFlags.requestLog = levelFlag{level: slog.LevelInfo, allowOff: true}
	f.Var(&serveFlags.requestLog, "request-log", "level of the one line logged per request (method, route, status, bytes, duration), or off (env "+envRequestLog+")")
	f.DurationVar(&serveFlags.recordIdle, "record-idle-timeout", httpapi.DefaultRecordIdleTimeout, "longest wait for the next record of a streamed LangGraph request (env "+envRecordIdle+")")
	rootCmd.AddCommand(serveCmd)
}

// serveEnv applies the environment to the flags that were not given.
func serveEnv(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, p := range []struct{ flag, env string }{
		{"addr", envAddr}, {"tokens", envTokens}, {"max-body", envMaxBody},
		{"max-batch", envMaxBatch}, {"client-buffer", envClientBuffer}, {"heartbeat", envHeartbeat},
		{"stream-delay", envStreamDelay}, {"log-level", envLogLevel}, {"request-log", envRequestLog},
		{"record-idle-timeout", envRecordIdle},
		{"max-streams", envMaxStreams}, {"max-streams-per-token", envMaxStreamsPerToken},
		{"replay-page-bytes", envReplayPageBytes}, {"first-write-timeout", envFirstWriteTimeout},
		{"write-timeout", envWriteTimeout}, {"shutdown-timeout", envShutdownTimeout},
		{"linger-bytes", envLingerBytes}, {"linger-timeout", envLingerTimeout},
		{"fail-fast-window", envFailFastWindow}, {"memory-limit", envMemoryLimit},
		{"max-connections", envMaxConnections}, {"read-header-timeout", envReadHeaderTimeout},
		{"idle-timeout", envIdleTimeout},
	} {
		v := os.Getenv(p.env)
		if v == "" || f.Changed(p.flag) {
			continue
		}
		if err := f.Set(p.flag, v); err != nil {
			return envError(p.env, v, flagWant(f.Lookup(p.flag)))
		}
	}
	switch {
	case serveFlags.maxBody <= 0:
		return usagef("--max-body must be positive")
	case serveFlags.maxBatch <= 0:
		return usagef("--max-batch must be positive")
	case serveFlags.clientBuffer <= 0:
		return usagef("--client-buffer must be positive")
	case serveFlags.heartbeat <= 0:
		return usagef("--heartbeat must be positive")
	case serveFlags.recordIdle <= 0:
		return usagef("--record-idle-timeout must be positive")
	case serveFlags.streamDelay < 0 || serveFlags.streamDelay > httpapi.MaxStreamDelay:
		return usagef("--stream-delay must be between 0 and %s", httpapi.MaxStreamDelay)
	case serveFlags.maxStreams <= 0:
		return usagef("--max-streams must be positive")
	case serveFlags.maxStreamsPerToken <= 0:
		return usagef("--max-streams-per-token must be positive")
	case serveFlags.replayPageBytes <= 0:
		return usagef("--replay-page-bytes must be positive")
	case serveFlags.firstWriteTimeout <= 0:
		return usagef("--first-write-timeout must be positive")
	case serveFlags.writeTimeout <= 0:
		return usagef("--write-timeout must be positive")
	case serveFlags.shutdownTimeout <= 0:
		return usagef("--shutdown-timeout must be positive")
	case serveFlags.lingerBytes <= 0:
		return usagef("--linger-bytes must be positive")
	case serveFlags.lingerTimeout <= 0:
		return usagef("--linger-timeout must be positive")
	case serveFlags.failFastWindow <= 0:
		return usagef("--fail-fast-window must be positive")
	case serveFlags.maxConnections <= serveFlags.maxStreams:
		return usagef("--max-connections (%d) must exceed --max-streams (%d): streams hold connections too", serveFlags.maxConnections, serveFlags.maxStreams)
	case serveFlags.readHeaderTimeout <= 0:
		return usagef("--read-header-timeout must be positive")
	case serveFlags.idleTimeout <= 0:
		return usagef("--idle-timeout must be positive")
	}
	return nil
}

// serveGCPercent is the garbage collector's target of serve when GOGC is
// not set: ingest allocates per event, and a larger target trades memory
// (bounded by the recorder queue and the body limit) for about 15% less CPU.
const serveGCPercent = 400

// defaultMemoryLimit is the Go runtime's soft memory limit of serve when
// GOMEMLIMIT is not set (--memory-limit).
const defaultMemoryLimit = 100 << 20

// streamDelayOption maps the --stream-delay flag to httpapi's option, where
// zero means the default and a negative value none.
func streamDelayOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func runServe(cmd *cobra.Command) error {
	if err := serveEnv(cmd); err != nil {
		return err
	}
	if err := serveNATSEnv(cmd); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && serveFlags.memoryLimit > 0 {
		// A soft limit: below it the garbage collector keeps the larger
		// target above; near it, it collects more often (many clients
		// catching up at once), so that memory stays bounded.
		debug.SetMemoryLimit(serveFlags.memoryLimit)
	}
	var tokens *httpapi.Tokens
	if serveFlags.tokens != "" {
		t, err := httpapi.LoadTokens(serveFlags.tokens)
		if err != nil {
			return err
		}
		tokens = t
	}
	if err := httpapi.CheckListenAddr(serveFlags.addr, tokens); err != nil {
		return err
	}
	target, err := globalStore.resolve()
	if err != nil {
		return err
	}
	// The root's context: cobra keeps a subcommand's context from its
	// first execution, and in-process runs execute several times.
	ctx := cmd.Root().Context()
	st, err := openTarget(ctx, target)
	if err != nil {
		return err
	}
	defer st.Close()

	stderr := cmd.ErrOrStderr()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: serveFlags.logLevel.level}))
	// The ledger's seals go through the recorder, like every entry, so that
	// the live streams carry them; the runs that ended are sealed once the
	// recorder is drained, before it closes.
	led := ledgerOf(st)
	var onDrain func(context.Context) error
	if led != nil {
		onDrain = led.drain
	}
	srv, err := httpapi.New(st, serverOptions(st, httpapi.Options{
		Tokens:            tokens,
		MaxBodyBytes:      serveFlags.maxBody,
		MaxBatchEvents:    serveFlags.maxBatch,
		ClientBuffer:      serveFlags.clientBuffer,
		Heartbeat:         serveFlags.heartbeat,
		StreamDelay:       streamDelayOption(serveFlags.streamDelay),
		Logger:            log,
		RequestLogLevel:   serveFlags.requestLog.level,
		RecordIdleTimeout: serveFlags.recordIdle,
		UI:                console.Handler(),

		MaxStreams:         serveFlags.maxStreams,
		MaxStreamsPerToken: serveFlags.maxStreamsPerToken,
		ReplayPageBytes:    serveFlags.replayPageBytes,
		FirstWriteTimeout:  serveFlags.firstWriteTimeout,
		WriteTimeout:       serveFlags.writeTimeout,
		ShutdownTimeout:    serveFlags.shutdownTimeout,
		LingerBytes:        serveFlags.lingerBytes,
		LingerTimeout:      serveFlags.lingerTimeout,
		FailFastWindow:     serveFlags.failFastWindow,
		OnDrain:            onDrain,
		MaxConnections:     serveFlags.maxConnections,
		ReadHeaderTimeout:  serveFlags.readHeaderTimeout,
		IdleTimeout:        serveFlags.idleTimeout,
	}))
	if err != nil {
		return err
	}
	if led != nil {
		led.recordThrough(srv.Recorder())
		led.registerMetrics(srv.Registry())
	}
	ln, err := net.Listen("tcp", serveFlags.addr)
	if err != nil {
		_ = srv.Close(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	auth := "no tokens (loopback only)"
	if tokens.Len() > 0 {
		auth = strconv.Itoa(tokens.Len()) + " tokens"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wtb: listening on http://%s (%s, %s)\n", ln.Addr(), target, auth)
	fmt.Fprintf(cmd.OutOrStdout(), "wtb: console at http://%s/\n", ln.Addr())
	serveCtx, stopNATS, err := startNATS(ctx, srv, log, cmd.OutOrStdout())
	if err != nil {
		_ = ln.Close()
		_ = srv.Close(context.Background())
		return err
	}
	err = srv.Serve(serveCtx, ln)
	stopNATS()
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "wtb: stopped; every acknowledged event is recorded")
	return nil
}

// serverOptions completes opts for st: the live streams of a store that
// several instances share (PostgreSQL) follow the store itself, so that
// every instance's clients see every instance's commits.
func serverOptions(st audit.Store, opts httpapi.Options) httpapi.Options {
	if w, ok := st.(audit.Watcher); ok {
		opts.Follow = w
	}
	return opts
}
