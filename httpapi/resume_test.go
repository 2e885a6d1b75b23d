package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// committer ingests batches of random sizes into a few executions until
// stopped, so that clients resume while entries keep being committed.
type committer struct {
	env     *testEnv
	stop    chan struct{}
	done    chan struct{}
	batches atomic.Int64
}

func startCommitter(t *testing.T, env *testEnv, execs ...string) *committer {
	c := &committer{env: env, stop: make(chan struct{}), done: make(chan struct{})}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			evs := make([]event.Event, 1+rng.IntN(20))
			for i := range evs {
				evs[i] = nodeStarted(execs[rng.IntN(len(execs))], "n"+strconv.Itoa(i))
			}
			r := c.env.post(MediaJSON, jsonArray(t, evs))
			if r.status != 200 {
				t.Errorf("committer: %d %s", r.status, r.body)
				return
			}
			c.batches.Add(1)
		}
	}()
	return c
}

// commitDuringReplay makes every other replay page commit a batch before
// the replay goes on, so that catch-ups overlap commits at every page and
// at the replay->live handover.
// It returns the switch that stops it.
func commitDuringReplay(t *testing.T, env *testEnv) *atomic.Bool {
	var n atomic.Int64
	var off atomic.Bool
	env.srv.afterReplayPage = func() {
		if !off.Load() && n.Add(1)%2 == 0 {
			env.ingest(nodeEvents([]string{"r1", "r2", "r3"}[n.Load()/2%3], 3))
		}
	}
	return &off
}

// waitBatches waits until n more batches are committed.
func (c *committer) waitBatches(t *testing.T, n int64) {
	t.Helper()
	target := c.batches.Load() + n
	deadline := time.Now().Add(testTimeout)
	for c.batches.Load() < target {
		if time.Now().After(deadline) {
			t.Fatal("the committer stalled")
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *committer) halt() {
	close(c.stop)
	<-c.done
}

// checkExactly fails unless got, the seqs a client received, are exactly
// the seqs of want: strictly increasing, no gap, no repeat.
func checkExactly(t *testing.T, got []int64, want []audit.Entry) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("seq %d after %d: not strictly increasing (entry %d)", got[i], got[i-1], i)
		}
	}
	if len(got) != len(want) {
		missing, extra := diffSeqs(got, want)
		t.Fatalf("%d entries received, want %d; missing %v, unexpected %v", len(got), len(want), missing, extra)
	}
	for i := range want {
		if got[i] != want[i].Seq {
			t.Fatalf("entry %d: seq %d, want %d", i, got[i], want[i].Seq)
		}
	}
}

