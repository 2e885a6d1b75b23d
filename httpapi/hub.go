package httpapi

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wtbdev/wtb/audit"
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

	// blk is the rendering of the committed batch the entry came with (nil
	// for entries replayed from the store): its SSE frames lie back to back
	// in blk.sse, the entry's at index idx, so that a stream writes a run
	// of consecutive entries as one buffer.
	blk *liveBlock
	idx int
}

// liveBlock is the SSE frames of one committed batch, contiguous.
type liveBlock struct {
	sse []byte
	off []int // frame i is sse[off[i]:off[i+1]]
}

// appendFrames appends the SSE frames of one entry to frames, extending
// the last buffer when the entry directly follows it in the same block.
// run is the (block, index) of the last entry appended; it is updated.
func appendFrames(frames [][]byte, run *frameRun, le *liveEntry) [][]byte {
	if le.blk != nil && len(frames) > 0 && run.blk == le.blk && run.idx+1 == le.idx {
		frames[len(frames)-1] = le.blk.sse[run.from:le.blk.off[le.idx+1]]
		run.idx = le.idx
		return frames
	}
	if le.blk != nil {
		*run = frameRun{blk: le.blk, from: le.blk.off[le.idx], idx: le.idx}
	} else {
		*run = frameRun{}
	}
	return append(frames, le.sse)
}

// appendEntries appends the SSE frames of the entries of es with seq >
// last, as appendFrames does, and returns the new last seq. es is in seq
// order. A slice that is one run of a block (what audit:* subscribers are
// pushed) costs one step, not one per entry.
func appendEntries(frames [][]byte, run *frameRun, es []*liveEntry, last int64) ([][]byte, int64) {
	i := 0
	for i < len(es) && es[i].seq <= last {
		i++
	}
	if i == len(es) {
		return frames, last
	}
	first, end := es[i], es[len(es)-1]
	if first.blk != nil && end.blk == first.blk && end.idx-first.idx == len(es)-1-i {
		frames = appendFrames(frames, run, first)
		if end != first {
			frames[len(frames)-1] = first.blk.sse[run.from:first.blk.off[end.idx+1]]
			run.idx = end.idx
		}
		return frames, end.seq
	}
	for _, le := range es[i:] {
		if le.seq > last {
			frames = appendFrames(frames, run, le)
			last = le.seq
		}
	}
	return frames, last
}

// frameRun is the run of consecutive block entries ending the frames
// being gathered by appendFrames.
type frameRun struct {
	blk  *liveBlock
	from int // byte offset of the run's first frame in blk.sse
	idx  int // index of the run's last entry
}

func renderEntry(e *audit.Entry) (*liveEntry, error) {
	js, err := e.MarshalJSON()
	if err != nil {
		return nil, err
	}
	sse := appendSSEFrame(make([]byte, 0, len(js)+50), e.Seq, js)
	ws := appendWSMessage(make([]byte, 0, len(js)+50), e.Seq, js)
	return &liveEntry{seq: e.Seq, exec: e.ExecutionID, typ: e.Type, sse: sse, ws: ws}, nil
}

func appendSSEFrame(b []byte, seq int64, js []byte) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "\nevent: entry\ndata: "...)
	b = append(b, js...)
	return append(b, "\n\n"...)
}

func appendWSMessage(b []byte, seq int64, js []byte) []byte {
	b = append(b, `{"type":"entry","seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"entry":`...)
	b = append(b, js...)
	return append(b, '}')
}

// renderBatch renders a committed batch: one liveEntry per entry that
// renders, their SSE frames back to back in one block. Entries that fail
// to render are counted in failures and left out.
func renderBatch(batch []audit.Entry, failures *atomic.Uint64) []*liveEntry {
	jss := make([][]byte, len(batch))
	size := 0
	for i := range batch {
		js, err := batch[i].MarshalJSON()
		if err != nil {
			failures.Add(1)
			continue
		}
		jss[i] = js
		size += len(js) + 60
	}
	blk := &liveBlock{sse: make([]byte, 0, size), off: make([]int, 1, len(batch)+1)}
	wsBuf := make([]byte, 0, size)
	out := make([]*liveEntry, 0, len(batch))
	les := make([]liveEntry, len(batch))
	for i := range batch {
		js := jss[i]
		if js == nil {
			continue
		}
		e := &batch[i]
		start := len(blk.sse)
		blk.sse = appendSSEFrame(blk.sse, e.Seq, js)
		wsStart := len(wsBuf)
		wsBuf = appendWSMessage(wsBuf, e.Seq, js)
		le := &les[i]
		*le = liveEntry{
			seq: e.Seq, exec: e.ExecutionID, typ: e.Type,
			sse: blk.sse[start:len(blk.sse):len(blk.sse)],
			ws:  wsBuf[wsStart:len(wsBuf):len(wsBuf)],
			blk: blk, idx: len(out),
		}
		blk.off = append(blk.off, len(blk.sse))
		out = append(out, le)
	}
	return out
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
	buf    [][]*liveEntry // pushed slices, shared and read-only
	n      int            // entries in buf
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
	case s.n+len(es) > s.max:
		s.buf, s.n = nil, 0
		if s.live {
			s.state = subOverflow
		} else {
			s.state = subLagged
		}
	default:
		s.buf = append(s.buf, es)
		s.n += len(es)
	}
	s.mu.Unlock()
	s.wake()
}

// take returns the buffered entries and the buffer's state.
func (s *subscriber) take(into []*liveEntry) ([]*liveEntry, subState) {
	s.mu.Lock()
	into = into[:0]
	for _, es := range s.buf {
		into = append(into, es...)
	}
	clear(s.buf)
	s.buf, s.n = s.buf[:0], 0
	st := s.state
	s.mu.Unlock()
	return into, st
}

// takeChunks is take without flattening: it returns the slices pushed, in
// order. They are shared with other subscribers and must not be modified.
func (s *subscriber) takeChunks(into [][]*liveEntry) ([][]*liveEntry, subState) {
	s.mu.Lock()
	into = append(into[:0], s.buf...)
	clear(s.buf)
	s.buf, s.n = s.buf[:0], 0
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
		s.buf, s.n = nil, 0
		return false
	}
	s.live = true
	return true
}

// restart empties the buffer and starts a catch-up (see goLive).
func (s *subscriber) restart() {
	s.mu.Lock()
	clear(s.buf)
	s.buf, s.n = s.buf[:0], 0
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
	per := map[*subscriber][]*liveEntry{}
	for hb := range h.in {
		if hb.done != nil {
			close(hb.done)
			continue
		}
		rendered := renderBatch(hb.entries, &h.renderFailures)
		if len(rendered) == 0 {
			continue
		}
		// The slice is shared by every audit:* subscriber, read-only.
		h.mu.RLock()
		for s := range h.all {
			s.push(rendered)
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
