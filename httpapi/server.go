package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/otlp"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes   = 8 << 20
	DefaultMaxBatchEvents = 10000
	DefaultClientBuffer   = 16384
	DefaultHeartbeat      = 15 * time.Second
	DefaultStreamDelay    = 20 * time.Millisecond
	// MaxStreamDelay bounds Options.StreamDelay: the latency a live stream
	// may add to gather entries.
	MaxStreamDelay            = time.Second
	DefaultWriteTimeout       = 10 * time.Second
	DefaultReadTimeout        = 30 * time.Second
	DefaultReadyTimeout       = 2 * time.Second
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultMaxStreams         = 1000
	DefaultMaxStreamsPerToken = 100
	DefaultReplayPageBytes    = 64 << 10
	DefaultFirstWriteTimeout  = 5 * time.Second
	DefaultFailFastWindow     = 2 * time.Second
	DefaultLingerBytes        = 64 << 20
	DefaultLingerTimeout      = 5 * time.Second
	DefaultMaxTimeline        = 100_000
	// StreamGoodbyeTimeout bounds what a live stream may still write once
	// the server shuts down (CloseStreams): its last event or close frame.
	// A write or a ping still blocked then, to a client that stopped
	// reading or vanished, is ended by closing its connection, so that
	// shutdown never waits out a stream's write timeout.
	StreamGoodbyeTimeout = 2 * time.Second
	// MaxWSMessage bounds a message a WebSocket client sends, in bytes.
	MaxWSMessage = 64 << 10
	// MaxTopics bounds the topics of one live client.
	MaxTopics = 100
)

