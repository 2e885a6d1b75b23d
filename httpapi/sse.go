package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Stream end reasons, in the code of the last SSE error event and the
// WebSocket close reason.
const (
	ReasonSlowConsumer = "slow_consumer" // the client's buffer overflowed
	ReasonShutdown     = "shutdown"      // the server is shutting down
	ReasonStoreError   = "store_error"   // the store failed during a replay
)

// parseTopics reads the topic parameters of a stream request.
func parseTopics(vals []string) (topicSet, *apiError) {
	if len(vals) == 0 {
		return nil, newError(http.StatusBadRequest, CodeBadTopic,
			"no topic: add topic=audit:*, topic=execution:<id>, topic=batch:<id> or topic=type:<audit type>")
	}
	if len(vals) > MaxTopics {
		return nil, newError(http.StatusBadRequest, CodeBadTopic, "more than "+strconv.Itoa(MaxTopics)+" topics")
	}
	ts := make(topicSet, 0, len(vals))
	for _, v := range vals {
		t, err := parseTopic(v)
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeBadTopic, err.Error())
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// handleSSE streams entries as Server-Sent Events: every entry is an event
// "entry" whose id is its seq and whose data is its JSON. Topics come from
// the repeatable parameter topic. Last-Event-ID (or ?after=SEQ) resumes:
// the entries after that seq are replayed from the store, then the stream
// continues live without gaps or duplicates. When the stream ends on the
// server's side, a last event "error" carries {"code", "message",
// "last_seq"}; the client resumes with Last-Event-ID = last_seq.
func (s *Server) handleSSE(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	topics, e := parseTopics(q["topic"])
	if e != nil {
		return e
	}
	after, resume := int64(0), false
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, e = parseSeq("Last-Event-ID", v); e != nil {
			return e
		}
		resume = true
	} else if v := q.Get("after"); v != "" {
		if after, e = parseSeq("after", v); e != nil {
			return e
		}
		resume = true
	}
	rc := http.NewResponseController(w)
	sub := s.hub.subscribe(topics, s.opts.ClientBuffer, !resume)
	defer s.hub.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	// arm sets the write deadline before a burst of writes (the buffered
	// writer may write through before flush).
	arm := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)) }
	flush := func() error {
		arm()
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	_, _ = bw.WriteString("retry: 1000\n: connected\n\n")
	if flush() != nil {
		return nil
	}
	ctx := r.Context()
	last := after
	end := func(code, msg string) {
		s.metrics.disconnects.WithLabelValues(code).Inc()
		b, _ := json.Marshal(struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			LastSeq int64  `json:"last_seq"`
		}{code, msg, last})
		arm()
		_, _ = bw.WriteString("event: error\ndata: ")
		_, _ = bw.Write(b)
		_, _ = bw.WriteString("\n\n")
		_ = flush()
	}
	if resume {
		emitted := 0
		var err error
		arm()
		last, err = s.catchUp(ctx, sub, topics, after, func(le *liveEntry) error {
			_, _ = bw.Write(le.sse)
			if emitted++; emitted%replayPage == 0 {
				return flush()
			}
			return nil
		})
		switch {
		case errors.Is(err, errCannotCatchUp):
			end(ReasonSlowConsumer, "the client reads slower than entries are recorded; resume with Last-Event-ID")
			return nil
		case err != nil && ctx.Err() == nil:
			end(ReasonStoreError, "replay failed; resume with Last-Event-ID")
			return nil
		case err != nil:
			return nil
		}
		if flush() != nil {
			return nil
		}
	}
	hb := time.NewTicker(s.opts.Heartbeat)
	defer hb.Stop()
	var batch []*liveEntry
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			end(ReasonShutdown, "the server is shutting down; resume with Last-Event-ID")
			return nil
		case <-hb.C:
			arm()
			_, _ = bw.WriteString(": heartbeat\n\n")
			if flush() != nil {
				return nil
			}
		case <-sub.notify:
			if s.beforeLive != nil {
				s.beforeLive()
			}
			var st subState
			batch, st = sub.take(batch)
			arm()
			n := 0
			for _, le := range batch {
				if le.seq <= last {
					continue
				}
				_, _ = bw.Write(le.sse)
				last = le.seq
				n++
			}
			clear(batch)
			if st == subOverflow {
				end(ReasonSlowConsumer, "the client's buffer of "+strconv.Itoa(s.opts.ClientBuffer)+
					" entries overflowed; resume with Last-Event-ID")
				return nil
			}
			if n > 0 && flush() != nil {
				return nil
			}
		}
	}
}
