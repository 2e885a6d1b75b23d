package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// paramHints names the parameter meant by common mistakes.
var paramHints = map[string]string{
	"execution":   "execution_id",
	"exec":        "execution_id",
	"executionId": "execution_id",
	"node":        "node_id",
	"nodeId":      "node_id",
	"type":        "event_type",
	"severity":    "min_severity",
	"after":       "cursor",
	"from":        "since",
	"to":          "until",
	"topics":      "topic",
	"last_seq":    "after",
}

// checkQuery refuses, naming the parameter, a raw query that has a
// malformed escape, a parameter the route does not take, or a repeated
// single-valued parameter. Accepting them silently would answer unfiltered
// data to a client that believes it filtered.
func checkQuery(raw string, params []Param) *apiError {
	if raw == "" {
		return nil
	}
	seen := make(map[string]bool, 4)
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return newError(http.StatusBadRequest, CodeBadParameter,
				"query parameter "+quoteString(k)+": malformed percent-escape in its name")
		}
		if strings.Contains(pair, ";") {
			return newError(http.StatusBadRequest, CodeBadParameter,
				"query parameter "+quoteString(key)+": separate parameters with &, not ;")
		}
		i := indexParam(params, key)
		if i < 0 {
			return unknownParam(key, params)
		}
		if _, err := url.QueryUnescape(v); err != nil {
			return badParam(key, "malformed percent-escape in "+quoteString(v))
		}
		if seen[key] && !params[i].Repeat {
			return badParam(key, "given more than once")
		}
		seen[key] = true
	}
	return nil
}

func indexParam(params []Param, name string) int {
	for i := range params {
		if params[i].Name == name {
			return i
		}
	}
	return -1
}

func unknownParam(key string, params []Param) *apiError {
	msg := "unknown query parameter " + quoteString(key)
	if hint, ok := paramHints[key]; ok && indexParam(params, hint) >= 0 {
		msg += ": did you mean " + hint + "?"
	} else if len(params) == 0 {
		msg += ": this route takes no query parameters"
	} else {
		names := make([]string, len(params))
		for i, p := range params {
			names[i] = p.Name
		}
		msg += ": this route takes " + strings.Join(names, ", ")
	}
	return newError(http.StatusBadRequest, CodeBadParameter, msg)
}
