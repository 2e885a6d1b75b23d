package httpapi

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawWS is a WebSocket client over a bare connection that reads only when
// told to: it never answers a ping and never drains what the server sends.
type rawWS struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialRawWS opens /v1/ws on a connection with a small receive buffer.
func dialRawWS(t *testing.T, addr string) *rawWS {
	t.Helper()
	conn := dialSmallWindow(t, addr)
	t.Cleanup(func() { conn.Close() })
	_, err := conn.Write([]byte("GET /v1/ws HTTP/1.1\r\nHost: wtb\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("WebSocket handshake: %v", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("WebSocket handshake: %s", res.Status)
	}
	return &rawWS{conn: conn, br: br}
}

// smallSendBuffer gives every connection it accepts a send buffer of 4
// KiB, so that a client that does not read blocks the server's writes at
// once.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// send writes one masked text frame.
func (c *rawWS) send(t *testing.T, msg []byte) {
	t.Helper()
	frame := []byte{0x81}
	switch n := len(msg); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	default:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	}
	key := [4]byte{1, 2, 3, 4}
	frame = append(frame, key[:]...)
	for i, b := range msg {
		frame = append(frame, b^key[i%4])
	}
	if _, err := c.conn.Write(frame); err != nil {
		t.Fatal(err)
	}
}

// next reads the next frame: its opcode and payload.
func (c *rawWS) next() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	_, err := io.ReadFull(c.br, p)
	return h[0] & 0x0f, p, err
}

// Shutdown ends every live stream promptly, whatever it was doing: an SSE
// and a WebSocket replay blocked writing to clients that stopped reading,
// and a WebSocket ping waiting for the pong of a client that never
// answers; none waits out its write timeout. The client that still reads
// gets its close frame naming the shutdown.
func TestShutdownEndsBlockedStreams(t *testing.T) {
	env := newEnv(t, Options{WriteTimeout: 10 * time.Minute, FirstWriteTimeout: 10 * time.Minute,
		Heartbeat: 10 * time.Millisecond})
	ingestLong(t, env, "long")
	ts := httptest.NewUnstartedServer(env.srv)
	ts.Listener = smallSendBuffer{ts.Listener}
	ts.Start()
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	// An SSE replay of 12 MB to a client that reads its first bytes and
	// then nothing: the server is blocked writing its first page (64 KiB,
	// more than the buffers of both ends hold).
	sse := stalledGet(t, addr, "/v1/stream?topic=audit:*&after=0")
	defer sse.Close()
	_ = sse.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := sse.Read(make([]byte, 1)); err != nil {
		t.Fatalf("SSE: %v", err)
	}

	// The same over WebSocket: the replay of a subscribe with after=0.
	replay := dialRawWS(t, addr)
	sub, _ := json.Marshal(map[string]any{"action": "subscribe", "topics": []string{"audit:*"}, "after": 0})
	replay.send(t, sub)
	for {
		op, p, err := replay.next()
		if err != nil {
			t.Fatalf("WebSocket replay: %v", err)
		}
		if op == 0x1 && strings.Contains(string(p), `"type":"entry"`) {
			break // replaying: the rest no longer fits
		}
	}

	// A client that reads but never answers a ping: the server waits for
	// the pong for up to its write timeout.
	pinged := dialRawWS(t, addr)
	for {
		op, _, err := pinged.next()
		if err != nil {
			t.Fatalf("waiting for a ping: %v", err)
		}
		if op == 0x9 {
			break
		}
	}
	waitFor(t, "the three streams", func() bool { return env.srv.openStreams() == 3 })

	start := time.Now()
	env.srv.CloseStreams()
	waitFor(t, "the streams to end after CloseStreams", func() bool { return env.srv.openStreams() == 0 })
	// Far below the 10 minute write timeout; above the goodbye bound with
	// room for a loaded machine.
	if d := time.Since(start); d > StreamGoodbyeTimeout+10*time.Second {
		t.Errorf("the streams ended %s after CloseStreams", d)
	}

	// The ping was abandoned at once, so the client that reads got its
	// close frame naming the shutdown rather than a cut connection.
	for {
		op, p, err := pinged.next()
		if err != nil {
			t.Fatalf("the pinged client got no close frame: %v", err)
		}
		if op != 0x8 {
			continue
		}
		if len(p) < 2 || binary.BigEndian.Uint16(p) != 1001 || !strings.Contains(string(p[2:]), ReasonShutdown) {
			t.Fatalf("close frame %q, want 1001 and %q", p, ReasonShutdown)
		}
		break
	}
}

// A WebSocket client that does not answer a ping within WriteTimeout is
// gone: its stream ends and frees its slot.
func TestWebSocketPingTimeout(t *testing.T) {
	env := newEnv(t, Options{Heartbeat: 10 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	c := dialRawWS(t, env.ts.Listener.Addr().String())
	for {
		op, _, err := c.next()
		if err != nil {
			t.Fatalf("waiting for a ping: %v", err)
		}
		if op == 0x9 {
			break // never answered
		}
	}
	waitFor(t, "the stream of the client that does not answer pings to end", func() bool { return env.srv.openStreams() == 0 })
}
