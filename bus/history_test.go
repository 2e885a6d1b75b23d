package bus_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// at returns an ExecutionStarted (even i) or NodeStarted (odd i) event with
// id "e<i>" and timestamp base+i seconds.
func at(i int) event.Event {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := base.Add(time.Duration(i) * time.Second)
	id := "e" + string(rune('a'+i))
	if i%2 == 0 {
		ev := started(id)
		ev.ID, ev.Timestamp = id, ts
		return ev
	}
	ev := nodeStarted(id)
	ev.ID, ev.Timestamp = id, ts
	return ev
}

func ids(evs []event.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.EventID())
	}
	return out
}

func TestHistoryRingBound(t *testing.T) {
	tests := []struct {
		size, publish int
		want          []string
	}{
		{size: 3, publish: 2, want: []string{"ea", "eb"}},
		{size: 3, publish: 3, want: []string{"ea", "eb", "ec"}},
		{size: 3, publish: 7, want: []string{"ee", "ef", "eg"}},
		{size: 1, publish: 5, want: []string{"ee"}},
	}
	for _, tt := range tests {
		b := bus.New(bus.WithHistory(tt.size))
		for i := range tt.publish {
			if err := b.Publish(context.Background(), at(i)); err != nil {
				t.Fatal(err)
			}
		}
		if got := ids(b.History(nil)); !slices.Equal(got, tt.want) {
			t.Errorf("size %d after %d: history %v, want %v", tt.size, tt.publish, got, tt.want)
		}
		if b.HistorySize() != tt.size || b.Stats().Published != uint64(tt.publish) {
			t.Errorf("size %d published %d", b.HistorySize(), b.Stats().Published)
		}
	}
}

func TestHistoryByType(t *testing.T) {
	b := bus.New()
	for i := range 5 {
		_ = b.Publish(context.Background(), at(i))
	}
	tests := []struct {
		typ  *event.Type
		want []string
	}{
		{nil, []string{"ea", "eb", "ec", "ed", "ee"}},
		{(*event.ExecutionStarted)(nil).Type(), []string{"ea", "ec", "ee"}},
		{(*event.NodeStarted)(nil).Type(), []string{"eb", "ed"}},
		{(*event.CheckpointCreated)(nil).Type(), []string{}},
	}
	for _, tt := range tests {
		if got := ids(b.History(tt.typ)); !slices.Equal(got, tt.want) {
			t.Errorf("History(%v) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

func TestRecent(t *testing.T) {
	b := bus.New(bus.WithHistory(6))
	for i := range 8 { // keeps ec..eh
		_ = b.Publish(context.Background(), at(i))
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    bus.RecentQuery
		want []string
	}{
		{"all newest first", bus.RecentQuery{}, []string{"eh", "eg", "ef", "ee", "ed", "ec"}},
		{"limit", bus.RecentQuery{Limit: 2}, []string{"eh", "eg"}},
		{"negative limit is no limit", bus.RecentQuery{Limit: -1}, []string{"eh", "eg", "ef", "ee", "ed", "ec"}},
		{"type", bus.RecentQuery{Type: (*event.NodeStarted)(nil).Type()}, []string{"eh", "ef", "ed"}},
		{"category", bus.RecentQuery{Category: event.CategoryExecution}, []string{"eg", "ee", "ec"}},
		{"since is inclusive", bus.RecentQuery{Since: base.Add(5 * time.Second)}, []string{"eh", "eg", "ef"}},
		{"since after all", bus.RecentQuery{Since: base.Add(time.Hour)}, []string{}},
		{"type since limit", bus.RecentQuery{Type: (*event.ExecutionStarted)(nil).Type(), Since: base.Add(4 * time.Second), Limit: 1}, []string{"eg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(b.Recent(tt.q)); !slices.Equal(got, tt.want) {
				t.Fatalf("Recent(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestClearHistory(t *testing.T) {
	b := bus.New()
	n := 0
	b.SubscribeAll(func(context.Context, event.Event) error { n++; return nil })
	for i := range 3 {
		_ = b.Publish(context.Background(), at(i))
	}
	b.ClearHistory()
	if len(b.History(nil)) != 0 || len(b.Recent(bus.RecentQuery{})) != 0 {
		t.Fatal("history not cleared")
	}
	if b.SubscriberCount(nil) != 1 {
		t.Fatal("ClearHistory changed subscriptions")
	}
	_ = b.Publish(context.Background(), at(3))
	if got := ids(b.History(nil)); !slices.Equal(got, []string{"ed"}) || n != 4 {
		t.Fatalf("after clear: history %v, delivered %d", got, n)
	}
}

func TestHistoryDisabled(t *testing.T) {
	b := bus.New(bus.WithHistory(0))
	n := 0
	b.SubscribeAll(func(context.Context, event.Event) error { n++; return nil })
	for i := range 4 {
		_ = b.Publish(context.Background(), at(i))
	}
	if b.History(nil) != nil || b.Recent(bus.RecentQuery{}) != nil || b.HistorySize() != 0 {
		t.Fatal("disabled history returned events")
	}
	b.ClearHistory()
	if n != 4 || b.Stats().Published != 4 {
		t.Fatalf("delivered %d published %d, want 4 4", n, b.Stats().Published)
	}
}

// TestHistoryMemoryIsBounded publishes many distinct events and checks the
// live heap does not grow with their number.
func TestHistoryMemoryIsBounded(t *testing.T) {
	b := bus.New(bus.WithHistory(100))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	publish := func(n int) {
		for range n {
			_ = b.Publish(context.Background(), &event.ExecutionStarted{ExecutionID: "x", WorkflowName: string(make([]byte, 1024))})
		}
	}
	publish(1000)
	before := heap()
	publish(20000) // 20 MB of events pass through
	after := heap()
	if after > before+2<<20 {
		t.Fatalf("heap grew from %d to %d bytes", before, after)
	}
	if len(b.History(nil)) != 100 {
		t.Fatalf("history holds %d events, want 100", len(b.History(nil)))
	}
}
