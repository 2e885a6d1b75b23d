package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envChildArgs switches the test binary into running the command line
// (TestCommandChild) with these arguments, one per line.
const envChildArgs = "WTB_TEST_CHILD_ARGS"

// importMemoryLimit is the peak resident memory import may use for a
// 1,000,000-line file.
const importMemoryLimit = 200 << 20

// TestCommandChild runs the command line with the arguments in
// WTB_TEST_CHILD_ARGS; it is how the benchmarks measure a real process.
// Without the variable it is skipped.
func TestCommandChild(t *testing.T) {
	args := os.Getenv(envChildArgs)
	if args == "" {
		t.Skip("runs only as the child process of a benchmark")
	}
	code := execute(context.Background(), strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// childRun is what a child process did.
type childRun struct {
	stdout, stderr string
	peakRSS        int64 // bytes
	elapsed        time.Duration
	cpu            time.Duration // user + system time
}

// runChild runs the command line with args in a child process (this test
// binary) and reports its output and peak resident memory.
func runChild(tb testing.TB, args ...string) childRun {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommandChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildArgs+"="+strings.Join(args, "\n"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		tb.Fatalf("wtb %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatal("no resource usage for the child process")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return childRun{stdout: out.String(), stderr: errOut.String(), peakRSS: ru.Maxrss * 1024, elapsed: elapsed, cpu: cpu}
}

// BenchmarkImport1M imports a generated 1,000,000-line file into a fresh
// SQLite database in a child process and reports the child's peak resident
// memory (peak-RSS-MB, which must stay under 200 MB), its import rate in
// wall-clock time (events/s) and the CPU time it used (cpu-s/op).
// Run it with:
//
//	go test -run '^$' -bench Import1M -benchtime 1x ./cmd/wtb
func BenchmarkImport1M(b *testing.B) {
	const lines = 1_000_000
	dir := b.TempDir()
	path := eventsFile(b, dir, "bench", lines, 50)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var peak int64
	var elapsed, cpu time.Duration
	for i := 0; b.Loop(); i++ {
		db := filepath.Join(dir, "import"+string(rune('a'+i%26))+".db")
		os.Remove(db)
		r := runChild(b, "import", "--db", db, path)
		if !strings.Contains(r.stdout, "imported 1000000, duplicates 0") {
			b.Fatalf("unexpected report: %q (stderr %q)", r.stdout, r.stderr)
		}
		peak = max(peak, r.peakRSS)
		elapsed += r.elapsed
		cpu += r.cpu
		os.Remove(db)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(lines)*float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if peak > importMemoryLimit {
		b.Fatalf("peak resident memory %d MB, limit %d MB", peak>>20, importMemoryLimit>>20)
	}
}

// BenchmarkExport exports 100,000 entries as JSON lines.
func BenchmarkExport(b *testing.B) {
	const lines = 100_000
	dir := b.TempDir()
	path := eventsFile(b, dir, "export", lines, 50)
	db := filepath.Join(dir, "export.db")
	r := runChild(b, "import", "--db", db, path)
	if !strings.Contains(r.stdout, "imported 100000") {
		b.Fatalf("import: %q", r.stdout)
	}
	b.ReportAllocs()
	for b.Loop() {
		resetFlags(rootCmd)
		var out, errOut bytes.Buffer
		if code := execute(context.Background(), []string{"audit", "export", "--db", db}, nil, &out, &errOut); code != 0 {
			b.Fatalf("export: %s", errOut.String())
		}
		if n := bytes.Count(out.Bytes(), []byte{'\n'}); n != lines {
			b.Fatalf("exported %d lines, want %d", n, lines)
		}
		var first map[string]any
		if err := json.Unmarshal(out.Bytes()[:bytes.IndexByte(out.Bytes(), '\n')], &first); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
