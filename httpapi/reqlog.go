package httpapi

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// RequestLogOff, as Options.RequestLogLevel, turns the request log off.
const RequestLogOff = slog.Level(1 << 20)

// respWriter records the status and size of an answer for the request log
// and the metrics. Live streams that take the connection over add what
// they write to bytes themselves.
type respWriter struct {
	http.ResponseWriter
	status   int
	bytes    atomic.Int64
	code     string // error code of an error answer
	hijacked bool

	// writeTimeout, when set, is the deadline the answer has from its
	// first byte: every route but the live streams has one.
	writeTimeout time.Duration
	// body is the request body, tracked: an error answered before the
	// body was read to its end closes the connection.
	body *bodyTracker
}

func (w *respWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		w.started(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

// started runs once, before the answer's first byte.
func (w *respWriter) started(status int) {
	if w.writeTimeout > 0 {
		_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
	if status >= 400 && w.body.unread() {
		w.Header().Set("Connection", "close")
	}
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.started(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes.Add(int64(n))
	return n, err
}

// Flush implements http.Flusher.
func (w *respWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker (the WebSocket library asks for it).
// The connection it returns counts the bytes written to it.
func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	w.hijacked = true
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	cc := &countingConn{Conn: c, n: &w.bytes}
	if brw != nil {
		brw.Writer.Reset(cc)
	}
	return cc, brw, nil
}

// countingConn counts the bytes written to a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hijackedAs records the status a stream answered on a connection it took
// over, and returns the byte counter it adds its writes to (nil when w is
// not the server's writer).
func hijackedAs(w http.ResponseWriter, status int) *atomic.Int64 {
	rw, ok := w.(*respWriter)
	if !ok {
		return nil
	}
	if rw.status == 0 {
		rw.status = status
	}
	return &rw.bytes
}

// logRequest writes the request's line: method, route, status, bytes and
// duration, and the error code of an error answer. Never a token, a query
// or a path value.
func (s *Server) logRequest(r *http.Request, route string, w *respWriter, start time.Time) {
	lvl := s.opts.RequestLogLevel
	if lvl >= RequestLogOff || !s.log.Enabled(r.Context(), lvl) {
		return
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("bytes", w.bytes.Load()),
		slog.Duration("duration", time.Since(start)),
	}
	if w.code != "" {
		attrs = append(attrs, slog.String("code", w.code))
	}
	s.log.LogAttrs(context.Background(), lvl, "request", attrs...)
}
