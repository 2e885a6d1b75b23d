package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// Serve holds at most MaxConnections connections: one more is answered
// 503 too_many_connections with Retry-After, and a place freed is taken
// again.
func TestServeMaxConnections(t *testing.T) {
	const max = 3
	srv, err := New(audit.NewMemoryStore(), Options{MaxConnections: max, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("Serve did not return")
		}
	}()
	addr := ln.Addr().String()

	// max idle connections, each known to be held: it answered a request.
	held := make([]net.Conn, max)
	for i := range held {
		c, err := net.DialTimeout("tcp", addr, testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 512)
		if n, err := c.Read(buf); err != nil || string(buf[:12]) != "HTTP/1.1 200" {
			t.Fatalf("connection %d: %q %v", i, buf[:n], err)
		}
		held[i] = c
	}

	client := &http.Client{Timeout: testTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("one more connection: %v (want a 503 answer)", err)
	}
	var body errorBody
	err = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || err != nil || body.Error.Code != CodeTooManyConnections ||
		res.Header.Get("Retry-After") == "" {
		t.Fatalf("one more connection: %d %+v %v, Retry-After %q", res.StatusCode, body, err, res.Header.Get("Retry-After"))
	}

	// A place freed is taken again.
	held[0].Close()
	deadline := time.Now().Add(testTimeout)
	for {
		res, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place after closing a connection: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// At least the one refusal above (the polls may have been refused
	// too, before the server saw the connection closed).
	if want := `wtb_http_requests_rejected_total{code="too_many_connections"}`; !hasLine(rec.Body.String(), want) ||
		hasLine(rec.Body.String(), want+" 0") {
		t.Fatalf("metrics lack a count of %s", want)
	}
}
