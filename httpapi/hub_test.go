package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
)

func testEntries(n int, exec string) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = audit.Entry{
			EventID:   fmt.Sprintf("%s-%d", exec, i),
			Timestamp: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
			Type:      audit.TypeNodeStarted, Severity: audit.SeverityInfo,
			Message: "m", ExecutionID: exec,
		}
	}
	return es
}

func live(seqs ...int64) []*liveEntry {
	out := make([]*liveEntry, len(seqs))
	for i, s := range seqs {
		out[i] = &liveEntry{seq: s}
	}
	return out
}

func TestSubscriberBuffer(t *testing.T) {
	tests := []struct {
		name   string
		live   bool
		pushes [][]int64
		want   subState
		buffer int
	}{
		{"fits", true, [][]int64{{1, 2}, {3}}, subOK, 3},
		{"full to the brim", true, [][]int64{{1, 2, 3, 4}}, subOK, 4},
		{"overflow while live", true, [][]int64{{1, 2, 3}, {4, 5}}, subOverflow, 0},
		{"overflow while catching up", false, [][]int64{{1, 2, 3}, {4, 5}}, subLagged, 0},
		{"nothing after overflow", true, [][]int64{{1, 2, 3, 4, 5}, {6}}, subOverflow, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &subscriber{max: 4, notify: make(chan struct{}, 1), live: tc.live}
			for _, p := range tc.pushes {
				s.push(live(p...))
			}
			got, st := s.take(nil)
			if st != tc.want || len(got) != tc.buffer {
				t.Fatalf("state %d with %d entries, want %d with %d", st, len(got), tc.want, tc.buffer)
			}
			select {
			case <-s.notify:
			default:
				t.Fatal("push did not notify")
			}
		})
	}
	s := &subscriber{max: 2, notify: make(chan struct{}, 1)}
	s.push(live(1, 2, 3))
	if s.goLive() {
		t.Fatal("goLive after a lag")
	}
	if !s.goLive() {
		t.Fatal("goLive refused after the lag was reset")
	}
	s.push(live(4, 5, 6))
	if _, st := s.take(nil); st != subOverflow {
		t.Fatalf("live overflow: state %d", st)
	}
}

func TestTopicParse(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want topic
	}{
		{"audit:*", true, topic{all: true}},
		{"execution:e-1", true, topic{exec: "e-1"}},
		{"execution:a:b", true, topic{exec: "a:b"}},
		{"batch:b-1", true, topic{exec: "b-1"}},
		{"type:node_failed", true, topic{typ: audit.TypeNodeFailed}},
		{"type:bogus", false, topic{}},
		{"audit:x", false, topic{}},
		{"execution:", false, topic{}},
		{"*", false, topic{}},
		{"", false, topic{}},
		{"node:n", false, topic{}},
	}
	for _, tc := range tests {
		got, err := parseTopic(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parseTopic(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadTopic) {
			t.Errorf("parseTopic(%q): %v is not ErrBadTopic", tc.in, err)
		}
	}
}

// A client that overflows while catching up is replayed again from the
// store; one that never keeps up is refused after maxCatchUpRounds.
func TestCatchUp(t *testing.T) {
	st := audit.NewMemoryStore()
	defer st.Close()
	if _, err := st.Append(context.Background(), testEntries(25, "c")); err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	topics := topicSet{{exec: "c"}}

	sub := srv.hub.subscribe(topics, 4, false)
	defer srv.hub.unsubscribe(sub)
	var seen []int64
	lagOnce := true
	last, err := srv.catchUp(context.Background(), sub, replaySel{topics: topics, after: 5}, transportSSE, func(page []*liveEntry) error {
		for _, le := range page {
			seen = append(seen, le.seq)
		}
		if lagOnce {
			lagOnce = false
			sub.push(live(100, 101, 102, 103, 104)) // overflows the buffer of 4
		}
		return nil
	})
	if err != nil || last != 25 || len(seen) != 20 || seen[0] != 6 || seen[19] != 25 {
		t.Fatalf("catchUp: last %d, seen %v, %v", last, seen, err)
	}
	if !sub.live {
		t.Fatal("not live after the catch-up")
	}

	never := srv.hub.subscribe(topics, 1, false)
	defer srv.hub.unsubscribe(never)
	rounds := 0
	_, err = srv.catchUp(context.Background(), never, replaySel{topics: topics, after: 24}, transportSSE, func([]*liveEntry) error {
		// Every round, more is recorded than the client's buffer holds.
		rounds++
		never.push(live(200, 201))
		more := testEntries(1, "c")
		more[0].EventID = fmt.Sprintf("more-%d", rounds)
		_, err := st.Append(context.Background(), more)
		return err
	})
	if !errors.Is(err, errCannotCatchUp) || rounds != maxCatchUpRounds {
		t.Fatalf("catchUp of a client that never keeps up: %v after %d entries", err, rounds)
	}
}

