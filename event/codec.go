package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// MaxEventSize is the largest document Decode and DecodeAs accept, in bytes.
const MaxEventSize = 1 << 20

// timeLayouts are the timestamp forms ParseTime accepts, most common first.
var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTime reads a timestamp: RFC 3339 with or without a zone, or the
// reference's ISO form without zone and with optional fractional seconds
// (read as UTC); a space may replace the T. The result is in UTC and its
// year lies in 0..9999.
func ParseTime(s string) (time.Time, error) {
	// The reference's zone-less form is the common input. Read as UTC, it is
	// RFC 3339 with a Z appended, which time.Parse reads on its fast path.
	if n := len(s); n >= 19 && s[10] == 'T' && s[n-1] != 'Z' && s[n-1] != 'z' && s[n-6] != '+' && s[n-6] != '-' {
		if t, err := time.Parse(time.RFC3339Nano, s+"Z"); err == nil {
			return checkYear(s, t.UTC())
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return checkYear(s, t.UTC())
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 or ISO 8601 timestamp", s)
}

func checkYear(s string, t time.Time) (time.Time, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q lies outside the years 0 to 9999 in UTC", s)
	}
	return t, nil
}

// FormatTime writes t in RFC 3339 in UTC with as many fractional digits as needed.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// Decode reads one event in the wire format. The document's event_type (a
// wire name or an alias) selects the type. Every field of the document must
// belong to that type; event_id must be a non-empty string and timestamp a
// readable timestamp (see ParseTime). Fields the document omits take the
// reference defaults; collections it omits decode as empty. Keys match
// exactly (case matters) and appear once. Errors are *DecodeError values
// carrying one of the Err sentinels; nothing panics, whatever the input.
// The strings of a decoded event share one copy of data (Decode does not
// keep data itself), so the event holds at most len(data) bytes of them.
func Decode(data []byte) (Event, error) { return decodeWith(data, nil) }

// unmarshalFunc decodes a document into an event; nil stands for the
// event's UnmarshalJSON.
type unmarshalFunc func(ev Event, b []byte) error

func unmarshalWith(ev Event, b []byte, fn unmarshalFunc) error {
	if fn != nil {
		return fn(ev, b)
	}
	return ev.(json.Unmarshaler).UnmarshalJSON(b)
}

// decodable is implemented by every event: decode is UnmarshalJSON and
// reports whether the document carries an event_type.
type decodable interface {
	decode(b []byte) (typed bool, err error)
}

func decodeWith(data []byte, fn unmarshalFunc) (Event, error) {
	if len(data) > MaxEventSize {
		return nil, newDecodeError("", "", ErrTooLarge, nil, fmt.Sprintf("%d bytes, limit %d", len(data), MaxEventSize))
	}
	// Fast path: guess the type from the first or last key and decode
	// once. A document that decodes without error and carries an
	// event_type names the type it was decoded as (the decoder checks it),
	// so the guess is then right; otherwise the full path below runs.
	if t := guessType(data); t != nil && fn == nil {
		ev := t.new()
		if typed, err := ev.(decodable).decode(data); err == nil && typed {
			return ev, nil
		}
	}
	raw, found, ok := scanEventType(data)
	if !ok || !found {
		if !json.Valid(data) {
			var v any
			return nil, classify("", json.Unmarshal(data, &v))
		}
		if !ok {
			return nil, newDecodeError("", "", ErrMalformed, nil, "the document is not a JSON object")
		}
		return nil, newDecodeError("", "event_type", ErrMissingType, nil, "")
	}
	var t *Type
	var name string
	switch {
	case len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0:
		t = byWire[string(raw[1:len(raw)-1])]
		if t == nil {
			name = string(raw[1 : len(raw)-1])
		}
	case string(raw) == "null":
		return nil, newDecodeError("", "event_type", ErrMissingType, nil, "")
	default:
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, newDecodeError("", "event_type", ErrFieldType, nil, "event_type must be a string, not "+truncate(raw))
		}
		t = byWire[name]
	}
	if t == nil {
		if name == "" {
			return nil, newDecodeError("", "event_type", ErrMissingType, nil, "")
		}
		return nil, newDecodeError(name, "event_type", ErrUnknownType, nil, strconv.Quote(name))
	}
	ev := t.new()
	if err := unmarshalWith(ev, data, fn); err != nil {
		return nil, err
	}
	return ev, nil
}

// DecodeAs reads one event of the type registered for wireName (a wire name
// or an alias), for callers that carry the type outside the document (a
// CloudEvents type attribute, a database column). The document may omit
// event_type; when present it must name the same type (for LangGraphAudit,
// the same kind). Otherwise the rules of Decode apply.
func DecodeAs(wireName string, data []byte) (Event, error) {
	return decodeAsWith(wireName, data, nil)
}

