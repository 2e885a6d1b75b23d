package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// CutProxy is a TCP proxy to the test server that can cut a connection
// right after the server has committed a transaction, before the client
// reads the answer: the client then cannot know whether its COMMIT took
// effect (the outcome-unknown case of a commit).
type CutProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// NewCutProxy starts a proxy to the server of dsn (a postgres:// URL) on a
// free loopback port and returns it with dsn rewritten to go through it.
// It is closed when t ends.
func NewCutProxy(t testing.TB, dsn string) (*CutProxy, string) {
	t.Helper()
	target, err := hostPort(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p, withHost(dsn, ln.Addr().String())
}

// CutNextCommit arms the proxy: the next connection whose server answers a
// COMMIT is cut before that answer reaches the client.
func (p *CutProxy) CutNextCommit() { p.armed.Store(true) }

// Cuts returns the number of connections cut so far.
func (p *CutProxy) Cuts() int64 { return p.cuts.Load() }

// Close stops the proxy and closes its connections.
func (p *CutProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *CutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *CutProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			client.Close()
			server.Close()
			continue
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.forward(server, client, func([]byte) bool { return true })
		}()
		go func() {
			defer p.wg.Done()
			var tail []byte // the end of the previous chunk, for a tag cut in two
			p.forward(client, server, func(b []byte) bool {
				// Server to client: once the server says COMMIT (the tag
				// of its CommandComplete) while armed, drop that answer
				// and cut the connection.
				if !p.armed.Load() {
					return true
				}
				seen := append(tail, b...)
				if bytes.Contains(seen, commitTag) && p.armed.CompareAndSwap(true, false) {
					p.cuts.Add(1)
					client.Close()
					server.Close()
					return false
				}
				tail = append(tail[:0], seen[max(0, len(seen)-len(commitTag)):]...)
				return true
			})
		}()
	}
}

// commitTag is the command tag of a COMMIT in the server's CommandComplete.
var commitTag = []byte("COMMIT\x00")

// forward copies src to dst, passing every chunk to keep first; it stops
// when keep returns false or either side ends.
func (p *CutProxy) forward(dst, src net.Conn, keep func([]byte) bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !keep(buf[:n]) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or an error: either way this side is done
		}
	}
}

// hostPort returns the host:port a postgres:// URL names (port 5432 by
// default).
func hostPort(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("pgtest: %q is not a postgres:// URL", dsn)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432"), nil
	}
	return u.Host, nil
}

// withHost returns dsn with its host:port replaced.
func withHost(dsn, hostport string) string {
	u, _ := url.Parse(dsn)
	u.Host = hostport
	return u.String()
}
