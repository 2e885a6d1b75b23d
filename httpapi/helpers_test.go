package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/sqlite"
)

type testEnv struct {
	t     testing.TB
	srv   *Server
	ts    *httptest.Server
	store audit.Store
	// client has a timeout: a request that hangs fails its test.
	client *http.Client
	// streamClient has none: streams are opened with a context that has
	// a deadline (openSSE refuses one without).
	streamClient *http.Client
}

// testTimeout bounds every request of a test.
const testTimeout = 30 * time.Second

// newEnv starts a Server on a fresh SQLite file behind httptest.
func newEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wtb.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Recorder.Linger == 0 {
		opts.Recorder.Linger = time.Millisecond
	}
	srv, err := New(st, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return newEnvOn(t, srv, st)
}

// newEnvOn serves srv, which records into st, behind httptest; both are
// closed at the end of the test.
func newEnvOn(t testing.TB, srv *Server, st audit.Store) *testEnv {
	t.Helper()
	ts := httptest.NewServer(srv)
	env := &testEnv{t: t, srv: srv, ts: ts, store: st,
		client:       &http.Client{Timeout: testTimeout, Transport: ts.Client().Transport},
		streamClient: &http.Client{Transport: ts.Client().Transport}}
	t.Cleanup(func() {
		srv.CloseStreams()
		ts.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(cctx); err != nil {
			t.Errorf("Server.Close: %v\n%s", err, goroutines())
		}
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return env
}

// goroutines returns the stacks of every goroutine, for a failure that
// something did not end.
func goroutines() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

func nodeStarted(exec, node string) *event.NodeStarted {
	ev := event.New[event.NodeStarted]()
	ev.ExecutionID, ev.NodeID, ev.NodeName = exec, node, node
	return ev
}

func execStarted(exec string) *event.ExecutionStarted {
	ev := event.New[event.ExecutionStarted]()
	ev.ExecutionID, ev.WorkflowID, ev.WorkflowName = exec, "wf-1", "rag"
	return ev
}

func execCompleted(exec string) *event.ExecutionCompleted {
	ev := event.New[event.ExecutionCompleted]()
	ev.ExecutionID = exec
	return ev
}

// nodeEvents returns n NodeStarted events of execution exec.
func nodeEvents(exec string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = nodeStarted(exec, "node-"+strconv.Itoa(i))
	}
	return evs
}

func encode(t testing.TB, ev event.Event) []byte {
	t.Helper()
	b, err := event.Encode(ev)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func jsonArray(t testing.TB, evs []event.Event) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, ev := range evs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(encode(t, ev))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func ndjson(t testing.TB, evs []event.Event) []byte {
	var buf bytes.Buffer
	for _, ev := range evs {
		buf.Write(encode(t, ev))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// ceDoc renders ev as a structured CloudEvent.
func ceDoc(t testing.TB, ev event.Event) []byte {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(encode(t, ev), &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "event_id")
	delete(fields, "timestamp")
	delete(fields, "event_type")
	ce := map[string]any{
		"specversion": "1.0",
		"type":        "wtb." + ev.WireName(),
		"source":      "/tests",
		"id":          ev.EventID(),
		"time":        event.FormatTime(ev.EventTime()),
		"data":        fields,
	}
	b, err := json.Marshal(ce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cloudBatch(t testing.TB, evs []event.Event) []byte {
	parts := make([][]byte, len(evs))
	for i, ev := range evs {
		parts[i] = ceDoc(t, ev)
	}
	return append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *testEnv) do(method, path, contentType string, body []byte, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *testEnv) post(contentType string, body []byte, hdr ...string) response {
	e.t.Helper()
	return e.do("POST", "/v1/events", contentType, body, hdr...)
}

func (e *testEnv) get(path string, hdr ...string) response {
	e.t.Helper()
	return e.do("GET", path, "", nil, hdr...)
}

// ingest posts evs as a JSON array and requires 200.
func (e *testEnv) ingest(evs []event.Event) IngestResult {
	e.t.Helper()
	r := e.post(MediaJSON, jsonArray(e.t, evs))
	if r.status != 200 {
		e.t.Fatalf("ingest: status %d: %s", r.status, r.body)
	}
	var res IngestResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		e.t.Fatal(err)
	}
	return res
}

func parseError(t testing.TB, r response) errorBody {
	t.Helper()
	var eb errorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("error body without code or message: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	return eb
}

func (e *testEnv) count() int64 {
	e.t.Helper()
	n, err := e.store.Count(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sseEvent is one event of a Server-Sent Events stream.
type sseEvent struct {
	id, event, data string
}

// sseReader reads a stream of events; comments are skipped.
type sseReader struct {
	res *http.Response
	br  *bufio.Reader
}

func (e *testEnv) openSSE(ctx context.Context, query string, hdr ...string) (*sseReader, error) {
	if _, ok := ctx.Deadline(); !ok {
		e.t.Fatal("openSSE: the context has no deadline; a broken stream would hang the test")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/v1/stream?"+query, nil)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.streamClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return nil, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	return &sseReader{res: res, br: bufio.NewReader(res.Body)}, nil
}

func (r *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.event != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		default:
			return ev, fmt.Errorf("unexpected line %q", line)
		}
	}
}

func (r *sseReader) close() { r.res.Body.Close() }

// entryOf parses the entry of an SSE "entry" event and checks its id.
func entryOf(t testing.TB, ev sseEvent) audit.Entry {
	t.Helper()
	if ev.event != "entry" {
		t.Fatalf("event %q, want entry: %s", ev.event, ev.data)
	}
	var e audit.Entry
	if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
		t.Fatalf("entry %q: %v", ev.data, err)
	}
	if ev.id != strconv.FormatInt(e.Seq, 10) {
		t.Fatalf("event id %q, entry seq %d", ev.id, e.Seq)
	}
	return e
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (a logger).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
