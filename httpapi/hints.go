package httpapi

import (
	"bytes"
	"encoding/json"
)

// Hints added to decode errors for mistakes newcomers make.
const (
	hintNDJSON = "the body holds several JSON documents one after the other: send them as " +
		MediaNDJSON + " (one event per line), or as one JSON array"
	hintNonFinite = " is not JSON (Python's json.dumps writes it unless allow_nan=False): " +
		"send null, or the value as a string"
)

// severalValues reports whether b holds more than one JSON value one after
// the other (NDJSON sent as application/json).
func severalValues(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if err := dec.Decode(&first); err != nil {
		return false
	}
	rest := bytes.TrimSpace(b[dec.InputOffset():])
	return len(rest) > 0 && (rest[0] == '{' || rest[0] == '[')
}

// nonFinite returns the first NaN, Infinity or -Infinity that stands as a
// value outside the strings of b, or "".
func nonFinite(b []byte) string {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case 'N':
			if bytes.HasPrefix(b[i:], []byte("NaN")) {
				return "NaN"
			}
		case 'I':
			if bytes.HasPrefix(b[i:], []byte("Infinity")) {
				if i > 0 && b[i-1] == '-' {
					return "-Infinity"
				}
				return "Infinity"
			}
		}
	}
	return ""
}

// decodeHint returns a hint for a malformed document, or "".
func decodeHint(d *doc) string {
	if tok := nonFinite(d.raw); tok != "" {
		return tok + hintNonFinite
	}
	if !d.ce && d.line == 0 && severalValues(d.raw) {
		return hintNDJSON
	}
	return ""
}