func diffSeqs(got []int64, want []audit.Entry) (missing, extra []int64) {
	g := map[int64]bool{}
	for _, s := range got {
		g[s] = true
	}
	w := map[int64]bool{}
	for _, e := range want {
		w[e.Seq] = true
		if !g[e.Seq] && len(missing) < 10 {
			missing = append(missing, e.Seq)
		}
	}
	for _, s := range got {
		if !w[s] && len(extra) < 10 {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

// resumeTopics are the selections the resume tests follow: everything,
// one execution (read with a store filter), several topics (read as the
// whole log filtered by the server).
var resumeTopics = []struct {
	name   string
	topics []string
	want   func(e audit.Entry) bool
}{
	{"all", []string{"audit:*"}, func(audit.Entry) bool { return true }},
	{"one execution", []string{"execution:r1"}, func(e audit.Entry) bool { return e.ExecutionID == "r1" }},
	{"two executions", []string{"execution:r1", "execution:r2"}, func(e audit.Entry) bool { return e.ExecutionID != "r3" }},
}

func (e *testEnv) storedWhere(keep func(audit.Entry) bool) []audit.Entry {
	e.t.Helper()
	var out []audit.Entry
	f := audit.Filter{Limit: audit.MaxLimit}
	for {
		es, err := e.store.Query(context.Background(), f)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, x := range es {
			if keep(x) {
				out = append(out, x)
			}
		}
		if len(es) < f.Limit {
			return out
		}
		f.After = es[len(es)-1].Seq
	}
}

// End to end over SSE: while entries keep being committed, a client
// disconnects and resumes many times, alternately with Last-Event-ID and
// with after; across every replay->live handover the seqs it receives
// strictly increase, without a gap and without a repeat.
func TestSSEResumeWhileCommitting(t *testing.T) {
	for _, tc := range resumeTopics {
		t.Run(tc.name, func(t *testing.T) {
			// Small replay pages: many store queries per replay, so that
			// commits land while clients catch up and go live.
			env := newEnv(t, Options{StreamDelay: -1, ReplayPageBytes: 2048})
			ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
			replayCommits := commitDuringReplay(t, env)
			defer cancel()
			com := startCommitter(t, env, "r1", "r2", "r3")
			defer func() {
				select {
				case <-com.done:
				default:
					com.halt()
				}
			}()
			com.waitBatches(t, 5)
			query := ""
			for _, tp := range tc.topics {
				query += "&topic=" + tp
			}
			var got []int64
			rng := rand.New(rand.NewPCG(2, 3))
			for round := range 12 {
				var hdr []string
				q := query[1:]
				if len(got) > 0 {
					last := strconv.FormatInt(got[len(got)-1], 10)
					if round%2 == 0 {
						hdr = []string{"Last-Event-ID", last}
					} else {
						q += "&after=" + last
					}
				} else {
					q += "&after=0"
				}
				r, err := env.openSSE(ctx, q, hdr...)
				if err != nil {
					t.Fatal(err)
				}
				// Read a few entries, with commits going on, then drop.
				for range 1 + rng.IntN(40) {
					ev, err := r.next()
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					got = append(got, entryOf(t, ev).Seq)
				}
				r.close()
				com.waitBatches(t, 2)
			}
			com.halt()
			replayCommits.Store(true)
			want := env.storedWhere(tc.want)
			// The last resume reads up to the end of the log.
			r, err := env.openSSE(ctx, query[1:], "Last-Event-ID", strconv.FormatInt(got[len(got)-1], 10))
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			for len(got) < len(want) {
				ev, err := r.next()
				if err != nil {
					t.Fatalf("after %d of %d: %v", len(got), len(want), err)
				}
				got = append(got, entryOf(t, ev).Seq)
			}
			checkExactly(t, got, want)
		})
	}
}

// The same over WebSocket: subscribe with after on a new connection, and
// on a connection that keeps going.
func TestWebSocketResumeWhileCommitting(t *testing.T) {
	for _, tc := range resumeTopics {
		t.Run(tc.name, func(t *testing.T) {
			// Small replay pages: many store queries per replay, so that
			// commits land while clients catch up and go live.
			env := newEnv(t, Options{StreamDelay: -1, ReplayPageBytes: 2048})
			ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
			replayCommits := commitDuringReplay(t, env)
			defer cancel()
			com := startCommitter(t, env, "r1", "r2", "r3")
			defer func() {
				select {
				case <-com.done:
				default:
					com.halt()
				}
			}()
			com.waitBatches(t, 5)
			var got []int64
			rng := rand.New(rand.NewPCG(4, 5))
			subscribe := func(w *wsClient) {
				after := int64(0)
				if len(got) > 0 {
					after = got[len(got)-1]
				}
				w.send(ctx, map[string]any{"action": "subscribe", "topics": tc.topics, "after": after})
				if m := w.read(ctx); m["type"] != "subscribed" {
					t.Fatalf("subscribe: %v", m)
				}
			}
			for round := range 12 {
				w := env.dialWS(ctx)
				subscribe(w)
				for _, e := range w.entries(ctx, 1+rng.IntN(40)) {
					got = append(got, e.Seq)
				}
				w.c.CloseNow()
				com.waitBatches(t, 2)
				_ = round
			}
			com.halt()
			replayCommits.Store(true)
			want := env.storedWhere(tc.want)
			w := env.dialWS(ctx)
			defer w.c.CloseNow()
			subscribe(w)
			for _, e := range w.entries(ctx, len(want)-len(got)) {
				got = append(got, e.Seq)
			}
			checkExactly(t, got, want)
			// Nothing more arrives: no repeat after the last entry.
			w.send(ctx, map[string]any{"action": "ping"})
			if m := w.read(ctx); m["type"] != "pong" {
				t.Fatalf("after the last entry: %v", m)
			}
		})
	}
}

// A subscribe with after while live adds topics from after; the topics
// followed already continue where they were: entries committed for them
// but not yet delivered are not dropped, delivered ones are not sent again.
func TestWebSocketSubscribeAfterWhileLive(t *testing.T) {
	env := newEnv(t, Options{StreamDelay: -1})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	w := env.dialWS(ctx)
	defer w.c.CloseNow()
	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:A"}})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	env.ingest(nodeEvents("A", 3))
	delivered := w.entries(ctx, 3)
	last := delivered[2].Seq

	// Entries of A committed but not yet delivered when the next
	// subscribe arrives: appended to the store directly, they never reach
	// the live path, as if still in flight to the client.
	inFlight := func(n int) {
		es := make([]audit.Entry, n)
		for i := range es {
			es[i] = audit.FromEvent(nodeStarted("A", "in-flight"))
		}
		if _, err := env.store.Append(context.Background(), es); err != nil {
			t.Fatal(err)
		}
	}
	inFlight(2)
	env.ingest(nodeEvents("B", 2)) // history of B

	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:B"}, "after": 0})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	want := env.storedWhere(func(e audit.Entry) bool {
		return e.ExecutionID == "B" || e.ExecutionID == "A" && e.Seq > last
	})
	var got []int64
	for _, e := range w.entries(ctx, len(want)) {
		got = append(got, e.Seq)
	}
	checkExactly(t, got, want)

	// after beyond what was delivered: the in-flight entries of A and B
	// still come.
	inFlight(2)
	head := env.stored(audit.Filter{})[len(env.stored(audit.Filter{}))-1].Seq
	w.send(ctx, map[string]any{"action": "subscribe", "topics": []string{"execution:C"}, "after": head})
	if m := w.read(ctx); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	env.ingest(nodeEvents("C", 1))
	env.ingest(nodeEvents("B", 1))
	want2 := env.storedWhere(func(e audit.Entry) bool {
		return e.Seq > got[len(got)-1] && (e.ExecutionID != "A" || e.Seq <= head)
	})
	var got2 []int64
	for _, e := range w.entries(ctx, len(want2)) {
		got2 = append(got2, e.Seq)
	}
	checkExactly(t, got2, want2)
	w.send(ctx, map[string]any{"action": "ping"})
	if m := w.read(ctx); m["type"] != "pong" {
		t.Fatalf("after the last entry: %v", m)
	}
}

var _ = errors.Is
var _ = json.Marshal
var _ = fmt.Sprint
var _ sync.Mutex
var _ = websocket.StatusNormalClosure
