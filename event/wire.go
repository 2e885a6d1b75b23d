package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of objects and arrays a document may
// have (the top-level object is depth 1), as in encoding/json.
const maxDepth = 10000

// pending is an error found while decoding whose wire name is known only
// once the whole document has been read.
type pending struct {
	field    string
	sentinel error
	msg      string
}

// decoder reads one event document in a single pass. It validates the JSON
// syntax of the whole first value and applies the rules of the wire format
// with encoding/json's precedence: a syntax error wins over everything; an
// error of a timestamp or LangGraph kind stops the decoding (the rest is
// only validated); otherwise the first wrong-typed value or unknown field is
// reported, then data after the object, then the first key that is not an
// exact field name or that repeats. Decoded strings are slices of one copy
// of the document, so an event keeps at most its document's bytes alive.
type decoder struct {
	t     *Type
	data  []byte
	src   string // a copy of data: decoded strings share it
	pos   int
	depth int

	syntax string       // first syntax error, "" when none
	abort  *DecodeError // a field decoder's error that stopped the decoding
	saved  *pending     // first wrong-typed value or unknown field
	keyErr *pending     // first key that is not exact or repeats
	seen   uint64       // the field indexes seen

	key        string // the current key, unquoted
	keys       int    // top-level keys read
	docType    string // the document's event_type so far
	hasDocType bool
	tsSet      bool
	topObject  bool // the first value is an object
}

// begin starts decoding the document b into an event of type t. It reports
// whether the first value is an object whose fields the caller must read
// with next.
func (d *decoder) begin(t *Type, b []byte) bool {
	d.t = t
	d.data = b
	d.src = string(b)
	d.pos = 0
	d.ws()
	if d.pos >= len(d.data) {
		d.fail("unexpected end of JSON input")
		return false
	}
	if d.data[d.pos] == '{' {
		d.pos++
		d.depth = 1
		d.topObject = true
		return true
	}
	// Not an object: encoding/json reports the JSON type it found (null
	// decodes to nothing), after checking the syntax of the value.
	c := d.data[d.pos]
	d.skip()
	if d.syntax == "" && c != 'n' {
		d.typeError("", jsonKind(c), "event."+t.Name)
	}
	return false
}

// next reads up to the next field whose value the caller must decode (the
// key in d.key, d.data[d.pos] at the value) and reports whether there is
// one. Values after an aborting error are only validated.
func (d *decoder) next() bool {
	for d.syntax == "" {
		d.ws()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON input")
			return false
		}
		c := d.data[d.pos]
		if d.keys > 0 {
			// After a value: a comma or the end of the object.
			switch c {
			case '}':
				d.pos++
				d.depth--
				return false
			case ',':
				d.pos++
				d.ws()
				if d.pos >= len(d.data) {
					d.fail("unexpected end of JSON input")
					return false
				}
				c = d.data[d.pos]
				if c != '"' {
					d.fail("invalid character " + quoteChar(c) + " looking for beginning of object key string")
					return false
				}
			default:
				d.fail("invalid character " + quoteChar(c) + " after object key:value pair")
				return false
			}
		} else {
			switch c {
			case '}':
				d.pos++
				d.depth--
				return false
			case '"':
			default:
				d.fail("invalid character " + quoteChar(c) + " looking for beginning of object key string")
				return false
			}
		}
		key, ok := d.str()
		if !ok {
			return false
		}
		d.key = key
		d.keys++
		d.ws()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON input")
			return false
		}
		if d.data[d.pos] != ':' {
			d.fail("invalid character " + quoteChar(d.data[d.pos]) + " after object key")
			return false
		}
		d.pos++
		d.ws()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON input")
			return false
		}
		if d.abort != nil {
			d.skip()
			continue
		}
		return true
	}
	return false
}

// mark records that the key at hand named field i (its exact name).
func (d *decoder) mark(i int) {
	if d.seen&(1<<i) != 0 && d.keyErr == nil {
		d.keyErr = &pending{field: d.key, sentinel: ErrMalformed, msg: "duplicate key " + strconv.Quote(d.key)}
	}
	d.seen |= 1 << i
}

