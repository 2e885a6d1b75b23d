package httpapi

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/otlp"
)

// benchTraces returns n workflow traces (4 spans each) in one request.
func benchTraces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	for i := range n {
		workflowTrace(byte(i)).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	return td
}

// BenchmarkOTLPDecode measures what POST /v1/traces does with a protobuf
// body of 500 spans before the store: decoding, translating the spans,
// mapping and checking the entries, ordering them (ns/op is per request).
func BenchmarkOTLPDecode(b *testing.B) {
	body := protoBody(b, benchTraces(125))
	tr := otlp.NewTranslator(otlp.Limits{})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		td, err := otlp.DecodeRequest(body, otlp.Protobuf)
		if err != nil {
			b.Fatal(err)
		}
		evs, res := tr.Translate(nil, td, nil)
		if res.Spans != 500 || res.Rejected != 0 {
			b.Fatalf("%+v", res)
		}
		entries := make([]audit.Entry, len(evs))
		for i, ev := range evs {
			entries[i] = audit.FromEvent(ev)
			if err := entries[i].Validate(); err != nil {
				b.Fatal(err)
			}
		}
		sortByExecution(evs, entries)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/span")
}
