package event

import (
	"github.com/wtbdev/wtb/internal/jsonw"

	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// encoder appends the wire format of an event to b, byte for byte as
// encoding/json writes it (HTML-safe string escapes, its float format,
// sorted map keys). The first error stops the output.
type encoder struct {
	b   []byte
	err error
}

func (w *encoder) end() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	return append(w.b, '}'), nil
}

func (w *encoder) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *encoder) raw(s string) { w.b = append(w.b, s...) }

func (w *encoder) str(s string) { w.b = jsonw.AppendString(w.b, s) }

func (w *encoder) optStr(p *string) {
	if p == nil {
		w.raw("null")
		return
	}
	w.str(*p)
}

func (w *encoder) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

func (w *encoder) optInt(p *int64) {
	if p == nil {
		w.raw("null")
		return
	}
	w.int(*p)
}

func (w *encoder) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// float writes f as encoding/json does (ES6 number format); NaN and the
// infinities are errors.
func (w *encoder) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64)))
		w.raw("null")
		return
	}
	w.b = jsonw.AppendFloat(w.b, f)
}

func (w *encoder) time(t time.Time) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		w.fail(fmt.Errorf("%w: year %d outside 0 to 9999", ErrBadTimestamp, y))
		w.raw("null")
		return
	}
	w.b = append(w.b, '"')
	w.b = u.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

func (w *encoder) optTime(p *time.Time) {
	if p == nil {
		w.raw("null")
		return
	}
	w.time(*p)
}

// strings writes a list of strings; a nil list is [] when empty is set
// (Strings), null otherwise.
func (w *encoder) strings(s []string, empty bool) {
	if s == nil && !empty {
		w.raw("null")
		return
	}
	w.b = append(w.b, '[')
	for i, v := range s {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(v)
	}
	w.b = append(w.b, ']')
}

// anyMap writes an object of any values; a nil map is {} when empty is set
// (Map), null otherwise.
func (w *encoder) anyMap(m map[string]any, empty bool) { writeMap(w, m, empty, (*encoder).any) }

// orderedMap writes m with its keys in order when order lists exactly its
// keys (the order of the document it was decoded from), else as anyMap.
func (w *encoder) orderedMap(m map[string]any, order []string, empty bool) {
	if !keyOrderValid(m, order) {
		w.anyMap(m, empty)
		return
	}
	w.b = append(w.b, '{')
	for i, k := range order {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.any(m[k])
	}
	w.b = append(w.b, '}')
}

// floatMap writes an object of numbers; a nil map is {} when empty is set
// (FloatMap), null otherwise.
func (w *encoder) floatMap(m map[string]float64, empty bool) { writeMap(w, m, empty, (*encoder).float) }

// stringMap writes a StringMap: {} when nil.
func (w *encoder) stringMap(m map[string]string) { writeMap(w, m, true, (*encoder).str) }

// writeMap writes m as an object with its keys sorted, as encoding/json
// does, each value written by value; a nil map is {} when empty is set,
// null otherwise.
func writeMap[V any](w *encoder, m map[string]V, empty bool, value func(*encoder, V)) {
	if m == nil {
		if empty {
			w.raw("{}")
		} else {
			w.raw("null")
		}
		return
	}
	var small [8]string // most maps of events are small: sort their keys on the stack
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		value(w, m[k])
	}
	w.b = append(w.b, '}')
}

// list writes a List: [] when nil.
func (w *encoder) list(l []any) {
	w.b = append(w.b, '[')
	for i, v := range l {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.any(v)
	}
	w.b = append(w.b, ']')
}

// any writes an untyped value: the JSON values decoding yields directly,
// anything else through encoding/json.
func (w *encoder) any(v any) {
	switch v := v.(type) {
	case nil:
		w.raw("null")
	case string:
		w.str(v)
	case bool:
		w.bool(v)
	case json.Number:
		s := string(v)
		if s == "" {
			s = "0"
		}
		if !isValidNumber(s) {
			w.fail(fmt.Errorf("json: invalid number literal %q", s))
			return
		}
		w.raw(s)
	case float64:
		w.float(v)
	case map[string]any:
		w.anyMap(v, false)
	case []any:
		if v == nil {
			w.raw("null")
			return
		}
		w.list(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			w.fail(err)
			return
		}
		w.b = append(w.b, b...)
	}
}

// isValidNumber reports whether s is a JSON number literal.
func isValidNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
