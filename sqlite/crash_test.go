package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/sqlite"
)

// Environment of the child process of TestCrashSafety.
const (
	crashDBEnv  = "WTB_SQLITE_CRASH_DB"
	crashRunEnv = "WTB_SQLITE_CRASH_RUN"
)

// TestCrashChild is the child of TestCrashSafety; it does nothing in a
// normal test run. It records entries through an audit.Recorder into the
// database named by WTB_SQLITE_CRASH_DB from several goroutines and prints
// "ack <event_id>" for every entry whose Receipt.Wait returned, until it is
// killed (or after 60 s).
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("child of TestCrashSafety only")
	}
	run, _ := strconv.Atoi(os.Getenv(crashRunEnv))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	rec := audit.NewRecorder(store, audit.RecorderOptions{MaxBatch: 500, Linger: time.Millisecond})
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	ack := func(ids []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			out.WriteString("ack " + id + "\n")
		}
		out.Flush()
	}
	fmt.Fprintln(out, "ready")
	out.Flush()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(run), uint64(g)))
			for i := 0; ctx.Err() == nil; {
				n := 1 + r.IntN(50)
				es := make([]audit.Entry, n)
				for j := range es {
					es[j] = crashEntry(fmt.Sprintf("r%03d-g%d-%07d", run, g, i+j))
				}
				// Now and then resend an id of an earlier run: never recorded twice.
				if run > 0 && r.IntN(5) == 0 {
					es = append(es, crashEntry(fmt.Sprintf("r%03d-g%d-%07d", r.IntN(run), g, r.IntN(20))))
				}
				i += n
				rc, err := rec.Submit(ctx, es)
				if err != nil {
					return
				}
				if _, err := rc.Wait(ctx); err != nil {
					return
				}
				ids := make([]string, n)
				for j := range n {
					ids[j] = es[j].EventID
				}
				ack(ids)
			}
		})
	}
	wg.Wait()
}

func crashEntry(id string) audit.Entry {
	d := 1.5
	return audit.Entry{
		EventID: id, SourceType: "NodeCompletedEvent", Timestamp: time.Now(),
		Type: "node_completed", Severity: audit.SeveritySuccess, Message: "Node 'n' completed",
		ExecutionID: "exec-crash", NodeID: "n", Details: []byte(`{"node_id":"n"}`), DurationMS: &d,
	}
}

// TestCrashSafety kills a child that records through the Recorder with
// SIGKILL at random moments, 20 times on one database file, and checks after
// every kill that the database opens cleanly, passes integrity_check, holds
// every acknowledged entry exactly once, and has strictly increasing,
// unique seqs.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashDBEnv) != "" {
		t.Skip("in the child")
	}
	const runs = 20
	path := filepath.Join(t.TempDir(), "crash.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	var lastSeq int64
	total := 0
	for run := range runs {
		acked := runCrashChild(t, path, run, time.Duration(20+r.IntN(300))*time.Millisecond)
		if len(acked) == 0 {
			t.Fatalf("run %d: no entry acknowledged before the kill", run)
		}
		total += len(acked)

		// The store opens cleanly (recovering the WAL) and finds every acknowledged id once.
		ctx := context.Background()
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatalf("run %d: open after kill: %v", run, err)
		}
		n, err := s.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open(string(sqlite.DefaultDriver), "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("run %d: integrity_check = %q, %v", run, check, err)
		}
		var rows, distinctIDs, distinctSeqs int64
		if err := db.QueryRow("SELECT count(*), count(DISTINCT event_id), count(DISTINCT seq) FROM entries").Scan(&rows, &distinctIDs, &distinctSeqs); err != nil {
			t.Fatal(err)
		}
		if rows != n || distinctIDs != rows || distinctSeqs != rows {
			t.Fatalf("run %d: %d rows, Count %d, %d distinct ids, %d distinct seqs", run, rows, n, distinctIDs, distinctSeqs)
		}
		// This run's rows, in seq order: seqs continue after the previous run's and increase.
		got := map[string]int{}
		q, err := db.Query("SELECT seq, event_id FROM entries WHERE seq > ? ORDER BY seq", lastSeq)
		if err != nil {
			t.Fatal(err)
		}
		prev := lastSeq
		for q.Next() {
			var seq int64
			var id string
			if err := q.Scan(&seq, &id); err != nil {
				t.Fatal(err)
			}
			if seq <= prev {
				t.Fatalf("run %d: seq %d after %d", run, seq, prev)
			}
			prev = seq
			got[id]++
		}
		if err := q.Err(); err != nil {
			t.Fatal(err)
		}
		q.Close()
		db.Close()
		for _, id := range acked {
			if got[id] != 1 {
				t.Fatalf("run %d: acknowledged %s found %d times", run, id, got[id])
			}
		}
		t.Logf("run %d: %d acknowledged, %d recorded (%d unacknowledged made it before the kill)", run, len(acked), len(got), len(got)-len(acked))
		lastSeq = prev
	}
	t.Logf("%d runs, %d acknowledged entries, all present once", runs, total)
}

// runCrashChild starts the child, kills it with SIGKILL d after its first
// acknowledgement, and returns the ids it acknowledged. A child that
// acknowledges nothing within 60 s exits by itself and fails the run.
func runCrashChild(t *testing.T, path string, run int, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashRunEnv+"="+strconv.Itoa(run))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		br := bufio.NewReader(stdout)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return // a line cut by the kill has no newline: it does not count
			}
			lines <- strings.TrimSuffix(l, "\n")
		}
	}()
	var acked []string
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	ready := false
	for !ready {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("run %d: child exited before ready: %s", run, stderr.String())
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("run %d: child: %s", run, l)
			}
			ready = l == "ready"
		case <-timer.C:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: child not ready after 10 s: %s", run, stderr.String())
		}
	}
	// The kill comes d after the first acknowledgement, not after "ready":
	// on a busy machine the first commit can take longer than d.
	var kill *time.Timer
	for l := range lines {
		if id, ok := strings.CutPrefix(l, "ack "); ok {
			acked = append(acked, id)
			if kill == nil {
				kill = time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGKILL) })
				defer kill.Stop()
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("run %d: child was not killed by SIGKILL (%v): %s", run, err, stderr.String())
	}
	return acked
}