// Options configures a Server. Zero fields take the defaults.
type Options struct {
	// Tokens, when it holds tokens, requires a bearer token on every route
	// but /healthz and /readyz: scope ingest for POST /v1/events, read for
	// the rest. Nil or empty: no authentication (loopback use; see
	// CheckListenAddr).
	Tokens *Tokens
	// MaxBodyBytes bounds an ingest request body (default
	// DefaultMaxBodyBytes); a larger body is answered 413.
	MaxBodyBytes int64
	// MaxBatchEvents bounds the events of one ingest request (default
	// DefaultMaxBatchEvents); more is answered 413. It must not exceed the
	// recorder's queue size.
	MaxBatchEvents int
	// ClientBuffer bounds the entries buffered for one live client (default
	// DefaultClientBuffer). A client whose buffer overflows is disconnected
	// with the reason and its last seq, and can resume from there.
	ClientBuffer int
	// Heartbeat is the interval of SSE comment lines and WebSocket pings on
	// live connections (default DefaultHeartbeat).
	Heartbeat time.Duration
	// StreamDelay is how long a live stream waits, once an entry is ready
	// for it, for more entries to send in the same write (default
	// DefaultStreamDelay; negative: none). It trades a little latency for
	// far fewer writes when many clients follow a busy log.
	StreamDelay time.Duration
	// WriteTimeout bounds one write to a client (default DefaultWriteTimeout):
	// a response, a batch of stream messages, a ping.
	WriteTimeout time.Duration
	// MaxConnections bounds the connections Serve holds open at once
	// (default DefaultMaxConnections), live streams and idle keep-alive
	// connections included. One more is answered 503
	// too_many_connections with Retry-After and closed.
	MaxConnections int
	// ReadHeaderTimeout bounds reading a request's header (default
	// DefaultReadHeaderTimeout); IdleTimeout how long Serve keeps an idle
	// keep-alive connection (default DefaultIdleTimeout). A header is at
	// most MaxHeaderBytes.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// MaxStreams bounds the live streams (SSE and WebSocket) open at once
	// (default DefaultMaxStreams); one more is answered 503 with
	// Retry-After.
	MaxStreams int
	// MaxStreamsPerToken bounds the live streams of one token (default
	// DefaultMaxStreamsPerToken; it does not apply without Tokens); one
	// more is answered 429 with Retry-After.
	MaxStreamsPerToken int
	// ReplayPageBytes bounds the frames a stream renders from the store
	// at a time while it catches up (default DefaultReplayPageBytes): what
	// a client that does not read makes the server hold.
	ReplayPageBytes int
	// FirstWriteTimeout bounds the first write of a live stream: the
	// greeting and, when it resumes, the first replayed page (default
	// DefaultFirstWriteTimeout). Later writes have WriteTimeout.
	FirstWriteTimeout time.Duration
	// ReadTimeout bounds reading an ingest request body (default
	// DefaultReadTimeout).
	ReadTimeout time.Duration
	// FailFastWindow is how long ingest answers 503 at once, without
	// writing, after a write to the store failed (after the recorder's
	// retries): a failing store (a full disk) is not retried for every
	// request. Afterwards one request at a time tries a write; the first
	// that succeeds ends the failing state. Default DefaultFailFastWindow.
	FailFastWindow time.Duration
	// LingerBytes and LingerTimeout bound how much of a request body the
	// server reads and discards after answering an error before reading it
	// all (a 413, a 401): a client that writes its whole body before
	// reading then gets the answer, not a connection reset. Defaults
	// DefaultLingerBytes and DefaultLingerTimeout; past them the
	// connection is closed.
	LingerBytes   int64
	LingerTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for the requests in
	// flight when it stops (default DefaultShutdownTimeout); connections
	// still busy then (a client that stopped reading) are closed. The
	// recorder is drained afterwards, under a bound of its own of the same
	// length.
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds the store check of /readyz (default
	// DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// MaxTimelineEntries bounds the entries a timeline reads (default
	// DefaultMaxTimeline); a longer execution is answered 422.
	MaxTimelineEntries int
	// Bus, when set, receives every event an ingest request recorded
	// (duplicates left out), published in request order from the request's
	// goroutine once the events are durable and before the answer. A bus
	// subscriber that must not slow ingest subscribes asynchronously.
	Bus *bus.Bus
	// OriginPatterns lists the host patterns (path.Match syntax, e.g.
	// "dash.example.com" or "*.example.com") whose pages may open WebSocket
	// streams; same-origin requests are always allowed.
	OriginPatterns []string
	// Follow, when set, makes the live streams follow the store itself
	// instead of this server's commits: whenever Follow reports a commit
	// (and at least every FollowPoll), the server reads the entries after
	// the last seq it read and delivers them. Set it when several servers
	// share one store (PostgreSQL): the clients of every server then see
	// every committed entry, whichever server recorded it, in seq order.
	Follow audit.Watcher
	// FollowPoll is how often a following server reads the store when no
	// wake-up came (default DefaultFollowPoll).
	FollowPoll time.Duration
	// Recorder configures the recorder the server writes through. Its
	// OnCommit, when set, is called after the server's own.
	Recorder audit.RecorderOptions
	// OnDrain, when set, is called by Close once the recorder is drained
	// and before it is closed, with Close's context: a source that records
	// through Recorder() in answer to what was recorded (the ledger's run
	// seals) records its last entries there, through the recorder, so that
	// they take the same path as every entry. An error is logged.
	OnDrain func(ctx context.Context) error
	// OTLP chooses how POST /v1/traces records spans (inputs, outputs,
	// LangGraph's internal nodes); see package otlp.
	OTLP otlp.Options
	// RecordIdleTimeout bounds the wait for the next record of a POST
	// /v1/langgraph/events body, which a producer may stream while its
	// graph runs (default DefaultRecordIdleTimeout).
	RecordIdleTimeout time.Duration
	// UI, when set, answers the GET and HEAD requests that no route
	// matches, outside /v1/: the web console (package console). It reads
	// data through the routes like any other client.
	UI http.Handler
	// Logger receives request failures and the request log (default
	// slog.Default()). Tokens are never logged.
	Logger *slog.Logger
	// RequestLogLevel is the level of the request log: one line per
	// request with its method, route, status, bytes and duration (and the
	// error code of an error answer), written when Logger enables the
	// level. The zero value is slog.LevelInfo; RequestLogOff turns it off.
	RequestLogLevel slog.Level
}

// Server is the wtb HTTP service: ingest into an audit.Store through a
// Recorder, queries, live streams (SSE and WebSocket), metrics and health.
// It is an http.Handler. Close it to drain the recorder; it does not close
// the store.
type Server struct {
	store   audit.Store
	rec     *audit.Recorder
	hub     *hub
	follow  *follower // nil unless Options.Follow
	opts    Options
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	mux     *http.ServeMux

	metricsHandler http.Handler
	health         writeHealth
	replaySlots    chan struct{} // see replay
	bridges        *bridges      // LangGraph and OTLP ingest

	mu        sync.Mutex           // guards the stream counts and closed transitions
	nStreams  int                  // live streams open
	perToken  map[int]int          // live streams open by token index
	cutters   map[*func()]struct{} // how to close each live stream's connection
	closing   chan struct{}        // closed when live streams must end
	goodbye   *time.Timer          // cuts the streams StreamGoodbyeTimeout after closing
	closeOnce sync.Once
	closed    atomic.Bool
	hubOnce   sync.Once

	// beforeLive, when set (by tests), runs before a stream takes its
	// buffered entries.
	beforeLive func()
	// afterReplayPage, when set (by tests), runs after a replay emitted a
	// page: a test commits there to land entries mid-catch-up.
	afterReplayPage func()
	streams         sync.WaitGroup
}

// New returns a Server recording into store.
func New(store audit.Store, opts Options) (*Server, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrBadOptions)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBatchEvents <= 0 {
		opts.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if opts.ClientBuffer <= 0 {
		opts.ClientBuffer = DefaultClientBuffer
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.StreamDelay == 0 {
		opts.StreamDelay = DefaultStreamDelay
	}
	if opts.StreamDelay > MaxStreamDelay {
		return nil, fmt.Errorf("%w: StreamDelay %s exceeds %s", ErrBadOptions, opts.StreamDelay, MaxStreamDelay)
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxStreamsPerToken <= 0 {
		opts.MaxStreamsPerToken = DefaultMaxStreamsPerToken
	}
	if opts.ReplayPageBytes <= 0 {
		opts.ReplayPageBytes = DefaultReplayPageBytes
	}
	if opts.FirstWriteTimeout <= 0 {
		opts.FirstWriteTimeout = DefaultFirstWriteTimeout
	}
	if opts.FailFastWindow <= 0 {
		opts.FailFastWindow = DefaultFailFastWindow
	}
	if opts.LingerBytes <= 0 {
		opts.LingerBytes = DefaultLingerBytes
	}
	if opts.LingerTimeout <= 0 {
		opts.LingerTimeout = DefaultLingerTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.RecordIdleTimeout <= 0 {
		opts.RecordIdleTimeout = DefaultRecordIdleTimeout
	}
	if opts.MaxTimelineEntries <= 0 {
		opts.MaxTimelineEntries = DefaultMaxTimeline
	}
	queue := opts.Recorder.QueueSize
	if queue <= 0 {
		queue = audit.DefaultQueueSize
	}
	if opts.MaxBatchEvents > queue {
		return nil, fmt.Errorf("%w: MaxBatchEvents %d exceeds the recorder queue size %d", ErrBadOptions, opts.MaxBatchEvents, queue)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		store:   store,
		hub:     newHub(),
		opts:    opts,
		log:     log,
		reg:     prometheus.NewRegistry(),
		closing: make(chan struct{}),
	}
	s.replaySlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	s.metrics = newMetrics(s.reg, s)
	s.bridges = newBridges(s.reg)
	if opts.Follow != nil {
		if opts.FollowPoll <= 0 {
			opts.FollowPoll = DefaultFollowPoll
		}
		s.opts.FollowPoll = opts.FollowPoll
		f, err := newFollower(opts.Follow, store, s.hub, opts.FollowPoll, log, s.reg)
		if err != nil {
			s.hub.close()
			return nil, err
		}
		s.follow = f
	}
	ro := opts.Recorder
	user := ro.OnCommit
	ro.OnCommit = func(committed []audit.Entry, latency time.Duration) {
		s.metrics.commitLatency.Observe(latency.Seconds())
		if s.follow != nil {
			s.follow.wake() // the entries are read back by seq, with the others'
		} else {
			s.hub.commit(committed)
		}
		if user != nil {
			user(committed, latency)
		}
	}
	if ro.Logger == nil {
		ro.Logger = log
	}
	s.rec = audit.NewRecorder(store, ro)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.metricsHandler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)})
	mux := http.NewServeMux()
	for _, rt := range routeTable {
		mux.Handle(rt.Pattern(), s.wrap(rt))
	}
	s.mux = mux
}

// ServeHTTP serves the routes listed by Routes. A request no route
// matches is answered 404 or 405 as a JSON error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern == "" && s.opts.UI != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		!strings.HasPrefix(r.URL.Path, "/v1/") {
		s.opts.UI.ServeHTTP(w, r)
		return
	}
	if pattern == "" {
		// No route: the mux answers 404 or 405 (with Allow) in plain
		// text; answer its status as a JSON error instead.
		start := time.Now()
		rw := &respWriter{ResponseWriter: w, writeTimeout: s.opts.WriteTimeout, body: trackBody(r)}
		h.ServeHTTP(&muxError{s: s, w: rw, r: r}, r)
		if rw.body.unread() {
			s.linger(rw, r, rw.body)
		}
		s.logRequest(r, "", rw, start)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// muxError turns the mux's plain-text 404 and 405 answers into JSON errors.
type muxError struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	written bool
}