// unknown handles a key that names no field exactly. A key equal to a
// field's name when case is ignored is decoded into that field (whose name
// unknown returns) and reported as unknown once the document has been read;
// any other key is reported as unknown and its value skipped.
func (d *decoder) unknown() string {
	if d.keyErr == nil {
		d.keyErr = &pending{field: d.key, sentinel: ErrUnknownField, msg: strconv.Quote(d.key)}
	}
	if strings.EqualFold(d.key, "event_type") {
		return "event_type"
	}
	for _, f := range d.t.fields {
		if strings.EqualFold(d.key, f) {
			return f
		}
	}
	d.save(d.key, ErrUnknownField, strconv.Quote(d.key))
	d.skip()
	return ""
}

// finish returns the error of the document, if any, in encoding/json's
// precedence, then checks what follows the object, the keys, event_type,
// the event_id (id) and the timestamp.
func (d *decoder) finish(id string) error {
	if d.syntax == "" && d.topObject && d.depth != 0 {
		d.fail("unexpected end of JSON input")
	}
	if d.syntax != "" {
		return newDecodeError(d.wireFor(false), "", ErrMalformed, nil, d.syntax)
	}
	if d.abort != nil {
		return d.abort
	}
	wire := d.wireFor(true)
	if d.saved != nil {
		return newDecodeError(wire, d.saved.field, d.saved.sentinel, nil, d.saved.msg)
	}
	d.ws()
	if d.pos < len(d.data) {
		return newDecodeError(wire, "", ErrMalformed, nil, "data after the JSON object")
	}
	if d.keyErr != nil {
		return newDecodeError(wire, d.keyErr.field, d.keyErr.sentinel, nil, d.keyErr.msg)
	}
	if d.hasDocType && byWire[d.docType] != d.t {
		return newDecodeError(wire, "event_type", ErrTypeMismatch, nil, strconv.Quote(d.docType)+" is not a wire name of "+d.t.Name)
	}
	if id == "" {
		return newDecodeError(wire, "event_id", ErrMissingID, nil, "")
	}
	if !d.tsSet {
		return newDecodeError(wire, "timestamp", ErrBadTimestamp, nil, "missing")
	}
	return nil
}

// wireFor returns the wire name errors carry: the document's event_type
// when it names the type, else the type's only wire name.
func (d *decoder) wireFor(useDoc bool) string {
	if useDoc && d.hasDocType && byWire[d.docType] == d.t {
		return d.docType
	}
	if len(d.t.WireNames) == 1 {
		return d.t.WireNames[0]
	}
	return ""
}

func (d *decoder) fail(msg string) {
	if d.syntax == "" {
		d.syntax = msg
		if d.pos < len(d.data) {
			d.syntax += " at offset " + strconv.Itoa(d.pos)
		}
	}
	d.pos = len(d.data)
}

func (d *decoder) save(field string, sentinel error, msg string) {
	if d.saved == nil {
		d.saved = &pending{field: field, sentinel: sentinel, msg: msg}
	}
}

func (d *decoder) typeError(field, value, goType string) {
	if d.saved == nil {
		d.saved = &pending{field: field, sentinel: ErrFieldType, msg: "cannot read JSON " + value + " as " + goType}
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *decoder) ws() {
	if d.pos < len(d.data) && d.data[d.pos] > ' ' {
		return
	}
	for d.pos < len(d.data) && isWS(d.data[d.pos]) {
		d.pos++
	}
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// jsonKind names the JSON type of the value starting with c, as encoding/json
// does in its type errors.
func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// str reads the string at d.pos and returns it unquoted. Plain strings (no
// escapes, valid UTF-8) are slices of d.src; others are unquoted as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func (d *decoder) str() (string, bool) {
	start := d.pos
	i := start + 1
	data := d.data
	for i < len(data) && plainByte[data[i]] {
		i++
	}
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		return d.src[start+1 : i], true
	}
	return d.strSlow(start, i)
}

