package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// wireTime reads every timestamp form the reference writes and writes RFC 3339 in UTC.
type wireTime time.Time

// ParseTime reads a timestamp: RFC 3339 with or without a zone, or the
// reference's ISO form without zone and with optional fractional seconds
// (read as UTC). The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 or ISO 8601 timestamp", s)
}

// FormatTime writes t in RFC 3339 in UTC with as many fractional digits as needed.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (t wireTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return &timeError{value: "null"}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &timeError{value: string(b)}
	}
	v, err := ParseTime(s)
	if err != nil {
		return &timeError{value: s}
	}
	*t = wireTime(v)
	return nil
}

type timeError struct{ value string }

func (e *timeError) Error() string {
	return fmt.Sprintf("%s is not an RFC 3339 or ISO 8601 timestamp", e.value)
}

func marshalWire(v any) ([]byte, error) { return json.Marshal(v) }

func unmarshalWire(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	d.UseNumber()
	return d.Decode(v)
}