func (m *muxError) Header() http.Header { return m.w.Header() }

func (m *muxError) WriteHeader(status int) {
	if m.written {
		return
	}
	m.written = true
	m.w.Header().Del("Content-Type")
	m.w.Header().Del("X-Content-Type-Options")
	switch status {
	case http.StatusMethodNotAllowed:
		m.s.writeError(m.w, newError(status, CodeMethodNotAllowed, "method "+m.r.Method+" not allowed on "+m.r.URL.Path))
	case http.StatusNotFound:
		m.s.writeError(m.w, newError(status, CodeNotFound, "no route "+m.r.Method+" "+m.r.URL.Path))
	default:
		m.w.WriteHeader(status)
	}
}

func (m *muxError) Write(b []byte) (int, error) {
	if !m.written {
		m.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}

// Registry returns the server's private Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// RecorderStats returns the counters of the server's recorder.
func (s *Server) RecorderStats() audit.RecorderStats { return s.rec.Stats() }

type handlerFunc func(w http.ResponseWriter, r *http.Request) *apiError

// wrap serves a route: the request log and duration metric, panic
// isolation, authorization, the query check, error answers, and for a live
// stream the shutdown bookkeeping and the live clients gauge.
func (s *Server) wrap(rt Route) http.Handler {
	hist := s.metrics.requests.WithLabelValues(rt.Name)
	var live, inFlight prometheus.Gauge
	if rt.Stream {
		live = s.metrics.liveClients.WithLabelValues(rt.Name)
	} else {
		inFlight = s.metrics.inFlight.WithLabelValues(rt.Name)
	}
	h := rt.handle
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &respWriter{ResponseWriter: rw}
		if !rt.Stream {
			w.writeTimeout = s.opts.WriteTimeout
			w.body = trackBody(r)
			inFlight.Inc()
			defer inFlight.Dec()
		}
		defer s.logRequest(r, rt.Path, w, start)
		defer func() {
			if w.status >= 400 && w.body.unread() && !w.hijacked {
				s.linger(w, r, w.body)
			}
		}()
		defer s.recoverPanic(rt.Name, w)
		tok := noToken
		if rt.Scope != "" {
			var e *apiError
			if tok, e = s.authorize(r, rt.Scope); e != nil {
				s.writeError(w, e)
				return
			}
		}
		if e := checkQuery(r.URL.RawQuery, rt.Params); e != nil {
			s.writeError(w, e)
			return
		}
		if rt.Stream {
			if e := s.streamStarted(tok); e != nil {
				if e.code == CodeTooManyStreams {
					w.Header().Set("Retry-After", strconv.Itoa(streamRetryAfter))
				}
				w.Header().Set("Connection", "close")
				s.writeError(w, e)
				return
			}
			defer s.streamEnded(tok)
			live.Inc()
			defer live.Dec()
		}
		if e := h(s, w, r); e != nil {
			if e.status >= 500 {
				s.metrics.failures.WithLabelValues(rt.Name).Inc()
				s.log.Error("httpapi: request failed", "route", rt.Name, "code", e.code, "error", e.message)
			}
			s.writeError(w, e)
		}
		if !rt.Stream {
			hist.Observe(time.Since(start).Seconds())
		}
	})
}

