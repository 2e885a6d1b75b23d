package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/httpapi"
)

// Ingest one event over HTTP and read the audit log back.
func Example() {
	store := audit.NewMemoryStore()
	srv, err := httpapi.New(store, httpapi.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close(context.Background())
	client := &http.Client{Timeout: 10 * time.Second}

	body := `{"event_type": "ExecutionStartedEvent", "event_id": "ev-1",
	          "timestamp": "2026-01-02T03:04:05Z", "execution_id": "exec-1",
	          "workflow_id": "wf-1", "workflow_name": "rag"}`
	res, err := client.Post(ts.URL+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(res.StatusCode, " ", string(b))

	res, err = client.Get(ts.URL + "/v1/executions/exec-1/timeline")
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Execution started") {
			fmt.Println(strings.TrimSpace(sc.Text()))
		}
	}
	res.Body.Close()
	// Output:
	// 200 {"accepted":1,"duplicates":0}
	// [03:04:05.000Z] [i] Execution started for workflow 'rag'
}

// Follow the audit log live with Server-Sent Events.
func ExampleServer_ServeHTTP_stream() {
	store := audit.NewMemoryStore()
	srv, err := httpapi.New(store, httpapi.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close(context.Background())
	client := &http.Client{Timeout: 10 * time.Second}
	defer srv.CloseStreams()

	stream, err := client.Get(ts.URL + "/v1/stream?topic=execution:exec-2")
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Body.Close()

	ev := event.New[event.NodeStarted]()
	ev.ExecutionID, ev.NodeID = "exec-2", "plan"
	doc, _ := event.Encode(ev)
	res, err := client.Post(ts.URL+"/v1/events", "application/x-ndjson", strings.NewReader(string(doc)+"\n"))
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()

	sc := bufio.NewScanner(stream.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "id: ") || strings.HasPrefix(line, "event: ") {
			fmt.Println(line)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	// Output:
	// id: 1
	// event: entry
}

// A tokens file grants scopes to bearer tokens.
func ExampleParseTokens() {
	tokens, err := httpapi.ParseTokens(strings.NewReader(`
# token   scopes
s3cr3t-ingest  ingest
s3cr3t-read    read
s3cr3t-admin   ingest,read
`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tokens.Len())
	fmt.Println(httpapi.CheckListenAddr("0.0.0.0:8420", tokens))
	fmt.Println(httpapi.CheckListenAddr("0.0.0.0:8420", nil) != nil)
	// Output:
	// 3
	// <nil>
	// true
}

// Serve until the context ends, then shut down gracefully: requests in
// flight finish and every acknowledged event is in the store.
func ExampleServer_Serve() {
	store := audit.NewMemoryStore()
	srv, err := httpapi.New(store, httpapi.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	client := &http.Client{Timeout: 10 * time.Second}

	ev := event.New[event.ExecutionStarted]()
	ev.ExecutionID = "exec-3"
	doc, _ := event.Encode(ev)
	res, err := client.Post("http://"+ln.Addr().String()+"/v1/events", "application/json", strings.NewReader(string(doc)))
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()

	stop() // what SIGTERM does in wtb serve
	fmt.Println("serve:", <-done)
	n, _ := store.Count(context.Background())
	fmt.Println("entries:", n)
	// Output:
	// serve: <nil>
	// entries: 1
}

// Without tokens the service listens on loopback addresses only.
func ExampleCheckListenAddr() {
	fmt.Println(httpapi.CheckListenAddr("127.0.0.1:8420", nil))
	err := httpapi.CheckListenAddr("0.0.0.0:8420", nil)
	fmt.Println(errors.Is(err, httpapi.ErrInsecureListen))
	// Output:
	// <nil>
	// true
}
