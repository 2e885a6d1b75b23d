package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/wtbdev/wtb/audit"
)

// getJSON decodes the JSON answer of GET base+path into v.
func getJSON(t *testing.T, base, path string, v any) {
	t.Helper()
	res, err := testClient.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// getText returns the answer of GET base+path.
func getText(t *testing.T, base, path string) string {
	t.Helper()
	res, err := testClient.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

// runWorkflow records one workflow run with tp under the GenAI semantic
// conventions and returns its trace id: invoke_workflow; an agent with a
// chat call; an agent with a tool call; an agent that fails.
func runWorkflow(ctx context.Context, tp trace.TracerProvider) trace.TraceID {
	tr := tp.Tracer("wtb-test-agent")
	op := func(name string) attribute.KeyValue { return attribute.String("gen_ai.operation.name", name) }
	ctx, root := tr.Start(ctx, "invoke_workflow trip-planner", trace.WithAttributes(op("invoke_workflow"),
		attribute.String("gen_ai.workflow.name", "trip-planner")))
	step := func(agent string, body func(context.Context)) {
		c, sp := tr.Start(ctx, "invoke_agent "+agent, trace.WithAttributes(op("invoke_agent"),
			attribute.String("gen_ai.agent.name", agent), attribute.String("gen_ai.conversation.id", "conv-42")))
		body(c)
		sp.End()
	}
	step("planner", func(c context.Context) {
		_, chat := tr.Start(c, "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(op("chat"),
			attribute.String("gen_ai.request.model", "gpt-4o-mini"),
			attribute.Int("gen_ai.usage.input_tokens", 812), attribute.Int("gen_ai.usage.output_tokens", 64)))
		time.Sleep(2 * time.Millisecond)
		chat.End()
	})
	step("booker", func(c context.Context) {
		_, tool := tr.Start(c, "execute_tool book_flight", trace.WithAttributes(op("execute_tool"),
			attribute.String("gen_ai.tool.name", "book_flight"), attribute.String("gen_ai.tool.call.id", "call-1")))
		time.Sleep(time.Millisecond)
		tool.End()
	})
	c, sp := tr.Start(ctx, "invoke_agent notifier", trace.WithAttributes(op("invoke_agent"), attribute.String("gen_ai.agent.name", "notifier")))
	_ = c
	sp.RecordError(errors.New("smtp: connection refused"), trace.WithAttributes(attribute.String("exception.type", "SMTPError")))
	sp.SetStatus(codes.Error, "smtp: connection refused")
	sp.End()
	root.SetStatus(codes.Error, "notifier failed")
	root.SetAttributes(attribute.String("error.type", "SMTPError"))
	root.End()
	return root.SpanContext().TraceID()
}

// The OpenTelemetry Go SDK's OTLP/HTTP exporter, in each of its encodings,
// with and without gzip, and configured by OTEL_EXPORTER_OTLP_ENDPOINT,
// sends spans to a running wtb serve; each run becomes one execution.
func TestOTelSDKExporter(t *testing.T) {
	bin := buildWTB(t)
	srv := startServe(t, bin, filepath.Join(t.TempDir(), "otel.db"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		opts []otlptracehttp.Option
		env  bool
	}{
		{"protobuf", []otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.url + "/v1/traces")}, false},
		{"json", []otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.url + "/v1/traces"), otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}, false},
		{"protobuf gzip", []otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.url + "/v1/traces"), otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}, false},
		{"json gzip", []otlptracehttp.Option{otlptracehttp.WithEndpointURL(srv.url + "/v1/traces"), otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON), otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}, false},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.url)
			}
			exp, err := otlptracehttp.New(ctx, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
				sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "trip-planner"))))
			tid := runWorkflow(ctx, tp)
			if err := tp.Shutdown(ctx); err != nil { // flushes; fails when the export failed
				t.Fatalf("export: %v", err)
			}
			exec := tid.String()
			var s audit.Summary
			getJSON(t, srv.url, "/v1/executions/"+exec+"/summary", &s)
			if s.Status != audit.StatusFailed || s.WorkflowID != "trip-planner" || s.NodesExecuted != 2 || s.NodesFailed != 1 ||
				s.Errors != 2 || s.TotalEntries != 10 || s.DurationMS == nil || *s.DurationMS < 3 {
				t.Errorf("summary %+v", s)
			}
			tl := getText(t, srv.url, "/v1/executions/"+exec+"/timeline?all=true&debug=true")
			for _, want := range []string{
				"Execution started for workflow 'trip-planner'",
				"Node 'planner' completed (0 tool calls)",
				"Node 'booker' completed (1 tool calls)",
				"Node 'notifier' failed",
				"Error: SMTPError: smtp: connection refused",
				"LangGraph LLM 'gpt-4o-mini' completed",
				"LangGraph tool 'book_flight' completed",
				"Execution failed at node 'notifier'",
			} {
				if !strings.Contains(tl, want) {
					t.Errorf("timeline lacks %q:\n%s", want, tl)
				}
			}
			var page struct{ Entries []audit.Entry }
			getJSON(t, srv.url, "/v1/audit?execution_id="+exec+"&event_type=langgraph_llm_completed", &page)
			if len(page.Entries) != 1 || !strings.Contains(string(page.Entries[0].Details), `"input_tokens":812`) {
				t.Errorf("model call entry: %+v", page.Entries)
			}
		})
	}
}
