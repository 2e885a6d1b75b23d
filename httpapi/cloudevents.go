package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/wtbdev/wtb/event"
)

// CloudEventTypePrefix prefixes the wire name in a CloudEvent's type.
const CloudEventTypePrefix = "wtb."

// cloudEvent is a CloudEvents 1.0 event in structured JSON mode. Extension
// attributes are accepted and ignored.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	ID              string          `json:"id"`
	Time            string          `json:"time"`
	Subject         string          `json:"subject"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      *string         `json:"data_base64"`
}

// cloudEventDoc turns a CloudEvent into the wire name and event document:
// type is "wtb." + the wire name, id the event_id, time the timestamp,
// subject the execution id and data the event's fields. An attribute that
// contradicts a field of data is an error.
func cloudEventDoc(raw []byte) (string, []byte, *apiError) {
	var ce cloudEvent
	if err := json.Unmarshal(raw, &ce); err != nil {
		return "", nil, newError(http.StatusBadRequest, CodeMalformedJSON, "CloudEvent: "+err.Error())
	}
	return ce.doc()
}

// binaryCloudEvent reads a CloudEvent in binary mode: its attributes in
// ce-* headers, its data the body (JSON). ok is false when the request
// is not one (it has no ce-specversion header).
func binaryCloudEvent(h http.Header, media string, body []byte) (ce cloudEvent, ok bool) {
	ce.SpecVersion = h.Get("Ce-Specversion")
	if ce.SpecVersion == "" {
		return ce, false
	}
	ce.Type = h.Get("Ce-Type")
	ce.Source = h.Get("Ce-Source")
	ce.ID = h.Get("Ce-Id")
	ce.Time = h.Get("Ce-Time")
	ce.Subject = h.Get("Ce-Subject")
	ce.DataContentType = media
	ce.Data = body
	return ce, true
}

// doc turns a CloudEvent into the wire name and event document (see
// cloudEventDoc).
func (ce *cloudEvent) doc() (string, []byte, *apiError) {
	invalid := func(msg string) *apiError {
		return newError(http.StatusUnprocessableEntity, CodeInvalidEvent, "CloudEvent: "+msg)
	}
	switch {
	case ce.SpecVersion != "1.0":
		return "", nil, invalid(`specversion must be "1.0"`)
	case ce.ID == "":
		return "", nil, invalid("id is required")
	case ce.Source == "":
		return "", nil, invalid("source is required")
	case ce.DataBase64 != nil:
		return "", nil, invalid("data_base64 is not supported: send data as JSON")
	}
	if ct := ce.DataContentType; ct != "" && ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		return "", nil, invalid("datacontenttype must be application/json")
	}
	wire, ok := strings.CutPrefix(ce.Type, CloudEventTypePrefix)
	if !ok || wire == "" {
		return "", nil, newError(http.StatusUnprocessableEntity, CodeUnknownEventType,
			"CloudEvent: type "+quoteString(ce.Type)+" must be \"wtb.\" followed by an event type")
	}
	if _, ok := event.Lookup(wire); !ok {
		return "", nil, newError(http.StatusUnprocessableEntity, CodeUnknownEventType,
			"CloudEvent: type "+quoteString(ce.Type)+": unknown event type")
	}
	fields := map[string]json.RawMessage{}
	if d := bytes.TrimSpace(ce.Data); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if d[0] != '{' {
			return "", nil, invalid("data must be a JSON object")
		}
		if err := json.Unmarshal(d, &fields); err != nil {
			return "", nil, newError(http.StatusBadRequest, CodeMalformedJSON, "CloudEvent data: "+err.Error())
		}
	}
	if err := setAttr(fields, "event_id", ce.ID, "id"); err != nil {
		return "", nil, err
	}
	if ce.Time != "" {
		if err := setTime(fields, ce.Time); err != nil {
			return "", nil, err
		}
	}
	if ce.Subject != "" {
		if _, has := fields["execution_id"]; has {
			if err := setAttr(fields, "execution_id", ce.Subject, "subject"); err != nil {
				return "", nil, err
			}
		} else if t, ok := event.Lookup(wire); ok && hasExecutionID(t) {
			fields["execution_id"], _ = json.Marshal(ce.Subject)
		}
	}
	doc, err := json.Marshal(fields)
	if err != nil {
		return "", nil, invalid(err.Error())
	}
	return wire, doc, nil
}

// setAttr sets key to the attribute's value, or checks that data holds the
// same value.
func setAttr(fields map[string]json.RawMessage, key, value, attr string) *apiError {
	if cur, has := fields[key]; has {
		var v string
		if json.Unmarshal(cur, &v) != nil || v != value {
			return newError(http.StatusUnprocessableEntity, CodeInvalidEvent,
				"CloudEvent: "+attr+" "+quoteString(value)+" contradicts data."+key)
		}
		return nil
	}
	fields[key], _ = json.Marshal(value)
	return nil
}

func setTime(fields map[string]json.RawMessage, value string) *apiError {
	t, err := event.ParseTime(value)
	if err != nil {
		return newError(http.StatusUnprocessableEntity, CodeInvalidEvent, "CloudEvent: time: "+err.Error())
	}
	if cur, has := fields["timestamp"]; has {
		var v string
		if json.Unmarshal(cur, &v) != nil {
			return newError(http.StatusUnprocessableEntity, CodeInvalidEvent, "CloudEvent: data.timestamp is not a string")
		}
		if dt, err := event.ParseTime(v); err != nil || !dt.Equal(t) {
			return newError(http.StatusUnprocessableEntity, CodeInvalidEvent, "CloudEvent: time contradicts data.timestamp")
		}
		return nil
	}
	fields["timestamp"], _ = json.Marshal(value)
	return nil
}

// hasExecutionID reports whether events of t have an execution_id field.
func hasExecutionID(t *event.Type) bool {
	b, err := json.Marshal(t.New())
	if err != nil {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	_, ok := m["execution_id"]
	return ok
}

// quoteString quotes s as a JSON string, without escaping <, > and &.
func quoteString(s string) string {
	return string(marshalText(s))
}
