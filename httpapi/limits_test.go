package httpapi

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// waitFor polls cond until it holds or the test's bound passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *Server) openStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nStreams
}

// Live streams are bounded globally (503) and per token (429), both with
// the error body and Retry-After; a slot frees when a stream ends.
func TestStreamLimits(t *testing.T) {
	tokens, err := ParseTokens(strings.NewReader(testTokens))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{Tokens: tokens, MaxStreams: 3, MaxStreamsPerToken: 2})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	reader := []string{"Authorization", "Bearer reader-token"}
	both := []string{"Authorization", "Bearer both-token"}

	s1, err := env.openSSE(ctx, "topic=audit:*", reader...)
	if err != nil {
		t.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/v1/ws"
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {reader[1]}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFor(t, "two streams", func() bool { return env.srv.openStreams() == 2 })

	// The reader token has its 2; another token still gets one.
	checkRefused(t, env.get("/v1/stream?topic=audit:*", reader...), 429, "this token has 2 live streams")
	s2, err := env.openSSE(ctx, "topic=audit:*", both...)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	// The server has its 3.
	checkRefused(t, env.get("/v1/stream?topic=audit:*", both...), 503, "the server has 3 live streams")

	// One ends: its slot is free again, for its token too.
	s1.close()
	waitFor(t, "a stream to end", func() bool { return env.srv.openStreams() == 2 })
	s3, err := env.openSSE(ctx, "topic=audit:*", reader...)
	if err != nil {
		t.Fatalf("after a stream ended: %v", err)
	}
	s3.close()
	if text := string(env.get("/metrics", reader...).body); !strings.Contains(text, `wtb_http_requests_rejected_total{code="too_many_streams"} 2`) {
		t.Errorf("refusals not counted")
	}
}

func checkRefused(t *testing.T, r response, status int, msg string) {
	t.Helper()
	eb := parseError(t, r)
	if r.status != status || eb.Error.Code != CodeTooManyStreams || !strings.Contains(eb.Error.Message, msg) {
		t.Fatalf("status %d %s, want %d too_many_streams %q", r.status, r.body, status, msg)
	}
	if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n <= 0 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
}

// A replay renders at most about ReplayPageBytes at a time, whatever the
// size of the log behind the client.
func TestReplayPageBytes(t *testing.T) {
	st := audit.NewMemoryStore()
	defer st.Close()
	es := testEntries(3000, "big")
	for i := range es {
		es[i].Message = strings.Repeat("m", 100+i%700)
	}
	if _, err := st.Append(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	const budget = 32 << 10
	srv, err := New(st, Options{ReplayPageBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	for _, tr := range []transport{transportSSE, transportWS} {
		n, pages, largest := 0, 0, 0
		last, err := srv.replay(context.Background(), replaySel{topics: topicSet{{all: true}}}, tr, func(page []*liveEntry) error {
			size := 0
			for _, le := range page {
				size += len(le.sse) + len(le.ws)
			}
			if tr == transportSSE && len(page[0].blk.sse) != size {
				t.Fatalf("SSE page of %d bytes not one buffer of its frames (%d)", size, len(page[0].blk.sse))
			}
			largest = max(largest, size)
			n += len(page)
			pages++
			return nil
		})
		if err != nil || last != 3000 || n != 3000 {
			t.Fatalf("replay: %d entries, last %d, %v", n, last, err)
		}
		// The first page sizes itself from a guess; every page stays
		// within twice the budget.
		if largest > 2*budget {
			t.Errorf("transport %d: a page of %d bytes, budget %d", tr, largest, budget)
		}
		t.Logf("transport %d: %d pages, largest %d bytes", tr, pages, largest)
	}
}

// A stream whose first page the client does not take within
// FirstWriteTimeout is ended then, not after WriteTimeout.
func TestFirstWriteTimeout(t *testing.T) {
	// One page of about 10 MB: more than the socket buffers of both ends
	// take (the server's send buffer grows to 4 MB at most on Linux).
	env := newEnv(t, Options{FirstWriteTimeout: 300 * time.Millisecond, WriteTimeout: time.Minute, ReplayPageBytes: 16 << 20})
	for range 2 {
		env.ingest(bigEvents(t, "slow-reader", 500, 10_000))
	}
	// A client with a small receive window that never reads.
	d := net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", env.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /v1/stream?topic=audit:*&after=0 HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to start", func() bool { return env.srv.openStreams() == 1 })
	start := time.Now()
	waitFor(t, "the stream to end", func() bool { return env.srv.openStreams() == 0 })
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the stream ended after %s", d)
	}
}

// Streams opened while the server closes are either refused or waited for:
// Close never misses one, so none runs after Close has returned.
func TestStreamCountVersusClose(t *testing.T) {
	for i := range 20 {
		env := newEnv(t, Options{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				if r, err := env.openSSE(ctx, "topic=audit:*"); err == nil {
					r.close()
				}
			})
		}
		// Close while the requests arrive: some before, some during, some
		// after.
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		env.srv.CloseStreams()
		cctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		if err := env.srv.Close(cctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
			if n := env.srv.openStreams(); n != 0 {
				t.Fatalf("%d streams started after Close returned", n)
			}
			runtime.Gosched()
		}
		wg.Wait()
	}
}

// bigEvents returns n NodeFailed events of execution exec whose error
// message has size bytes.
func bigEvents(t *testing.T, exec string, n, size int) []event.Event {
	evs := make([]event.Event, n)
	msg := strings.Repeat("x", size)
	for i := range evs {
		ev := event.New[event.NodeFailed]()
		ev.ExecutionID, ev.NodeID, ev.NodeName = exec, "n"+strconv.Itoa(i), "n"
		ev.ErrorType, ev.ErrorMessage = "E", msg
		evs[i] = ev
	}
	return evs
}
