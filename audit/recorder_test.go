package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wtbdev/wtb/audit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// spyStore wraps a MemoryStore: it records the event ids of every Append
// call, can hold Appends until released, and can fail them.
type spyStore struct {
	*audit.MemoryStore
	mu      sync.Mutex
	batches [][]string
	gate    chan struct{} // when non-nil, Append waits for it to be closed
	failN   atomic.Int64  // fail this many more Appends
	failAll atomic.Bool
}

var quiet = slog.New(slog.DiscardHandler)

var errTransient = errors.New("transient store failure")

func newSpy() *spyStore { return &spyStore{MemoryStore: audit.NewMemoryStore()} }

func (s *spyStore) Append(ctx context.Context, es []audit.Entry) (audit.AppendResult, error) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if s.failAll.Load() || s.failN.Add(-1) >= 0 {
		return audit.AppendResult{}, errTransient
	}
	res, err := s.MemoryStore.Append(ctx, es)
	if err == nil {
		s.mu.Lock()
		ids := make([]string, len(es))
		for i := range es {
			ids[i] = es[i].EventID
		}
		s.batches = append(s.batches, ids)
		s.mu.Unlock()
	}
	return res, err
}

func mkEntries(prefix string, n int) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{EventID: fmt.Sprintf("%s-%d", prefix, i), Timestamp: at, Type: audit.TypeNodeCompleted,
			Severity: audit.SeveritySuccess, Message: "m", ExecutionID: prefix}
	}
	return out
}

