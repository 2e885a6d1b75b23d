package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The encoding/json decoder that the generated one replaced, kept as the
// reference the tests compare it with (refUnmarshal in
// events_ref_gen_test.go).

// refDecode is Decode over refUnmarshal.
func refDecode(data []byte) (Event, error) {
	return decodeWith(data, func(ev Event, b []byte) error {
		return ev.(interface{ refUnmarshal([]byte) error }).refUnmarshal(b)
	})
}

// refDecodeAs is DecodeAs over refUnmarshal.
func refDecodeAs(wireName string, data []byte) (Event, error) {
	return decodeAsWith(wireName, data, func(ev Event, b []byte) error {
		return ev.(interface{ refUnmarshal([]byte) error }).refUnmarshal(b)
	})
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

func marshalWire(v any) ([]byte, error) { return json.Marshal(v) }

// refKeyOrder returns the keys of the top-level field's object value in
// document order (a repeated key keeps its first place), or nil when they
// are sorted or the value is not an object: what the fast decoder keeps of
// an ordered Map field, found with encoding/json's tokenizer.
func refKeyOrder(doc []byte, field string) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil {
		return nil
	}
	raw, ok := top[field]
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		k := tok.(string)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	if slices.IsSorted(keys) {
		return nil
	}
	return keys
}
