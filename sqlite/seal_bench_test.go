package sqlite_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/sqlite"
)

// Shape of BenchmarkSeal: short runs like OTLP traces, appended a few at a
// time like the requests of an OTLP exporter.
const (
	sealRunsPerOp  = 1000
	sealRunEntries = 15
	sealRunsPerAdd = 10
)

// BenchmarkSeal seals 1,000 runs of 15 entries per op, as wtb serve does
// under OTLP ingest: the runs' entries go through AppendLeaves and
// Sealer.CommittedLeaves, then SealPending seals them under one checkpoint. Like
// the recorder's writer during a seal, the seal's Append first records the
// next op's runs, so that the runs sealed next ended before this seal (the
// seals of the previous op are in the window SealPending looks at for seals
// of other processes). The time and CPU of appending the runs are not
// counted: us/run, cpu-us/run and allocs/run are the seal's own, its
// Append included.
// memory=on is the Sealer as it is, memory=off with no entries kept
// (MaxTrackedBytes -1): every run read back.
func BenchmarkSeal(b *testing.B) {
	for _, mem := range []string{"on", "off"} {
		b.Run("memory="+mem, func(b *testing.B) {
			opts := ledger.SealerOptions{}
			if mem == "off" {
				opts.MaxTrackedBytes = -1
			}
			benchSeal(b, opts)
		})
	}
}

func benchSeal(b *testing.B, opts ledger.SealerOptions) {
	ctx := context.Background()
	s := openTemp(b, sqlite.Options{})
	skey, _, err := ledger.GenerateKey("wtb.bench/seal")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	cp := ledger.NewCheckpointer(s, signer, ledger.CheckpointerOptions{})
	var (
		sealer    *ledger.Sealer
		next      int
		skipWall  time.Duration
		skipCPU   time.Duration
		skipAlloc uint64
		ms        runtime.MemStats
		batch     = make([]audit.Entry, 0, sealRunsPerAdd*sealRunEntries)
		startedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	)
	mallocs := func() uint64 {
		runtime.ReadMemStats(&ms)
		return ms.Mallocs
	}
	addRuns := func() {
		w0, c0, a0 := time.Now(), cpuTime(), mallocs()
		for r := 0; r < sealRunsPerOp; r += sealRunsPerAdd {
			batch = batch[:0]
			for k := range sealRunsPerAdd {
				batch = append(batch, sealRun(next+r+k, startedAt)...)
			}
			_, leaves, err := s.AppendLeaves(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			sealer.CommittedLeaves(batch, leaves)
		}
		next += sealRunsPerOp
		skipAlloc += mallocs() - a0
		skipWall += time.Since(w0)
		skipCPU += cpuTime() - c0
	}
	opts.Append = func(ctx context.Context, seals []audit.Entry) error {
		addRuns()
		_, leaves, err := s.AppendLeaves(ctx, seals)
		if err != nil {
			return err
		}
		sealer.CommittedLeaves(seals, leaves)
		return nil
	}
	sealer = ledger.NewSealer(s, cp, opts)
	addRuns()
	skipWall, skipCPU, skipAlloc = 0, 0, 0
	w0, c0, a0 := time.Now(), cpuTime(), mallocs()
	for b.Loop() {
		if err := sealer.SealPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
	runs := float64(b.N * sealRunsPerOp)
	b.ReportMetric(float64((time.Since(w0)-skipWall).Microseconds())/runs, "us/run")
	b.ReportMetric(float64((cpuTime()-c0-skipCPU).Microseconds())/runs, "cpu-us/run")
	b.ReportMetric(float64(mallocs()-a0-skipAlloc)/runs, "allocs/run")
	st := sealer.Stats()
	if st.Sealed != uint64(b.N*sealRunsPerOp) {
		b.Fatalf("sealed %d runs, want %d", st.Sealed, b.N*sealRunsPerOp)
	}
	want := st.Sealed
	if opts.MaxTrackedBytes < 0 {
		want = 0
	}
	if st.FromMemory != want {
		b.Fatalf("%d runs sealed from memory, want %d", st.FromMemory, want)
	}
}

// sealRun returns the entries of run n: a start, 13 steps and an end.
func sealRun(n int, t0 time.Time) []audit.Entry {
	id := "trace-" + strconv.Itoa(n)
	d := 12.5
	es := make([]audit.Entry, sealRunEntries)
	for i := range es {
		es[i] = audit.Entry{
			EventID: id + "-" + strconv.Itoa(i), SourceType: "otlp",
			Timestamp: t0.Add(time.Duration(n*sealRunEntries+i) * time.Microsecond), Type: audit.TypeNodeCompleted,
			Severity: audit.SeveritySuccess, Message: "Node 'retrieve' completed",
			ExecutionID: id, NodeID: "retrieve",
			Details:    []byte(`{"node_name":"retrieve","span_id":"00f067aa0ba902b7","gen_ai.usage.input_tokens":812,"gen_ai.request.model":"gpt-4o"}`),
			DurationMS: &d,
		}
	}
	es[0].Type, es[0].NodeID, es[0].DurationMS = audit.TypeExecutionStarted, "", nil
	es[0].Details = []byte(`{"workflow_id":"rag-agent"}`)
	es[len(es)-1].Type, es[len(es)-1].NodeID = audit.TypeExecutionCompleted, ""
	return es
}