func decodeAsWith(wireName string, data []byte, fn unmarshalFunc) (Event, error) {
	t, ok := byWire[wireName]
	if !ok {
		return nil, newDecodeError(wireName, "event_type", ErrUnknownType, nil, strconv.Quote(wireName))
	}
	if len(data) > MaxEventSize {
		return nil, newDecodeError(wireName, "", ErrTooLarge, nil, fmt.Sprintf("%d bytes, limit %d", len(data), MaxEventSize))
	}
	ev := t.new()
	if err := unmarshalWith(ev, data, fn); err != nil {
		return nil, err
	}
	if lg, ok := ev.(*LangGraphAudit); ok {
		switch {
		case lg.Kind == "":
			lg.Kind = LangGraphKind(wireName)
		case string(lg.Kind) != wireName:
			return nil, newDecodeError(wireName, "event_type", ErrTypeMismatch, nil, fmt.Sprintf("document kind %q, expected %q", lg.Kind, wireName))
		}
	}
	return ev, nil
}

// Encode writes ev in the wire format: the event's fields under the
// reference's JSON names plus event_type (its wire name), with timestamps in
// RFC 3339 in UTC. Nil maps and lists that the reference defaults to {} or []
// are written that way; optional ones are written as null. Encode refuses a
// nil event, an event without event_id (ErrMissingID), a LangGraphAudit of an
// unknown kind and values JSON cannot carry (NaN, infinities, years outside
// 0..9999); what it writes, Decode reads back equal.
func Encode(ev Event) ([]byte, error) {
	if ev == nil || reflect.ValueOf(ev).IsNil() {
		return nil, fmt.Errorf("%w: nil event", ErrEncode)
	}
	if ev.EventID() == "" {
		return nil, fmt.Errorf("%w %s: %w", ErrEncode, ev.WireName(), ErrMissingID)
	}
	if lg, ok := ev.(*LangGraphAudit); ok && lg.Kind != "" && !lg.Kind.Valid() {
		return nil, fmt.Errorf("%w: %w: LangGraph kind %q", ErrEncode, ErrUnknownType, lg.Kind)
	}
	b, err := ev.(json.Marshaler).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrEncode, ev.WireName(), err)
	}
	return b, nil
}

// guessType returns the type named by the document's event_type when it is
// the first or the last key and its value a plain string, nil otherwise.
// It reads only the ends of the document and is only a guess: a document
// that is not well-formed may fool it.
func guessType(b []byte) *Type {
	i := skipWS(b, 0)
	const key = `"event_type"`
	if i < len(b) && b[i] == '{' {
		i = skipWS(b, i+1)
		if len(b)-i > len(key) && string(b[i:i+len(key)]) == key {
			i = skipWS(b, i+len(key))
			if i < len(b) && b[i] == ':' {
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == '"' {
					if n := bytes.IndexByte(b[i+1:], '"'); n >= 0 {
						if t := byWire[string(b[i+1:i+1+n])]; t != nil {
							return t
						}
					}
				}
			}
		}
	}
	// From the end: }, a string, :, "event_type", then , or {.
	j := len(b) - 1
	for j >= 0 && isWS(b[j]) {
		j--
	}
	if j < 0 || b[j] != '}' {
		return nil
	}
	j--
	for j >= 0 && isWS(b[j]) {
		j--
	}
	if j < 0 || b[j] != '"' {
		return nil
	}
	end := j
	open := bytes.LastIndexByte(b[:end], '"')
	if open < 0 || open > 0 && b[open-1] == '\\' {
		return nil
	}
	j = open - 1
	for j >= 0 && isWS(b[j]) {
		j--
	}
	if j < 0 || b[j] != ':' {
		return nil
	}
	j--
	for j >= 0 && isWS(b[j]) {
		j--
	}
	if j < len(key)-1 || string(b[j-len(key)+1:j+1]) != key {
		return nil
	}
	return byWire[string(b[open+1:end])]
}

// scanEventType finds the raw value of the top-level "event_type" key (the
// last one, as encoding/json would). ok is false when the input is not
// shaped like a JSON object; found is false when the key is absent. Values
// are only skipped, not validated: the full decode validates them.
func scanEventType(b []byte) (raw []byte, found, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false, false
		}
		end := skipString(b, i)
		if end < 0 {
			return nil, false, false
		}
		key := b[i+1 : end-1]
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false, false
		}
		i = skipWS(b, i+1)
		start := i
		i = skipValue(b, i)
		if i < 0 {
			return nil, false, false
		}
		if string(key) == "event_type" {
			raw, found = b[start:i], true
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, false, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return raw, found, true
		default:
			return nil, false, false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"', or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
