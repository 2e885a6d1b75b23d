package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors of the package; test with errors.Is.
var (
	// ErrInsecureListen is returned by CheckListenAddr for a non-loopback
	// address without tokens.
	ErrInsecureListen = errors.New("httpapi: refusing to listen on a non-loopback address without tokens")
	// ErrBadTokens is returned (wrapped, with the line) by ParseTokens and
	// LoadTokens for a malformed tokens file.
	ErrBadTokens = errors.New("httpapi: bad tokens file")
	// ErrTokensFileMode is returned by LoadTokens for a tokens file that
	// its group or other users may access.
	ErrTokensFileMode = errors.New("httpapi: tokens file is accessible by other users")
	// ErrBadOptions is returned by New for inconsistent Options.
	ErrBadOptions = errors.New("httpapi: bad options")
	// ErrBadTopic is returned for a topic that is not execution:<id>,
	// batch:<id>, type:<audit type> or audit:*.
	ErrBadTopic = errors.New("httpapi: bad topic")
)

// Error codes of the JSON error bodies, {"error": {"code": ..., "message":
// ..., "index": ...}}.
const (
	CodeMalformedJSON        = "malformed_json"         // 400
	CodeBadParameter         = "bad_parameter"          // 400
	CodeBadTopic             = "bad_topic"              // 400
	CodeUnauthorized         = "unauthorized"           // 401
	CodeForbidden            = "forbidden"              // 403
	CodeNotFound             = "not_found"              // 404
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeTooManyEvents        = "too_many_events"        // 413
	CodeEventTooLarge        = "event_too_large"        // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeUnknownEventType     = "unknown_event_type"     // 422
	CodeInvalidEvent         = "invalid_event"          // 422
	CodeTooManyEntries       = "too_many_entries"       // 422
	CodeTooManyStreams       = "too_many_streams"       // 429 (per token), 503 (server)
	CodeTooManyConnections   = "too_many_connections"   // 503: Options.MaxConnections open
	CodeClientClosed         = "client_closed"          // 499: the client went away
	CodeInternal             = "internal"               // 500
	CodeUnavailable          = "unavailable"            // 503
)

// apiError is an error answered as JSON.
type apiError struct {
	status     int
	code       string
	message    string
	index      int // -1: no index
	retryAfter int // seconds, for the Retry-After header; 0: none
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message, index: -1}
}

func indexError(status int, code, message string, index int) *apiError {
	return &apiError{status: status, code: code, message: message, index: index}
}

// writeError answers e as JSON and counts it.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.metrics.rejected.WithLabelValues(e.code).Inc()
	if rw, ok := w.(*respWriter); ok {
		rw.code = e.code
	}
	var body errorBody
	body.Error.Code = e.code
	body.Error.Message = e.message
	if e.index >= 0 {
		i := e.index
		body.Error.Index = &i
	}
	b := marshalText(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="wtb"`)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(append(b, '\n'))
}

// marshalText encodes v as JSON without escaping <, > and & (encoding/json
// does, for HTML): error messages name placeholders such as <id>, and
// readers should see them as written.
func marshalText(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeJSON answers v as JSON with status 200.
func writeJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}