// plainByte marks the bytes a string may hold as they are: printable ASCII
// other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strSlow continues str at d.data[i], the first byte that is not plain.
func (d *decoder) strSlow(start, i int) (string, bool) {
	plain := true
	for {
		if i >= len(d.data) {
			d.pos = i
			d.fail("unexpected end of JSON input")
			return "", false
		}
		c := d.data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			i++
			if i >= len(d.data) {
				d.pos = i
				d.fail("unexpected end of JSON input")
				return "", false
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(d.data) {
						d.pos = i
						d.fail("unexpected end of JSON input")
						return "", false
					}
					if !isHex(d.data[i]) {
						d.pos = i
						d.fail("invalid character " + quoteChar(d.data[i]) + " in \\u hexadecimal character escape")
						return "", false
					}
					i++
				}
			default:
				d.pos = i
				d.fail("invalid character " + quoteChar(d.data[i]) + " in string escape code")
				return "", false
			}
			continue
		}
		if c < 0x20 {
			d.pos = i
			d.fail("invalid character " + quoteChar(c) + " in string literal")
			return "", false
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
		i++
	}
	d.pos = i + 1
	body := d.src[start+1 : i]
	if plain || utf8.ValidString(body) && strings.IndexByte(body, '\\') < 0 {
		return body, true
	}
	var s string
	if err := json.Unmarshal(d.data[start:i+1], &s); err != nil {
		d.fail(err.Error())
		return "", false
	}
	return s, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads the number at d.pos and returns its text.
func (d *decoder) number() (string, bool) {
	b := d.data
	start := d.pos
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		d.pos = i
		d.fail("unexpected end of JSON input")
		return "", false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		d.fail("invalid character " + quoteChar(b[i]) + " in numeric literal")
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			d.pos = i
			d.fail("unexpected end of JSON input")
			return "", false
		}
		if b[i] < '0' || b[i] > '9' {
			d.pos = i
			d.fail("invalid character " + quoteChar(b[i]) + " after decimal point in numeric literal")
			return "", false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			d.pos = i
			d.fail("unexpected end of JSON input")
			return "", false
		}
		if b[i] < '0' || b[i] > '9' {
			d.pos = i
			d.fail("invalid character " + quoteChar(b[i]) + " in exponent of numeric literal")
			return "", false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return d.src[start:i], true
}

// literal reads true, false or null at d.pos.
func (d *decoder) literal() bool {
	var want string
	switch d.data[d.pos] {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	default:
		want = "null"
	}
	for k := 0; k < len(want); k++ {
		i := d.pos + k
		if i >= len(d.data) {
			d.pos = i
			d.fail("unexpected end of JSON input")
			return false
		}
		if d.data[i] != want[k] {
			d.pos = i
			d.fail("invalid character " + quoteChar(d.data[i]) + " in literal " + want + " (expecting " + quoteChar(want[k]) + ")")
			return false
		}
	}
	d.pos += len(want)
	return true
}

// skip validates and passes over the value at d.pos.
func (d *decoder) skip() {
	if d.pos >= len(d.data) {
		d.fail("unexpected end of JSON input")
		return
	}
	switch c := d.data[d.pos]; c {
	case '"':
		d.str()
	case '{':
		d.container('}', func() { d.skip() })
	case '[':
		d.container(']', func() { d.skip() })
	case 't', 'f', 'n':
		d.literal()
	default:
		if c == '-' || '0' <= c && c <= '9' {
			d.number()
			return
		}
		d.fail("invalid character " + quoteChar(c) + " looking for beginning of value")
	}
}

// container reads the object or array at d.pos (closed by end), calling
// elem with d.pos at each value; for objects d.key holds the element's key.
func (d *decoder) container(end byte, elem func()) {
	d.depth++
	if d.depth > maxDepth {
		d.fail("exceeded max depth")
		return
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == end {
		d.pos++
		d.depth--
		return
	}
	for {
		if end == '}' {
			if d.pos >= len(d.data) {
				d.fail("unexpected end of JSON input")
				return
			}
			if d.data[d.pos] != '"' {
				d.fail("invalid character " + quoteChar(d.data[d.pos]) + " looking for beginning of object key string")
				return
			}
			k, ok := d.str()
			if !ok {
				return
			}
			d.key = k
			d.ws()
			if d.pos >= len(d.data) {
				d.fail("unexpected end of JSON input")
				return
			}
			if d.data[d.pos] != ':' {
				d.fail("invalid character " + quoteChar(d.data[d.pos]) + " after object key")
				return
			}
			d.pos++
			d.ws()
		}
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON input")
			return
		}
		elem()
		if d.syntax != "" {
			return
		}
		d.ws()
		if d.pos >= len(d.data) {
			d.fail("unexpected end of JSON input")
			return
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
		case end:
			d.pos++
			d.depth--
			return
		default:
			if end == '}' {
				d.fail("invalid character " + quoteChar(d.data[d.pos]) + " after object key:value pair")
			} else {
				d.fail("invalid character " + quoteChar(d.data[d.pos]) + " after array element")
			}
			return
		}
	}
}

