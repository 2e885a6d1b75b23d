package httpapi

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"wtb/audit"
)

// A topic selects entries of the live streams.
//
//   - execution:<id>: entries whose execution_id is <id>.
//   - batch:<id>: entries of Ray batch test <id>. The Ray events are recorded
//     under their batch test id as execution_id, so this is the same
//     selection as execution:<id>, named for readers following a batch.
//   - type:<audit type>: entries of that audit event type.
//   - audit:*: every entry.
type topic struct {
	all  bool
	exec string
	typ  audit.Type
}

// parseTopic reads a topic; errors wrap ErrBadTopic.
func parseTopic(s string) (topic, error) {
	kind, arg, ok := strings.Cut(s, ":")
	if !ok || arg == "" {
		return topic{}, fmt.Errorf("%w %q: want execution:<id>, batch:<id>, type:<audit type> or audit:*", ErrBadTopic, s)
	}
	switch kind {
	case "audit":
		if arg == "*" {
			return topic{all: true}, nil
		}
	case "execution", "batch":
		if len(arg) <= audit.MaxIDSize {
			return topic{exec: arg}, nil
		}
	case "type":
		if t := audit.Type(arg); t.Known() {
			return topic{typ: t}, nil
		}
		return topic{}, fmt.Errorf("%w %q: unknown audit event type", ErrBadTopic, s)
	}
	return topic{}, fmt.Errorf("%w %q: want execution:<id>, batch:<id>, type:<audit type> or audit:*", ErrBadTopic, s)
}

func (t topic) match(e *liveEntry) bool {
	switch {
	case t.all:
		return true
	case t.exec != "":
		return e.exec == t.exec
	default:
		return e.typ == t.typ
	}
}

func (t topic) filter() audit.Filter {
	switch {
	case t.all:
		return audit.Filter{}
	case t.exec != "":
		return audit.Filter{ExecutionID: t.exec}
	default:
		return audit.Filter{Types: []audit.Type{t.typ}}
	}
}

// topicSet is the topics of one client.
type topicSet []topic

func (ts topicSet) match(e *liveEntry) bool {
	for _, t := range ts {
		if t.match(e) {
			return true
		}
	}
	return false
}

func (ts topicSet) hasAll() bool {
	for _, t := range ts {
		if t.all {
			return true
		}
	}
	return false
}

// liveEntry is a committed entry rendered once for every client.
type liveEntry struct {
	seq  int64
	exec string
	typ  audit.Type
	sse  []byte // the SSE frame
	ws   []byte // the WebSocket message
}

func renderEntry(e *audit.Entry) (*liveEntry, error) {
	js, err := e.MarshalJSON()
	if err != nil {
		return nil, err
	}
	seq := strconv.AppendInt(nil, e.Seq, 10)
	sse := make([]byte, 0, len(js)+len(seq)+30)
	sse = append(sse, "id: "...)
	sse = append(sse, seq...)
	sse = append(sse, "\nevent: entry\ndata: "...)
	sse = append(sse, js...)
	sse = append(sse, "\n\n"...)
	ws := make([]byte, 0, len(js)+len(seq)+32)
	ws = append(ws, `{"type":"entry","seq":`...)
	ws = append(ws, seq...)
	ws = append(ws, `,"entry":`...)
	ws = append(ws, js...)
	ws = append(ws, '}')
	return &liveEntry{seq: e.Seq, exec: e.ExecutionID, typ: e.Type, sse: sse, ws: ws}, nil
}

// subState is what a subscriber's buffer went through.
type subState int

const (
	subOK       subState = iota
	subLagged            // overflowed while catching up: the store fills the gap
	subOverflow          // overflowed while live: the client is disconnected
)

// subscriber is one live client: a bounded buffer the hub fills and the
// client's connection drains.
type subscriber struct {
	max    int
	notify chan struct{} // capacity 1

	mu     sync.Mutex
	topics topicSet
	buf    []*liveEntry
	state  subState
	live   bool // false while catching up from the store
}

func (s *subscriber) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// push adds entries; it never blocks.
func (s *subscriber) push(es []*liveEntry) {
	s.mu.Lock()
	switch {
	case s.state != subOK:
	case len(s.buf)+len(es) > s.max:
		s.buf = nil
		if s.live {
			s.state = subOverflow
		} else {
			s.state = subLagged
		}
	default:
		s.buf = append(s.buf, es...)
	}
	s.mu.Unlock()
	s.wake()
}

// take returns the buffered entries and the buffer's state.
func (s *subscriber) take(into []*liveEntry) ([]*liveEntry, subState) {
	s.mu.Lock()
	into = append(into[:0], s.buf...)
	clear(s.buf)
	s.buf = s.buf[:0]
	st := s.state
	s.mu.Unlock()
	return into, st
}

// goLive ends a catch-up: it reports false, and resets the buffer, when the
// buffer overflowed meanwhile (the caller replays again from the store).
func (s *subscriber) goLive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == subLagged {
		s.state = subOK
		s.buf = nil
		return false
	}
	s.live = true
	return true
}

