package httpapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/langgraph"
	"github.com/wtbdev/wtb/otlp"
)

// Media types accepted by POST /v1/langgraph/events: one LangGraph stream
// record per line.
const (
	MediaJSONLines = "application/jsonl"
)

// DefaultRecordIdleTimeout is the default of Options.RecordIdleTimeout.
const DefaultRecordIdleTimeout = 5 * time.Minute

// LangGraphResult is the answer of POST /v1/langgraph/events.
type LangGraphResult struct {
	// Records is the number of records read.
	Records int `json:"records"`
	// Events is the number of wtb events the records became.
	Events int `json:"events"`
	// Accepted is the number of events recorded by this request.
	Accepted int `json:"accepted"`
	// Duplicates is the number of events already recorded (the same stream
	// sent before), not recorded again.
	Duplicates int `json:"duplicates"`
	// Filtered is the number of records left out by the filters
	// (internal names, node filters).
	Filtered int `json:"filtered"`
	// Folded is the number of records summed up in another record's event
	// (model stream chunks after the first, graph stream records).
	Folded int `json:"folded"`
}

// bridges holds the translators of the LangGraph and OTLP routes and their
// metrics.
type bridges struct {
	lg      *langgraph.Translator
	otlp    *otlp.Translator
	records *prometheus.CounterVec
	spans   *prometheus.CounterVec
}

func newBridges(reg *prometheus.Registry) *bridges {
	b := &bridges{
		lg:   langgraph.NewTranslator(langgraph.Limits{}),
		otlp: otlp.NewTranslator(otlp.Limits{}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_langgraph_records_total",
			Help: "LangGraph stream records read by POST /v1/langgraph/events, by outcome (recorded, filtered, folded, invalid).",
		}, []string{"outcome"}),
		spans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_otlp_spans_total",
			Help: "Spans read by POST /v1/traces, by outcome (recorded, filtered, rejected).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(b.records, b.spans,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wtb_langgraph_executions_in_flight",
			Help: "Executions whose LangGraph stream state is kept (started, graph not ended).",
		}, func() float64 { return float64(b.lg.InFlight()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wtb_langgraph_executions_evicted_total",
			Help: "Executions whose LangGraph stream state was forgotten before their graph ended (limit reached).",
		}, func() float64 { return float64(b.lg.Evicted()) }),
	)
	for _, o := range []string{"recorded", "filtered", "folded", "invalid"} {
		b.records.WithLabelValues(o)
	}
	for _, o := range []string{"recorded", "filtered", "rejected"} {
		b.spans.WithLabelValues(o)
	}
	return b
}

// langGraphParams are the query parameters of POST /v1/langgraph/events.
var langGraphParams = []Param{
	{Name: "execution_id", Type: "string", Description: "the execution the records belong to (default: the thread_id of each record's metadata)"},
	{Name: "workflow_id", Type: "string", Description: "workflow_id of the execution events (default: the graph's name)"},
	{Name: "include_inputs", Type: "boolean", Description: "copy the records' inputs into the events (default false; inputs may hold personal data)"},
	{Name: "include_outputs", Type: "boolean", Description: "copy the records' outputs into the events (default true)"},
	{Name: "filter_internal", Type: "boolean", Description: "leave out runs whose name starts with __, such as __start__ (default true)"},
	{Name: "node", Type: "string", Repeat: true, Description: "record only these graph nodes and what runs in them (repeatable)"},
	{Name: "exclude_node", Type: "string", Repeat: true, Description: "leave these graph nodes and what runs in them out (repeatable)"},
}

// sampleLangGraph is the body of the LangGraph route's sample.
const sampleLangGraph = `{"event":"on_chain_start","name":"LangGraph","run_id":"0190b7e2-6a4c-7f55-9a51-52b3a4c7e0aa","tags":[],"metadata":{"thread_id":"exec-1"},"data":{}}` + "\n"

// parseLangGraphOptions reads the query of POST /v1/langgraph/events.
func parseLangGraphOptions(q url.Values) (langgraph.Options, *apiError) {
	o := langgraph.Options{ExecutionID: q.Get("execution_id"), WorkflowID: q.Get("workflow_id"),
		Nodes: q["node"], ExcludeNodes: q["exclude_node"]}
	var e *apiError
	if o.IncludeInputs, e = parseBool(q, "include_inputs"); e != nil {
		return o, e
	}
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"include_outputs", &o.OmitOutputs}, {"filter_internal", &o.KeepInternal}} {
		if _, ok := q[p.name]; !ok {
			continue
		}
		v, e := parseBool(q, p.name)
		if e != nil {
			return o, e
		}
		*p.dst = !v
	}
	if len(o.ExecutionID) > audit.MaxIDSize {
		return o, badParam("execution_id", fmt.Sprintf("longer than %d bytes", audit.MaxIDSize))
	}
	return o, nil
}

