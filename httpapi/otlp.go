package httpapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/otlp"
)

// sampleOTLP is the body of the OTLP route's sample: a request with no
// spans.
const sampleOTLP = `{"resourceSpans":[]}`

// OTLP status codes (google.rpc.Code) of error answers.
const (
	rpcInvalidArgument   = 3
	rpcResourceExhausted = 8
	rpcUnavailable       = 14
	rpcInternal          = 13
	rpcUnauthenticated   = 16
)

// handleOTLP is OTLP/HTTP trace ingest: an ExportTraceServiceRequest in
// protobuf or JSON, gzip or not. Every span becomes wtb events (package
// otlp); the answer, in the request's encoding, comes once they are
// durable, with partial_success counting the spans that could not be
// recorded. Errors are answered with a google.rpc.Status body, as OTLP/HTTP
// asks: 400 is not retried by exporters, 503 (with Retry-After) is.
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	enc := otlp.Protobuf
	switch {
	case err == nil && media == otlp.MediaProtobuf:
	case err == nil && media == otlp.MediaJSON:
		enc = otlp.JSON
	default:
		return s.otlpError(w, enc, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send %s or %s", ct, otlp.MediaProtobuf, otlp.MediaJSON)))
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	body, e := s.readOTLPBody(w, r)
	if e != nil {
		return s.otlpError(w, enc, e)
	}
	td, err := otlp.DecodeRequest(body, enc)
	if err != nil {
		return s.otlpError(w, enc, newError(http.StatusBadRequest, CodeMalformedJSON, err.Error()))
	}
	events, entries, res := spanEntries(s.bridges.otlp, td, &s.opts.OTLP)
	recorded := res.Spans - res.Filtered - res.Rejected
	if _, _, e := s.recordEntries(r, events, entries); e != nil {
		if e.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		return s.otlpError(w, enc, e)
	}
	s.bridges.spans.WithLabelValues("recorded").Add(float64(recorded))
	s.bridges.spans.WithLabelValues("filtered").Add(float64(res.Filtered))
	s.bridges.spans.WithLabelValues("rejected").Add(float64(res.Rejected))
	var msg string
	if res.Rejected > 0 {
		msg = fmt.Sprintf("%d of %d spans rejected: %s", res.Rejected, res.Spans, strings.Join(res.Reasons, "; "))
		if res.Rejected > len(res.Reasons) {
			msg += "; ..."
		}
	}
	out, err := otlp.EncodeResponse(enc, int64(res.Rejected), msg)
	if err != nil {
		return s.otlpError(w, enc, newError(http.StatusInternalServerError, CodeInternal, "encoding the answer: "+err.Error()))
	}
	_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	h := w.Header()
	h.Set("Content-Type", enc.MediaType())
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

// spanEntries translates the spans of td into events and their audit
// entries, in the order they are recorded (sortByExecution). A span whose
// events a store would refuse (an over-long name, text that is not UTF-8)
// is rejected whole and counted in the Result.
func spanEntries(tr *otlp.Translator, td ptrace.Traces, opts *otlp.Options) ([]event.Event, []audit.Entry, otlp.Result) {
	// A span is at most two events.
	events, res := tr.Translate(make([]event.Event, 0, 2*td.SpanCount()), td, opts)
	// A span whose events a store would refuse (an over-long name, text
	// that is not UTF-8) is rejected whole and counted.
	keptEv := events[:0]
	entries := make([]audit.Entry, 0, len(events))
	from := 0
	for _, end := range res.SpanEnds {
		n := len(entries)
		for _, ev := range events[from:end] {
			e := audit.FromEvent(ev)
			if err := e.Validate(); err != nil {
				res.Reject(err.Error())
				entries = entries[:n]
				break
			}
			entries = append(entries, e)
		}
		if len(entries) > n {
			keptEv = append(keptEv, events[from:end]...)
		}
		from = end
	}
	sortByExecution(keptEv, entries)
	return keptEv, entries, res
}

// sortByExecution orders entries (and their events alike) by execution, in
// the order executions first appear, and by time within an execution: a
// request holds whole traces, whose workflow span comes last (spans are
// exported as they end), and an execution's entries are recorded in time
// order. Keeping each execution's entries together also keeps the store's
// per-execution index writes together.
func sortByExecution(events []event.Event, entries []audit.Entry) {
	groups := map[string]int32{}
	group := make([]int32, len(entries))
	order := make([]int32, len(entries))
	sorted := true
	for i := range entries {
		g, ok := groups[entries[i].ExecutionID]
		if !ok {
			g = int32(len(groups))
			groups[entries[i].ExecutionID] = g
		}
		group[i], order[i] = g, int32(i)
		if i > 0 && (g < group[i-1] || g == group[i-1] && entries[i].Timestamp.Before(entries[i-1].Timestamp)) {
			sorted = false
		}
	}
	if sorted {
		return
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		if group[a] != group[b] {
			return int(group[a] - group[b])
		}
		return entries[a].Timestamp.Compare(entries[b].Timestamp)
	})
	// Position i takes what was at order[i]: follow each cycle of the
	// permutation, moving every element once, without copies of the
	// slices (order[j] < 0 marks a position done).
	for i := range order {
		if order[i] < 0 {
			continue
		}
		ev, en := events[i], entries[i]
		j := i
		for {
			k := int(order[j])
			order[j] = -1
			if k == i {
				events[j], entries[j] = ev, en
				break
			}
			events[j], entries[j] = events[k], entries[k]
			j = k
		}
	}
}

// otlpError answers e with a google.rpc.Status body in the request's
// encoding, counts it like every error answer, and returns nil.
func (s *Server) otlpError(w http.ResponseWriter, enc otlp.Encoding, e *apiError) *apiError {
	code := int32(rpcInvalidArgument)
	switch {
	case e.status == http.StatusServiceUnavailable || e.status == StatusClientClosed:
		code = rpcUnavailable
	case e.status == http.StatusRequestEntityTooLarge:
		code = rpcResourceExhausted
	case e.status >= 500:
		code = rpcInternal
	case e.status == http.StatusUnauthorized:
		code = rpcUnauthenticated
	}
	b, err := otlp.EncodeStatus(enc, code, e.message)
	if err != nil {
		return e
	}
	s.metrics.rejected.WithLabelValues(e.code).Inc()
	if rw, ok := w.(*respWriter); ok {
		rw.code = e.code
	}
	if e.status >= 500 {
		s.metrics.failures.WithLabelValues("otlp").Inc()
		s.log.Error("httpapi: request failed", "route", "otlp", "code", e.code, "error", e.message)
	}
	h := w.Header()
	h.Set("Content-Type", enc.MediaType())
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
	return nil
}

// readOTLPBody reads the body, gunzipping it when its Content-Encoding is
// gzip; MaxBodyBytes bounds it before and after decompression.
func (s *Server) readOTLPBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, e := s.readBody(w, r)
	if e != nil {
		return nil, e
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "gzip body: "+err.Error())
		}
		var out bytes.Buffer
		n, err := out.ReadFrom(io.LimitReader(zr, s.opts.MaxBodyBytes+1))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "gzip body: "+err.Error())
		}
		if n > s.opts.MaxBodyBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				fmt.Sprintf("decompressed body exceeds the limit of %d bytes", s.opts.MaxBodyBytes))
		}
		return out.Bytes(), nil
	default:
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"Content-Encoding "+strconv.Quote(enc)+": send gzip or no encoding")
	}
}
