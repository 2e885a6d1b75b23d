package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// readEntries reads n entry events.
func readEntries(t *testing.T, r *sseReader, n int) []audit.Entry {
	t.Helper()
	out := make([]audit.Entry, 0, n)
	for len(out) < n {
		ev, err := r.next()
		if err != nil {
			t.Fatalf("after %d of %d entries: %v", len(out), n, err)
		}
		out = append(out, entryOf(t, ev))
	}
	return out
}

// checkSameEntries fails unless got are exactly want, by seq and event id.
func checkSameEntries(t *testing.T, got, want []audit.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].EventID != want[i].EventID {
			t.Fatalf("entry %d: seq %d %s, want seq %d %s", i, got[i].Seq, got[i].EventID, want[i].Seq, want[i].EventID)
		}
	}
}

func (e *testEnv) stored(f audit.Filter) []audit.Entry {
	e.t.Helper()
	f.Limit = audit.MaxLimit
	es, err := e.store.Query(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func TestSSELiveAndResume(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	live, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		env.ingest(nodeEvents("exec-sse", 10))
	}
	got := readEntries(t, live, 50)
	checkSameEntries(t, got, env.stored(audit.Filter{}))
	live.close()

	// Entries recorded while disconnected, then more while resuming.
	env.ingest(nodeEvents("exec-sse", 30))
	resumeAt := got[19].Seq
	for _, how := range []string{"Last-Event-ID", "after"} {
		t.Run(how, func(t *testing.T) {
			var r *sseReader
			var err error
			if how == "after" {
				r, err = env.openSSE(ctx, "topic=audit:*&after="+strconv.FormatInt(resumeAt, 10))
			} else {
				r, err = env.openSSE(ctx, "topic=audit:*", "Last-Event-ID", strconv.FormatInt(resumeAt, 10))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					env.ingest(nodeEvents("exec-sse-"+how, 5))
				}
			}()
			wg.Wait()
			want := env.stored(audit.Filter{After: resumeAt})
			checkSameEntries(t, readEntries(t, r, len(want)), want)
		})
	}
}

func TestSSETopics(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		query string
		want  audit.Filter
	}{
		{"topic=execution:exec-1", audit.Filter{ExecutionID: "exec-1"}},
		{"topic=batch:exec-2", audit.Filter{ExecutionID: "exec-2"}},
		{"topic=type:execution_started", audit.Filter{Types: []audit.Type{audit.TypeExecutionStarted}}},
	}
	readers := make([]*sseReader, len(tests))
	for i, tc := range tests {
		r, err := env.openSSE(ctx, tc.query)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		readers[i] = r
	}
	// Two topics on one stream: each entry once.
	both, err := env.openSSE(ctx, "topic=execution:exec-1&topic=type:execution_started")
	if err != nil {
		t.Fatal(err)
	}
	defer both.close()
	for _, id := range []string{"exec-1", "exec-2", "exec-3"} {
		env.ingest([]event.Event{execStarted(id), nodeStarted(id, "a"), execCompleted(id)})
	}
	for i, tc := range tests {
		want := env.stored(tc.want)
		checkSameEntries(t, readEntries(t, readers[i], len(want)), want)
	}
	var want []audit.Entry
	for _, e := range env.stored(audit.Filter{}) {
		if e.ExecutionID == "exec-1" || e.Type == audit.TypeExecutionStarted {
			want = append(want, e)
		}
	}
	checkSameEntries(t, readEntries(t, both, len(want)), want)

	// The same union replayed from the store.
	again, err := env.openSSE(ctx, "topic=execution:exec-1&topic=type:execution_started&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	checkSameEntries(t, readEntries(t, again, len(want)), want)
}

