package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

// Serve shuts down gracefully: requests in flight finish, every
// acknowledged event is in the store, live streams end with a reason, and
// Serve returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wtb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A long linger keeps entries queued when the shutdown starts.
	srv, err := New(st, Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Recorder: audit.RecorderOptions{Linger: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	sseClient := &http.Client{Timeout: time.Minute}
	sse, err := sseClient.Get(url + "/v1/stream?topic=audit:*")
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	started := make(chan struct{}, 64)
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := 0; ; i++ {
				evs := nodeEvents("shutdown", 20)
				res, err := client.Post(url+"/v1/events", MediaJSON, bytes.NewReader(jsonArray(t, evs)))
				if err != nil {
					return // the listener is closed
				}
				var out IngestResult
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if res.StatusCode != 200 || err != nil {
					return
				}
				if out.Accepted != len(evs) {
					t.Errorf("client %d: %+v", c, out)
				}
				mu.Lock()
				for _, ev := range evs {
					acked = append(acked, ev.EventID())
				}
				mu.Unlock()
				if i == 2 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range 8 {
		<-started
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return")
	}
	wg.Wait()
	b, _ := io.ReadAll(sse.Body)
	if !bytes.Contains(b, []byte("event: error")) || !bytes.Contains(b, []byte(ReasonShutdown)) {
		t.Fatalf("SSE stream did not end with the shutdown reason: ...%s", b[max(0, len(b)-200):])
	}
	stats := srv.RecorderStats()
	if stats.Queued != 0 || stats.Failed != 0 {
		t.Fatalf("recorder not drained: %+v", stats)
	}
	ids := allEventIDs(t, st)
	if len(acked) == 0 {
		t.Fatal("nothing acknowledged before the shutdown")
	}
	for _, id := range acked {
		if ids[id] != 1 {
			t.Fatalf("acknowledged event %s is in the store %d times", id, ids[id])
		}
	}
}

// allEventIDs counts the entries of every event id in the store.
func allEventIDs(t *testing.T, st audit.Store) map[string]int {
	t.Helper()
	ids := map[string]int{}
	f := audit.Filter{Limit: audit.MaxLimit}
	for {
		es, err := st.Query(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			ids[e.EventID]++
		}
		if len(es) < f.Limit {
			return ids
		}
		f.After = es[len(es)-1].Seq
	}
}
