package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/wtbdev/wtb/internal/refdata"
)

// newOpenAPIValidator reads openapi.json with libopenapi.
func newOpenAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(OpenAPI())
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	// NDJSON bodies are text to the validator: the document describes
	// their lines in words (OpenAPI 3.1 has no schema for a sequence).
	v, errs := validator.NewValidator(doc,
		config.WithBodyDecoder(MediaNDJSON, content.TextDecoder()),
		config.WithBodyDecoder(MediaJSONLines, content.TextDecoder()))
	if len(errs) > 0 {
		t.Fatalf("libopenapi-validator: %v", errs)
	}
	return v
}

func validationErrors(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s at %s", se.Reason, se.FieldPath)
		}
	}
	return b.String()
}

// The document is valid OpenAPI 3.1: libopenapi-validator checks it
// against the specification's own schema.
func TestOpenAPIValid(t *testing.T) {
	v := newOpenAPIValidator(t)
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not valid OpenAPI 3.1:%s", validationErrors(errs))
	}
	var head struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(OpenAPI(), &head); err != nil || !strings.HasPrefix(head.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, %v; want 3.1.x", head.OpenAPI, err)
	}
}

// openAPIOperation is what TestOpenAPIRoutes reads of an operation.
type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
		Schema   struct {
			Type  string `json:"type"`
			Items struct {
				Type string `json:"type"`
			} `json:"items"`
		} `json:"schema"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]json.RawMessage `json:"responses"`
	Security  []map[string][]string      `json:"security"`
}

// The document and the routes agree: every route is in the document and
// every operation is a route, with the same parameters (path and query,
// their types, repetition and necessity), request media types, statuses
// and scope. The document read is the committed file the server serves.
func TestOpenAPIRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]openAPIOperation `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s is not in the document", rt.Pattern())
			continue
		}
		seen[rt.Pattern()] = true
		if op.OperationID != rt.Name {
			t.Errorf("%s: operationId %q, want %q", rt.Pattern(), op.OperationID, rt.Name)
		}
		want := map[string]string{}
		for _, p := range rt.PathParams() {
			want["path "+p] = "string required"
		}
		for _, p := range rt.Params {
			d := p.Type
			if p.Repeat {
				d = "array of " + p.Type
			}
			if p.Required {
				d += " required"
			}
			want["query "+p.Name] = d
		}
		got := map[string]string{}
		for _, p := range op.Parameters {
			d := p.Schema.Type
			if d == "array" {
				d = "array of " + p.Schema.Items.Type
			}
			if p.Required {
				d += " required"
			}
			if p.In != "header" {
				got[p.In+" "+p.Name] = d
			}
		}
		if !mapsEqual(got, want) {
			t.Errorf("%s: parameters %v, want %v", rt.Pattern(), got, want)
		}
		var media, wantMedia []string
		if op.RequestBody != nil {
			for m := range op.RequestBody.Content {
				media = append(media, m)
			}
		}
		for _, b := range rt.Request {
			wantMedia = append(wantMedia, b.Media)
		}
		sort.Strings(media)
		sort.Strings(wantMedia)
		if !slices.Equal(media, wantMedia) {
			t.Errorf("%s: request media types %v, want %v", rt.Pattern(), media, wantMedia)
		}
		var statuses, wantStatuses []string
		for s := range op.Responses {
			statuses = append(statuses, s)
		}
		for _, r := range rt.Responses() {
			wantStatuses = append(wantStatuses, strconv.Itoa(r.Status))
		}
		sort.Strings(statuses)
		sort.Strings(wantStatuses)
		if !slices.Equal(statuses, wantStatuses) {
			t.Errorf("%s: statuses %v, want %v", rt.Pattern(), statuses, wantStatuses)
		}
		if !slices.Contains(statuses, strconv.Itoa(rt.SuccessStatus())) {
			t.Errorf("%s: no answer %d", rt.Pattern(), rt.SuccessStatus())
		}
		switch {
		case rt.Scope == "" && len(op.Security) != 0:
			t.Errorf("%s needs no token, the document asks %v", rt.Pattern(), op.Security)
		case rt.Scope != "" && (len(op.Security) != 1 || !slices.Equal(op.Security[0]["bearer"], []string{string(rt.Scope)})):
			t.Errorf("%s needs scope %s, the document asks %v", rt.Pattern(), rt.Scope, op.Security)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if p := strings.ToUpper(method) + " " + path; !seen[p] {
				t.Errorf("the document has %s, which is not a route", p)
			}
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// openAPICase is a request of TestOpenAPIAnswers and the status it must
// get.
type openAPICase struct {
	name        string
	method      string
	path        string // with the query
	contentType string
	body        string
	auth        string
	status      int
}

// Real answers of a running server validate against the document: each
// route's sample (its request too), and its error answers: a parameter
// it does not take (400), no token (401), a token without the scope
// (403), an unknown execution (404), and the ingest routes' own errors.
// The bodies are checked against the schemas, the statuses and content
// types against those documented.
func TestOpenAPIAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(testTokens), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, Options{Tokens: tokens})
	seedSample(t, env, "Bearer both-token")
	// Runs of all kinds, so that the answers have something in every part.
	recordReference(t, env, "Bearer both-token")
	v := newOpenAPIValidator(t)

	const both = "Bearer both-token"
	other := map[Scope]string{ScopeIngest: "Bearer reader-token", ScopeRead: "Bearer ingester-token"}
	var cases []openAPICase
	for _, rt := range Routes() {
		sample := rt.SamplePath()
		cases = append(cases, openAPICase{"sample", rt.Method, sample, rt.Sample.ContentType, rt.Sample.Body, both, rt.SuccessStatus()})
		sep := "?"
		if strings.Contains(sample, "?") {
			sep = "&"
		}
		cases = append(cases, openAPICase{"unknown parameter", rt.Method, sample + sep + "nosuch=1", rt.Sample.ContentType, rt.Sample.Body, both, 400})
		if rt.Scope != "" {
			cases = append(cases,
				openAPICase{"no token", rt.Method, sample, rt.Sample.ContentType, rt.Sample.Body, "", 401},
				openAPICase{"token without the scope", rt.Method, sample, rt.Sample.ContentType, rt.Sample.Body, other[rt.Scope], 403})
		}
		if len(rt.PathParams()) > 0 {
			cases = append(cases, openAPICase{"unknown execution", rt.Method, strings.ReplaceAll(sample, SampleExecution, "nosuch"), "", "", both, 404})
		}
	}
	bad := `{"event_type":"NodeStartedEvent","event_id":"x","timestamp":"2026-01-15T10:00:00Z","node_id":7}`
	cases = append(cases,
		openAPICase{"ingest: NDJSON", "POST", "/v1/events", MediaNDJSON, sampleEvent + "\n" + sampleEvent + "\n", both, 200},
		openAPICase{"ingest: a CloudEvent", "POST", "/v1/events", MediaCloudEvent,
			`{"specversion":"1.0","type":"wtb.NodeStartedEvent","source":"t","id":"ce-1","time":"2026-01-15T10:00:01Z","subject":"exec-1","data":{"node_id":"n2"}}`, both, 200},
		openAPICase{"ingest: malformed JSON", "POST", "/v1/events", MediaJSON, `{"event_type":`, both, 400},
		openAPICase{"ingest: unsupported media type", "POST", "/v1/events", "text/plain", "x", both, 415},
		openAPICase{"ingest: invalid event", "POST", "/v1/events", MediaJSON, bad, both, 422},
		openAPICase{"ingest: too large", "POST", "/v1/events", MediaJSON, "[" + strings.Repeat(" ", DefaultMaxBodyBytes) + "]", both, 413},
		openAPICase{"langgraph: unsupported media type", "POST", "/v1/langgraph/events", "text/plain", "x", both, 415},
		openAPICase{"langgraph: bad record", "POST", "/v1/langgraph/events", MediaNDJSON, `{"event":7}` + "\n", both, 400},
		openAPICase{"otlp: undecodable JSON", "POST", "/v1/traces", "application/json", `{"resourceSpans":7}`, both, 400},
		openAPICase{"otlp: undecodable protobuf", "POST", "/v1/traces", "application/x-protobuf", "\xff\xff", both, 400},
		openAPICase{"otlp: unsupported media type", "POST", "/v1/traces", "text/plain", "x", both, 415},
		openAPICase{"executions with filters", "GET", "/v1/executions?status=running&limit=1", "", "", both, 200},
		openAPICase{"audit: bad limit", "GET", "/v1/audit?limit=0", "", "", both, 400},
		openAPICase{"compare without b", "GET", "/v1/compare?a=" + SampleExecution, "", "", both, 400},
		openAPICase{"compare: unknown b", "GET", "/v1/compare?a=" + SampleExecution + "&b=nosuch", "", "", both, 404},
		openAPICase{"compare: two runs", "GET", "/v1/compare?a=exec-3&b=exec-4", "", "", both, 200},
		openAPICase{"trace of a run", "GET", "/v1/executions/exec-4/trace", "", "", both, 200},
		openAPICase{"summary of a run", "GET", "/v1/executions/exec-4/summary", "", "", both, 200},
		openAPICase{"batch", "GET", "/v1/batches/batch-2", "", "", both, 200},
		openAPICase{"batch", "GET", "/v1/batches/batch-3", "", "", both, 200},
		openAPICase{"every entry", "GET", "/v1/audit?limit=10000", "", "", both, 200},
		openAPICase{"every execution", "GET", "/v1/executions", "", "", both, 200},
		openAPICase{"inclusion proof: no seq", "GET", "/v1/proof/inclusion", "", "", both, 400},
		openAPICase{"inclusion proof: beyond the tree", "GET", "/v1/proof/inclusion?seq=1000", "", "", both, 404},
		openAPICase{"ws: not a handshake", "GET", "/v1/ws", "", "", both, 426},
	)
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.name, func(t *testing.T) {
			req, res := doOpenAPICase(t, env, tc)
			if res.StatusCode != tc.status {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tc.status, b)
			}
			if tc.status < 300 && tc.body != "" {
				vreq, _ := http.NewRequest(tc.method, env.ts.URL+tc.path, strings.NewReader(tc.body))
				vreq.Header = req.Header.Clone()
				if ok, errs := v.ValidateHttpRequest(vreq); !ok {
					t.Errorf("the request does not validate:%s", validationErrors(errs))
				}
			}
			if ok, errs := v.ValidateHttpResponse(req, res); !ok {
				t.Errorf("the answer does not validate:%s", validationErrors(errs))
			}
		})
	}
}

