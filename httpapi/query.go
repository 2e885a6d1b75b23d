package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

func badParam(name, msg string) *apiError {
	return newError(http.StatusBadRequest, CodeBadParameter, name+": "+msg)
}

// storeError maps a store error to an answer.
func storeError(err error) *apiError {
	switch {
	case errors.Is(err, audit.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, audit.ErrInvalidFilter):
		return newError(http.StatusBadRequest, CodeBadParameter, err.Error())
	case errors.Is(err, context.Canceled):
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "request cancelled")
	default:
		return newError(http.StatusInternalServerError, CodeInternal, "store: "+err.Error())
	}
}

func parseLimit(q url.Values) (int, *apiError) {
	v := q.Get("limit")
	if v == "" {
		return audit.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > audit.MaxLimit {
		return 0, badParam("limit", "want an integer from 1 to "+strconv.Itoa(audit.MaxLimit))
	}
	return n, nil
}

func parseSeq(name, v string) (int64, *apiError) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badParam(name, "want a non-negative integer (an entry's seq)")
	}
	return n, nil
}

func parseTimeParam(q url.Values, name string) (time.Time, *apiError) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := event.ParseTime(v)
	if err != nil {
		return time.Time{}, badParam(name, "want an RFC 3339 timestamp")
	}
	return t, nil
}

func parseBool(q url.Values, name string) (bool, *apiError) {
	vs, ok := q[name]
	if !ok {
		return false, nil
	}
	v := vs[0]
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badParam(name, "want true or false")
	}
	return b, nil
}

// parseFilter reads the query parameters of GET /v1/audit.
func parseFilter(q url.Values) (audit.Filter, *apiError) {
	var f audit.Filter
	f.ExecutionID = q.Get("execution_id")
	f.NodeID = q.Get("node_id")
	for _, t := range q["event_type"] {
		if !audit.Type(t).Known() {
			return f, badParam("event_type", "unknown audit event type "+quoteString(t))
		}
		f.Types = append(f.Types, audit.Type(t))
	}
	if v := q.Get("min_severity"); v != "" {
		if audit.Severity(v).Rank() < 0 {
			return f, badParam("min_severity", "want debug, info, success, warning or error")
		}
		f.MinSeverity = audit.Severity(v)
	}
	var e *apiError
	if f.Since, e = parseTimeParam(q, "since"); e != nil {
		return f, e
	}
	if f.Until, e = parseTimeParam(q, "until"); e != nil {
		return f, e
	}
	if f.Limit, e = parseLimit(q); e != nil {
		return f, e
	}
	if v := q.Get("cursor"); v != "" {
		if f.After, e = parseSeq("cursor", v); e != nil {
			return f, e
		}
	}
	return f, nil
}

// handleAudit answers {"entries": [...], "next_cursor": "..."}; next_cursor
// is null when the page is not full (no more entries now).
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) *apiError {
	f, e := parseFilter(r.URL.Query())
	if e != nil {
		return e
	}
	es, err := s.store.Query(r.Context(), f)
	if err != nil {
		return storeError(err)
	}
	var buf bytes.Buffer
	buf.Grow(len(es)*400 + 64)
	buf.WriteString(`{"entries":[`)
	for i := range es {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := es[i].MarshalJSON()
		if err != nil {
			return newError(http.StatusInternalServerError, CodeInternal, err.Error())
		}
		buf.Write(b)
	}
	buf.WriteString(`],"next_cursor":`)
	if len(es) == f.EffectiveLimit() && len(es) > 0 {
		buf.WriteString(`"` + strconv.FormatInt(es[len(es)-1].Seq, 10) + `"`)
	} else {
		buf.WriteString("null")
	}
	buf.WriteByte('}')
	writeJSON(w, buf.Bytes())
	return nil
}

// parsePage reads the query parameters of GET /v1/executions: status
// (repeatable, or comma-separated), workflow, q (text in the id or
// workflow), since, until (on the start time), cursor and limit.
func parsePage(q url.Values) (audit.Page, *apiError) {
	var p audit.Page
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			if !audit.ValidStatus(st) {
				return p, badParam("status", "want running, paused, completed, failed or cancelled, got "+quoteString(st))
			}
			p.Statuses = append(p.Statuses, st)
		}
	}
	p.WorkflowID = q.Get("workflow")
	p.Text = q.Get("q")
	var e *apiError
	if p.Since, e = parseTimeParam(q, "since"); e != nil {
		return p, e
	}
	if p.Until, e = parseTimeParam(q, "until"); e != nil {
		return p, e
	}
	if p.Limit, e = parseLimit(q); e != nil {
		return p, e
	}
	if v := q.Get("cursor"); v != "" {
		if _, _, err := audit.ParseCursor(v); err != nil {
			return p, badParam("cursor", "not a cursor this server returned (next_cursor of a previous page)")
		}
		p.After = v
	}
	return p, nil
}

// handleExecutions answers {"executions": [summary...], "next_cursor":
// "..."}, newest first; next_cursor is null when the page is not full.
func (s *Server) handleExecutions(w http.ResponseWriter, r *http.Request) *apiError {
	p, e := parsePage(r.URL.Query())
	if e != nil {
		return e
	}
	sums, err := s.store.Executions(r.Context(), p)
	if err != nil {
		return storeError(err)
	}
	if sums == nil {
		sums = []audit.Summary{}
	}
	var out executionsPage
	out.Executions = sums
	if len(sums) == p.EffectiveLimit() && len(sums) > 0 {
		c := sums[len(sums)-1].Cursor()
		out.NextCursor = &c
	}
	b, err := json.Marshal(out)
	if err != nil {
		return newError(http.StatusInternalServerError, CodeInternal, err.Error())
	}
	writeJSON(w, b)
	return nil
}

// summaryError maps the error of a Summary of execution id to an answer.
func summaryError(id string, err error) *apiError {
	if errors.Is(err, audit.ErrNotFound) {
		return newError(http.StatusNotFound, CodeNotFound, "execution "+strconv.Quote(id)+" not found")
	}
	return storeError(err)
}

func (s *Server) handleSummary(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	sum, err := s.store.Summary(r.Context(), id)
	if err != nil {
		return summaryError(id, err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return newError(http.StatusInternalServerError, CodeInternal, err.Error())
	}
	writeJSON(w, b)
	return nil
}

// handleTimeline answers the text timeline of `wtb audit show`, with the
// parameters all and debug.
func (s *Server) handleTimeline(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	var opts audit.FormatOptions
	var e *apiError
	if opts.All, e = parseBool(q, "all"); e != nil {
		return e
	}
	if opts.Debug, e = parseBool(q, "debug"); e != nil {
		return e
	}
	id := r.PathValue("id")
	sum, err := s.store.Summary(r.Context(), id)
	if err != nil {
		return summaryError(id, err)
	}
	var entries []audit.Entry
	f := audit.Filter{ExecutionID: id, Limit: audit.MaxLimit}
	for {
		es, err := s.store.Query(r.Context(), f)
		if err != nil {
			return storeError(err)
		}
		entries = append(entries, es...)
		if len(entries) > s.opts.MaxTimelineEntries {
			return newError(http.StatusUnprocessableEntity, CodeTooManyEntries,
				"execution has more than "+strconv.Itoa(s.opts.MaxTimelineEntries)+" entries: use GET /v1/audit")
		}
		if len(es) < f.Limit {
			break
		}
		f.After = es[len(es)-1].Seq
	}
	text := audit.FormatTimeline(sum, entries, opts)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)+1))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text + "\n"))
	return nil
}
