package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wtbdev/wtb/event"
)

// result is the outcome of one in-process run of the command line.
type result struct {
	stdout, stderr string
	code           int
}

// resetFlags puts every flag of cmd and its subcommands back to its default,
// so that in-process runs do not see each other's flags.
func resetFlags(cmd *cobra.Command) {
	reset := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				sv.Replace(nil) // Set appends to a slice
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
	reset(cmd.PersistentFlags())
	reset(cmd.Flags())
	for _, c := range cmd.Commands() {
		resetFlags(c)
	}
}

// run executes the command line in-process with args and stdin, with the
// store environment variables cleared.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	for _, k := range []string{envDB, envStore, envSync} {
		t.Setenv(k, "")
	}
	return runEnv(t, stdin, args...)
}

// runEnv is run without clearing the environment.
func runEnv(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	resetFlags(rootCmd)
	var out, errOut bytes.Buffer
	code := execute(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// mustRun runs and fails the test unless the exit status is 0.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("wtb %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// tempDB returns the path of a database file in a fresh temporary directory.
func tempDB(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "wtb.db")
}

// genBase is the time of the first generated event.
var genBase = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// genEvent returns the i-th event of a generated stream: executions of
// perExec events each (started, then node started/completed and checkpoint
// triples, then completed), with ids derived from seed and i so that the
// same arguments give the same events.
func genEvent(seed string, i, perExec int) event.Event {
	exec := fmt.Sprintf("%s-exec-%06d", seed, i/perExec)
	k := i % perExec
	id := fmt.Sprintf("%s-ev-%09d", seed, i)
	ts := genBase.Add(time.Duration(i) * time.Millisecond)
	node := "node-" + strconv.Itoa((k-1)/3)
	switch {
	case k == 0:
		ev := event.New[event.ExecutionStarted]()
		ev.ID, ev.Timestamp = id, ts
		ev.ExecutionID, ev.WorkflowID, ev.WorkflowName = exec, "wf-gen", "Generated"
		return ev
	case k == perExec-1:
		ev := event.New[event.ExecutionCompleted]()
		ev.ID, ev.Timestamp = id, ts
		ev.ExecutionID, ev.WorkflowID = exec, "wf-gen"
		ev.DurationMS, ev.NodesExecuted = float64(perExec), int64((perExec-2)/3)
		ev.CheckpointsCreated = ev.NodesExecuted
		return ev
	case (k-1)%3 == 0:
		ev := event.New[event.NodeStarted]()
		ev.ID, ev.Timestamp = id, ts
		ev.ExecutionID, ev.NodeID, ev.NodeName, ev.NodeType = exec, node, node, "llm"
		return ev
	case (k-1)%3 == 1:
		ev := event.New[event.NodeCompleted]()
		ev.ID, ev.Timestamp = id, ts
		ev.ExecutionID, ev.NodeID, ev.NodeName = exec, node, node
		ev.DurationMS, ev.ToolInvocations = 12.5, 1
		ev.Result = map[string]any{"answer": "generated text for " + node}
		return ev
	default:
		ev := event.New[event.CheckpointCreated]()
		ev.ID, ev.Timestamp = id, ts
		ev.ExecutionID, ev.CheckpointID, ev.Step = exec, strconv.Itoa(k), int64(k)
		ev.CompletedNode = &node
		return ev
	}
}

// writeEvents writes n generated events as JSON lines to w.
func writeEvents(t testing.TB, w io.Writer, seed string, n, perExec int) {
	t.Helper()
	bw := bufio.NewWriterSize(w, 1<<20)
	for i := range n {
		b, err := event.Encode(genEvent(seed, i, perExec))
		if err != nil {
			t.Fatal(err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// eventsFile writes n generated events to a new file and returns its path.
func eventsFile(t testing.TB, dir, seed string, n, perExec int) string {
	t.Helper()
	path := filepath.Join(dir, seed+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeEvents(t, f, seed, n, perExec)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
