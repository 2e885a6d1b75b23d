package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

// rawRequest sends req whole (headers and body, in one blocking write, as
// Python's urllib and requests do) and only then reads the answer.
func rawRequest(t *testing.T, addr string, req []byte) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := conn.Write(req); err != nil {
		return nil, nil, fmt.Errorf("writing the request: %w", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

func postRequest(path, headers string, body []byte, chunked bool) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "POST %s HTTP/1.1\r\nHost: wtb\r\nContent-Type: application/json\r\n%s", path, headers)
	if chunked {
		buf.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for b := body; len(b) > 0; {
			n := min(len(b), 64<<10)
			fmt.Fprintf(&buf, "%x\r\n", n)
			buf.Write(b[:n])
			buf.WriteString("\r\n")
			b = b[n:]
		}
		buf.WriteString("0\r\n\r\n")
	} else {
		fmt.Fprintf(&buf, "Content-Length: %d\r\n\r\n", len(body))
		buf.Write(body)
	}
	return buf.Bytes()
}

// A body over the limit, sent whole before the answer is read, gets its
// 413 (or 401) with the error body, not a connection reset: the server
// reads and discards the rest of the body, within its bounds.
func TestBodyTooLargeIsAnswered(t *testing.T) {
	tokens, err := ParseTokens(strings.NewReader(testTokens))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{Tokens: tokens, MaxBodyBytes: 1 << 20})
	addr := env.ts.Listener.Addr().String()
	body := bytes.Repeat([]byte(" "), 9<<20)
	auth := "Authorization: Bearer ingester-token\r\n"
	tests := []struct {
		name    string
		req     []byte
		status  int
		code    string
		message string
	}{
		{"Content-Length", postRequest("/v1/events", auth, body, false), 413, CodeBodyTooLarge, "of 9437184 bytes exceeds the limit of 1048576"},
		{"chunked", postRequest("/v1/events", auth, body, true), 413, CodeBodyTooLarge, "exceeds the limit of 1048576"},
		{"no token", postRequest("/v1/events", "", body, false), 401, CodeUnauthorized, "missing bearer token"},
		{"unknown route", postRequest("/v1/nowhere", auth, body, false), 404, CodeNotFound, "no route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b, err := rawRequest(t, addr, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			var eb errorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.message) {
				t.Fatalf("answer %s (%v), want %s %q", b, err, tc.code, tc.message)
			}
			if !res.Close {
				t.Errorf("answer without Connection: close")
			}
		})
	}
}

// Beyond LingerBytes the server stops reading and closes the connection:
// the bound holds.
func TestLingerBound(t *testing.T) {
	env := newEnv(t, Options{MaxBodyBytes: 1 << 20, LingerBytes: 1 << 20, LingerTimeout: 5 * time.Second})
	var discarded atomic.Int64
	conn, err := net.Dial("tcp", env.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testTimeout))
	req := postRequest("/v1/events", "", bytes.Repeat([]byte(" "), 64<<20), false)
	for len(req) > 0 {
		n, err := conn.Write(req[:min(len(req), 64<<10)])
		discarded.Add(int64(n))
		if err != nil {
			break // the server closed the connection
		}
		req = req[n:]
	}
	if len(req) == 0 {
		t.Fatalf("the server read all %d bytes; it should stop after about %d", discarded.Load(), 2<<20)
	}
}

// Every route's answer has a write deadline: a client that stops reading
// a long timeline does not hold its handler beyond WriteTimeout.
func TestWriteDeadline(t *testing.T) {
	env := newEnv(t, Options{WriteTimeout: 300 * time.Millisecond})
	ingestLong(t, env, "long")
	conn := stalledGet(t, env.ts.Listener.Addr().String(), "/v1/executions/long/timeline?all=true")
	defer conn.Close()
	g := env.srv.metrics.inFlight.WithLabelValues("timeline")
	waitFor(t, "the timeline request to start", func() bool { return gaugeValue(g) == 1 })
	start := time.Now()
	waitFor(t, "the stalled timeline request to end", func() bool { return gaugeValue(g) == 0 })
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the stalled request ended after %s", d)
	}
}

// ingestLong records execution exec with a timeline of about 12 MB: more
// than the socket buffers of both ends hold.
func ingestLong(t *testing.T, env *testEnv, exec string) {
	t.Helper()
	for range 4 {
		env.ingest(bigEvents(t, exec, 500, 6000))
	}
}

// stalledGet sends a GET on a connection with a small receive buffer and
// never reads the answer.
func stalledGet(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	conn := dialSmallWindow(t, addr)
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: wtb\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	return conn
}

