package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/wtbdev/wtb/event"
)

// wsRequest is a message from a WebSocket client.
type wsRequest struct {
	Action string   `json:"action"`
	Topics []string `json:"topics"`
	After  *int64   `json:"after"`
	bad    string   // set when the message does not parse
}

// wsReply is a control message to a WebSocket client.
type wsReply struct {
	Type      string   `json:"type"`
	ClientID  string   `json:"client_id,omitempty"`
	Topics    []string `json:"topics,omitempty"`
	Code      string   `json:"code,omitempty"`
	Message   string   `json:"message,omitempty"`
	LastSeq   *int64   `json:"last_seq,omitempty"`
	Timestamp string   `json:"timestamp,omitempty"`
}

// handleWS serves the WebSocket protocol. The client sends
//
//	{"action": "subscribe", "topics": [...], "after": SEQ}   (after optional)
//	{"action": "unsubscribe", "topics": [...]}
//	{"action": "ping"}
//
// and receives {"type": "connected", "client_id": ...} first, then
// {"type": "subscribed" | "unsubscribed" | "pong" | "error", ...} replies and
// {"type": "entry", "seq": N, "entry": {...}} for every entry of its topics,
// in seq order, each once. A subscribe without after adds its topics from
// now on; with after it restarts the stream at that seq: the entries of all
// the client's topics after it are replayed from the store, then the stream
// continues live, without gaps or duplicates. A client whose buffer
// overflows is closed with status 1013 (try again later) and a reason
// naming its last seq, from which it resumes with after.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) *apiError {
	hw := &hijackWatch{ResponseWriter: w}
	c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{OriginPatterns: s.opts.OriginPatterns})
	if err != nil {
		return nil // Accept answered the request
	}
	defer c.CloseNow()
	// A cut closes the connection itself: that ends any write, ping or
	// close handshake in progress (Conn.CloseNow would wait for a close
	// handshake under way).
	defer s.onCut(func() { _ = hw.conn.Close() })()
	c.SetReadLimit(MaxWSMessage)
	// ctx ends when the handler returns or the client is gone (the reader
	// ended): writes and pings to a client that is gone stop at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sub := s.hub.subscribe(nil, s.opts.ClientBuffer, true)
	defer s.hub.unsubscribe(sub)

	reqs := make(chan wsRequest, 16)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				readErr <- err
				cancel()
				return
			}
			var m wsRequest
			if err := json.Unmarshal(b, &m); err != nil {
				m = wsRequest{bad: "malformed JSON: " + err.Error()}
			}
			select {
			case reqs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()

	write := func(b []byte) error {
		wctx, wcancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
		defer wcancel()
		return c.Write(wctx, websocket.MessageText, b)
	}
	reply := func(m wsReply) error {
		if m.Type != "error" {
			m.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
		}
		return write(marshalText(m))
	}
	closeWith := func(code websocket.StatusCode, reason string, last int64) {
		s.metrics.disconnects.WithLabelValues(reason).Inc()
		_ = c.Close(code, reason+"; resume with after="+strconv.FormatInt(last, 10))
	}
	hello := marshalText(wsReply{Type: "connected", ClientID: event.NewID(), Timestamp: time.Now().UTC().Format(time.RFC3339Nano)})
	hctx, hcancel := context.WithTimeout(ctx, s.opts.FirstWriteTimeout)
	err = c.Write(hctx, websocket.MessageText, hello)
	hcancel()
	if err != nil {
		return nil
	}

	// Pings go out from a goroutine of their own: waiting for the pong of
	// a client that vanished never holds up the stream nor its shutdown.
	pinging := make(chan struct{})
	go func() {
		defer close(pinging)
		s.wsPings(ctx, c, hw.conn)
	}()
	defer func() { cancel(); <-pinging }()

	var topics topicSet
	var names []string
	var last int64
	var batch []*liveEntry
	for {
		select {
		case <-readErr:
			return nil
		case <-s.closing:
			closeWith(websocket.StatusGoingAway, ReasonShutdown, last)
			return nil
		case m := <-reqs:
			switch {
			case m.bad != "":
				err = reply(wsReply{Type: "error", Code: CodeMalformedJSON, Message: m.bad})
			case m.Action == "ping":
				err = reply(wsReply{Type: "pong"})
			case m.Action == "subscribe" || m.Action == "unsubscribe":
				var ts topicSet
				ts, names, err = s.wsTopics(m, topics, names)
				if err != nil {
					err = reply(wsReply{Type: "error", Code: CodeBadTopic, Message: err.Error()})
					break
				}
				old := topics
				topics = ts
				s.hub.setTopics(sub, topics)
				if err = reply(wsReply{Type: m.Action + "d", Topics: m.Topics}); err != nil {
					break
				}
				if m.Action == "subscribe" && m.After != nil && *m.After >= 0 {
					// The topics added start after m.After; those followed
					// already continue after last: nothing buffered for
					// them is dropped and nothing delivered is sent again.
					sel := replaySel{topics: topics, after: *m.After}
					if len(old) > 0 {
						sel.since = &topicsSince{topics: old, last: last}
					}
					sub.restart()
					last, err = s.catchUp(ctx, sub, sel, transportWS, func(page []*liveEntry) error {
						for _, le := range page {
							if err := write(le.ws); err != nil {
								return wsWriteError{err}
							}
						}
						return nil
					})
					if errors.Is(err, errCannotCatchUp) {
						closeWith(websocket.StatusTryAgainLater, ReasonSlowConsumer, last)
						return nil
					}
					if errors.Is(err, errShuttingDown) {
						closeWith(websocket.StatusGoingAway, ReasonShutdown, last)
						return nil
					}
					if err != nil && ctx.Err() == nil && !isWriteError(err) {
						closeWith(websocket.StatusInternalError, ReasonStoreError, last)
						return nil
					}
				}
			default:
				action := m.Action
				if action == "" {
					action = "None"
				}
				err = reply(wsReply{Type: "error", Code: CodeBadParameter, Message: "Unknown action: " + action})
			}
			if err != nil {
				return nil
			}
		case <-sub.notify:
			if s.beforeLive != nil {
				s.beforeLive()
			}
			var st subState
			batch, st = sub.take(batch)
			for _, le := range batch {
				if le.seq <= last || !topics.match(le) {
					continue
				}
				if write(le.ws) != nil {
					return nil
				}
				last = le.seq
			}
			clear(batch)
			if st == subOverflow {
				closeWith(websocket.StatusTryAgainLater, ReasonSlowConsumer, last)
				return nil
			}
		}
	}
}

