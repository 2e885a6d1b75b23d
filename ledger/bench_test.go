package ledger_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/ledger"
)

// BenchmarkLeaf is the leaf hash of a typical entry: payload digest and leaf.
func BenchmarkLeaf(b *testing.B) {
	e := entry(7)
	e.Seq = 1234567
	var h ledger.Hasher
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		h.Leaf(&e)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time this process has used: steadier than the
// elapsed time on a busy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuilderAppend is adding one leaf to the tree (node hashes,
// tiles), without hashing the entry.
func BenchmarkBuilderAppend(b *testing.B) {
	bl := ledger.NewBuilder()
	leaf := ledger.Hash{1}
	b.ReportAllocs()
	seq := int64(0)
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		seq++
		if seq%4096 == 0 {
			bl.Flush()
			bl.Commit()
			bl.Begin()
		}
		if err := bl.Append(seq, leaf); err != nil {
			b.Fatal(err)
		}
	}
}