// wrong records a type error for the value at d.pos (field of Go type
// goType) and skips the value.
func (d *decoder) wrong(field, goType string) {
	if d.pos < len(d.data) {
		d.typeError(field, jsonKind(d.data[d.pos]), goType)
	}
	d.skip()
}

// ---- field decoders: each reads the value at d.pos into its field.

func (d *decoder) fString(p *string, field string) {
	switch d.data[d.pos] {
	case '"':
		if s, ok := d.str(); ok {
			*p = s
		}
	case 'n':
		d.literal()
	default:
		d.wrong(field, "string")
	}
}

func (d *decoder) fOptString(p **string, field string) {
	switch d.data[d.pos] {
	case '"':
		if s, ok := d.str(); ok {
			*p = &s
		}
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, "string")
	}
}

func (d *decoder) fInt(p *int64, field string) {
	c := d.data[d.pos]
	switch {
	case c == '-' || '0' <= c && c <= '9':
		s, ok := d.number()
		if !ok {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			d.typeError(field, "number "+s, "int64")
			return
		}
		*p = n
	case c == 'n':
		d.literal()
	default:
		d.wrong(field, "int64")
	}
}

func (d *decoder) fOptInt(p **int64, field string) {
	switch c := d.data[d.pos]; {
	case c == 'n':
		if d.literal() {
			*p = nil
		}
	case c == '-' || '0' <= c && c <= '9':
		var n int64
		d.fInt(&n, field)
		*p = &n
	default:
		d.wrong(field, "int64")
	}
}

func (d *decoder) fFloat(p *float64, field, goType string) {
	c := d.data[d.pos]
	switch {
	case c == '-' || '0' <= c && c <= '9':
		s, ok := d.number()
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d.typeError(field, "number "+s, goType)
			return
		}
		*p = f
	case c == 'n':
		d.literal()
	default:
		d.wrong(field, goType)
	}
}

func (d *decoder) fBool(p *bool, field string) {
	switch d.data[d.pos] {
	case 't', 'f':
		c := d.data[d.pos]
		if d.literal() {
			*p = c == 't'
		}
	case 'n':
		d.literal()
	default:
		d.wrong(field, "bool")
	}
}

// strings reads a list of strings (Strings or []string); null elements
// read as "".
func (d *decoder) fStrings(p *[]string, field, goType string) {
	switch d.data[d.pos] {
	case '[':
		s := make([]string, 0, 4)
		d.container(']', func() {
			var v string
			d.fString(&v, field)
			s = append(s, v)
		})
		*p = s
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, goType)
	}
}

// anyMap reads a JSON object of any values (Map or map[string]any).
func (d *decoder) fAnyMap(p *map[string]any, field, goType string) {
	switch d.data[d.pos] {
	case '{':
		*p = d.object()
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, goType)
	}
}

// fOrderedMap reads a JSON object of any values as fAnyMap does and sets
// *order to its keys in the order of the document (a repeated key keeps
// its first place, as in a Python dict), or nil when they are sorted.
func (d *decoder) fOrderedMap(p *map[string]any, order *[]string, field, goType string) {
	*order = nil
	if d.data[d.pos] != '{' {
		d.fAnyMap(p, field, goType)
		return
	}
	m := make(map[string]any)
	var keys []string
	sorted := true
	d.container('}', func() {
		k := d.key
		if _, dup := m[k]; !dup {
			if len(keys) > 0 && k < keys[len(keys)-1] {
				sorted = false
			}
			keys = append(keys, k)
		}
		m[k] = d.value()
	})
	*p = m
	if !sorted {
		*order = keys
	}
}

// keyOrderValid reports whether order lists exactly the keys of m.
func keyOrderValid(m map[string]any, order []string) bool {
	if order == nil || len(order) != len(m) {
		return false
	}
	for _, k := range order {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// list reads a JSON array of any values (List).
func (d *decoder) fList(p *[]any, field string) {
	switch d.data[d.pos] {
	case '[':
		*p = d.array()
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, "event.List")
	}
}

func (d *decoder) fFloatMap(p *map[string]float64, field, goType string) {
	switch d.data[d.pos] {
	case '{':
		m := make(map[string]float64)
		d.container('}', func() {
			k := d.key
			var f float64
			d.fFloat(&f, field, "float64")
			m[k] = f
		})
		*p = m
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, goType)
	}
}

