package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// Media types accepted by POST /v1/events.
const (
	MediaJSON             = "application/json"
	MediaNDJSON           = "application/x-ndjson"
	MediaCloudEvent       = "application/cloudevents+json"
	MediaCloudEventsBatch = "application/cloudevents-batch+json"
)

// doc is one event document of a request: its raw JSON, or a CloudEvent.
type doc struct {
	raw  []byte
	ce   bool
	bin  *cloudEvent // a binary-mode CloudEvent (raw is empty)
	line int         // NDJSON line number, 0 otherwise
}

// IngestResult is the answer of POST /v1/events.
type IngestResult struct {
	// Accepted is the number of events recorded by this request.
	Accepted int `json:"accepted"`
	// Duplicates is the number of events already recorded (by an earlier
	// request or earlier in this one), not recorded again.
	Duplicates int `json:"duplicates"`
}

func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if r.Header.Get("Ce-Specversion") != "" && media != MediaJSON {
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: a binary-mode CloudEvent (ce-specversion header) carries its data as %s", ct, MediaJSON))
	}
	if ct == "" || err != nil {
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send %s, %s, %s or %s", ct, MediaJSON, MediaNDJSON, MediaCloudEvent, MediaCloudEventsBatch))
	}
	switch media {
	case MediaJSON, MediaNDJSON, MediaCloudEvent, MediaCloudEventsBatch:
	default:
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send %s, %s, %s or %s", media, MediaJSON, MediaNDJSON, MediaCloudEvent, MediaCloudEventsBatch))
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	body, e := s.readBody(w, r)
	if e != nil {
		return e
	}
	var docs []doc
	if ce, ok := binaryCloudEvent(r.Header, media, body); ok {
		docs = []doc{{ce: true, bin: &ce}}
	} else if docs, e = s.split(media, body); e != nil {
		return e
	}
	events := make([]event.Event, len(docs))
	for i := range docs {
		ev, e := decodeDoc(&docs[i], i)
		if e != nil {
			return e
		}
		events[i] = ev
	}
	entries := make([]audit.Entry, len(events))
	for i, ev := range events {
		entries[i] = audit.FromEvent(ev)
		if err := entries[i].Validate(); err != nil {
			return indexError(http.StatusUnprocessableEntity, CodeInvalidEvent, err.Error(), i)
		}
	}
	res, e := s.record(r, entries)
	if e != nil {
		return e
	}
	s.countIngested(events, res)
	if s.opts.Bus != nil {
		s.publish(r, events, res)
	}
	out := IngestResult{Accepted: res.Appended, Duplicates: len(res.Duplicates)}
	b, _ := json.Marshal(out)
	_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	writeJSON(w, b)
	return nil
}

// StatusClientClosed answers a request whose client went away before its
// answer was ready (the events it sent may still be recorded).
const StatusClientClosed = 499

func (s *Server) recordError(r *http.Request, err error) *apiError {
	switch {
	case r.Context().Err() != nil:
		return newError(StatusClientClosed, CodeClientClosed, "client closed the request; its events may be recorded: send them again")
	case errors.Is(err, audit.ErrInvalidEntry):
		return newError(http.StatusUnprocessableEntity, CodeInvalidEvent, err.Error())
	case errors.Is(err, audit.ErrRecorderClosed):
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "server is shutting down")
	default:
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "not recorded: "+err.Error())
	}
}

func (s *Server) countIngested(events []event.Event, res audit.AppendResult) {
	if n := len(res.Duplicates); n > 0 {
		s.metrics.duplicates.Add(float64(n))
	}
	var dup map[string]int
	if len(res.Duplicates) > 0 {
		dup = make(map[string]int, len(res.Duplicates))
		for _, id := range res.Duplicates {
			dup[id]++
		}
	}
	counts := map[string]int{}
	for _, ev := range events {
		if dup != nil {
			if n := dup[ev.EventID()]; n > 0 {
				dup[ev.EventID()] = n - 1
				continue
			}
		}
		counts[ev.WireName()]++
	}
	for name, n := range counts {
		s.metrics.ingested.WithLabelValues(name).Add(float64(n))
	}
}

