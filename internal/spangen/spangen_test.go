package spangen

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func TestBodyHasFreshTraces(t *testing.T) {
	g := New("test", 3, 20, 100*time.Millisecond)
	seen := map[string]bool{}
	for range 2 {
		b, err := g.Body()
		if err != nil {
			t.Fatal(err)
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			t.Fatal(err)
		}
		spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		if spans.Len() != 20 {
			t.Fatalf("%d spans, want 20", spans.Len())
		}
		traces := map[string]bool{}
		for i := range spans.Len() {
			sp := spans.At(i)
			traces[sp.TraceID().String()] = true
			if sp.EndTimestamp() < sp.StartTimestamp() {
				t.Fatalf("span %d ends before it starts", i)
			}
		}
		if len(traces) != 2 {
			t.Fatalf("%d traces in a request of 20 spans, want 2", len(traces))
		}
		for id := range traces {
			if seen[id] {
				t.Fatalf("trace %s sent twice", id)
			}
			seen[id] = true
		}
	}
}

// BenchmarkBody measures the client's cost of one OTLP request of 500
// spans (ns/op is per request).
func BenchmarkBody(b *testing.B) {
	g := New("bench", 1, 500, 100*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Body(); err != nil {
			b.Fatal(err)
		}
	}
}
