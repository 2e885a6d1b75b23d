package bus

import (
	"sync"
	"time"

	"github.com/wtbdev/wtb/event"
)

// ring is the bounded history: a fixed array of the most recent events.
type ring struct {
	mu    sync.Mutex
	buf   []event.Event
	start int    // index of the oldest event
	n     int    // number of events held
	total uint64 // events ever added
}

func newRing(size int) *ring { return &ring{buf: make([]event.Event, size)} }

func (r *ring) add(ev event.Event) {
	r.mu.Lock()
	r.total++
	if r.n < len(r.buf) {
		i := r.start + r.n
		if i >= len(r.buf) {
			i -= len(r.buf)
		}
		r.buf[i] = ev
		r.n++
	} else {
		r.buf[r.start] = ev
		r.start++
		if r.start == len(r.buf) {
			r.start = 0
		}
	}
	r.mu.Unlock()
}

func (r *ring) published() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// each calls f for the held events, oldest first, under the lock, until f
// returns false. newestFirst reverses the order.
func (r *ring) each(newestFirst bool, f func(event.Event) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := 0; k < r.n; k++ {
		j := k
		if newestFirst {
			j = r.n - 1 - k
		}
		i := r.start + j
		if i >= len(r.buf) {
			i -= len(r.buf)
		}
		if !f(r.buf[i]) {
			return
		}
	}
}

func (r *ring) clear() {
	r.mu.Lock()
	clear(r.buf)
	r.start, r.n = 0, 0
	r.mu.Unlock()
}

// History returns the events in the history ring, oldest first: all of them
// when typ is nil, else those of type typ. The result is a new slice; the
// events are shared and must not be modified.
func (b *Bus) History(typ *event.Type) []event.Event {
	if b.hist == nil {
		return nil
	}
	var out []event.Event
	b.hist.each(false, func(ev event.Event) bool {
		if typ == nil || ev.Type() == typ {
			out = append(out, ev)
		}
		return true
	})
	return out
}

// RecentQuery filters Recent. The zero value matches every held event.
type RecentQuery struct {
	// Type keeps only events of this type when non-nil.
	Type *event.Type
	// Category keeps only events of this category when non-empty.
	Category event.Category
	// Since keeps only events whose timestamp is at or after Since
	// (inclusive) when non-zero.
	Since time.Time
	// Limit caps the number of events returned when positive; 0 or a
	// negative value returns every match.
	Limit int
}

// Recent returns the events of the history ring matching q, newest first.
// The result is a new slice; the events are shared and must not be modified.
func (b *Bus) Recent(q RecentQuery) []event.Event {
	if b.hist == nil {
		return nil
	}
	var out []event.Event
	b.hist.each(true, func(ev event.Event) bool {
		if q.Limit > 0 && len(out) == q.Limit {
			return false
		}
		t := ev.Type()
		if (q.Type == nil || t == q.Type) &&
			(q.Category == "" || t.Category == q.Category) &&
			(q.Since.IsZero() || !ev.EventTime().Before(q.Since)) {
			out = append(out, ev)
		}
		return true
	})
	return out
}

// ClearHistory empties the history ring. Subscriptions and counters are
// unchanged.
func (b *Bus) ClearHistory() {
	if b.hist != nil {
		b.hist.clear()
	}
}

// HistorySize returns the capacity of the history ring (0 when disabled).
func (b *Bus) HistorySize() int {
	if b.hist == nil {
		return 0
	}
	return len(b.hist.buf)
}
