package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/event"
)

// A few clients that stopped reading long timelines do not keep `wtb
// serve` from recording everything acknowledged and exiting 0 on SIGTERM
// within its shutdown bound, even with a longer write timeout.
func TestServeSIGTERMWithStalledReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWTB(t)
	db := filepath.Join(t.TempDir(), "wtb.db")
	const bound = 2 * time.Second
	p := startServe(t, bin, db, "--shutdown-timeout", bound.String(), "--write-timeout", "1m", "--request-log", "off")
	client := testClient

	// A timeline of about 12 MB: more than the socket buffers hold.
	big := strings.Repeat("x", 6000)
	for range 4 {
		evs := make([]event.Event, 500)
		for i := range evs {
			ev := event.New[event.NodeFailed]()
			ev.ExecutionID, ev.NodeID, ev.NodeName, ev.ErrorType, ev.ErrorMessage = "long", "n", "n", "E", big
			evs[i] = ev
		}
		if ok, err := postBatch(client, p.url, evs); !ok {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(p.url)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn := stalledConn(t, u.Host)
		defer conn.Close()
		if _, err := conn.Write([]byte("GET /v1/executions/long/timeline?all=true HTTP/1.1\r\nHost: wtb\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for c := range 4 {
		wg.Go(func() {
			for {
				evs := make([]event.Event, 10)
				for i := range evs {
					ev := event.New[event.NodeStarted]()
					ev.ExecutionID, ev.NodeID, ev.NodeName = "during", "n", "n"
					evs[i] = ev
				}
				ok, _ := postBatch(client, p.url, evs)
				if !ok {
					return
				}
				mu.Lock()
				for _, ev := range evs {
					acked = append(acked, ev.EventID())
				}
				if len(acked) >= 400 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
				_ = c
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(time.Minute):
		t.Fatal("ingest too slow")
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("wtb serve: %v (stderr: %s)", err, p.stderr)
		}
		p.done <- nil // for the cleanup
	case <-time.After(time.Minute):
		t.Fatal("wtb serve did not exit")
	}
	if d := time.Since(start); d > 2*bound+5*time.Second {
		t.Errorf("wtb serve exited %s after SIGTERM; the bound is %s; stderr:\n%s", d, bound, p.stderr)
	}
	wg.Wait()
	r := run(t, "", "audit", "export", "--db", db)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	for _, id := range acked {
		if n := strings.Count(r.stdout, id); n != 1 {
			t.Fatalf("acknowledged event %s exported %d times", id, n)
		}
	}
}

// stalledConn dials addr with a small receive buffer; the caller never
// reads from it.
func stalledConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, c syscall.RawConn) error {
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

// The limit flags reach the server: with --max-streams 1 a second stream
// is refused with 503 and Retry-After; the environment works the same.
func TestServeLimitFlags(t *testing.T) {
	for _, how := range []string{"flag", "env"} {
		t.Run(how, func(t *testing.T) {
			args := []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "wtb.db")}
			if how == "flag" {
				args = append(args, "--max-streams", "1")
			} else {
				t.Setenv(envMaxStreams, "1")
			}
			base, stop := serveInProcess(t, args...)
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?topic=audit:*", nil)
			first, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Body.Close()
			if first.StatusCode != 200 {
				t.Fatalf("first stream: %d", first.StatusCode)
			}
			second, err := testClient.Get(base + "/v1/stream?topic=audit:*")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(second.Body)
			second.Body.Close()
			if second.StatusCode != 503 || second.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "too_many_streams") {
				t.Fatalf("second stream: %d %q %s", second.StatusCode, second.Header.Get("Retry-After"), b)
			}
		})
	}
}
