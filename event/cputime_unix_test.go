//go:build unix

package event_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used.
// Benchmarks report it per operation next to ns/op, which on a shared,
// loaded machine also counts the time the benchmark waited for a CPU.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