// streamRetryAfter is the Retry-After, in seconds, of a stream refused
// for the stream limits.
const streamRetryAfter = 5

// streamStarted counts a new live stream of token tok, or answers why not:
// the server is closing, or a stream limit is reached. The check and the
// count are one step under s.mu, so that Close, which sets closed under
// s.mu before it waits for the streams, never misses one.
func (s *Server) streamStarted(tok int) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed.Load():
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "server is shutting down")
	case s.nStreams >= s.opts.MaxStreams:
		return newError(http.StatusServiceUnavailable, CodeTooManyStreams,
			fmt.Sprintf("the server has %d live streams open, its limit: retry later", s.nStreams))
	case tok != noToken && s.perToken[tok] >= s.opts.MaxStreamsPerToken:
		return newError(http.StatusTooManyRequests, CodeTooManyStreams,
			fmt.Sprintf("this token has %d live streams open, its limit: close one or retry later", s.perToken[tok]))
	}
	s.nStreams++
	if tok != noToken {
		if s.perToken == nil {
			s.perToken = map[int]int{}
		}
		s.perToken[tok]++
	}
	s.streams.Add(1)
	return nil
}

// streamEnded uncounts a live stream of token tok.
func (s *Server) streamEnded(tok int) {
	s.mu.Lock()
	s.nStreams--
	if tok != noToken {
		if s.perToken[tok]--; s.perToken[tok] == 0 {
			delete(s.perToken, tok)
		}
	}
	s.mu.Unlock()
	s.streams.Done()
}

