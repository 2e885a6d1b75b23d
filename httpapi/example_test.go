package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"wtb/audit"
	"wtb/event"
	"wtb/httpapi"
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

	body := `{"event_type": "ExecutionStartedEvent", "event_id": "ev-1",
	          "timestamp": "2026-01-02T03:04:05Z", "execution_id": "exec-1",
	          "workflow_id": "wf-1", "workflow_name": "rag"}`
	res, err := http.Post(ts.URL+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(res.StatusCode, " ", string(b))

	res, err = http.Get(ts.URL + "/v1/executions/exec-1/timeline")
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
	// [03:04:05.000] [i] Execution started for workflow 'rag'
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
	defer srv.CloseStreams()

	stream, err := http.Get(ts.URL + "/v1/stream?topic=execution:exec-2")
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Body.Close()

	ev := event.New[event.NodeStarted]()
	ev.ExecutionID, ev.NodeID = "exec-2", "plan"
	doc, _ := event.Encode(ev)
	res, err := http.Post(ts.URL+"/v1/events", "application/x-ndjson", strings.NewReader(string(doc)+"\n"))
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
