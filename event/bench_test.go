package event_test

import (
	"testing"
	"time"

	"wtb/event"
)

// reportCPU adds the metric cpu-ns/op: process CPU time per operation since
// start (0 where it is not measured).
func reportCPU(b *testing.B, start time.Duration) {
	if cpu := processCPU() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// benchDoc is a typical event as the reference writes it (a CheckpointCreated
// from the samples, 316 bytes).
func benchDoc(b *testing.B) []byte {
	return sampleLines(b)[1]
}

func BenchmarkDecode(b *testing.B) {
	doc := benchDoc(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	start := processCPU()
	for b.Loop() {
		if _, err := event.Decode(doc); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkDecodeSamples decodes the 164 reference samples in turn.
func BenchmarkDecodeSamples(b *testing.B) {
	lines := sampleLines(b)
	b.ReportAllocs()
	i := 0
	start := processCPU()
	for b.Loop() {
		if _, err := event.Decode(lines[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(lines)
	}
	reportCPU(b, start)
}

func BenchmarkEncode(b *testing.B) {
	ev, err := event.Decode(benchDoc(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := event.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

func BenchmarkParseTime(b *testing.B) {
	for _, s := range []string{"2026-01-27T10:00:00", "2026-01-27T10:00:00.037000", "2026-01-27T12:00:00.5+02:00"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := event.ParseTime(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
