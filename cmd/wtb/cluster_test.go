package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/httpapi"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// instance is one wtb service of a cluster sharing one PostgreSQL schema,
// wired as `wtb serve --store postgres://...` wires it.
type instance struct {
	url   string
	store *postgres.Store
	srv   *httpapi.Server
}

// startInstance starts a service on a free loopback port over its own
// connection pool to the shared schema; it stops when t ends.
func startInstance(t *testing.T, dsn, schema string, opts httpapi.Options) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger, opts.RequestLogLevel = quietLog, httpapi.RequestLogOff
	}
	srv, err := httpapi.New(st, serverOptions(st, opts))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		t0 := time.Now()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		t.Logf("serve stopped in %s", time.Since(t0))
		st.Close()
	})
	return &instance{url: "http://" + ln.Addr().String(), store: st, srv: srv}
}

// streamHTTP reads the live streams of the tests; a stream outliving the
// test's own deadline fails instead of hanging.
var streamHTTP = &http.Client{Timeout: 3 * time.Minute}

// streamClient follows audit:* from seq 0 by reading a few entries at a
// time from one instance, disconnecting, and resuming on the next one.
type streamClient struct {
	name string
	ws   bool
	seqs []int64
	last int64
}

// readSome connects to base, resumes after c.last and reads up to n
// entries (fewer when ctx ends), appending their seqs.
func (c *streamClient) readSome(ctx context.Context, base string, n int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.ws {
		return c.readWS(ctx, base, n)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?topic=audit:*", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Last-Event-ID", strconv.FormatInt(c.last, 10))
	res, err := streamHTTP.Do(req)
	if err != nil {
		return ctxOr(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET /v1/stream: status %d", res.StatusCode)
	}
	br := bufio.NewReader(res.Body)
	for got := 0; got < n; {
		line, err := br.ReadString('\n')
		if err != nil {
			return ctxOr(ctx, err)
		}
		switch {
		case strings.HasPrefix(line, "id: "):
			seq, err := strconv.ParseInt(strings.TrimSpace(line[4:]), 10, 64)
			if err != nil {
				return err
			}
			c.seqs = append(c.seqs, seq)
			c.last = seq
			got++
		case strings.HasPrefix(line, "event: error"):
			return fmt.Errorf("stream ended by the server after seq %d", c.last)
		}
	}
	return nil
}

// follow reads base's stream live from now on (no resumption), closes
// ready once subscribed, and returns once it has read the entry target
// names.
func (c *streamClient) follow(ctx context.Context, base string, ready chan struct{}, target *atomic.Int64) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?topic=audit:*", nil)
	if err != nil {
		return err
	}
	res, err := streamHTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for {
		if tg := target.Load(); tg >= 0 && c.last >= tg {
			return nil
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("after seq %d: %w", c.last, err)
		}
		switch {
		case line == ": connected\n":
			close(ready)
		case strings.HasPrefix(line, "id: "):
			seq, err := strconv.ParseInt(strings.TrimSpace(line[4:]), 10, 64)
			if err != nil {
				return err
			}
			c.seqs = append(c.seqs, seq)
			c.last = seq
		case strings.HasPrefix(line, "event: error"):
			return fmt.Errorf("stream ended by the server after seq %d", c.last)
		}
	}
}

func (c *streamClient) readWS(ctx context.Context, base string, n int) error {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws", nil)
	if err != nil {
		return ctxOr(ctx, err)
	}
	defer conn.Close(websocket.StatusNormalClosure, "")
	conn.SetReadLimit(1 << 24)
	sub, _ := json.Marshal(map[string]any{"action": "subscribe", "topics": []string{"audit:*"}, "after": c.last})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		return ctxOr(ctx, err)
	}
	for got := 0; got < n; {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return ctxOr(ctx, err)
		}
		var m struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		switch m.Type {
		case "entry":
			c.seqs = append(c.seqs, m.Seq)
			c.last = m.Seq
			got++
		case "error":
			return fmt.Errorf("websocket error after seq %d: %s", c.last, b)
		}
	}
	return nil
}

