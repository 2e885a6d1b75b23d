package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
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
	MaxStreamDelay         = time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultReadTimeout     = 30 * time.Second
	DefaultReadyTimeout    = 2 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxTimeline     = 100_000
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
	// ReadTimeout bounds reading an ingest request body (default
	// DefaultReadTimeout).
	ReadTimeout time.Duration
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
	// Recorder configures the recorder the server writes through. Its
	// OnCommit, when set, is called after the server's own.
	Recorder audit.RecorderOptions
	// Logger receives request failures (default slog.Default()). Tokens are
	// never logged.
	Logger *slog.Logger
}

// Server is the wtb HTTP service: ingest into an audit.Store through a
// Recorder, queries, live streams (SSE and WebSocket), metrics and health.
// It is an http.Handler. Close it to drain the recorder; it does not close
// the store.
type Server struct {
	store   audit.Store
	rec     *audit.Recorder
	hub     *hub
	opts    Options
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	mux     *http.ServeMux

	closing   chan struct{} // closed when live streams must end
	closeOnce sync.Once
	closed    atomic.Bool
	hubOnce   sync.Once

	// beforeLive, when set (by tests), runs before a stream takes its
	// buffered entries.
	beforeLive func()
	streams    sync.WaitGroup
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
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
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
	s.metrics = newMetrics(s.reg, s)
	ro := opts.Recorder
	user := ro.OnCommit
	ro.OnCommit = func(committed []audit.Entry, latency time.Duration) {
		s.metrics.commitLatency.Observe(latency.Seconds())
		s.hub.commit(committed)
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
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", s.api("ingest", ScopeIngest, s.handleIngest))
	mux.Handle("GET /v1/audit", s.api("audit", ScopeRead, s.handleAudit))
	mux.Handle("GET /v1/executions", s.api("executions", ScopeRead, s.handleExecutions))
	mux.Handle("GET /v1/executions/{id}/summary", s.api("summary", ScopeRead, s.handleSummary))
	mux.Handle("GET /v1/executions/{id}/timeline", s.api("timeline", ScopeRead, s.handleTimeline))
	mux.Handle("GET /v1/stream", s.stream("sse", s.handleSSE))
	mux.Handle("GET /v1/ws", s.stream("ws", s.handleWS))
	metrics := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)})
	mux.Handle("GET /metrics", s.api("metrics", ScopeRead, func(w http.ResponseWriter, r *http.Request) *apiError {
		metrics.ServeHTTP(w, r)
		return nil
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, []byte(`{"status":"ok"}`))
	})
	mux.Handle("GET /readyz", s.api("readyz", "", s.handleReady))
	s.mux = mux
}

// ServeHTTP serves the routes:
//
//	POST /v1/events                      ingest (scope ingest)
//	GET  /v1/audit                       query entries (scope read)
//	GET  /v1/executions                  executions with summaries (read)
//	GET  /v1/executions/{id}/summary     one summary (read)
//	GET  /v1/executions/{id}/timeline    text timeline (read)
//	GET  /v1/stream                      Server-Sent Events (read)
//	GET  /v1/ws                          WebSocket (read)
//	GET  /metrics                        Prometheus metrics (read)
//	GET  /healthz, /readyz               liveness, readiness
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		// No route: the mux answers 404 or 405 (with Allow) in plain
		// text; answer its status as a JSON error instead.
		h.ServeHTTP(&muxError{s: s, w: w, r: r}, r)
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

// api wraps a handler with authorization, panic isolation, error answers
// and the request duration metric.
func (s *Server) api(route string, scope Scope, h handlerFunc) http.Handler {
	hist := s.metrics.requests.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer s.recoverPanic(route, w)
		if scope != "" {
			if e := s.authorize(r, scope); e != nil {
				s.writeError(w, e)
				return
			}
		}
		if e := h(w, r); e != nil {
			if e.status >= 500 {
				s.metrics.failures.WithLabelValues(route).Inc()
				s.log.Error("httpapi: request failed", "route", route, "code", e.code, "error", e.message)
			}
			s.writeError(w, e)
		}
		hist.Observe(time.Since(start).Seconds())
	})
}

// stream wraps a live stream handler: authorization, panic isolation, the
// live clients gauge and the shutdown bookkeeping.
func (s *Server) stream(transport string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(transport, w)
		if e := s.authorize(r, ScopeRead); e != nil {
			s.writeError(w, e)
			return
		}
		if s.closed.Load() {
			s.writeError(w, newError(http.StatusServiceUnavailable, CodeUnavailable, "server is shutting down"))
			return
		}
		s.streams.Add(1)
		defer s.streams.Done()
		g := s.metrics.liveClients.WithLabelValues(transport)
		g.Inc()
		defer g.Dec()
		if e := h(w, r); e != nil {
			s.writeError(w, e)
		}
	})
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

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) *apiError {
	if s.closed.Load() {
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "server is shutting down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
	defer cancel()
	if _, err := s.store.Query(ctx, audit.Filter{Limit: 1}); err != nil {
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "store not answering: "+err.Error())
	}
	writeJSON(w, []byte(`{"status":"ready"}`))
	return nil
}

// CloseStreams ends every live stream: SSE clients get an error event with
// the reason and their last seq, WebSocket clients a close frame. New
// stream requests are refused. It returns at once; Close waits for them.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.closing)
	})
}

// Close ends the live streams, waits for them, then drains the recorder:
// every entry submitted is durable (or its failure reported) when Close
// returns nil. Ingest requests must have finished (see Serve). It does not
// close the store.
func (s *Server) Close(ctx context.Context) error {
	s.CloseStreams()
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("httpapi: close: waiting for streams: %w", ctx.Err())
	}
	// Every ingest request learnt the fate of its events from its receipt;
	// a failure the recorder still holds was answered already (503 or 499),
	// so it is logged here and does not fail the shutdown.
	if err := s.rec.Sync(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("httpapi: close: draining the recorder: %w", err)
		}
		s.log.Warn("httpapi: some entries were not recorded; their requests were answered with an error", "error", err)
	}
	err := s.rec.Close(ctx)
	if err == nil || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.hubOnce.Do(s.hub.close)
	}
	if err != nil {
		return fmt.Errorf("httpapi: close: %w", err)
	}
	return nil
}

// Serve serves s on ln until ctx is done, then shuts down gracefully: it
// stops accepting, ends the live streams, waits for requests in flight (at
// most DefaultShutdownTimeout) and drains the recorder. It returns nil after
// a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
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
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	closeErr := s.Close(sctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serve: %w", serveErr)
	}
	if shutErr != nil {
		return fmt.Errorf("httpapi: shutdown: %w", shutErr)
	}
	return closeErr
}
