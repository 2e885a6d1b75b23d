package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"sync"
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

// wireTime writes a timestamp in RFC 3339 in UTC.
type wireTime time.Time

func (t wireTime) MarshalJSON() ([]byte, error) {
	u := time.Time(t).UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("%w: year %d outside 0 to 9999", ErrBadTimestamp, y)
	}
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = u.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// timeIn reads the required timestamp field and records that it was present.
type timeIn struct {
	p   *time.Time
	set bool
}

func (t *timeIn) UnmarshalJSON(b []byte) error {
	v, err := readTime("timestamp", b)
	if err != nil {
		return err
	}
	*t.p, t.set = v, true
	return nil
}

// optTimeIn reads an optional timestamp field (null allowed).
type optTimeIn struct {
	p     **time.Time
	field string
}

func (t *optTimeIn) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t.p = nil
		return nil
	}
	v, err := readTime(t.field, b)
	if err != nil {
		return err
	}
	*t.p = &v
	return nil
}

func readTime(field string, b []byte) (time.Time, error) {
	if len(b) < 2 || b[0] != '"' {
		return time.Time{}, &fieldError{field: field, sentinel: ErrBadTimestamp, msg: "a timestamp must be a string, not " + truncate(b)}
	}
	var s string
	if bytes.IndexByte(b, '\\') < 0 {
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, &fieldError{field: field, sentinel: ErrBadTimestamp, msg: err.Error()}
	}
	v, err := ParseTime(s)
	if err != nil {
		return time.Time{}, &fieldError{field: field, sentinel: ErrBadTimestamp, msg: err.Error()}
	}
	return v, nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func marshalWire(v any) ([]byte, error) { return json.Marshal(v) }

// unmarshalWire decodes exactly one JSON value: unknown fields are errors and
// numbers inside untyped values stay json.Number.
func unmarshalWire(b []byte, v any) error {
	wd := getDecoder(b)
	if err := wd.dec.Decode(v); err != nil {
		return err // the decoder is not reused after an error
	}
	// What follows the value (in the decoder's buffer or still unread) must
	// be white space; then the decoder is clean for its next document.
	if !isSpace(wd.dec.Buffered()) || !isSpace(&wd.r) {
		return fmt.Errorf("data after the JSON object")
	}
	if len(b) <= maxPooledDoc {
		decoders.Put(wd)
	}
	return nil
}

// maxPooledDoc bounds the buffer a pooled decoder keeps: decoders that read
// longer documents are dropped, not pooled.
const maxPooledDoc = 16 << 10

// wireDecoder is a json.Decoder set up for the wire format, with the reader
// it reads from, kept in a pool between documents.
type wireDecoder struct {
	r   bytes.Reader
	dec *json.Decoder
}

var decoders = sync.Pool{New: func() any {
	wd := new(wireDecoder)
	wd.dec = json.NewDecoder(&wd.r)
	wd.dec.DisallowUnknownFields()
	wd.dec.UseNumber()
	return wd
}}

func getDecoder(b []byte) *wireDecoder {
	wd := decoders.Get().(*wireDecoder)
	wd.r.Reset(b)
	return wd
}

func isSpace(r io.Reader) bool {
	var buf [64]byte
	for {
		n, err := r.Read(buf[:])
		for _, c := range buf[:n] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		if err != nil {
			return true
		}
	}
}

// finishDecode completes an UnmarshalJSON: it classifies a decoding error
// and checks the document's event_type, event_id and timestamp.
func finishDecode(t *Type, doc []byte, err error, docType *string, tsSet bool, b *Base) error {
	wire := ""
	if docType != nil && byWire[*docType] == t {
		wire = *docType
	} else if len(t.WireNames) == 1 {
		wire = t.WireNames[0]
	}
	if err != nil {
		return classify(wire, err)
	}
	if err := checkKeys(t, wire, doc); err != nil {
		return err
	}
	if docType != nil && byWire[*docType] != t {
		return newDecodeError(wire, "event_type", ErrTypeMismatch, nil, fmt.Sprintf("%q is not a wire name of %s", *docType, t.Name))
	}
	if b.ID == "" {
		return newDecodeError(wire, "event_id", ErrMissingID, nil, "")
	}
	if !tsSet {
		return newDecodeError(wire, "timestamp", ErrBadTimestamp, nil, "missing")
	}
	return nil
}

// Decode reads one event in the wire format. The document's event_type (a
// wire name or an alias) selects the type. Every field of the document must
// belong to that type; event_id must be a non-empty string and timestamp a
// readable timestamp (see ParseTime). Fields the document omits take the
// reference defaults; collections it omits decode as empty. Keys match
// exactly (case matters) and appear once. Errors are *DecodeError values
// carrying one of the Err sentinels; nothing panics, whatever the input.
func Decode(data []byte) (Event, error) {
	if len(data) > MaxEventSize {
		return nil, newDecodeError("", "", ErrTooLarge, nil, fmt.Sprintf("%d bytes, limit %d", len(data), MaxEventSize))
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
	if err := ev.(json.Unmarshaler).UnmarshalJSON(data); err != nil {
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
	t, ok := byWire[wireName]
	if !ok {
		return nil, newDecodeError(wireName, "event_type", ErrUnknownType, nil, strconv.Quote(wireName))
	}
	if len(data) > MaxEventSize {
		return nil, newDecodeError(wireName, "", ErrTooLarge, nil, fmt.Sprintf("%d bytes, limit %d", len(data), MaxEventSize))
	}
	ev := t.new()
	if err := ev.(json.Unmarshaler).UnmarshalJSON(data); err != nil {
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

// checkKeys rejects what encoding/json lets through: a top-level key that
// matches a field only when case is ignored (ErrUnknownField) and a key that
// appears twice (ErrMalformed); both would silently drop a value. doc has
// already been decoded, so it is well-formed.
func checkKeys(t *Type, wire string, doc []byte) error {
	var seen uint64
	var bad *DecodeError
	topLevel(doc, func(rawKey []byte) bool {
		i, ok := t.keys[string(rawKey)]
		key := rawKey
		if !ok && bytes.IndexByte(rawKey, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(append(append([]byte{'"'}, rawKey...), '"'), &s); err == nil {
				key = []byte(s)
				i, ok = t.keys[s]
			}
		}
		switch {
		case !ok:
			bad = newDecodeError(wire, string(key), ErrUnknownField, nil, strconv.Quote(string(key)))
		case seen&(1<<i) != 0:
			bad = newDecodeError(wire, string(key), ErrMalformed, nil, "duplicate key "+strconv.Quote(string(key)))
		}
		seen |= 1 << i
		return bad == nil
	})
	if bad != nil {
		return bad
	}
	return nil
}

// topLevel calls fn with the raw (still escaped) text of every top-level key
// of the well-formed JSON object doc, until fn returns false.
func topLevel(doc []byte, fn func(key []byte) bool) {
	i := skipWS(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return
	}
	i = skipWS(doc, i+1)
	for i < len(doc) && doc[i] == '"' {
		end := skipString(doc, i)
		if end < 0 || !fn(doc[i+1:end-1]) {
			return
		}
		i = skipWS(doc, end)
		if i >= len(doc) || doc[i] != ':' {
			return
		}
		if i = skipValue(doc, skipWS(doc, i+1)); i < 0 {
			return
		}
		if i = skipWS(doc, i); i < len(doc) && doc[i] == ',' {
			i = skipWS(doc, i+1)
		}
	}
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