func (s *Server) recoverPanic(route string, w http.ResponseWriter) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.metrics.failures.WithLabelValues(route).Inc()
	s.log.Error("httpapi: handler panicked", "route", route, "panic", v)
	// The answer may be half written; writing the error is best effort.
	s.writeError(w, newError(http.StatusInternalServerError, CodeInternal, "internal error"))
}

// handleReady answers 200 when the store answers a query, 503 otherwise.
// The store's error is told only to a caller the read scope allows (every
// caller on a server without tokens): an open probe learns ready or not.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) *apiError {
	if s.closed.Load() {
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "not ready: server is shutting down")
	}
	_, deny := s.authorize(r, ScopeRead)
	if failing, err := s.health.state(); failing {
		msg := "not ready: the store's writes are failing"
		if deny == nil {
			msg += ": " + err.Error()
		}
		return newError(http.StatusServiceUnavailable, CodeUnavailable, msg)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
	defer cancel()
	if _, err := s.store.Query(ctx, audit.Filter{Limit: 1}); err != nil {
		msg := "not ready: the store is not answering"
		if deny == nil {
			msg += ": " + err.Error()
		}
		return newError(http.StatusServiceUnavailable, CodeUnavailable, msg)
	}
	writeJSON(w, []byte(`{"status":"ready"}`))
	return nil
}

// CloseStreams ends every live stream: SSE clients get an error event with
// the reason and their last seq, WebSocket clients a close frame. New
// stream requests are refused. A stream still writing
// StreamGoodbyeTimeout later (a client that stopped reading or vanished)
// has its connection closed. It returns at once; Close waits for
// the streams.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		s.goodbye = time.AfterFunc(StreamGoodbyeTimeout, func() {
			if n := s.cutStreams(); n > 0 {
				s.log.Info("httpapi: closed the connections of live streams still writing after the shutdown's goodbye bound",
					"streams", n, "bound", StreamGoodbyeTimeout)
			}
		})
		s.mu.Unlock()
		close(s.closing)
	})
}

