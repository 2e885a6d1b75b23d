package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Stream end reasons, in the code of the last SSE error event and the
// WebSocket close reason.
const (
	ReasonSlowConsumer = "slow_consumer" // the client's buffer overflowed
	ReasonShutdown     = "shutdown"      // the server is shutting down
	ReasonStoreError   = "store_error"   // the store failed during a replay
)

// parseTopics reads the topic parameters of a stream request.
func parseTopics(vals []string) (topicSet, *apiError) {
	if len(vals) == 0 {
		return nil, newError(http.StatusBadRequest, CodeBadTopic,
			"no topic: add topic=audit:*, topic=execution:<id>, topic=batch:<id> or topic=type:<audit type>")
	}
	if len(vals) > MaxTopics {
		return nil, newError(http.StatusBadRequest, CodeBadTopic, "more than "+strconv.Itoa(MaxTopics)+" topics")
	}
	ts := make(topicSet, 0, len(vals))
	for _, v := range vals {
		t, err := parseTopic(v)
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeBadTopic, err.Error())
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// handleSSE streams entries as Server-Sent Events: every entry is an event
// "entry" whose id is its seq and whose data is its JSON. Topics come from
// the repeatable parameter topic. Last-Event-ID (or ?after=SEQ) resumes:
// the entries after that seq are replayed from the store, then the stream
// continues live without gaps or duplicates. When the stream ends on the
// server's side, a last event "error" carries {"code", "message",
// "last_seq"}; the client resumes with Last-Event-ID = last_seq.
func (s *Server) handleSSE(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	topics, e := parseTopics(q["topic"])
	if e != nil {
		return e
	}
	after, resume := int64(0), false
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, e = parseSeq("Last-Event-ID", v); e != nil {
			return e
		}
		resume = true
	} else if v := q.Get("after"); v != "" {
		if after, e = parseSeq("after", v); e != nil {
			return e
		}
		resume = true
	}
	sink, ctx, err := s.openSSE(w, r)
	if isSinkError(err) {
		return nil
	}
	if err != nil {
		return newError(http.StatusInternalServerError, CodeInternal, "starting the stream: "+err.Error())
	}
	defer sink.close()
	defer s.onCut(sink.cut)()
	sub := s.hub.subscribe(topics, s.opts.ClientBuffer, !resume)
	defer s.hub.unsubscribe(sub)

	var frames [][]byte
	var run frameRun
	if sink.write([][]byte{sseHello}) != nil {
		return nil
	}
	last := after
	end := func(code, msg string) {
		s.metrics.disconnects.WithLabelValues(code).Inc()
		b := marshalText(streamError{code, msg, last})
		_ = sink.write([][]byte{[]byte("event: error\ndata: "), b, []byte("\n\n")})
	}
	if resume {
		var err error
		last, err = s.catchUp(ctx, sub, replaySel{topics: topics, after: after}, transportSSE, func(page []*liveEntry) error {
			// A page's frames lie back to back: one buffer.
			err := sink.write([][]byte{page[0].blk.sse})
			sink.started()
			return err
		})
		switch {
		case errors.Is(err, errCannotCatchUp):
			end(ReasonSlowConsumer, "the client reads slower than entries are recorded; resume with Last-Event-ID")
			return nil
		case errors.Is(err, errShuttingDown):
			end(ReasonShutdown, "the server is shutting down; resume with Last-Event-ID")
			return nil
		case err != nil && ctx.Err() == nil && !isSinkError(err):
			end(ReasonStoreError, "replay failed; resume with Last-Event-ID")
			return nil
		case err != nil:
			return nil
		}
	}
	sink.started()
	hb := time.NewTicker(s.opts.Heartbeat)
	defer hb.Stop()
	delay := time.NewTimer(time.Hour)
	delay.Stop()
	var chunks [][]*liveEntry
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			end(ReasonShutdown, "the server is shutting down; resume with Last-Event-ID")
			return nil
		case <-hb.C:
			if sink.write([][]byte{sseHeartbeat}) != nil {
				return nil
			}
		case <-sub.notify:
			if s.opts.StreamDelay > 0 {
				// Let the entries that follow join this write.
				delay.Reset(s.opts.StreamDelay)
				select {
				case <-delay.C:
				case <-ctx.Done():
					return nil
				case <-s.closing:
					delay.Stop()
				}
			}
			if s.beforeLive != nil {
				s.beforeLive()
			}
			var st subState
			chunks, st = sub.takeChunks(chunks)
			for _, es := range chunks {
				frames, last = appendEntries(frames, &run, es, last)
			}
			clear(chunks)
			if len(frames) > 0 {
				err := sink.write(frames)
				clear(frames)
				frames = frames[:0]
				if err != nil {
					return nil
				}
			}
			if st == subOverflow {
				end(ReasonSlowConsumer, "the client's buffer of "+strconv.Itoa(s.opts.ClientBuffer)+
					" entries overflowed; resume with Last-Event-ID")
				return nil
			}
		}
	}
}

