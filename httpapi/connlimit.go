package httpapi

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits of Serve.
const (
	// DefaultMaxConnections is the default of Options.MaxConnections.
	DefaultMaxConnections = 4096
	// DefaultReadHeaderTimeout is the default of Options.ReadHeaderTimeout.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is the default of Options.IdleTimeout.
	DefaultIdleTimeout = 2 * time.Minute
	// MaxHeaderBytes bounds a request's header, in bytes.
	MaxHeaderBytes = 64 << 10
	// maxRefusing bounds the connections being answered 503 at once
	// (each for at most refuseTimeout); beyond it one more is closed
	// without an answer.
	maxRefusing = 64
	// refuseTimeout bounds reading a refused connection's request head
	// and writing its 503.
	refuseTimeout = time.Second
)

// limitListener hands out at most max connections at a time. One more
// is answered 503 too_many_connections with Retry-After, from a goroutine
// of its own (at most maxRefusing at once), and closed: the client learns
// why, and the connections the server holds stay bounded.
type limitListener struct {
	net.Listener
	max      int
	open     atomic.Int64
	refusing atomic.Int64
	refused  func() // counts a refused connection
}

// Accept waits for the next connection within the limit.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= int64(l.max) {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused()
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			_ = c.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			refuseConn(c, l.max)
		}()
	}
}

// refuseConn reads c's request head (so that the client, which writes
// before it reads, is not reset) and answers it 503.
func refuseConn(c net.Conn, max int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseTimeout))
	if req, err := http.ReadRequest(bufio.NewReaderSize(c, 4096)); err == nil {
		_ = req.Body.Close()
	}
	var eb errorBody
	eb.Error.Code = CodeTooManyConnections
	eb.Error.Message = "the server has its " + strconv.Itoa(max) + " connections open (Options.MaxConnections, wtb serve --max-connections); retry later"
	body := append(marshalText(eb), '\n')
	head := "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff" +
		"\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	_, _ = c.Write(append([]byte(head), body...))
}

// limitedConn gives its place back once, when it is closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
