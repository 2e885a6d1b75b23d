package httpapi

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// bodyTracker records how far a handler read its request body.
type bodyTracker struct {
	io.ReadCloser
	n   int64
	eof bool
}

func (b *bodyTracker) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// unread reports whether the body was not read to its end.
func (b *bodyTracker) unread() bool { return b != nil && !b.eof }

// trackBody wraps the request's body, when it has one.
func trackBody(r *http.Request) *bodyTracker {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	bt := &bodyTracker{ReadCloser: r.Body}
	r.Body = bt
	return bt
}

// linger reads and discards what the client still sends of a body the
// handler did not read to its end before answering an error, within
// Options.LingerBytes and LingerTimeout, so that a client that writes its
// whole body before reading the answer (Python's urllib and requests do)
// reads the answer instead of a connection reset. The answer carries
// "Connection: close" (see respWriter.WriteHeader); it is flushed first.
func (s *Server) linger(w *respWriter, r *http.Request, bt *bodyTracker) {
	if bt.n == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return // the client waits for 100 Continue, which it will not get
	}
	rc := http.NewResponseController(w.ResponseWriter)
	if err := rc.Flush(); err != nil {
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.LingerTimeout))
	_, _ = io.CopyN(io.Discard, bt.ReadCloser, s.opts.LingerBytes)
}