// Close ends the live streams, drains the recorder, calls Options.OnDrain,
// closes the recorder and waits for the streams: every entry submitted is
// durable (or its failure reported) when Close returns nil. The recorder is drained first, so that a stream whose
// client stopped reading never holds up what was acknowledged; streams
// still writing when ctx ends have their connections closed. Ingest
// requests must have finished (see Serve). It does not close the store.
func (s *Server) Close(ctx context.Context) error {
	s.CloseStreams()
	// Every ingest request learnt the fate of its events from its receipt;
	// a failure the recorder still holds was answered already (503 or 499),
	// so it is logged here and does not fail the shutdown.
	if err := s.rec.Sync(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("httpapi: close: draining the recorder: %w", err)
		}
		s.log.Warn("httpapi: some entries were not recorded; their requests were answered with an error", "error", err)
	}
	if s.opts.OnDrain != nil {
		if err := s.opts.OnDrain(ctx); err != nil {
			s.log.Error("httpapi: close: recording the last entries of the drain hook", "error", err)
		}
	}
	err := s.rec.Close(ctx)
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if n := s.cutStreams(); n > 0 {
			s.log.Warn("httpapi: closed the connections of live streams that did not end in time", "streams", n)
		}
		select {
		case <-done:
		case <-time.After(cutStreamsWait):
			return fmt.Errorf("httpapi: close: waiting for streams: %w", ctx.Err())
		}
	}
	s.mu.Lock()
	s.goodbye.Stop()
	s.mu.Unlock()
	if err == nil || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.hubOnce.Do(func() {
			if s.follow != nil {
				s.follow.stop()
			}
			s.hub.close()
		})
	}
	if err != nil {
		return fmt.Errorf("httpapi: close: %w", err)
	}
	return nil
}

// cutStreamsWait bounds the wait for streams whose connections Close cut.
const cutStreamsWait = 5 * time.Second

// onCut registers how to close the connection of a live stream, for Close
// to cut streams that do not end in time; the returned func unregisters.
func (s *Server) onCut(cut func()) (unregister func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cutters == nil {
		s.cutters = map[*func()]struct{}{}
	}
	key := &cut
	s.cutters[key] = struct{}{}
	return func() {
		s.mu.Lock()
		delete(s.cutters, key)
		s.mu.Unlock()
	}
}

// cutStreams closes the connections of the live streams still open and
// returns how many.
func (s *Server) cutStreams() int {
	s.mu.Lock()
	cuts := make([]func(), 0, len(s.cutters))
	for c := range s.cutters {
		cuts = append(cuts, *c)
	}
	s.mu.Unlock()
	for _, cut := range cuts {
		cut()
	}
	return len(cuts)
}

// Serve serves s on ln until ctx is done, then shuts down gracefully: it
// stops accepting, ends the live streams, waits for the requests in flight
// (at most Options.ShutdownTimeout; connections still busy then, such as a
// client that stopped reading an answer, are closed) and drains the
// recorder under a bound of its own of the same length. It returns nil
// after a clean shutdown, in which everything acknowledged is recorded.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln = &limitListener{Listener: ln, max: s.opts.MaxConnections,
		refused: func() { s.metrics.rejected.WithLabelValues(CodeTooManyConnections).Inc() }}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.CloseStreams)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	shutErr := hs.Shutdown(sctx)
	cancel()
	if shutErr != nil {
		s.log.Warn("httpapi: closing the connections still busy after the shutdown bound",
			"bound", s.opts.ShutdownTimeout, "error", shutErr)
		_ = hs.Close()
	}
	dctx, dcancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer dcancel()
	closeErr := s.Close(dctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serve: %w", serveErr)
	}
	return closeErr
}
