package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/wtbdev/wtb/audit"
)

// readExecution reads an execution's summary and all its entries (at most
// MaxTimelineEntries, else a 422) for the routes that analyse a whole run.
func (s *Server) readExecution(ctx context.Context, id string, types ...audit.Type) (audit.Summary, []audit.Entry, *apiError) {
	sum, err := s.store.Summary(ctx, id)
	if err != nil {
		return sum, nil, summaryError(id, err)
	}
	var entries []audit.Entry
	f := audit.Filter{ExecutionID: id, Types: types, Limit: audit.MaxLimit}
	for {
		es, err := s.store.Query(ctx, f)
		if err != nil {
			return sum, nil, storeError(err)
		}
		entries = append(entries, es...)
		if len(entries) > s.opts.MaxTimelineEntries {
			return sum, nil, newError(http.StatusUnprocessableEntity, CodeTooManyEntries,
				"execution "+strconv.Quote(id)+" has more than "+strconv.Itoa(s.opts.MaxTimelineEntries)+" entries: use GET /v1/audit")
		}
		if len(es) < f.Limit {
			return sum, entries, nil
		}
		f.After = es[len(es)-1].Seq
	}
}

func writeJSONValue(w http.ResponseWriter, v any) *apiError {
	b, err := json.Marshal(v)
	if err != nil {
		return newError(http.StatusInternalServerError, CodeInternal, err.Error())
	}
	writeJSON(w, b)
	return nil
}

// handleTrace answers an execution in the Chrome Trace Event format
// (audit.ChromeTrace), which Perfetto and chrome://tracing open.
func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	sum, entries, e := s.readExecution(r.Context(), id)
	if e != nil {
		return e
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+traceFileName(id)+`"`)
	return writeJSONValue(w, audit.ChromeTrace(sum, entries))
}

// traceFileName is a safe file name for an execution's trace.
func traceFileName(id string) string {
	b := []byte("trace-")
	for i := 0; i < len(id) && i < 100; i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b = append(b, c)
		} else {
			b = append(b, '_')
		}
	}
	return string(b) + ".json"
}

// handleCompare answers audit.Compare of executions a and b.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	a, b := q.Get("a"), q.Get("b")
	if a == "" {
		return badParam("a", "want the id of the first execution")
	}
	if b == "" {
		return badParam("b", "want the id of the second execution")
	}
	sa, ea, e := s.readExecution(r.Context(), a)
	if e != nil {
		return e
	}
	sb, eb, e := s.readExecution(r.Context(), b)
	if e != nil {
		return e
	}
	return writeJSONValue(w, audit.Compare(sa, ea, sb, eb))
}

// batchTypes are the entries a batch's variants are read from.
var batchTypes = []audit.Type{
	audit.TypeRayBatchTestCompleted, audit.TypeRayVariantExecutionStarted, audit.TypeRayVariantExecutionCompleted,
	audit.TypeRayVariantExecutionFailed, audit.TypeRayVariantExecutionCancelled,
}

// handleBatch answers a Ray batch test with its variants (audit.BatchOf).
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	sum, entries, e := s.readExecution(r.Context(), id, batchTypes...)
	if e != nil {
		return e
	}
	return writeJSONValue(w, audit.BatchOf(sum, entries))
}