// publish puts the events a request recorded on the bus.
func (s *Server) publish(r *http.Request, events []event.Event, res audit.AppendResult) {
	ctx := context.WithoutCancel(r.Context())
	dup := make(map[string]int, len(res.Duplicates))
	for _, id := range res.Duplicates {
		dup[id]++
	}
	for _, ev := range events {
		if n := dup[ev.EventID()]; n > 0 {
			dup[ev.EventID()] = n - 1
			continue
		}
		if err := s.opts.Bus.Publish(ctx, ev); err != nil {
			s.log.Warn("httpapi: publishing an ingested event on the bus", "event_id", ev.EventID(), "error", err)
		}
	}
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			fmt.Sprintf("body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit))
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				fmt.Sprintf("body exceeds the limit of %d bytes", limit))
		}
		return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "reading body: "+err.Error())
	}
	return buf.Bytes(), nil
}

func (s *Server) tooMany(n int) *apiError {
	return newError(http.StatusRequestEntityTooLarge, CodeTooManyEvents,
		fmt.Sprintf("more than %d events in one request", s.opts.MaxBatchEvents))
}

// split cuts a body into event documents.
func (s *Server) split(media string, body []byte) ([]doc, *apiError) {
	switch media {
	case MediaNDJSON:
		return s.splitLines(body)
	case MediaCloudEvent:
		b := bytes.TrimSpace(body)
		if len(b) == 0 || b[0] != '{' {
			return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "want one CloudEvent JSON object")
		}
		return []doc{{raw: b, ce: true}}, nil
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "empty body")
	}
	ce := media == MediaCloudEventsBatch
	if b[0] == '{' && !ce {
		return []doc{{raw: b}}, nil
	}
	if b[0] != '[' {
		if ce {
			return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "want a JSON array of CloudEvents")
		}
		return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "want a JSON object or array of events")
	}
	raws, err := splitArray(b)
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "body: "+err.Error())
	}
	if len(raws) > s.opts.MaxBatchEvents {
		return nil, s.tooMany(len(raws))
	}
	docs := make([]doc, len(raws))
	for i, r := range raws {
		docs[i] = doc{raw: r, ce: ce}
	}
	return docs, nil
}

func (s *Server) splitLines(body []byte) ([]doc, *apiError) {
	docs := make([]doc, 0, bytes.Count(body, []byte{'\n'})+1)
	line := 0
	for len(body) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if len(docs) == s.opts.MaxBatchEvents {
			return nil, s.tooMany(len(docs) + 1)
		}
		docs = append(docs, doc{raw: l, line: line})
	}
	if len(docs) == 0 {
		return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "empty body")
	}
	return docs, nil
}

// decodeDoc decodes document i; errors carry its index.
func decodeDoc(d *doc, i int) (event.Event, *apiError) {
	where := "event " + strconv.Itoa(i)
	if d.line > 0 {
		where += " (line " + strconv.Itoa(d.line) + ")"
	}
	var (
		ev  event.Event
		err error
	)
	if d.ce {
		var (
			wire string
			raw  []byte
			e    *apiError
		)
		if d.bin != nil {
			wire, raw, e = d.bin.doc()
		} else {
			wire, raw, e = cloudEventDoc(d.raw)
		}
		if e != nil {
			e.message = where + ": " + e.message
			e.index = i
			return nil, e
		}
		ev, err = event.DecodeAs(wire, raw)
	} else {
		ev, err = event.Decode(d.raw)
	}
	if err != nil {
		e := decodeError(err, where, i)
		if e.code == CodeMalformedJSON {
			if hint := decodeHint(d); hint != "" {
				e.message += ": " + hint
			}
		}
		return nil, e
	}
	return ev, nil
}

func decodeError(err error, where string, i int) *apiError {
	msg := where + ": " + err.Error()
	switch {
	case errors.Is(err, event.ErrMalformed):
		return indexError(http.StatusBadRequest, CodeMalformedJSON, msg, i)
	case errors.Is(err, event.ErrTooLarge):
		return indexError(http.StatusRequestEntityTooLarge, CodeEventTooLarge, msg, i)
	case errors.Is(err, event.ErrUnknownType), errors.Is(err, event.ErrMissingType):
		return indexError(http.StatusUnprocessableEntity, CodeUnknownEventType, msg, i)
	default:
		return indexError(http.StatusUnprocessableEntity, CodeInvalidEvent, msg, i)
	}
}
