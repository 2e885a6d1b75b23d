package httpapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/wtbdev/wtb/audit"
)

// replayPage is the number of entries read from the store per query while
// a client catches up.
const replayPage = 1000

// maxCatchUpRounds bounds how often a client that overflowed its buffer
// while catching up is replayed again before it is disconnected.
const maxCatchUpRounds = 8

// replay emits, in seq order, the stored entries matching topics with seq >
// after, and returns the seq of the last entry emitted (after when none).
//
// One topic (or any set holding audit:*) is read with one store filter;
// several topics are read as the whole log filtered here, so that the pages
// stay consistent snapshots in seq order.
func (s *Server) replay(ctx context.Context, topics topicSet, after int64, emit func(*liveEntry) error) (int64, error) {
	if len(topics) == 0 {
		return after, nil
	}
	var f audit.Filter
	matchAll := true
	switch {
	case topics.hasAll():
	case len(topics) == 1:
		f = topics[0].filter()
	default:
		matchAll = false
	}
	f.Limit = replayPage
	last := after
	for {
		select {
		case <-s.closing:
			return last, errShuttingDown
		default:
		}
		f.After = last
		es, err := s.store.Query(ctx, f)
		if err != nil {
			return last, fmt.Errorf("httpapi: replay: %w", err)
		}
		for i := range es {
			le, err := renderEntry(&es[i])
			if err != nil {
				return last, fmt.Errorf("httpapi: replay: %w", err)
			}
			last = es[i].Seq
			if !matchAll && !topics.match(le) {
				continue
			}
			if err := emit(le); err != nil {
				return last, err
			}
		}
		if len(es) < replayPage {
			return last, nil
		}
	}
}

// catchUp replays the store after `after` and switches sub to live,
// replaying again while sub overflowed meanwhile. It returns the last seq
// emitted. Entries buffered by sub with seq <= that were replayed already.
func (s *Server) catchUp(ctx context.Context, sub *subscriber, topics topicSet, after int64, emit func(*liveEntry) error) (int64, error) {
	last := after
	for round := 0; ; round++ {
		var err error
		last, err = s.replay(ctx, topics, last, emit)
		if err != nil {
			return last, err
		}
		if sub.goLive() {
			return last, nil
		}
		if round+1 >= maxCatchUpRounds {
			return last, errCannotCatchUp
		}
	}
}

// Errors that end a catch-up.
var (
	errCannotCatchUp = errors.New("httpapi: client cannot catch up with the log")
	errShuttingDown  = errors.New("httpapi: server is shutting down")
)
