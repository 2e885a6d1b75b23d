package event

import "encoding/json"

// Map is a JSON object of any values (the reference's Dict[str, Any] with
// default {}). A nil Map is written as {}. Numbers inside decode as
// json.Number, so no precision is lost. Optional maps (Optional[Dict]) are
// plain map[string]any fields, written as null when nil.
type Map map[string]any

// MarshalJSON writes m, or {} when m is nil.
func (m Map) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any(m))
}

// List is a JSON array of any values (the reference's untyped list with
// default []). A nil List is written as [].
type List []any

// MarshalJSON writes l, or [] when l is nil.
func (l List) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]any(l))
}

// Strings is a list of strings (the reference's List[str] or tuple with
// default [] or ()). A nil Strings is written as []. Optional lists are plain
// []string fields, written as null when nil.
type Strings []string

// MarshalJSON writes s, or [] when s is nil.
func (s Strings) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(s))
}

// FloatMap is a JSON object of numbers (the reference's Dict[str, float]
// with default {}). A nil FloatMap is written as {}.
type FloatMap map[string]float64

// MarshalJSON writes m, or {} when m is nil.
func (m FloatMap) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]float64(m))
}

// StringMap is a JSON object of strings (the reference's Dict[str, str]
// with default {}). A nil StringMap is written as {}.
type StringMap map[string]string

// MarshalJSON writes m, or {} when m is nil.
func (m StringMap) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]string(m))
}

// envID joins the parts of an environment id as the reference does.
func envID(workflowID, nodeID string, versionID *string) string {
	id := workflowID + "_" + nodeID
	if versionID != nil && *versionID != "" {
		id += "_" + *versionID
	}
	return id
}
