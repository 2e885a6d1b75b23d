package event

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors of the codec. Every decoding error is a *DecodeError whose
// chain holds exactly one of them; test with errors.Is.
var (
	// ErrMalformed: the input is not one JSON object.
	ErrMalformed = errors.New("malformed JSON")
	// ErrMissingType: the document has no event_type (or an empty one).
	ErrMissingType = errors.New("missing event_type")
	// ErrUnknownType: event_type names no type of the catalog.
	ErrUnknownType = errors.New("unknown event_type")
	// ErrTypeMismatch: event_type names another type than the one decoded into.
	ErrTypeMismatch = errors.New("event_type does not match the event's type")
	// ErrFieldType: a field has the wrong JSON type (a string for a number, ...).
	ErrFieldType = errors.New("wrong JSON type for field")
	// ErrBadTimestamp: a timestamp is missing or does not parse.
	ErrBadTimestamp = errors.New("bad timestamp")
	// ErrUnknownField: the document has a field the event type does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrMissingID: event_id is missing or empty. Decoding requires it (ingest
	// is idempotent on it) and Encode refuses to write an event without it.
	ErrMissingID = errors.New("missing event_id")
	// ErrTooLarge: the document is longer than MaxEventSize.
	ErrTooLarge = errors.New("event document too large")

	// ErrEncode is wrapped by every error of Encode (not a decoding error).
	ErrEncode = errors.New("cannot encode event")
)

// DecodeError reports why a document could not be decoded (or an event
// encoded). WireName is the document's event_type, or the type's wire name
// when the document has none (empty when unknown); Field is the JSON path of
// the offending field (dotted for nested keys, empty when the error concerns
// the whole document). Names and values repeated from the input are cut to
// 256 bytes.
type DecodeError struct {
	WireName string
	Field    string
	Err      error
}

// Error names the wire name and the field.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("event")
	if e.WireName != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.WireName))
	}
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(strconv.Quote(e.Field))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, whose chain holds the sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

// fieldError is returned by the codec's own field decoders (timestamps,
// LangGraph kinds) so that the field and the sentinel survive encoding/json.
type fieldError struct {
	field    string
	wire     string
	sentinel error
	msg      string
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.sentinel }

// cause joins a sentinel and a detail so that errors.Is finds the sentinel
// and the message reads "sentinel: detail".
type cause struct {
	sentinel error
	detail   error
	msg      string
}

func (c *cause) Error() string {
	if c.msg != "" {
		return c.sentinel.Error() + ": " + c.msg
	}
	if c.detail != nil {
		return c.sentinel.Error() + ": " + c.detail.Error()
	}
	return c.sentinel.Error()
}

func (c *cause) Unwrap() []error {
	if c.detail != nil {
		return []error{c.sentinel, c.detail}
	}
	return []error{c.sentinel}
}

// maxNameInError bounds the wire names, field names and values that errors
// repeat from the input, in bytes.
const maxNameInError = 256

func newDecodeError(wire, field string, sentinel error, detail error, msg string) *DecodeError {
	return &DecodeError{WireName: clip(wire), Field: clip(field), Err: &cause{sentinel: sentinel, detail: detail, msg: clip(msg)}}
}

// clip cuts s to maxNameInError bytes at a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxNameInError {
		return s
	}
	n := maxNameInError
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// classify turns an error of encoding/json (or of the codec's field
// decoders) into a *DecodeError.
func classify(wire string, err error) *DecodeError {
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		w := wire
		if fe.wire != "" {
			w = fe.wire
		}
		return newDecodeError(w, fe.field, fe.sentinel, nil, fe.msg)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		msg := "cannot read JSON " + te.Value + " as " + te.Type.String()
		return newDecodeError(wire, jsonPath(te.Field), ErrFieldType, nil, msg)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return newDecodeError(wire, "", ErrMalformed, err, "")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if s, uerr := strconv.Unquote(name); uerr == nil {
			name = s
		}
		return newDecodeError(wire, name, ErrUnknownField, nil, strconv.Quote(name))
	}
	return newDecodeError(wire, "", ErrMalformed, err, "")
}

// jsonPath drops the Go names of the embedded structs (the codec's field
// wrapper and Base) that encoding/json puts in a field path, leaving the
// JSON path.
func jsonPath(p string) string {
	p = strings.TrimPrefix(p, "fields.")
	return strings.TrimPrefix(p, "Base.")
}