func count(t *testing.T, s audit.Store) int64 {
	t.Helper()
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecorderConcurrentRecordAndSync(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	var committed atomic.Int64
	var lastSeq atomic.Int64
	rec := audit.NewRecorder(store, audit.RecorderOptions{QueueSize: 256, MaxBatch: 50, OnCommit: func(es []audit.Entry, _ time.Duration) {
		committed.Add(int64(len(es)))
		for _, e := range es {
			if e.Seq <= lastSeq.Load() {
				t.Errorf("seq %d not increasing", e.Seq)
			}
			lastSeq.Store(e.Seq)
		}
	}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for _, e := range mkEntries(fmt.Sprint("g", g), 1000) {
				if err := rec.Record(ctx, e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store); n != 8000 {
		t.Fatalf("%d entries durable after Sync, want 8000", n)
	}
	st := rec.Stats()
	if st.Enqueued != 8000 || st.Committed != 8000 || st.Queued != 0 || st.Failed != 0 || committed.Load() != 8000 {
		t.Fatalf("stats %+v, OnCommit saw %d", st, committed.Load())
	}
	for _, b := range store.batches {
		if len(b) > 50 {
			t.Fatalf("batch of %d > MaxBatch", len(b))
		}
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rec.Record(ctx, mkEntries("late", 1)[0]); !errors.Is(err, audit.ErrRecorderClosed) {
		t.Fatalf("Record after Close: %v", err)
	}
	if _, err := rec.Submit(ctx, mkEntries("late", 1)); !errors.Is(err, audit.ErrRecorderClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
}

func TestRecorderGroupsAreAtomic(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{MaxBatch: 10, Linger: time.Hour})
	var groups [][]audit.Entry
	var receipts []*audit.Receipt
	for i, size := range []int{3, 7, 4, 25, 1, 9, 10, 11} {
		for _, e := range mkEntries(fmt.Sprint("r", i), 2) {
			if err := rec.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		g := mkEntries(fmt.Sprint("g", i), size)
		r, err := rec.Submit(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		groups, receipts = append(groups, g), append(receipts, r)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range receipts {
		res, err := r.Wait(ctx)
		if err != nil || res.Appended != len(groups[i]) || len(res.Duplicates) != 0 {
			t.Fatalf("group %d: %+v %v", i, res, err)
		}
	}
	// Every group is inside exactly one Append.
	for i, g := range groups {
		found := 0
		for _, b := range store.batches {
			n := 0
			for _, e := range g {
				if slices.Contains(b, e.EventID) {
					n++
				}
			}
			if n != 0 && n != len(g) {
				t.Fatalf("group %d split across Appends: %d of %d in %v", i, n, len(g), b)
			}
			if n == len(g) {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("group %d in %d Appends", i, found)
		}
	}
	for _, b := range store.batches {
		if len(b) > 10 && len(b) != 25 && len(b) != 11 {
			t.Fatalf("batch of %d: only the groups of 25 and 11 may exceed MaxBatch", len(b))
		}
	}
	if n := count(t, store); n != 16+70 {
		t.Fatalf("%d entries", n)
	}
}

func TestRecorderReceiptDuplicates(t *testing.T) {
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})
	defer rec.Close(ctx)
	first := mkEntries("x", 3)
	r1, err := rec.Submit(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r1.Wait(ctx); err != nil || res.Appended != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	again := append(mkEntries("x", 2), mkEntries("y", 1)...)
	again = append(again, again[2]) // y-0 twice within the group
	r2, err := rec.Submit(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r2.Wait(ctx)
	if err != nil || res.Appended != 1 || !slices.Equal(res.Duplicates, []string{"x-0", "x-1", "y-0"}) {
		t.Fatalf("%+v %v", res, err)
	}
	empty, err := rec.Submit(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := empty.Wait(ctx); err != nil || res.Appended != 0 {
		t.Fatal("empty group")
	}
	if st := rec.Stats(); st.Duplicates != 3 || st.Committed != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRecorderRejectsInvalid(t *testing.T) {
	ctx := context.Background()
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{QueueSize: 4})
	defer rec.Close(ctx)
	bad := mkEntries("b", 3)
	bad[1].EventID = ""
	if err := rec.Record(ctx, bad[1]); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("Record: %v", err)
	}
	if _, err := rec.Submit(ctx, bad); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("Submit: %v", err)
	}
	if _, err := rec.Submit(ctx, mkEntries("big", 5)); !errors.Is(err, audit.ErrGroupTooLarge) {
		t.Fatalf("Submit too large: %v", err)
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.Stats().Enqueued != 0 || count(t, store) != 0 {
		t.Fatal("invalid entries were queued")
	}
}

func TestRecorderFullQueueWaits(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	gate := make(chan struct{})
	store.gate = gate
	rec := audit.NewRecorder(store, audit.RecorderOptions{QueueSize: 4, MaxBatch: 2})
	es := mkEntries("q", 5)
	for _, e := range es[:4] {
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full while the store holds the writer: the next Record
	// waits until its context ends, and reports it.
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err := rec.Record(tctx, es[4])
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Record on a full queue: %v", err)
	}
	if _, err := rec.Submit(canceled(), es[4:]); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit with a done context: %v", err)
	}
	// A waiting Record proceeds once the store makes room.
	done := make(chan error, 1)
	go func() { done <- rec.Record(ctx, es[4]) }()
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, store); n != 5 {
		t.Fatalf("%d entries, want 5: nothing may be dropped", n)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestRecorderCloseUnblocksWaiters(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	gate := make(chan struct{})
	store.gate = gate
	rec := audit.NewRecorder(store, audit.RecorderOptions{QueueSize: 1})
	if err := rec.Record(ctx, mkEntries("a", 1)[0]); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- rec.Record(ctx, mkEntries("b", 1)[0]) }()
	closed := make(chan error, 1)
	go func() { closed <- rec.Close(ctx) }()
	if err := <-waiting; !errors.Is(err, audit.ErrRecorderClosed) {
		t.Fatalf("waiting Record: %v", err)
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if n := count(t, store); n != 1 {
		t.Fatalf("%d entries, want the one queued before Close", n)
	}
}

func TestRecorderRetries(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	store.failN.Store(3)
	rec := audit.NewRecorder(store, audit.RecorderOptions{MaxRetries: 5, RetryBackoff: time.Millisecond, Logger: quiet})
	r, err := rec.Submit(ctx, mkEntries("r", 10))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Wait(ctx); err != nil || res.Appended != 10 {
		t.Fatalf("%+v %v", res, err)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := rec.Stats(); st.Retries != 3 || st.Failures != 0 || st.Committed != 10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRecorderFailureIsReported(t *testing.T) {
	ctx := context.Background()
	store := newSpy()
	defer store.Close()
	store.failAll.Store(true)
	rec := audit.NewRecorder(store, audit.RecorderOptions{MaxRetries: 2, RetryBackoff: time.Millisecond, Logger: quiet})
	if err := rec.Record(ctx, mkEntries("f", 1)[0]); err != nil {
		t.Fatal(err)
	}
	r, err := rec.Submit(ctx, mkEntries("g", 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctx); !errors.Is(err, errTransient) {
		t.Fatalf("Sync: %v, want the store's error", err)
	}
	if _, err := r.Wait(ctx); !errors.Is(err, errTransient) {
		t.Fatalf("Wait: %v", err)
	}
	st := rec.Stats()
	if st.Failed != 3 || st.Failures == 0 || st.Retries != 2*st.Failures {
		t.Fatalf("stats %+v", st)
	}
	// Once the store recovers, new entries are written and Sync is clean.
	store.failAll.Store(false)
	if err := rec.Record(ctx, mkEntries("ok", 1)[0]); err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Entries that fail while Close drains make Close fail.
	store.failAll.Store(true)
	if err := rec.Record(ctx, mkEntries("last", 1)[0]); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(ctx); !errors.Is(err, errTransient) {
		t.Fatalf("Close: %v", err)
	}
	if n := count(t, store); n != 1 {
		t.Fatalf("%d entries", n)
	}
}

func TestRecorderSyncWithNothingQueued(t *testing.T) {
	store := audit.NewMemoryStore()
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{})
	if err := rec.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
}

// strictStore rejects, as invalid, any batch holding an entry whose
// EventID starts with "bad".
type strictStore struct{ *audit.MemoryStore }

func (s strictStore) Append(ctx context.Context, es []audit.Entry) (audit.AppendResult, error) {
	for _, e := range es {
		if strings.HasPrefix(e.EventID, "bad") {
			return audit.AppendResult{}, fmt.Errorf("strict store: %w: %s", audit.ErrInvalidEntry, e.EventID)
		}
	}
	return s.MemoryStore.Append(ctx, es)
}

// TestRecorderIsolatesInvalidEntries checks that an entry the store
// rejects fails alone (or with its group), not the entries batched with it.
func TestRecorderIsolatesInvalidEntries(t *testing.T) {
	ctx := context.Background()
	store := strictStore{audit.NewMemoryStore()}
	defer store.Close()
	rec := audit.NewRecorder(store, audit.RecorderOptions{Linger: time.Hour, Logger: quiet})
	singles := mkEntries("ok", 4)
	singles[2].EventID = "bad-single"
	for _, e := range singles {
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	badGroup := mkEntries("g1", 3)
	badGroup[1].EventID = "bad-in-group"
	r1, err := rec.Submit(ctx, badGroup)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := rec.Submit(ctx, mkEntries("g2", 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctx); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("Sync: %v", err)
	}
	if _, err := r1.Wait(ctx); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("group with an invalid entry: %v", err)
	}
	if res, err := r2.Wait(ctx); err != nil || res.Appended != 3 {
		t.Fatalf("valid group: %+v %v", res, err)
	}
	if n := count(t, store); n != 3+3 {
		t.Fatalf("%d entries recorded, want the 3 valid singles and the valid group", n)
	}
	if st := rec.Stats(); st.Failed != 1+3 || st.Committed != 6 {
		t.Fatalf("stats %+v", st)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
