package event

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
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

func (w *encoder) str(s string) { w.b = appendString(w.b, s) }

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
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	w.b = b
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
func (w *encoder) anyMap(m map[string]any, empty bool) {
	if m == nil {
		if empty {
			w.raw("{}")
		} else {
			w.raw("null")
		}
		return
	}
	w.b = append(w.b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.any(m[k])
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

func (w *encoder) floatMap(m map[string]float64, empty bool) {
	if m == nil {
		if empty {
			w.raw("{}")
		} else {
			w.raw("null")
		}
		return
	}
	w.b = append(w.b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.float(m[k])
	}
	w.b = append(w.b, '}')
}

func (w *encoder) stringMap(m map[string]string) {
	w.b = append(w.b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.str(m[k])
	}
	w.b = append(w.b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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

const hexDigits = "0123456789abcdef"

// safeByte marks the ASCII bytes a string is written with as they are:
// printable, not the quote, the backslash or one of <, > and &.
var safeByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString writes s quoted as encoding/json does with HTML escaping:
// invalid UTF-8 becomes \ufffd; U+2028 and U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safeByte[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