// wsPings pings the client every Heartbeat until ctx ends or the server
// shuts down. A client that does not answer within WriteTimeout is gone:
// its connection is closed, which ends the stream.
func (s *Server) wsPings(ctx context.Context, c *websocket.Conn, conn net.Conn) {
	t := time.NewTicker(s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case <-t.C:
		}
		pctx, pcancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
		err := c.Ping(pctx)
		pcancel()
		if err != nil {
			if ctx.Err() == nil && !s.closed.Load() {
				_ = conn.Close()
			}
			return
		}
	}
}

// hijackWatch keeps the connection the WebSocket library takes over, so
// that a cut can close it whatever the library is doing.
type hijackWatch struct {
	http.ResponseWriter
	conn net.Conn
}

// Hijack implements http.Hijacker.
func (h *hijackWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = c
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (h *hijackWatch) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// wsWriteError marks an error of writing to the client during a replay.
type wsWriteError struct{ error }

func isWriteError(err error) bool {
	var we wsWriteError
	return errors.As(err, &we)
}

// wsTopics applies a subscribe or unsubscribe request to the client's
// topics (kept with their names, without repeats).
func (s *Server) wsTopics(m wsRequest, topics topicSet, names []string) (topicSet, []string, error) {
	parsed := make(topicSet, 0, len(m.Topics))
	for _, n := range m.Topics {
		t, err := parseTopic(n)
		if err != nil {
			return nil, nil, err
		}
		parsed = append(parsed, t)
	}
	var outT topicSet
	var outN []string
	if m.Action == "subscribe" {
		outT, outN = append(outT, topics...), append(outN, names...)
		for i, t := range parsed {
			if !containsName(outN, m.Topics[i]) {
				outT, outN = append(outT, t), append(outN, m.Topics[i])
			}
		}
		if len(outT) > MaxTopics {
			return nil, nil, errors.New("more than " + strconv.Itoa(MaxTopics) + " topics")
		}
		return outT, outN, nil
	}
	for i, t := range topics {
		if !containsName(m.Topics, names[i]) {
			outT, outN = append(outT, t), append(outN, names[i])
		}
	}
	return outT, outN, nil
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}
