package httpapi

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/wtbdev/wtb/audit"
)

// BenchmarkIngestBatch measures POST /v1/events of 100 events into SQLite,
// answered once durable, from 8 clients per CPU (ns/op is per request; the
// client's encoding is included). cmd/wtbload measures the service as a
// whole.
func BenchmarkIngestBatch(b *testing.B) {
	benchIngest(b, 100)
}

// BenchmarkIngestSingle measures one POST /v1/events of one event.
func BenchmarkIngestSingle(b *testing.B) {
	benchIngest(b, 1)
}

func benchIngest(b *testing.B, n int) {
	env := newEnv(b, Options{})
	client := env.client
	url := env.ts.URL + "/v1/events"
	b.ReportAllocs()
	b.SetParallelism(8) // 16 concurrent clients on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := jsonArray(b, nodeEvents("bench", n))
			res, err := client.Post(url, MediaJSON, bytes.NewReader(body))
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
	if got := env.count(); got != int64(b.N*n) {
		b.Fatalf("store has %d entries, want %d", got, b.N*n)
	}
}

// BenchmarkDecodeBatch measures parsing and decoding a body of 100 events
// into audit entries, without the store.
func BenchmarkDecodeBatch(b *testing.B) {
	body := jsonArray(b, nodeEvents("bench", 100))
	s := &Server{opts: Options{MaxBatchEvents: DefaultMaxBatchEvents}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		docs, e := s.split(MediaJSON, body)
		if e != nil {
			b.Fatal(e)
		}
		for i := range docs {
			ev, e := decodeDoc(&docs[i], i)
			if e != nil {
				b.Fatal(e)
			}
			_ = audit.FromEvent(ev)
		}
	}
}

// BenchmarkHubFanout measures fanning one committed batch of 100 entries
// out to 1000 audit:* subscribers (ns/op is per batch).
func BenchmarkHubFanout(b *testing.B) {
	h := newHub()
	defer h.close()
	subs := make([]*subscriber, 1000)
	for i := range subs {
		subs[i] = h.subscribe(topicSet{{all: true}}, 1<<30, true)
	}
	batch := testEntries(100, "fan")
	for i := range batch {
		batch[i].Seq = int64(i + 1)
	}
	var scratch [][]*liveEntry
	b.ReportAllocs()
	for b.Loop() {
		h.commit(batch)
		h.flush()
		for _, s := range subs {
			// As the SSE streams take them.
			scratch, _ = s.takeChunks(scratch)
			if len(scratch) != 1 || len(scratch[0]) != len(batch) {
				b.Fatalf("took %d slices", len(scratch))
			}
		}
	}
}
