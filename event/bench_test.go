package event_test

import (
	"testing"

	"wtb/event"
)

// benchDoc is a typical event as the reference writes it (a CheckpointCreated
// from the samples, 316 bytes).
func benchDoc(b *testing.B) []byte {
	return sampleLines(b)[1]
}

func BenchmarkDecode(b *testing.B) {
	doc := benchDoc(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := event.Decode(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSamples decodes the 164 reference samples in turn.
func BenchmarkDecodeSamples(b *testing.B) {
	lines := sampleLines(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := event.Decode(lines[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(lines)
	}
}

func BenchmarkEncode(b *testing.B) {
	ev, err := event.Decode(benchDoc(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