// restart empties the buffer and starts a catch-up (see goLive).
func (s *subscriber) restart() {
	s.mu.Lock()
	clear(s.buf)
	s.buf = s.buf[:0]
	s.state = subOK
	s.live = false
	s.mu.Unlock()
}

// hub fans committed entries out to subscribers by topic.
type hub struct {
	in      chan hubBatch
	done    chan struct{}
	clients atomic.Int64

	mu     sync.RWMutex
	all    map[*subscriber]struct{}
	byExec map[string]map[*subscriber]struct{}
	byType map[audit.Type]map[*subscriber]struct{}

	renderFailures atomic.Uint64
}

// hubBatch is a committed batch, or a flush marker (done set).
type hubBatch struct {
	entries []audit.Entry
	done    chan struct{}
}

// hubQueue bounds the committed batches waiting for the hub.
const hubQueue = 1024

func newHub() *hub {
	h := &hub{
		in:     make(chan hubBatch, hubQueue),
		done:   make(chan struct{}),
		all:    map[*subscriber]struct{}{},
		byExec: map[string]map[*subscriber]struct{}{},
		byType: map[audit.Type]map[*subscriber]struct{}{},
	}
	go h.run()
	return h
}

// commit is the recorder's OnCommit: it hands a copy of the batch to the
// hub's goroutine, in commit (seq) order.
func (h *hub) commit(committed []audit.Entry) {
	if h.clients.Load() == 0 {
		// Nobody follows: a client that subscribes later and asks to
		// resume reads these from the store, where they already are.
		return
	}
	h.in <- hubBatch{entries: append([]audit.Entry(nil), committed...)}
}

// flush returns once every batch handed to the hub before it is pushed
// to the subscribers.
func (h *hub) flush() {
	done := make(chan struct{})
	h.in <- hubBatch{done: done}
	<-done
}

// close stops the hub's goroutine after the batches queued.
func (h *hub) close() {
	close(h.in)
	<-h.done
}

func (h *hub) run() {
	defer close(h.done)
	var rendered []*liveEntry
	per := map[*subscriber][]*liveEntry{}
	for hb := range h.in {
		if hb.done != nil {
			close(hb.done)
			continue
		}
		batch := hb.entries
		rendered = rendered[:0]
		for i := range batch {
			le, err := renderEntry(&batch[i])
			if err != nil {
				h.renderFailures.Add(1)
				continue
			}
			rendered = append(rendered, le)
		}
		if len(rendered) == 0 {
			continue
		}
		// The slice is shared by every audit:* subscriber, read-only.
		shared := append([]*liveEntry(nil), rendered...)
		h.mu.RLock()
		for s := range h.all {
			s.push(shared)
		}
		if len(h.byExec) > 0 || len(h.byType) > 0 {
			for _, le := range rendered {
				for s := range h.byExec[le.exec] {
					if _, ok := h.all[s]; !ok {
						addOnce(per, s, le)
					}
				}
				for s := range h.byType[le.typ] {
					if _, ok := h.all[s]; !ok {
						addOnce(per, s, le)
					}
				}
			}
		}
		h.mu.RUnlock()
		for s, es := range per {
			s.push(es)
			delete(per, s)
		}
	}
}

func addOnce(per map[*subscriber][]*liveEntry, s *subscriber, le *liveEntry) {
	es := per[s]
	if n := len(es); n > 0 && es[n-1] == le {
		return
	}
	per[s] = append(es, le)
}

// subscribe registers a subscriber for topics. live false means the client
// catches up from the store first (see subscriber.goLive).
func (h *hub) subscribe(topics topicSet, max int, live bool) *subscriber {
	s := &subscriber{max: max, notify: make(chan struct{}, 1), live: live}
	h.clients.Add(1)
	h.setTopics(s, topics)
	return s
}

// setTopics replaces the topics of s.
func (h *hub) setTopics(s *subscriber, topics topicSet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unindex(s)
	s.mu.Lock()
	s.topics = append(topicSet(nil), topics...)
	s.mu.Unlock()
	for _, t := range topics {
		switch {
		case t.all:
			h.all[s] = struct{}{}
		case t.exec != "":
			m := h.byExec[t.exec]
			if m == nil {
				m = map[*subscriber]struct{}{}
				h.byExec[t.exec] = m
			}
			m[s] = struct{}{}
		default:
			m := h.byType[t.typ]
			if m == nil {
				m = map[*subscriber]struct{}{}
				h.byType[t.typ] = m
			}
			m[s] = struct{}{}
		}
	}
}

// unindex removes s from the indexes; h.mu is held.
func (h *hub) unindex(s *subscriber) {
	delete(h.all, s)
	for _, t := range s.topics {
		if t.exec != "" {
			if m := h.byExec[t.exec]; m != nil {
				delete(m, s)
				if len(m) == 0 {
					delete(h.byExec, t.exec)
				}
			}
		} else if !t.all {
			if m := h.byType[t.typ]; m != nil {
				delete(m, s)
				if len(m) == 0 {
					delete(h.byType, t.typ)
				}
			}
		}
	}
}

// unsubscribe removes s.
func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	h.unindex(s)
	h.mu.Unlock()
	h.clients.Add(-1)
}