var (
	sseHello     = []byte("retry: 1000\n: connected\n\n")
	sseHeartbeat = []byte(": heartbeat\n\n")
	sseHeader    = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
		"X-Accel-Buffering: no\r\nConnection: close\r\n\r\n")
)

// sseSink is where a stream writes its frames; every write is flushed.
// Until started is called, writes share the stream's first-write
// deadline; afterwards each has its own write timeout.
type sseSink interface {
	write(frames [][]byte) error
	started()
	close()
	cut() // ends a blocked write at once (safe from any goroutine)
}

// sinkError marks a failed write to the client.
type sinkError struct{ error }

func (e sinkError) Unwrap() error { return e.error }

func isSinkError(err error) bool {
	var se sinkError
	return errors.As(err, &se)
}

// openSSE starts the response. On HTTP/1.1 it takes the connection over
// and writes frames with writev straight from the shared rendered entries
// (no copy, no chunked encoding; the body ends when the connection
// closes); elsewhere it writes through the ResponseWriter. The context
// ends when the client goes away.
func (s *Server) openSSE(w http.ResponseWriter, r *http.Request) (sseSink, context.Context, error) {
	first := time.Now().Add(s.opts.FirstWriteTimeout)
	inner := w
	if rw, ok := w.(*respWriter); ok {
		inner = rw.Unwrap() // the raw connection, for writev
	}
	rc := http.NewResponseController(inner)
	if r.ProtoMajor == 1 {
		conn, brw, err := rc.Hijack()
		if err == nil {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				// The client sends nothing more; a read ends when it goes.
				_, _ = io.Copy(io.Discard, brw)
				cancel()
			}()
			cs := &connSink{conn: conn, timeout: s.opts.WriteTimeout, first: first, cancel: cancel,
				bytes: hijackedAs(w, http.StatusOK)}
			if err := cs.write([][]byte{sseHeader}); err != nil {
				cs.close()
				return nil, nil, err // a sinkError: the client is gone
			}
			return cs, ctx, nil
		}
		if !errors.Is(err, http.ErrNotSupported) {
			return nil, nil, err
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &writerSink{w: w, rc: http.NewResponseController(w), timeout: s.opts.WriteTimeout, first: first}, r.Context(), nil
}

// deadline is the deadline of a write: the first-write deadline until the
// stream has started, then timeout from now.
func deadline(first *time.Time, timeout time.Duration) time.Time {
	if !first.IsZero() {
		return *first
	}
	return time.Now().Add(timeout)
}

// connSink writes to a hijacked connection.
type connSink struct {
	conn    net.Conn
	timeout time.Duration
	first   time.Time // the first-write deadline; zero once started
	cancel  context.CancelFunc
	bufs    [][]byte
	bytes   *atomic.Int64 // the request log's byte count, or nil
}

func (c *connSink) write(frames [][]byte) error {
	_ = c.conn.SetWriteDeadline(deadline(&c.first, c.timeout))
	c.bufs = append(c.bufs[:0], frames...)
	nb := net.Buffers(c.bufs)
	n, err := nb.WriteTo(c.conn)
	clear(c.bufs)
	if c.bytes != nil {
		c.bytes.Add(n)
	}
	if err != nil {
		return sinkError{err}
	}
	return nil
}

func (c *connSink) started() { c.first = time.Time{} }

func (c *connSink) cut() { _ = c.conn.Close() }

func (c *connSink) close() {
	c.cancel()
	_ = c.conn.Close()
}

// writerSink writes through a ResponseWriter.
type writerSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	first   time.Time
	isCut   atomic.Bool
}

func (ws *writerSink) started() { ws.first = time.Time{} }

func (ws *writerSink) cut() {
	ws.isCut.Store(true)
	_ = ws.rc.SetWriteDeadline(time.Now())
}

func (ws *writerSink) write(frames [][]byte) error {
	if ws.isCut.Load() {
		return sinkError{net.ErrClosed}
	}
	_ = ws.rc.SetWriteDeadline(deadline(&ws.first, ws.timeout))
	for _, f := range frames {
		if _, err := ws.w.Write(f); err != nil {
			return sinkError{err}
		}
	}
	if err := ws.rc.Flush(); err != nil {
		return sinkError{err}
	}
	return nil
}

func (ws *writerSink) close() {}
