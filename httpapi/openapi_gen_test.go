package httpapi

// The generator of openapi.json: the route table (Routes, with each
// route's parameters, bodies, answers and scope), the JSON Schemas of the
// event catalog (package event/schema), and the Go types of the answers,
// read by reflection with their doc comments. TestOpenAPIDocument fails
// when the committed file differs; go generate ./httpapi rewrites it.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/event/schema"
)

var updateOpenAPI = flag.Bool("update", false, "rewrite openapi.json from the route table")

// obj is a JSON object that keeps its keys in the order they were set.
type obj struct {
	keys []string
	vals map[string]any
}

func newObj(kv ...any) *obj {
	o := &obj{vals: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

func (o *obj) set(k string, v any) *obj {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
	return o
}

func (o *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o.vals[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		b.Write(bytes.TrimSuffix(vb.Bytes(), []byte("\n")))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// componentRef is the reference of a component schema.
func componentRef(name string) *obj { return newObj("$ref", "#/components/schemas/"+name) }

// openAPIGen builds the document.
type openAPIGen struct {
	root    string // the module's directory
	schemas *obj   // components/schemas
	named   map[reflect.Type]string
	docs    map[string]*pkgDocs // by import path
}

// pkgDocs are the doc comments of a package's types and struct fields.
type pkgDocs struct {
	types  map[string]string
	fields map[string]map[string]string
}

const modulePath = "github.com/wtbdev/wtb"

// generateOpenAPI returns the document, indented, with a final newline.
func generateOpenAPI() ([]byte, error) {
	g := &openAPIGen{root: "..", schemas: newObj(), named: map[reflect.Type]string{}, docs: map[string]*pkgDocs{}}
	doc, err := g.document()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g *openAPIGen) document() (_ *obj, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("openapi: %v", r)
		}
	}()
	g.fixedSchemas()
	paths := newObj()
	for _, rt := range Routes() {
		item, ok := paths.vals[rt.Path].(*obj)
		if !ok {
			item = newObj()
			paths.set(rt.Path, item)
		}
		item.set(strings.ToLower(rt.Method), g.operation(rt))
	}
	// Schemas the routes name only in their descriptions.
	for _, t := range []reflect.Type{reflect.TypeFor[streamError](), reflect.TypeFor[wsReply]()} {
		g.schemaOf(t, false)
	}
	g.sortSchemas()
	return newObj(
		"openapi", "3.1.0",
		"info", newObj(
			"title", "wtb",
			"version", "1",
			"summary", "The event bus and audit trail of a workflow test bench for agentic workflows: ingest, queries, live streams and proofs of the audit log.",
			"description", openAPIDescription,
			"license", newObj("name", "See the repository's LICENSE file", "identifier", "Apache-2.0"),
		),
		"servers", []any{newObj("url", "http://127.0.0.1:8420", "description", "wtb serve's default address")},
		"paths", paths,
		"components", newObj(
			"schemas", g.schemas,
			"securitySchemes", newObj("bearer", newObj(
				"type", "http",
				"scheme", "bearer",
				"description", "A token of the server's tokens file (`wtb serve --tokens FILE`, one `TOKEN SCOPES` a line). "+
					"Each operation lists the scope it needs: `ingest` or `read`. A server started without tokens, "+
					"which listens on a loopback address only, asks for none.",
			)),
		),
	), nil
}

const openAPIDescription = "The HTTP API of `wtb serve`. Events go in through `POST /v1/events` (the catalog's JSON, NDJSON or CloudEvents), " +
	"`POST /v1/langgraph/events` (LangGraph event streams) or `POST /v1/traces` (OTLP/HTTP); each is answered once it is durable. " +
	"The audit log is read with the query routes, followed live with `GET /v1/stream` (SSE) or `GET /v1/ws` (WebSocket), " +
	"and checked with the signed checkpoints and Merkle proofs of `/v1/checkpoint` and `/v1/proof/...`.\n\n" +
	"Every error is a JSON object `{\"error\": {\"code\", \"message\", \"index\"}}` (`ErrorBody`), except OTLP's own errors, which are google.rpc.Status. " +
	"The schema of each of the 83 event types is under components/schemas, by Go type name; `Event` is any of them. " +
	"This document is generated from the server's route table; the same document is served at `GET /v1/openapi.json`."

// operation is the operation object of a route.
func (g *openAPIGen) operation(rt Route) *obj {
	op := newObj("operationId", rt.Name, "summary", rt.Summary)
	if rt.Description != "" {
		op.set("description", rt.Description)
	}
	var params []any
	for _, name := range rt.PathParams() {
		params = append(params, newObj("name", name, "in", "path", "required", true,
			"description", "the execution's id", "schema", newObj("type", "string")))
	}
	for _, p := range rt.Params {
		s := newObj("type", p.Type)
		if p.Repeat {
			s = newObj("type", "array", "items", s)
		}
		po := newObj("name", p.Name, "in", "query")
		if p.Required {
			po.set("required", true)
		}
		po.set("description", p.Description)
		po.set("schema", s)
		params = append(params, po)
	}
	if rt.Path == "/v1/stream" {
		params = append(params, newObj("name", "Last-Event-ID", "in", "header",
			"description", "resume after this seq, as after", "schema", newObj("type", "integer", "minimum", 0)))
	}
	if params != nil {
		op.set("parameters", params)
	}
	if len(rt.Request) > 0 {
		content := newObj()
		for _, b := range rt.Request {
			content.set(b.Media, g.media([]Body{b}, true))
		}
		op.set("requestBody", newObj("required", true, "content", content))
	}
	responses := newObj()
	for _, r := range rt.Responses() {
		ro := newObj("description", r.Description)
		if len(r.Headers) > 0 {
			h := newObj()
			for _, name := range r.Headers {
				h.set(name, headerObject(name))
			}
			ro.set("headers", h)
		}
		if len(r.Bodies) > 0 {
			content := newObj()
			var medias []string
			for _, b := range r.Bodies {
				if !slices.Contains(medias, b.Media) {
					medias = append(medias, b.Media)
				}
			}
			for _, m := range medias {
				var same []Body
				for _, b := range r.Bodies {
					if b.Media == m {
						same = append(same, b)
					}
				}
				content.set(m, g.media(same, false))
			}
			ro.set("content", content)
		}
		responses.set(strconv.Itoa(r.Status), ro)
	}
	op.set("responses", responses)
	if rt.Scope != "" {
		op.set("security", []any{newObj("bearer", []string{string(rt.Scope)})})
	} else {
		op.set("security", []any{})
	}
	return op
}

// headerObject describes a response header.
func headerObject(name string) *obj {
	switch name {
	case "Retry-After":
		return newObj("description", "Seconds to wait before trying again.", "schema", newObj("type", "integer", "minimum", 0))
	case "WWW-Authenticate":
		return newObj("description", `Bearer realm="wtb"`, "schema", newObj("type", "string"))
	case "Content-Disposition":
		return newObj("description", "attachment, with a file name: the trace is a download.", "schema", newObj("type", "string"))
	case "Cache-Control":
		return newObj("description", "no-store: the latest checkpoint changes.", "schema", newObj("type", "string"))
	}
	panic("openapi: no description of header " + name)
}

// media is the media type object of bodies of one media type; several are
// any of their schemas. A body's description goes on its schema (a media
// type object has none).
func (g *openAPIGen) media(bodies []Body, input bool) *obj {
	var schemas []any
	for _, b := range bodies {
		s := g.bodySchema(b, input).(*obj)
		if b.Description != "" {
			if _, has := s.vals["$ref"]; has {
				// In OpenAPI 3.1 a reference may have siblings.
				s = newObj("$ref", s.vals["$ref"], "description", b.Description)
			} else if _, has := s.vals["description"]; !has {
				s.set("description", b.Description)
			}
		}
		schemas = append(schemas, s)
	}
	if len(schemas) > 1 {
		return newObj("schema", newObj("anyOf", schemas))
	}
	return newObj("schema", schemas[0])
}

// bodySchema is the schema of a body.
func (g *openAPIGen) bodySchema(b Body, input bool) any {
	if b.Type != nil {
		return g.schemaOf(b.Type, input)
	}
	switch b.Schema {
	case SchemaText:
		return newObj("type", "string")
	case SchemaLines:
		return newObj("type", "string")
	case SchemaBinary:
		return newObj("type", "string", "contentMediaType", b.Media)
	}
	if _, ok := g.schemas.vals[b.Schema]; !ok {
		panic(fmt.Sprintf("openapi: body schema %q is not defined", b.Schema))
	}
	return componentRef(b.Schema)
}

// fixedSchemas defines the schemas that are not a Go type's: the events
// of the catalog, CloudEvents, audit entries, LangGraph records, OTLP.
func (g *openAPIGen) fixedSchemas() {
	ref := func(t *event.Type) string { return "#/components/schemas/" + t.Name }
	g.schemas.set(SchemaEvent, schema.Any(ref))
	g.schemas.set(SchemaEvents, newObj(
		"description", "One event, or an array of events: recorded as one batch, all or nothing.",
		"oneOf", []any{componentRef(SchemaEvent), newObj("type", "array", "items", componentRef(SchemaEvent))}))
	for _, t := range event.Types() {
		s := schema.For(t)
		s.Schema = "" // the document's dialect
		s.ID = ""     // one $id may appear only once in a validator's view
		g.schemas.set(t.Name, s)
	}
	g.schemas.set(SchemaCloudEvent, newObj(
		"description", "A CloudEvents 1.0 event in structured mode: type is \"wtb.\" followed by the event's wire name, id its event_id, "+
			"time its timestamp, subject its execution id, data its other fields (an object). Extension attributes are accepted and ignored.",
		"type", "object",
		"properties", newObj(
			"specversion", newObj("const", "1.0"),
			"type", newObj("type", "string", "pattern", `^wtb\..+`),
			"source", newObj("type", "string", "minLength", 1),
			"id", newObj("type", "string", "minLength", 1),
			"time", newObj("type", "string"),
			"subject", newObj("type", "string"),
			"datacontenttype", newObj("type", "string"),
			"data", newObj("type", []string{"object", "null"}),
		),
		"required", []string{"specversion", "type", "source", "id"},
		"externalDocs", newObj("url", "https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md"),
	))
	g.schemas.set(SchemaCloudEvents, newObj("type", "array", "items", componentRef(SchemaCloudEvent)))
	g.schemas.set(SchemaLangGraphRecord, newObj(
		"description", "A record of LangGraph's event stream (astream_events / streamEvents, version v2). Unknown keys are ignored.",
		"type", "object",
		"properties", newObj(
			"event", newObj("type", "string", "minLength", 1, "description", `The record's kind, such as "on_chain_start" or "on_tool_end".`),
			"name", newObj("type", "string", "description", "The name of the runnable: the graph, a node, a tool, a model."),
			"run_id", newObj("type", "string", "description", "One run of a runnable (one attempt of a node)."),
			"data", newObj("type", []string{"object", "null"}, "description", `"input", "output", "chunk" and, in error records, "error" and "error_type".`),
			"metadata", newObj("type", []string{"object", "null"}, "description", "thread_id, langgraph_node, langgraph_step, langgraph_checkpoint_ns and others."),
			"tags", newObj("type", []string{"array", "null"}, "items", newObj("type", "string")),
			"parent_ids", newObj("type", []string{"array", "null"}, "items", newObj("type", "string")),
			"timestamp", newObj("type", []string{"string", "number"}, "description", "When the record happened (RFC 3339 or Unix seconds); not one of LangGraph's keys, optional."),
		),
		"required", []string{"event"},
	))
	otlpDocs := newObj("url", "https://opentelemetry.io/docs/specs/otlp/#otlphttp")
	g.schemas.set(SchemaOTLPRequest, newObj(
		"description", "An OTLP ExportTraceServiceRequest in OTLP/JSON: resource spans, their scope spans and spans. "+
			"Every span becomes events (the mapping is the otlp package's documentation).",
		"type", "object",
		"properties", newObj("resourceSpans", newObj("type", "array", "items", newObj("type", "object"))),
		"externalDocs", otlpDocs,
	))
	g.schemas.set(SchemaOTLPResponse, newObj(
		"description", "An OTLP ExportTraceServiceResponse: partialSuccess counts the spans that could not be recorded and says why.",
		"type", "object",
		"properties", newObj("partialSuccess", newObj(
			"type", "object",
			"properties", newObj(
				"rejectedSpans", newObj("type", []string{"string", "integer"}, "description", "An int64 (protobuf JSON writes it as a string)."),
				"errorMessage", newObj("type", "string"),
			))),
		"externalDocs", otlpDocs,
	))
	g.schemas.set(SchemaRPCStatus, newObj(
		"description", "A google.rpc.Status: OTLP/HTTP's error body.",
		"type", "object",
		"properties", newObj(
			"code", newObj("type", "integer"),
			"message", newObj("type", "string"),
			"details", newObj("type", "array", "items", newObj("type", "object")),
		),
		"externalDocs", otlpDocs,
	))
	var severities, types []string
	for _, sv := range []audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError} {
		severities = append(severities, string(sv))
	}
	for _, t := range audit.Types() {
		types = append(types, string(t))
	}
	nullable := func(typ string, desc string) *obj {
		return newObj("type", []string{typ, "null"}, "description", desc)
	}
	g.schemas.set("Entry", newObj(
		"description", "An audit entry: its seq in the log, the event it records, and the reference's nine keys.",
		"type", "object",
		"properties", newObj(
			"seq", newObj("type", "integer", "minimum", 1, "description", "The entry's position in the log: strictly increasing in commit order."),
			"event_id", newObj("type", "string", "description", "The id of the event the entry records."),
			"source_type", newObj("type", "string", "description", "The wire name of the event the entry records."),
			"timestamp", newObj("type", "string", "format", "date-time", "description", "When the event happened, RFC 3339 in UTC."),
			"event_type", newObj("type", "string", "description", "The audit event type. wtb's own are listed; others may come from imported data.", "examples", types),
			"severity", newObj("type", "string", "enum", severities),
			"message", newObj("type", "string"),
			"execution_id", nullable("string", "The execution, null when none."),
			"node_id", nullable("string", "The node, null when none."),
			"details", newObj("type", "object", "description", "The event's details."),
			"error", nullable("string", "The error of a failure, null when none."),
			"duration_ms", nullable("number", "The duration in milliseconds, null when none."),
		),
		"required", []string{"seq", "event_id", "source_type", "timestamp", "event_type", "severity", "message",
			"execution_id", "node_id", "details", "error", "duration_ms"},
	))
	g.schemas.set("WSRequest", newObj(
		"description", "A message of a WebSocket client.",
		"type", "object",
		"properties", newObj(
			"action", newObj("enum", []string{"subscribe", "unsubscribe", "ping"}),
			"topics", newObj("type", "array", "items", newObj("type", "string"),
				"description", "audit:*, execution:<id>, batch:<id> or type:<audit type>"),
			"after", newObj("type", "integer", "minimum", 0,
				"description", "With subscribe: replay the entries of the topics it adds after this seq, then go on live."),
		),
		"required", []string{"action"},
	))
	g.schemas.set(SchemaWSEntry, newObj(
		"description", "A WebSocket message carrying an entry.",
		"type", "object",
		"properties", newObj(
			"type", newObj("const", "entry"),
			"seq", newObj("type", "integer", "minimum", 1),
			"entry", componentRef("Entry"),
		),
		"required", []string{"type", "seq", "entry"},
	))
	g.schemas.set(SchemaOpenAPI, newObj(
		"description", "An OpenAPI 3.1 document: this one.",
		"type", "object",
		"properties", newObj("openapi", newObj("type", "string", "pattern", `^3\.1\.`)),
		"required", []string{"openapi", "info"},
		"externalDocs", newObj("url", "https://spec.openapis.org/oas/v3.1.0"),
	))
	g.named[reflect.TypeFor[audit.Entry]()] = "Entry"
}

// sortSchemas orders the components: the routes' schemas, then the
// events'.
func (g *openAPIGen) sortSchemas() {
	isEvent := map[string]bool{}
	for _, t := range event.Types() {
		isEvent[t.Name] = true
	}
	var head, tail []string
	for _, k := range g.schemas.keys {
		if isEvent[k] {
			tail = append(tail, k)
		} else {
			head = append(head, k)
		}
	}
	slices.Sort(head)
	g.schemas.keys = append(head, tail...)
}

var (
	typeTime       = reflect.TypeFor[time.Time]()
	typeRawMessage = reflect.TypeFor[json.RawMessage]()
	typeMarshaler  = reflect.TypeFor[json.Marshaler]()
)

// schemaOf is the schema of Go type t, as encoding/json writes it (or, for
// input, reads it): a named struct is a component, referred to.
func (g *openAPIGen) schemaOf(t reflect.Type, input bool) any {
	if name, ok := g.named[t]; ok {
		return componentRef(name)
	}
	switch t {
	case typeTime:
		return newObj("type", "string", "format", "date-time")
	case typeRawMessage:
		return newObj("description", "Any JSON value.")
	}
	if t.Kind() != reflect.Pointer && t.Implements(typeMarshaler) || reflect.PointerTo(t).Implements(typeMarshaler) && t.Kind() == reflect.Struct {
		panic(fmt.Sprintf("openapi: %s has its own MarshalJSON: give it a schema in fixedSchemas", t))
	}
	switch t.Kind() {
	case reflect.Bool:
		return newObj("type", "boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return newObj("type", "integer")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return newObj("type", "integer", "minimum", 0)
	case reflect.Float32, reflect.Float64:
		return newObj("type", "number")
	case reflect.String:
		return newObj("type", "string")
	case reflect.Interface:
		return newObj("description", "Any JSON value.")
	case reflect.Pointer:
		return nullable(g.schemaOf(t.Elem(), input))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return newObj("type", "string", "contentEncoding", "base64")
		}
		return nullable(newObj("type", "array", "items", g.schemaOf(t.Elem(), input)))
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("openapi: %s: map keys must be strings", t))
		}
		s := newObj("type", "object")
		if t.Elem().Kind() != reflect.Interface {
			s.set("additionalProperties", g.schemaOf(t.Elem(), input))
		}
		return nullable(s)
	case reflect.Struct:
		if t.Name() == "" {
			panic(fmt.Sprintf("openapi: anonymous struct %s: give it a name", t))
		}
		return g.structSchema(t, input)
	}
	panic(fmt.Sprintf("openapi: no schema for Go type %s", t))
}