func (d *decoder) fStringMap(p *map[string]string, field, goType string) {
	switch d.data[d.pos] {
	case '{':
		m := make(map[string]string)
		d.container('}', func() {
			k := d.key
			var s string
			d.fString(&s, field)
			m[k] = s
		})
		*p = m
	case 'n':
		if d.literal() {
			*p = nil
		}
	default:
		d.wrong(field, goType)
	}
}

// value reads any JSON value as encoding/json does into an any with
// UseNumber: objects as map[string]any, arrays as []any, numbers as
// json.Number.
func (d *decoder) value() any {
	switch c := d.data[d.pos]; c {
	case '"':
		s, _ := d.str()
		return s
	case '{':
		return d.object()
	case '[':
		return d.array()
	case 't', 'f':
		if d.literal() {
			return c == 't'
		}
		return nil
	case 'n':
		d.literal()
		return nil
	default:
		if c == '-' || '0' <= c && c <= '9' {
			s, _ := d.number()
			return json.Number(s)
		}
		d.fail("invalid character " + quoteChar(c) + " looking for beginning of value")
		return nil
	}
}

func (d *decoder) object() map[string]any {
	m := make(map[string]any)
	d.container('}', func() {
		k := d.key
		m[k] = d.value()
	})
	return m
}

func (d *decoder) array() []any {
	a := make([]any, 0)
	d.container(']', func() { a = append(a, d.value()) })
	return a
}

func (d *decoder) fAny(p *any) { *p = d.value() }

// eventType reads the document's event_type (types other than
// LangGraphAudit).
func (d *decoder) fEventType() {
	switch d.data[d.pos] {
	case '"':
		if s, ok := d.str(); ok {
			d.docType, d.hasDocType = s, true
		}
	case 'n':
		if d.literal() {
			d.docType, d.hasDocType = "", false
		}
	default:
		// encoding/json allocates the string before it finds the type wrong.
		d.docType, d.hasDocType = "", true
		d.wrong("event_type", "string")
	}
}

// kind reads LangGraphAudit's event_type, its kind.
func (d *decoder) fKind(p *LangGraphKind) {
	switch d.data[d.pos] {
	case '"':
		s, ok := d.str()
		if !ok {
			return
		}
		if !LangGraphKind(s).Valid() {
			d.abortWith(s, "event_type", ErrUnknownType, strconv.Quote(s)+" is not a LangGraph audit event kind")
			return
		}
		*p = LangGraphKind(s)
	case 'n':
		if d.literal() {
			*p = ""
		}
	default:
		d.skip()
		d.abortWith("", "event_type", ErrFieldType, "event_type must be a string")
	}
	d.docType, d.hasDocType = string(*p), *p != ""
}

// abortWith stops the decoding with an error (the rest of the document is
// only validated). wire, when set, replaces the document's wire name.
func (d *decoder) abortWith(wire, field string, sentinel error, msg string) {
	if d.abort != nil || d.syntax != "" {
		return
	}
	if wire == "" {
		wire = d.wireFor(true)
	}
	d.abort = newDecodeError(wire, field, sentinel, nil, msg)
}

// rawTime reads a timestamp value; ok is false after an error.
func (d *decoder) rawTime(field string) (time.Time, bool) {
	start := d.pos
	if d.data[d.pos] != '"' {
		d.skip()
		if d.syntax != "" {
			return time.Time{}, false
		}
		d.abortWith("", field, ErrBadTimestamp, "a timestamp must be a string, not "+truncate(d.data[start:d.pos]))
		return time.Time{}, false
	}
	s, ok := d.str()
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	if err != nil {
		d.abortWith("", field, ErrBadTimestamp, err.Error())
		return time.Time{}, false
	}
	return t, true
}

func (d *decoder) fTime(p *time.Time) {
	if t, ok := d.rawTime("timestamp"); ok {
		*p, d.tsSet = t, true
	}
}

func (d *decoder) fOptTime(p **time.Time, field string) {
	if d.data[d.pos] == 'n' {
		if d.literal() {
			*p = nil
		}
		return
	}
	if t, ok := d.rawTime(field); ok {
		*p = &t
	}
}
