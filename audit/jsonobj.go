package audit

import (
	"github.com/wtbdev/wtb/internal/jsonw"

	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// object builds a JSON object with keys in insertion order by appending to a
// byte slice. Keys are written as given: callers pass plain ASCII literals.
type object struct {
	b []byte
	n int
}

func newObject(capacity int) object {
	b := make([]byte, 1, capacity)
	b[0] = '{'
	return object{b: b}
}

func (o *object) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *object) str(k, v string) {
	o.key(k)
	o.b = jsonw.AppendString(o.b, v)
}

// strOrNull writes null for an empty string.
func (o *object) strOrNull(k, v string) {
	if v == "" {
		o.null(k)
		return
	}
	o.str(k, v)
}

func (o *object) strPtr(k string, v *string) {
	if v == nil {
		o.null(k)
		return
	}
	o.str(k, *v)
}

func (o *object) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *object) intPtr(k string, v *int64) {
	if v == nil {
		o.null(k)
		return
	}
	o.int(k, *v)
}

func (o *object) float(k string, v float64) {
	o.key(k)
	o.b = appendJSONFloat(o.b, v)
}

func (o *object) floatPtr(k string, v *float64) {
	if v == nil {
		o.null(k)
		return
	}
	o.float(k, *v)
}

func (o *object) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *object) null(k string) {
	o.key(k)
	o.b = append(o.b, "null"...)
}

func (o *object) time(k string, t time.Time) {
	o.key(k)
	o.b = appendJSONTime(o.b, t)
}

func (o *object) timePtr(k string, t *time.Time) {
	if t == nil {
		o.null(k)
		return
	}
	o.time(k, *t)
}

// strs writes a list of strings; at most max of them when max >= 0.
func (o *object) strs(k string, v []string, max int) {
	o.key(k)
	if v == nil {
		v = []string{}
	}
	if max >= 0 && len(v) > max {
		v = v[:max]
	}
	o.b = append(o.b, '[')
	for i, s := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = jsonw.AppendString(o.b, s)
	}
	o.b = append(o.b, ']')
}

// any writes v with encoding/json; a value it cannot encode is written as null.
func (o *object) any(k string, v any) {
	o.key(k)
	if r, ok := v.(json.RawMessage); ok {
		if len(r) == 0 {
			o.b = append(o.b, "null"...)
		} else {
			o.b = append(o.b, r...)
		}
		return
	}
	// The values of event maps (metadata, states, span attributes) are
	// mostly plain JSON values: written directly, byte for byte as
	// encoding/json writes them; anything else goes through it.
	if b, ok := appendPlain(o.b, v, 0); ok {
		o.b = b
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, b...)
}

// done closes the object and returns it, capped so that appending to it
// never writes into the bytes that follow it in the buffer.
func (o *object) done() json.RawMessage {
	o.b = append(o.b, '}')
	return o.b[:len(o.b):len(o.b)]
}

// message returns the free room of the buffer after the object, for
// building the entry's message in the same allocation (see bytesString).
// Call it after done.
func (o *object) message() []byte { return o.b[len(o.b):] }

// appendJSONFloat appends f the way encoding/json writes a float64; NaN and
// infinities, which JSON cannot hold, are written as null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return jsonw.AppendFloat(b, f)
}

// appendJSONTime appends t as a JSON string in RFC 3339 UTC.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// list writes a list of any values: strings, numbers and booleans directly,
// anything else with encoding/json.
func (o *object) list(k string, v []any) {
	o.key(k)
	o.b = append(o.b, '[')
	for i, x := range v {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendAny(o.b, x)
	}
	o.b = append(o.b, ']')
}

func appendAny(b []byte, x any) []byte {
	switch x := x.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsonw.AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return appendJSONFloat(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case json.Number:
		if x == "" || !json.Valid([]byte(x)) {
			return append(b, "null"...)
		}
		return append(b, x...)
	}
	m, err := json.Marshal(x)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, m...)
}

// maxPlainDepth bounds the nesting appendPlain writes itself; deeper
// values go through encoding/json.
const maxPlainDepth = 32

// appendPlain appends v exactly as json.Marshal(v) writes it when v is a
// plain JSON value: nil, a string, a bool, a finite float64, an int or
// int64, a valid non-empty json.Number, or a map[string]any or []any of
// such values. Otherwise it reports false, and what it appended past
// len(b) is to be ignored: the caller uses encoding/json, which also
// decides what a value it cannot encode becomes.
func appendPlain(b []byte, v any, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return jsonw.AppendString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return b, false // an error of encoding/json
		}
		return jsonw.AppendFloat(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case json.Number:
		if x == "" || numberEnd([]byte(x), 0) != len(x) {
			return b, false // "0", or an error of encoding/json
		}
		return append(b, x...), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		if depth >= maxPlainDepth {
			return b, false
		}
		var small [8]string
		keys := small[:0]
		for key := range x {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, key := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, key)
			b = append(b, ':')
			var ok bool
			if b, ok = appendPlain(b, x[key], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		if depth >= maxPlainDepth {
			return b, false
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendPlain(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	return b, false
}

// stringMap writes a map of strings with its keys sorted.
func (o *object) stringMap(k string, m map[string]string) {
	o.key(k)
	o.b = appendSortedMap(o.b, m, jsonw.AppendString)
}

// floatMap writes a map of numbers with its keys sorted.
func (o *object) floatMap(k string, m map[string]float64) {
	o.key(k)
	o.b = appendSortedMap(o.b, m, appendJSONFloat)
}

// appendSortedMap appends m as a JSON object with its keys sorted, as
// encoding/json writes maps, each value written by value.
func appendSortedMap[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	var small [8]string
	keys := small[:0]
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, key := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, key)
		b = append(b, ':')
		b = value(b, m[key])
	}
	return append(b, '}')
}