// doOpenAPICase sends a case and returns the request and its answer, read
// whole (a stream: its first bytes).
func doOpenAPICase(t *testing.T, env *testEnv, tc openAPICase) (*http.Request, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	var body io.Reader
	if tc.body != "" {
		body = strings.NewReader(tc.body)
	}
	req, err := http.NewRequestWithContext(ctx, tc.method, env.ts.URL+tc.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	if tc.auth != "" {
		req.Header.Set("Authorization", tc.auth)
	}
	if strings.HasPrefix(tc.path, "/v1/ws") && tc.name != "ws: not a handshake" {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")))
	}
	res, err := env.streamClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	var b []byte
	switch {
	case res.StatusCode == http.StatusSwitchingProtocols:
	case res.Header.Get("Content-Type") == MediaEventStream:
		// The stream does not end: its greeting is enough.
		buf := make([]byte, 4096)
		n, err := res.Body.Read(buf)
		if n == 0 {
			t.Fatalf("reading the stream: %v", err)
		}
		b = buf[:n]
	default:
		if b, err = io.ReadAll(res.Body); err != nil {
			t.Fatal(err)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	return req, res
}

// recordReference records the events the reference implementation wrote
// (internal/refdata): executions exec-2 to exec-6 with node runs, failures,
// checkpoints and rollbacks, and Ray batch tests batch-2 and batch-3.
func recordReference(t *testing.T, env *testEnv, auth string) {
	t.Helper()
	r := env.post(MediaNDJSON, refdata.Events, "Authorization", auth)
	if r.status != 200 {
		t.Fatalf("recording the reference's events: %d %s", r.status, r.body)
	}
}
