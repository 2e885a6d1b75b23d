package bench_test

import (
	"testing"

	"github.com/wtbdev/wtb/bench/workload"
)

// BenchmarkCompare runs every case of the comparison: sync and async
// delivery to 1 and to 10 subscribers through wtb, EventBus and Watermill.
func BenchmarkCompare(b *testing.B) {
	for _, c := range workload.Cases() {
		b.Run(c.Name(), c.Run)
	}
}