// ctxOr prefers the context's error: a read cut by the test's own cancel
// is not a failure.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// allSeqs reads every seq of the log, in order.
func allSeqs(t *testing.T, st audit.Store) []int64 {
	t.Helper()
	var seqs []int64
	var after int64
	for {
		es, err := st.Query(context.Background(), audit.Filter{After: after, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			seqs = append(seqs, e.Seq)
		}
		if len(es) < audit.MaxLimit {
			return seqs
		}
		after = es[len(es)-1].Seq
	}
}

// Three instances share one PostgreSQL schema. While each ingests its own
// events, SSE and WebSocket clients hop from instance to instance, reading
// a few entries from each and resuming on the next with the last seq they
// saw. Every client must see exactly the log: every committed entry,
// whichever instance recorded it, in seq order, none twice, none missing.
func TestClusterLiveStreams(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	var insts []*instance
	for range 3 {
		insts = append(insts, startInstance(t, dsn, schema, httpapi.Options{StreamDelay: -1, Heartbeat: 100 * time.Millisecond,
			// A WebSocket client that went away holds its handler until a
			// ping times out; keep the shutdown short.
			WriteTimeout: time.Second}))
	}

	const perInstance, batch = 3000, 50
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Live clients, one per instance, connected before ingest begins and
	// never resuming: they see the whole log live.
	var live []*streamClient
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	var target atomic.Int64 // the log's last seq once ingest is over
	target.Store(-1)
	for i, in := range insts {
		c := &streamClient{name: fmt.Sprintf("live-%d", i)}
		live = append(live, c)
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.follow(ctx, in.url, ready, &target); err != nil {
				errs <- fmt.Errorf("%s: %w", c.name, err)
			}
		}()
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatal("live client not connected")
		}
	}

	var clients []*streamClient
	for i := range 3 {
		clients = append(clients, &streamClient{name: fmt.Sprintf("sse-%d", i)}, &streamClient{name: fmt.Sprintf("ws-%d", i), ws: true})
	}
	for ci, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			for hop := ci; ; hop++ {
				if tg := target.Load(); tg >= 0 && c.last >= tg {
					return
				}
				n := 1 + rng.IntN(400)
				rctx, rcancel := context.WithTimeout(ctx, time.Second)
				err := c.readSome(rctx, insts[hop%len(insts)].url, n)
				rcancel()
				if err != nil && rctx.Err() == nil {
					errs <- fmt.Errorf("%s on instance %d: %w", c.name, hop%len(insts), err)
					return
				}
				if ctx.Err() != nil {
					errs <- fmt.Errorf("%s: timed out at seq %d (target %d)", c.name, c.last, target.Load())
					return
				}
			}
		}()
	}

	start := time.Now()
	var ingest sync.WaitGroup
	for i, in := range insts {
		ingest.Add(1)
		go func() {
			defer ingest.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			seed := fmt.Sprintf("cluster-%d", i)
			for b := 0; b < perInstance; b += batch {
				evs := make([]event.Event, batch)
				for k := range evs {
					evs[k] = genEvent(seed, b+k, 10)
				}
				if ok, err := postBatch(client, in.url, evs); !ok {
					errs <- fmt.Errorf("ingest on instance %d: %w", i, err)
					return
				}
			}
		}()
	}
	ingest.Wait()
	want := allSeqs(t, insts[0].store)
	if len(want) != 3*perInstance {
		t.Fatalf("%d entries recorded, want %d", len(want), 3*perInstance)
	}
	target.Store(want[len(want)-1])
	t.Logf("ingest done in %s; last seq %d", time.Since(start), want[len(want)-1])
	// Every client must reach the end of the log soon after ingest ends.
	time.AfterFunc(90*time.Second, cancel)
	wg.Wait()
	t.Logf("clients done in %s", time.Since(start))
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for _, c := range append(live, clients...) {
		if len(c.seqs) != len(want) {
			t.Errorf("%s saw %d entries, want %d", c.name, len(c.seqs), len(want))
		}
		for i := range min(len(c.seqs), len(want)) {
			if c.seqs[i] != want[i] {
				t.Errorf("%s: entry %d is seq %d, want %d (gap, duplicate or disorder); saw %v", c.name, i, c.seqs[i], want[i], c.seqs[max(0, i-3):min(len(c.seqs), i+3)])
				break
			}
		}
	}
}
