package sqlite_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

// BenchmarkAppendTree appends batches of 4,096 entries (the recorder's
// default) with the Merkle tree on and off: the tree's cost on the write
// path alone. One op is one batch.
func BenchmarkAppendTree(b *testing.B) {
	for _, tree := range []string{"on", "off"} {
		b.Run("tree="+tree, func(b *testing.B) {
			s := openTemp(b, sqlite.Options{NoLedger: tree == "off"})
			ctx := context.Background()
			es := benchEntries("", 4096)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				for j := range es {
					es[j].EventID = strconv.Itoa(1e9+i) + "-" + strconv.Itoa(1e4+j)
					es[j].Timestamp = time.Unix(0, int64(i*4096+j)*1000)
				}
				if res, err := s.Append(ctx, es); err != nil || res.Appended != len(es) {
					b.Fatal(res.Appended, err)
				}
			}
			b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N*4096)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
			_ = audit.Entry{}
		})
	}
}
