package main

import (
	"testing"
	"time"
)

// BenchmarkSpanGen measures the client's cost of one OTLP request of 500
// spans (ns/op is per request).
func BenchmarkSpanGen(b *testing.B) {
	g := newSpanGen("bench", 1, 500, 100*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.body(); err != nil {
			b.Fatal(err)
		}
	}
}