// nullable adds null to a schema's types.
func nullable(s any) any {
	o := s.(*obj)
	if _, ok := o.vals["$ref"]; ok {
		return newObj("anyOf", []any{o, newObj("type", "null")})
	}
	switch typ := o.vals["type"].(type) {
	case string:
		o.set("type", []string{typ, "null"})
	case nil:
		// any value already
	default:
		panic(fmt.Sprintf("openapi: nullable of type %v", typ))
	}
	return o
}

// structSchema defines the component of a struct type and refers to it.
func (g *openAPIGen) structSchema(t reflect.Type, input bool) any {
	name := componentName(t)
	if _, ok := g.schemas.vals[name]; ok {
		panic(fmt.Sprintf("openapi: two schemas named %s (%s and another)", name, t))
	}
	g.named[t] = name
	docs := g.docsOf(t.PkgPath())
	s := newObj("type", "object")
	g.schemas.set(name, s) // placeholder against recursion, filled below
	if d := docs.types[t.Name()]; d != "" {
		s = newObj("description", d, "type", "object")
	}
	props := newObj()
	var required []string
	var addFields func(t reflect.Type)
	addFields = func(t reflect.Type) {
		for f := range t.Fields() {
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			key, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && key == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					addFields(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if key == "" {
				key = f.Name
			}
			ps := g.schemaOf(f.Type, input)
			omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
			if omit {
				ps = notNull(ps, f.Type)
			}
			if d := g.docsOf(t.PkgPath()).fields[t.Name()][f.Name]; d != "" {
				ps = describe(ps, d)
			}
			props.set(key, ps)
			if !omit && !input {
				required = append(required, key)
			}
		}
	}
	addFields(t)
	s.set("properties", props)
	if required != nil {
		s.set("required", required)
	}
	g.schemas.set(name, s)
	return componentRef(name)
}

// notNull undoes nullable for a field that is left out when empty (a nil
// slice or map, with omitempty) but never null.
func notNull(s any, t reflect.Type) any {
	if t.Kind() != reflect.Slice && t.Kind() != reflect.Map {
		return s
	}
	o := s.(*obj)
	if ts, ok := o.vals["type"].([]string); ok && len(ts) == 2 && ts[1] == "null" {
		o.set("type", ts[0])
	}
	return o
}

// describe sets a schema's description (in OpenAPI 3.1 beside a
// reference too).
func describe(s any, d string) any {
	o := s.(*obj)
	if _, ok := o.vals["description"]; ok {
		return o
	}
	out := newObj("description", d)
	for _, k := range o.keys {
		out.set(k, o.vals[k])
	}
	return out
}

// componentName is the component name of a Go type: its name, with a
// capital.
func componentName(t reflect.Type) string {
	if t == reflect.TypeFor[wsReply]() {
		return "WSReply"
	}
	r := []rune(t.Name())
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// docsOf reads the doc comments of a package of the module.
func (g *openAPIGen) docsOf(pkgPath string) *pkgDocs {
	if d, ok := g.docs[pkgPath]; ok {
		return d
	}
	d := &pkgDocs{types: map[string]string{}, fields: map[string]map[string]string{}}
	g.docs[pkgPath] = d
	rel, ok := strings.CutPrefix(pkgPath, modulePath)
	if !ok {
		return d
	}
	dir := filepath.Join(g.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))
	fset := gotoken.NewFileSet()
	ents, err := os.ReadDir(dir)
	if err != nil {
		panic(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			panic(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != gotoken.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				d.types[ts.Name.Name] = commentText(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				fields := map[string]string{}
				for _, fl := range st.Fields.List {
					c := fl.Doc
					if c == nil {
						c = fl.Comment
					}
					for _, n := range fl.Names {
						fields[n.Name] = commentText(c)
					}
				}
				d.fields[ts.Name.Name] = fields
			}
		}
	}
	return d
}

// commentText is a doc comment as one paragraph.
func commentText(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	return strings.Join(strings.Fields(c.Text()), " ")
}

// TestOpenAPIDocument generates the document from the route table and
// compares it with openapi.json, which the server embeds and serves: a
// route, parameter, body or answer type changed without go generate fails
// here. With -update it rewrites the file.
func TestOpenAPIDocument(t *testing.T) {
	got, err := generateOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if *updateOpenAPI {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("openapi.json is stale: run go generate ./httpapi")
	}
	if !bytes.Equal(OpenAPI(), want) {
		t.Fatal("the embedded document is not openapi.json")
	}
}
