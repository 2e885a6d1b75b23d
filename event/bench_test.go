package event_test

import (
	"testing"
	"time"

	"github.com/wtbdev/wtb/event"
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

// BenchmarkDecodeTypeInMiddle decodes the typical event with event_type
// neither first nor last: Decode cannot guess the type from the ends of the
// document and scans for it before decoding.
func BenchmarkDecodeTypeInMiddle(b *testing.B) {
	doc := benchDoc(b)
	ev, err := event.Decode(doc)
	if err != nil {
		b.Fatal(err)
	}
	cc := ev.(*event.CheckpointCreated)
	doc = []byte(`{"event_id":"` + cc.ID + `","event_type":"CheckpointCreated","timestamp":"2026-01-27T10:00:00.037000","execution_id":"exec-3","checkpoint_id":"cp-1477","step":472,"node_writes":{"finalize0":1947.958,"grader1":"rank","rank2":53},"completed_node":"retrieve","next_nodes":["router","grader","finalize","grader"],"is_terminal":true}`)
	if _, err := event.Decode(doc); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkEncodeSamples encodes the 164 reference samples in turn.
func BenchmarkEncodeSamples(b *testing.B) {
	var evs []event.Event
	for _, line := range sampleLines(b) {
		ev, err := event.Decode(line)
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, ev)
	}
	b.ReportAllocs()
	i := 0
	start := processCPU()
	for b.Loop() {
		if _, err := event.Encode(evs[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(evs)
	}
	reportCPU(b, start)
}