// A replay stops at the shutdown of the streams.
func TestCatchUpShutdown(t *testing.T) {
	st := audit.NewMemoryStore()
	defer st.Close()
	if _, err := st.Append(context.Background(), testEntries(3, "s")); err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	topics := topicSet{{all: true}}
	sub := srv.hub.subscribe(topics, 10, false)
	defer srv.hub.unsubscribe(sub)
	srv.CloseStreams()
	n := 0
	_, err = srv.catchUp(context.Background(), sub, replaySel{topics: topics}, transportSSE, func([]*liveEntry) error { n++; return nil })
	if !errors.Is(err, errShuttingDown) || n != 0 {
		t.Fatalf("catchUp after CloseStreams: %v, %d entries", err, n)
	}
}

// Entries of one rendered batch are written as one buffer per run of
// consecutive entries, byte for byte the frames one by one.
func TestAppendFramesCoalesces(t *testing.T) {
	var failures atomic.Uint64
	batch := testEntries(6, "coalesce")
	for i := range batch {
		batch[i].Seq = int64(i + 1)
	}
	a := renderBatch(batch[:4], &failures)
	b := renderBatch(batch[4:], &failures)
	replayed, err := renderEntry(&batch[5])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		entries []*liveEntry
		buffers int
	}{
		{"one batch", a, 1},
		{"two batches", append(append([]*liveEntry(nil), a...), b...), 2},
		{"a gap", []*liveEntry{a[0], a[1], a[3]}, 2},
		{"from the middle", a[2:], 1},
		{"replayed then live", []*liveEntry{replayed, a[0], a[1]}, 2},
		{"live then replayed", []*liveEntry{a[0], a[1], replayed}, 2},
		{"repeated", []*liveEntry{a[0], a[0]}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var frames [][]byte
			var run frameRun
			var want []byte
			for _, le := range tc.entries {
				frames = appendFrames(frames, &run, le)
				one, err := renderEntry(&batch[le.seq-1])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(le.sse, one.sse) || !bytes.Equal(le.ws, one.ws) {
					t.Fatalf("seq %d: batch rendering differs from renderEntry", le.seq)
				}
				want = append(want, one.sse...)
			}
			if got := bytes.Join(frames, nil); !bytes.Equal(got, want) {
				t.Fatalf("frames:\n%s\nwant:\n%s", got, want)
			}
			if len(frames) != tc.buffers {
				t.Fatalf("%d buffers, want %d", len(frames), tc.buffers)
			}
		})
	}
	if failures.Load() != 0 {
		t.Fatalf("%d render failures", failures.Load())
	}
}

// appendEntries writes what appendFrames would, entry by entry, skipping
// entries at or before last.
func TestAppendEntries(t *testing.T) {
	var failures atomic.Uint64
	batch := testEntries(8, "entries")
	for i := range batch {
		batch[i].Seq = int64(i + 1)
	}
	a := renderBatch(batch[:5], &failures)
	b := renderBatch(batch[5:], &failures)
	replayed, err := renderEntry(&batch[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		chunks   [][]*liveEntry
		last     int64
		wantLast int64
		buffers  int
	}{
		{"whole block", [][]*liveEntry{a}, 0, 5, 1},
		{"two blocks", [][]*liveEntry{a, b}, 0, 8, 2},
		{"after last", [][]*liveEntry{a, b}, 3, 8, 2},
		{"all before last", [][]*liveEntry{a}, 5, 5, 0},
		{"last block entry only", [][]*liveEntry{a}, 4, 5, 1},
		{"a gap", [][]*liveEntry{{a[0], a[2], a[3]}}, 0, 4, 2},
		{"filtered, consecutive", [][]*liveEntry{{a[1], a[2]}, {a[3]}}, 0, 4, 1},
		{"not from a block", [][]*liveEntry{{replayed}, a[1:]}, 0, 5, 2},
		{"mixed blocks in one slice", [][]*liveEntry{{a[3], a[4], b[0]}}, 0, 6, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var frames, want [][]byte
			var run, wantRun frameRun
			last, wantLast := tc.last, tc.last
			for _, es := range tc.chunks {
				frames, last = appendEntries(frames, &run, es, last)
				for _, le := range es {
					if le.seq > wantLast {
						want = appendFrames(want, &wantRun, le)
						wantLast = le.seq
					}
				}
			}
			if last != tc.wantLast || wantLast != tc.wantLast {
				t.Fatalf("last %d (entry by entry %d), want %d", last, wantLast, tc.wantLast)
			}
			if !bytes.Equal(bytes.Join(frames, nil), bytes.Join(want, nil)) {
				t.Fatalf("frames:\n%s\nwant:\n%s", bytes.Join(frames, nil), bytes.Join(want, nil))
			}
			if len(frames) != tc.buffers || len(want) != tc.buffers {
				t.Fatalf("%d buffers (entry by entry %d), want %d", len(frames), len(want), tc.buffers)
			}
		})
	}
}
