package httpapi

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/wtbdev/wtb/audit"
)

// replayPage is the most entries read from the store per query while a
// client catches up; Options.ReplayPageBytes bounds a page's rendered size
// below that.
const replayPage = 1000

// minReplayPage is the fewest entries a replay query asks for.
const minReplayPage = 16

// maxCatchUpRounds bounds how often a client that overflowed its buffer
// while catching up is replayed again before it is disconnected.
const maxCatchUpRounds = 8

// transport selects the rendering a replay produces.
type transport int

const (
	transportSSE transport = iota
	transportWS
)

// replaySel selects what a replay emits: the entries of topics after
// after. When since is set, the entries matching since.topics are taken
// only after since.last: a client adding topics to a live stream has them
// already (see handleWS).
type replaySel struct {
	topics topicSet
	after  int64
	since  *topicsSince
}

// topicsSince is what a live client has received: every entry of topics
// up to seq last.
type topicsSince struct {
	topics topicSet
	last   int64
}

func (sel *replaySel) keep(le *liveEntry, matchAll bool) bool {
	if sel.since != nil && sel.since.topics.match(le) {
		return le.seq > sel.since.last
	}
	if le.seq <= sel.after {
		return false
	}
	return matchAll || sel.topics.match(le)
}

// start is the seq a replay reads after.
func (sel *replaySel) start() int64 {
	if sel.since != nil {
		return min(sel.after, sel.since.last)
	}
	return sel.after
}

// replay emits, in seq order and page by page, the stored entries sel
// selects, and returns the seq of the last entry read (sel.start() when
// none). A page's frames lie back to back in one buffer of at most about
// Options.ReplayPageBytes, so that a client that does not read holds one
// page, not the log.
//
// One topic (or any set holding audit:*) is read with one store filter;
// several topics are read as the whole log filtered here, so that the pages
// stay consistent snapshots in seq order.
func (s *Server) replay(ctx context.Context, sel replaySel, tr transport, emit func(page []*liveEntry) error) (int64, error) {
	last := sel.start()
	if len(sel.topics) == 0 {
		return last, nil
	}
	var f audit.Filter
	matchAll := true
	switch {
	case sel.topics.hasAll():
	case len(sel.topics) == 1:
		f = sel.topics[0].filter()
	default:
		matchAll = false
	}
	budget := s.opts.ReplayPageBytes
	limit := clampPage(budget / 512)
	for {
		select {
		case <-s.closing:
			return last, errShuttingDown
		default:
		}
		f.After, f.Limit = last, limit
		// At most replaySlots pages are read and rendered at once, so that
		// many clients catching up together share the CPU with ingest and
		// hold few pages in the making.
		select {
		case s.replaySlots <- struct{}{}:
		case <-ctx.Done():
			return last, ctx.Err()
		case <-s.closing:
			return last, errShuttingDown
		}
		es, err := s.store.Query(ctx, f)
		if err != nil {
			<-s.replaySlots
			return last, fmt.Errorf("httpapi: replay: %w", err)
		}
		n := len(es)
		page, size, err := renderPage(es, tr, func(le *liveEntry) bool { return sel.keep(le, matchAll) }, &s.hub.renderFailures)
		<-s.replaySlots
		if n > 0 {
			last = es[n-1].Seq
		}
		clear(es) // the rendering is all the page keeps
		es = nil
		if err != nil {
			return last, fmt.Errorf("httpapi: replay: %w", err)
		}
		if len(page) > 0 {
			if err := emit(page); err != nil {
				return last, err
			}
		}
		if s.afterReplayPage != nil {
			s.afterReplayPage()
		}
		if n < limit {
			return last, nil
		}
		if size > 0 && n > 0 {
			limit = clampPage(int(int64(budget) * int64(n) / int64(size)))
		}
	}
}

func clampPage(n int) int {
	return max(minReplayPage, min(replayPage, n))
}

// renderPage renders the entries of es that keep selects for transport tr,
// their frames back to back in one buffer, and returns them with the size
// of es: the rendered size of the selected entries plus an estimate of
// the others.
func renderPage(es []audit.Entry, tr transport, keep func(*liveEntry) bool, failures *atomic.Uint64) ([]*liveEntry, int, error) {
	les := make([]liveEntry, len(es))
	out := make([]*liveEntry, 0, len(es))
	off := make([]int, 1, len(es)+1)
	var buf []byte
	size := 0
	for i := range es {
		e := &es[i]
		le := &les[i]
		*le = liveEntry{seq: e.Seq, exec: e.ExecutionID, typ: e.Type}
		if !keep(le) {
			size += entrySize(e)
			continue
		}
		js, err := e.MarshalJSON()
		if err != nil {
			failures.Add(1)
			return nil, 0, err
		}
		if buf == nil {
			buf = make([]byte, 0, len(es)*(len(js)+64))
		}
		if tr == transportSSE {
			buf = appendSSEFrame(buf, e.Seq, js)
		} else {
			buf = appendWSMessage(buf, e.Seq, js)
		}
		size += len(buf) - off[len(off)-1]
		off = append(off, len(buf))
		out = append(out, le)
	}
	// buf may have moved while it grew: cut the frames once it is final.
	blk := &liveBlock{sse: buf, off: off}
	for i, le := range out {
		frame := buf[off[i]:off[i+1]:off[i+1]]
		if tr == transportSSE {
			le.sse, le.blk, le.idx = frame, blk, i
		} else {
			le.ws = frame
		}
	}
	return out, size, nil
}

// entrySize estimates the memory of an entry that is read but not rendered.
func entrySize(e *audit.Entry) int {
	return 200 + len(e.EventID) + len(e.SourceType) + len(e.Message) + len(e.ExecutionID) +
		len(e.NodeID) + len(e.Details) + len(e.Error)
}

// catchUp replays what sel selects and switches sub to live, replaying
// again while sub overflowed meanwhile. It returns the last seq read.
// Entries buffered by sub with seq <= that were replayed already.
func (s *Server) catchUp(ctx context.Context, sub *subscriber, sel replaySel, tr transport, emit func(page []*liveEntry) error) (int64, error) {
	for round := 0; ; round++ {
		last, err := s.replay(ctx, sel, tr, emit)
		if err != nil {
			return last, err
		}
		if sub.goLive() {
			return last, nil
		}
		if round+1 >= maxCatchUpRounds {
			return last, errCannotCatchUp
		}
		// Everything selected up to last has been emitted.
		sel = replaySel{topics: sel.topics, after: last}
	}
}

// Errors that end a catch-up.
var (
	errCannotCatchUp = errors.New("httpapi: client cannot catch up with the log")
	errShuttingDown  = errors.New("httpapi: server is shutting down")
)