// dialSmallWindow connects to addr with a receive buffer of 4 KiB.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// Stalled readers of long timelines do not stop Serve from recording
// everything acknowledged and returning nil within the shutdown bound,
// even with a write timeout longer than that bound.
func TestShutdownWithStalledReaders(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wtb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const bound = time.Second
	srv, err := New(st, Options{
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		WriteTimeout:    time.Minute,
		ShutdownTimeout: bound,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	env := &testEnv{t: t, srv: srv, store: st, client: &http.Client{Timeout: testTimeout}}
	base := "http://" + addr
	post := func(evs []byte) (IngestResult, error) {
		res, err := env.client.Post(base+"/v1/events", MediaJSON, bytes.NewReader(evs))
		if err != nil {
			return IngestResult{}, err
		}
		defer res.Body.Close()
		var out IngestResult
		if res.StatusCode != 200 {
			return out, fmt.Errorf("status %d", res.StatusCode)
		}
		return out, json.NewDecoder(res.Body).Decode(&out)
	}
	for range 4 {
		if _, err := post(jsonArray(t, bigEvents(t, "long", 500, 6000))); err != nil {
			t.Fatal(err)
		}
	}
	g := srv.metrics.inFlight.WithLabelValues("timeline")
	for range 3 {
		conn := stalledGet(t, addr, "/v1/executions/long/timeline?all=true")
		defer conn.Close()
	}
	sse := stalledGet(t, addr, "/v1/stream?topic=audit:*&after=0")
	defer sse.Close()
	waitFor(t, "the stalled readers", func() bool { return gaugeValue(g) == 3 })

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				evs := nodeEvents("during", 10)
				if _, err := post(jsonArray(t, evs)); err != nil {
					return
				}
				mu.Lock()
				for _, ev := range evs {
					acked = append(acked, ev.EventID())
				}
				mu.Unlock()
			}
		})
	}
	waitFor(t, "ingest during the stall", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
	start := time.Now()
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
	}
	if d := time.Since(start); d > 2*bound+5*time.Second {
		t.Errorf("Serve returned %s after the stop; the bound is %s", d, bound)
	}
	wg.Wait()
	ids := allEventIDs(t, st)
	for _, id := range acked {
		if ids[id] != 1 {
			t.Fatalf("acknowledged event %s is in the store %d times", id, ids[id])
		}
	}
}

// failingStore fails Append while failing is set, counting every call.
type failingStore struct {
	audit.Store
	failing atomic.Bool
	appends atomic.Int64
}

var errDiskFull = errors.New("disk full (test)")

func (f *failingStore) Append(ctx context.Context, es []audit.Entry) (audit.AppendResult, error) {
	f.appends.Add(1)
	if f.failing.Load() {
		return audit.AppendResult{}, errDiskFull
	}
	return f.Store.Append(ctx, es)
}

// After a write fails (after the recorder's retries), ingest fails fast
// with 503 and Retry-After for the window without touching the store,
// /readyz says not ready, and the first write that succeeds after the
// window recovers.
func TestFailFast(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wtb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{Store: st}
	const window = 400 * time.Millisecond
	srv, err := New(fs, Options{
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		FailFastWindow: window,
		Recorder:       audit.RecorderOptions{Linger: time.Millisecond, MaxRetries: 2, RetryBackoff: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOn(t, srv, st)
	env.ingest(nodeEvents("ff", 2))
	fs.failing.Store(true)
	r := env.post(MediaJSON, jsonArray(t, nodeEvents("ff", 1)))
	if r.status != 503 || !strings.Contains(string(r.body), "disk full") {
		t.Fatalf("first failing write: %d %s", r.status, r.body)
	}
	calls := fs.appends.Load()
	failedAt := time.Now()
	if r := env.get("/readyz"); r.status != 503 || !strings.Contains(string(r.body), "writes are failing") {
		t.Fatalf("readyz while failing: %d %s", r.status, r.body)
	}
	// Within the window: 503 at once, the store untouched.
	for range 5 {
		r := env.post(MediaJSON, jsonArray(t, nodeEvents("ff", 1)))
		if time.Since(failedAt) >= window {
			break
		}
		if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "writes are failing") {
			t.Fatalf("fail fast: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		if n := fs.appends.Load(); n != calls {
			t.Fatalf("a request within the window reached the store (%d appends, %d before)", n, calls)
		}
	}
	// The store recovers; after the window the next write succeeds and
	// ends the failing state.
	fs.failing.Store(false)
	waitFor(t, "the window", func() bool { return time.Since(failedAt) > window })
	env.ingest(nodeEvents("ff", 1))
	if r := env.get("/readyz"); r.status != 200 {
		t.Fatalf("readyz after recovery: %d %s", r.status, r.body)
	}
	env.ingest(nodeEvents("ff", 1))
	if got := env.count(); got != 4 {
		t.Fatalf("%d entries, want 4", got)
	}
}

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}
