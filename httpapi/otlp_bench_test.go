package httpapi

import (
	"bytes"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wtbdev/wtb/internal/spangen"
	"github.com/wtbdev/wtb/otlp"
)

// benchSpans is the number of spans of one benchmark request: the batch of
// `wtbload otlp` (and of the OpenTelemetry SDKs' BatchSpanProcessor).
const benchSpans = 500

// perSpan reports ns/span and allocs/span of a benchmark whose b.N
// operations each handle spans spans; call it before the loop and call the
// function it returns after.
func perSpan(b *testing.B, spans int) func() {
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	return func() {
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		n := float64(b.N * spans)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/span")
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/span")
	}
}

// BenchmarkOTLPDecode measures what POST /v1/traces does with a protobuf
// request of 500 spans (50 workflow traces of `wtbload otlp`, 750 events)
// before the store: decoding with pdata, translating the spans, mapping
// and checking the entries, ordering them. ns/op is per request.
func BenchmarkOTLPDecode(b *testing.B) {
	body, err := spangen.New("bench", 1, benchSpans, 100*time.Millisecond).Body()
	if err != nil {
		b.Fatal(err)
	}
	tr := otlp.NewTranslator(otlp.Limits{})
	opts := &otlp.Options{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	done := perSpan(b, benchSpans)
	for b.Loop() {
		td, err := otlp.DecodeRequest(body, otlp.Protobuf)
		if err != nil {
			b.Fatal(err)
		}
		_, entries, res := spanEntries(tr, td, opts)
		if res.Spans != benchSpans || res.Rejected != 0 || len(entries) != benchSpans*spangen.EventsPerTrace/spangen.SpansPerTrace {
			b.Fatalf("%+v, %d entries", res, len(entries))
		}
	}
	done()
}

// BenchmarkOTLPIngest measures POST /v1/traces of protobuf requests of
// 500 spans (whole traces, new ones in every request) through httptest
// into SQLite, answered once durable, from 8 clients per CPU. The requests
// are encoded before the clock starts; ns/span and allocs/span count the
// whole process (the HTTP client, the server, the store). cmd/wtbload
// measures the service as a whole.
func BenchmarkOTLPIngest(b *testing.B) {
	env := newEnv(b, Options{})
	bodies := make([][]byte, b.N)
	for c := range 16 {
		g := spangen.New("bench", c, benchSpans, 100*time.Millisecond)
		for i := c; i < b.N; i += 16 {
			var err error
			if bodies[i], err = g.Body(); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	url := env.ts.URL + "/v1/traces"
	b.ReportAllocs()
	b.SetParallelism(8) // 16 concurrent clients on 2 CPUs
	b.ResetTimer()
	done := perSpan(b, benchSpans)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[next.Add(1)-1]
			res, err := env.client.Post(url, "application/x-protobuf", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	done()
	if got, want := env.count(), int64(b.N*benchSpans*spangen.EventsPerTrace/spangen.SpansPerTrace); got != want {
		b.Fatalf("store has %d entries, want %d", got, want)
	}
}