// handleLangGraph records a LangGraph event stream (astream_events v2 /
// streamEvents v2 records, one per line). The body is read as a stream:
// records are translated and recorded as they arrive, so that a producer
// streaming a running graph is seen live, and the answer comes when the
// body ends.
func (s *Server) handleLangGraph(w http.ResponseWriter, r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	switch {
	case ct == "" || err != nil:
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send %s (one record per line)", ct, MediaNDJSON))
	case media != MediaNDJSON && media != MediaJSONLines && media != MediaJSON:
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Type %q: send %s (one record per line)", media, MediaNDJSON))
	}
	opts, e := parseLangGraphOptions(r.URL.Query())
	if e != nil {
		return e
	}
	body, e := s.bodyReader(r)
	if e != nil {
		return e
	}
	rc := http.NewResponseController(w)
	idle := s.opts.RecordIdleTimeout
	_ = rc.SetReadDeadline(time.Now().Add(idle))

	var (
		res     LangGraphResult
		pending []event.Event
		br      = bufio.NewReaderSize(body, 64<<10)
		line    []byte
		num     int
	)
	// flush records the pending events and waits until they are durable.
	flush := func() *apiError {
		if len(pending) == 0 {
			return nil
		}
		acc, dup, e := s.recordEvents(r, pending)
		res.Accepted += acc
		res.Duplicates += dup
		pending = pending[:0]
		return e
	}
	// fail records what came before the bad line, then answers e.
	fail := func(e *apiError) *apiError {
		s.bridges.records.WithLabelValues("invalid").Inc()
		if fe := flush(); fe != nil {
			return fe
		}
		e.message = fmt.Sprintf("line %d: %s (the %d records before it were read and their events recorded: %d new, %d duplicates)",
			num, e.message, res.Records, res.Accepted, res.Duplicates)
		return e
	}
	for {
		var rerr error
		line, rerr = readLine(br, line[:0], s.opts.MaxBodyBytes)
		if len(line) > 0 || rerr == nil {
			num++
		}
		if errors.Is(rerr, errLineTooLong) {
			return fail(newError(http.StatusRequestEntityTooLarge, CodeEventTooLarge,
				fmt.Sprintf("record longer than %d bytes", s.opts.MaxBodyBytes)))
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			if fe := flush(); fe != nil {
				return fe
			}
			return newError(http.StatusBadRequest, CodeMalformedJSON, fmt.Sprintf("reading line %d: %v (%d records recorded before it)", num, rerr, res.Records))
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			rec, err := langgraph.ParseRecord(t)
			if err != nil {
				return fail(newError(http.StatusBadRequest, CodeMalformedJSON, err.Error()))
			}
			n := len(pending)
			var out langgraph.Outcome
			pending, out, err = s.bridges.lg.Translate(pending, &rec, time.Now(), &opts)
			if err != nil {
				return fail(newError(http.StatusUnprocessableEntity, CodeInvalidEvent,
					"no execution id: pass ?execution_id=, or run the graph with a thread_id in its configurable"))
			}
			for _, ev := range pending[n:] {
				if err := audit.FromEvent(ev).Validate(); err != nil {
					pending = pending[:n]
					return fail(newError(http.StatusUnprocessableEntity, CodeInvalidEvent, err.Error()))
				}
			}
			res.Records++
			res.Events += len(pending) - n
			switch out {
			case langgraph.Recorded:
				s.bridges.records.WithLabelValues("recorded").Inc()
			case langgraph.Filtered:
				res.Filtered++
				s.bridges.records.WithLabelValues("filtered").Inc()
			case langgraph.Folded:
				res.Folded++
				s.bridges.records.WithLabelValues("folded").Inc()
			}
		}
		if rerr != nil {
			break
		}
		// Record what has come once the producer pauses (nothing more is
		// buffered) or a batch is full: a live stream is recorded as it
		// happens.
		if br.Buffered() == 0 || len(pending) >= s.opts.MaxBatchEvents-16 {
			if e := flush(); e != nil {
				return e
			}
		}
		_ = rc.SetReadDeadline(time.Now().Add(idle))
	}
	if e := flush(); e != nil {
		return e
	}
	if res.Records == 0 {
		return newError(http.StatusBadRequest, CodeMalformedJSON, "empty body: send one LangGraph stream record per line")
	}
	b, _ := json.Marshal(res)
	_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	writeJSON(w, b)
	return nil
}

// recordEvents records events through the recorder, waits until they are
// durable, counts them and publishes them on the bus. It returns the
// numbers of events recorded and of duplicates.
func (s *Server) recordEvents(r *http.Request, events []event.Event) (accepted, duplicates int, _ *apiError) {
	entries := make([]audit.Entry, len(events))
	for i, ev := range events {
		entries[i] = audit.FromEvent(ev)
	}
	return s.recordEntries(r, events, entries)
}

// recordEntries is recordEvents for events already mapped to entries
// (entries[i] of events[i]).
func (s *Server) recordEntries(r *http.Request, events []event.Event, entries []audit.Entry) (accepted, duplicates int, _ *apiError) {
	for len(events) > 0 {
		n := min(len(events), s.opts.MaxBatchEvents)
		part, pe := events[:n], entries[:n]
		events, entries = events[n:], entries[n:]
		res, e := s.record(r, pe)
		if e != nil {
			return accepted, duplicates, e
		}
		s.countIngested(part, res)
		if s.opts.Bus != nil {
			s.publish(r, part, res)
		}
		accepted += res.Appended
		duplicates += len(res.Duplicates)
	}
	return accepted, duplicates, nil
}

// bodyReader returns the request body, decompressed when its
// Content-Encoding is gzip.
func (s *Server) bodyReader(r *http.Request) (io.Reader, *apiError) {
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return r.Body, nil
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeMalformedJSON, "gzip body: "+err.Error())
		}
		return zr, nil
	default:
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"Content-Encoding "+strconv.Quote(enc)+": send gzip or no encoding")
	}
}

var errLineTooLong = errors.New("line too long")

// readLine appends the next line of br (without its newline) to buf. A
// line longer than limit is skipped and reported as errLineTooLong. At the
// end of the input it returns the last line, if any, and io.EOF.
func readLine(br *bufio.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if int64(len(buf)+len(chunk)) > limit+1 {
			return buf[:0], errLineTooLong
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, err
		}
	}
}
