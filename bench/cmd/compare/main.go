// Command compare runs the comparison benchmarks of github.com/wtbdev/wtb/bench/workload and
// prints a markdown table of ns/op and allocs/op for wtb's bus, Watermill's
// GoChannel and asaskevich/EventBus.
//
//	go run ./cmd/compare [-count 5] [-benchtime 1s] [-check]
//
// Each case runs -count times; the table shows the median run. With -check
// the command exits with status 1 unless wtb is the fastest library for
// synchronous delivery to 1 and to 10 subscribers.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/bench/workload"
)

func main() {
	testing.Init()
	count := flag.Int("count", 5, "runs per case; the median is reported")
	benchtime := flag.String("benchtime", "1s", "duration (or Nx iterations) of each run")
	check := flag.Bool("check", false, "exit 1 unless wtb is fastest for sync delivery")
	flag.Parse()
	if *count < 1 {
		fmt.Fprintln(os.Stderr, "compare: -count must be at least 1")
		os.Exit(2)
	}
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "compare: -benchtime:", err)
		os.Exit(2)
	}
	results := map[string]testing.BenchmarkResult{}
	for _, c := range workload.Cases() {
		runs := make([]testing.BenchmarkResult, 0, *count)
		for range *count {
			runs = append(runs, testing.Benchmark(c.Run))
		}
		slices.SortFunc(runs, func(a, b testing.BenchmarkResult) int {
			return int(a.NsPerOp() - b.NsPerOp())
		})
		r := runs[len(runs)/2]
		results[c.Name()] = r
		fmt.Fprintf(os.Stderr, "%-28s %12d ns/op %6d allocs/op\n", c.Name(), r.NsPerOp(), r.AllocsPerOp())
	}
	printTable(os.Stdout, results)
	if *check {
		if slow := notFastest(results); len(slow) > 0 {
			fmt.Fprintln(os.Stderr, "compare: wtb is not the fastest for:", strings.Join(slow, ", "))
			os.Exit(1)
		}
	}
}

var libraries = []string{"wtb", "EventBus", "Watermill"}

func printTable(w io.Writer, results map[string]testing.BenchmarkResult) {
	fmt.Fprintf(w, "Go %s, %s/%s, GOMAXPROCS=%d; median of the runs; one op = one event published and received by every subscriber.\n\n",
		strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintln(w, "| Delivery | Subscribers | wtb bus | asaskevich/EventBus | Watermill GoChannel |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, mode := range []string{"sync", "async"} {
		for _, n := range workload.SubscriberCounts {
			cells := []string{mode, fmt.Sprint(n)}
			for _, lib := range libraries {
				r := results[workload.Case{Library: lib, Mode: mode, Subscribers: n}.Name()]
				cells = append(cells, fmt.Sprintf("%s ns/op, %d allocs/op", ns(r.NsPerOp()), r.AllocsPerOp()))
			}
			fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
		}
	}
}

// ns formats nanoseconds with thousands separators.
func ns(v int64) string {
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// notFastest lists the sync cases where another library beat wtb.
func notFastest(results map[string]testing.BenchmarkResult) []string {
	var slow []string
	for _, n := range workload.SubscriberCounts {
		w := results[workload.Case{Library: "wtb", Mode: "sync", Subscribers: n}.Name()].NsPerOp()
		for _, lib := range libraries[1:] {
			if o := results[workload.Case{Library: lib, Mode: "sync", Subscribers: n}.Name()].NsPerOp(); o <= w {
				slow = append(slow, fmt.Sprintf("sync/subs=%d (%s %d ns <= wtb %d ns)", n, lib, o, w))
			}
		}
	}
	return slow
}
