package audit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wtbdev/wtb/audit"
)

// chaosStore fails Appends at random (transiently) and otherwise delegates
// to a MemoryStore.
type chaosStore struct {
	*audit.MemoryStore
	mu   sync.Mutex
	rng  *rand.Rand
	fail float64
}

func (s *chaosStore) Append(ctx context.Context, es []audit.Entry) (audit.AppendResult, error) {
	s.mu.Lock()
	fail := s.rng.Float64() < s.fail
	s.mu.Unlock()
	if fail {
		return audit.AppendResult{}, errTransient
	}
	return s.MemoryStore.Append(ctx, es)
}

// TestRecorderNeverLosesSilently drives a Recorder with random Records and
// Submits (with repeated event ids) over a store that fails at random, then
// checks that every entry is accounted for: recorded exactly once, or
// reported as failed to its waiter and in Stats.
func TestRecorderNeverLosesSilently(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		store := &chaosStore{MemoryStore: audit.NewMemoryStore(), rng: rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1)),
			fail: rapid.Float64Range(0, 0.6).Draw(t, "fail")}
		defer store.Close()
		rec := audit.NewRecorder(store, audit.RecorderOptions{
			QueueSize:    rapid.IntRange(1, 64).Draw(t, "queue"),
			MaxBatch:     rapid.IntRange(1, 16).Draw(t, "batch"),
			Linger:       time.Duration(rapid.IntRange(1, 500).Draw(t, "linger")) * time.Microsecond,
			MaxRetries:   rapid.IntRange(-1, 2).Draw(t, "retries"),
			RetryBackoff: time.Microsecond,
			Logger:       quiet,
		})
		type sub struct {
			ids []string
			r   *audit.Receipt
		}
		var subs []sub
		var singles []string
		ops := rapid.IntRange(1, 60).Draw(t, "ops")
		for i := range ops {
			if rapid.Bool().Draw(t, fmt.Sprint("group", i)) {
				n := rapid.IntRange(0, 8).Draw(t, fmt.Sprint("size", i))
				es := mkEntries(fmt.Sprint("s", i), n)
				for j := range es {
					es[j].EventID = fmt.Sprint("id-", rapid.IntRange(0, 80).Draw(t, fmt.Sprint("id", i, j)))
				}
				r, err := rec.Submit(ctx, es)
				if errors.Is(err, audit.ErrGroupTooLarge) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, e := range es {
					ids = append(ids, e.EventID)
				}
				subs = append(subs, sub{ids, r})
			} else {
				e := mkEntries("r", 1)[0]
				e.EventID = fmt.Sprint("id-", rapid.IntRange(0, 80).Draw(t, fmt.Sprint("single", i)))
				if err := rec.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
				singles = append(singles, e.EventID)
			}
		}
		syncErr := rec.Sync(ctx)
		closeErr := rec.Close(ctx)
		st := rec.Stats()
		total := len(singles)
		for _, s := range subs {
			total += len(s.ids)
		}
		if st.Enqueued != uint64(total) || st.Committed+st.Duplicates+st.Failed != uint64(total) || st.Queued != 0 {
			t.Fatalf("stats %+v do not account for %d entries", st, total)
		}
		if st.Failed > 0 && syncErr == nil && closeErr == nil {
			t.Fatalf("%d entries failed but neither Sync nor Close reported it", st.Failed)
		}
		stored, err := store.Query(ctx, audit.Filter{Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(stored)) != st.Committed {
			t.Fatalf("%d stored, %d committed", len(stored), st.Committed)
		}
		seen := map[string]bool{}
		for _, e := range stored {
			if seen[e.EventID] {
				t.Fatalf("%s stored twice", e.EventID)
			}
			seen[e.EventID] = true
		}
		for _, s := range subs {
			res, err := s.r.Wait(ctx)
			if err != nil {
				if !errors.Is(err, errTransient) {
					t.Fatalf("receipt error %v", err)
				}
				continue
			}
			if res.Appended+len(res.Duplicates) != len(s.ids) {
				t.Fatalf("receipt %+v for %d entries", res, len(s.ids))
			}
			for _, id := range s.ids {
				if !seen[id] {
					t.Fatalf("group acknowledged but %s not stored", id)
				}
			}
		}
	})
}