func TestSSEBadRequests(t *testing.T) {
	env := newEnv(t, Options{})
	for _, q := range []string{"", "topic=nope", "topic=execution:", "topic=type:nope", "topic=audit:x",
		"topic=audit:*&after=x", "topic=audit:*&after=-3"} {
		r := env.get("/v1/stream?" + q)
		if r.status != 400 {
			t.Errorf("%q: %d %s", q, r.status, r.body)
			continue
		}
		parseError(t, r)
	}
	r := env.get("/v1/stream?topic=audit:*", "Last-Event-ID", "abc")
	if r.status != 400 {
		t.Errorf("bad Last-Event-ID: %d", r.status)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	env := newEnv(t, Options{Heartbeat: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ": heartbeat\n" {
			return
		}
	}
}

// gate blocks the streams' live writes while closed.
type gate struct {
	mu   sync.Mutex
	ch   chan struct{}
	hits chan struct{}
}

func newGate() *gate { return &gate{hits: make(chan struct{}, 1000)} }

func (g *gate) close() {
	g.mu.Lock()
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
	g.mu.Unlock()
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch != nil {
		g.hits <- struct{}{}
		<-ch
	}
}

// A client that does not keep up is disconnected with the reason and its
// last seq, resumes from there and misses nothing; ingest never waits.
func TestSSESlowClient(t *testing.T) {
	env := newEnv(t, Options{ClientBuffer: 10})
	g := newGate()
	env.srv.beforeLive = g.wait
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	env.ingest(nodeEvents("exec-slow", 5))
	first := readEntries(t, r, 5)

	env.srv.hub.flush()
	g.close()
	env.ingest(nodeEvents("exec-slow", 1))
	env.srv.hub.flush()
	<-g.hits // the stream is stuck before taking its buffer
	for range 3 {
		env.ingest(nodeEvents("exec-slow", 8)) // overflows the buffer of 10
	}
	env.srv.hub.flush()
	g.open()
	ev, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	if ev.event != "error" {
		t.Fatalf("event %q %s, want error", ev.event, ev.data)
	}
	var reason struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		LastSeq int64  `json:"last_seq"`
	}
	if err := json.Unmarshal([]byte(ev.data), &reason); err != nil {
		t.Fatal(err)
	}
	if reason.Code != ReasonSlowConsumer || reason.LastSeq != first[4].Seq || !strings.Contains(reason.Message, "Last-Event-ID") {
		t.Fatalf("reason %+v, want slow_consumer at seq %d", reason, first[4].Seq)
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("stream not closed after the error event: %v", err)
	}

	env.srv.beforeLive = nil
	r2, err := env.openSSE(ctx, "topic=audit:*", "Last-Event-ID", strconv.FormatInt(reason.LastSeq, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.close()
	want := env.stored(audit.Filter{After: reason.LastSeq})
	checkSameEntries(t, readEntries(t, r2, len(want)), want)
	if len(want) != 25 {
		t.Fatalf("%d entries after the last seq, want 25", len(want))
	}
}

// The shutdown of the streams ends them with a reason.
func TestSSEShutdown(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := env.openSSE(ctx, "topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	env.srv.CloseStreams()
	ev, err := r.next()
	if err != nil || ev.event != "error" || !strings.Contains(ev.data, ReasonShutdown) {
		t.Fatalf("got %+v, %v; want a shutdown error event", ev, err)
	}
	if resp := env.get("/v1/stream?topic=audit:*"); resp.status != 503 {
		t.Fatalf("stream after shutdown: %d", resp.status)
	}
}

type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

func (e *testEnv) dialWS(ctx context.Context) *wsClient {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/v1/ws"
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: e.t, c: c}
	if m := w.read(ctx); m["type"] != "connected" || m["client_id"] == "" {
		e.t.Fatalf("first message %v", m)
	}
	return w
}

func (w *wsClient) send(ctx context.Context, v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) read(ctx context.Context) map[string]any {
	w.t.Helper()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatal(err)
	}
	return m
}

// entries reads n entry messages.
func (w *wsClient) entries(ctx context.Context, n int) []audit.Entry {
	w.t.Helper()
	var out []audit.Entry
	for len(out) < n {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			w.t.Fatalf("after %d of %d entries: %v", len(out), n, err)
		}
		var m struct {
			Type  string      `json:"type"`
			Seq   int64       `json:"seq"`
			Entry audit.Entry `json:"entry"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			w.t.Fatal(err)
		}
		if m.Type != "entry" || m.Seq != m.Entry.Seq {
			w.t.Fatalf("message %s, want an entry", b)
		}
		out = append(out, m.Entry)
	}
	return out
}

func TestWebSocket(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := env.dialWS(ctx)
	defer w.c.CloseNow()

	w.send(ctx, map[string]any{"action": "ping"})
	if m := w.read(ctx); m["type"] != "pong" {
		t.Fatalf("ping: %v", m)
	}
	w.send(ctx, map[string]any{"action": "dance"})
	if m := w.read(ctx); m["type"] != "error" || m["message"] != "Unknown action: dance" {
		t.Fatalf("unknown action: %v", m)
	}
	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"bogus"}})
	if m := w.read(ctx); m["type"] != "error" || m["code"] != CodeBadTopic {
		t.Fatalf("bad topic: %v", m)
	}
	if err := w.c.Write(ctx, websocket.MessageText, []byte("{")); err != nil {
		t.Fatal(err)
	}
	if m := w.read(ctx); m["type"] != "error" || m["code"] != CodeMalformedJSON {
		t.Fatalf("malformed: %v", m)
	}

	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:w1"}})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	env.ingest(nodeEvents("w2", 3))
	env.ingest(nodeEvents("w1", 4))
	checkSameEntries(t, w.entries(ctx, 4), env.stored(audit.Filter{ExecutionID: "w1"}))

	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:w2"}})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	w.send(ctx, map[string]any{"action": "unsubscribe", "topics": []string{"execution:w1"}})
	if m := w.read(ctx); m["type"] != "unsubscribed" {
		t.Fatalf("unsubscribe: %v", m)
	}
	env.ingest(nodeEvents("w1", 2))
	env.ingest(nodeEvents("w2", 2))
	all2 := env.stored(audit.Filter{ExecutionID: "w2"})
	checkSameEntries(t, w.entries(ctx, 2), all2[3:])

	// Add w1 again with after: its entries after the first w2 entry are
	// replayed; w2, followed already, continues without a repeat.
	after := all2[0].Seq
	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:w1"}, "after": after})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe after: %v", m)
	}
	want := env.stored(audit.Filter{ExecutionID: "w1", After: after})
	checkSameEntries(t, w.entries(ctx, len(want)), want)
	// And live after the replay, without repeats.
	env.ingest(nodeEvents("w1", 1))
	got := w.entries(ctx, 1)
	if got[0].Seq <= want[len(want)-1].Seq || got[0].ExecutionID != "w1" {
		t.Fatalf("live after replay: %+v", got[0])
	}
	if err := w.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketSlowClient(t *testing.T) {
	env := newEnv(t, Options{ClientBuffer: 10})
	g := newGate()
	env.srv.beforeLive = g.wait
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := env.dialWS(ctx)
	defer w.c.CloseNow()
	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"audit:*"}})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	env.ingest(nodeEvents("ws-slow", 3))
	first := w.entries(ctx, 3)
	env.srv.hub.flush()
	g.close()
	env.ingest(nodeEvents("ws-slow", 1))
	env.srv.hub.flush()
	<-g.hits
	env.ingest(nodeEvents("ws-slow", 20))
	env.srv.hub.flush()
	g.open()
	_, _, err := w.c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusTryAgainLater ||
		!strings.Contains(ce.Reason, ReasonSlowConsumer) || !strings.Contains(ce.Reason, "after="+strconv.FormatInt(first[2].Seq, 10)) {
		t.Fatalf("read after overflow: %v", err)
	}

	env.srv.beforeLive = nil
	w2 := env.dialWS(ctx)
	defer w2.c.CloseNow()
	w2.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"audit:*"}, "after": first[2].Seq})
	if m := w2.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	want := env.stored(audit.Filter{After: first[2].Seq})
	checkSameEntries(t, w2.entries(ctx, len(want)), want)
}

func TestWebSocketShutdown(t *testing.T) {
	env := newEnv(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := env.dialWS(ctx)
	defer w.c.CloseNow()
	env.srv.CloseStreams()
	_, _, err := w.c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
		t.Fatalf("read after shutdown: %v", err)
	}
}

// Over HTTP/2 the connection cannot be taken over: the stream is written
// through the ResponseWriter, with the same frames.
func TestSSEOverHTTP2(t *testing.T) {
	env := newEnv(t, Options{})
	h2 := httptest.NewUnstartedServer(env.srv)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	defer env.srv.CloseStreams()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h2.URL+"/v1/stream?topic=audit:*", nil)
	res, err := h2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != 2 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("proto %s, content type %q", res.Proto, res.Header.Get("Content-Type"))
	}
	r := &sseReader{res: res, br: bufio.NewReader(res.Body)}
	env.ingest(nodeEvents("h2", 7))
	checkSameEntries(t, readEntries(t, r, 7), env.stored(audit.Filter{ExecutionID: "h2"}))
}

// A page of another origin may open a WebSocket only when allowed.
func TestWebSocketOrigin(t *testing.T) {
	tests := []struct {
		patterns []string
		origin   string
		ok       bool
	}{
		{nil, "", true},
		{nil, "http://evil.example", false},
		{[]string{"dash.example"}, "http://dash.example", true},
		{[]string{"*.example"}, "https://dash.example", true},
		{[]string{"dash.example"}, "http://evil.example", false},
	}
	for _, tc := range tests {
		env := newEnv(t, Options{OriginPatterns: tc.patterns})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/v1/ws"
		opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
		if tc.origin != "" {
			opts.HTTPHeader.Set("Origin", tc.origin)
		}
		c, res, err := websocket.Dial(ctx, u, opts)
		if tc.ok != (err == nil) {
			t.Errorf("patterns %v, origin %q: %v", tc.patterns, tc.origin, err)
		}
		if err == nil {
			c.Close(websocket.StatusNormalClosure, "")
		} else if res != nil && res.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q refused with %d", tc.origin, res.StatusCode)
		}
		cancel()
	}
}

// The server pings idle WebSocket clients every Heartbeat.
func TestWebSocketHeartbeat(t *testing.T) {
	env := newEnv(t, Options{Heartbeat: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pings := make(chan struct{}, 100)
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/v1/ws"
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case pings <- struct{}{}:
			default:
			}
			return true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				read <- err
				return
			}
		}
	}()
	for range 3 {
		select {
		case <-pings:
		case err := <-read:
			t.Fatalf("connection ended: %v", err)
		case <-ctx.Done():
			t.Fatal("no ping")
		}
	}
}
