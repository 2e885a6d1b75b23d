package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wtbdev/wtb/event"
)

// The audit commands on a small file of events: import it, list the
// executions, print one execution's summary and timeline.
func Example() {
	dir, _ := os.MkdirTemp("", "wtb-example")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "wtb.db")
	events := filepath.Join(dir, "events.jsonl")
	var lines []string
	for i := range 5 { // started, node started/completed, checkpoint, completed
		b, _ := event.Encode(genEvent("ex", i, 5))
		lines = append(lines, string(b))
	}
	os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	wtb := func(args ...string) {
		resetFlags(rootCmd)
		execute(context.Background(), append(args, "--db", db), nil, os.Stdout, os.Stdout)
	}
	wtb("import", events)
	wtb("import", events)
	wtb("audit", "list")
	fmt.Println()
	wtb("audit", "show", "ex-exec-000000", "--debug")
	wtb("audit", "show", "nope")
	// Output:
	// imported 5, duplicates 0
	// imported 0, duplicates 5 (nothing new: every event was already recorded)
	// EXECUTION       WORKFLOW  STATUS     ENTRIES  NODES  FAILED  CHECKPOINTS  ROLLBACKS  ERRORS  STARTED               DURATION
	// ex-exec-000000  wf-gen    completed  5        1      0       1            0          0       2026-03-14 09:26:53Z  0.004s
	// 1 execution
	//
	// ============================================================
	//                    WTB AUDIT TRAIL
	// ============================================================
	//
	// Execution: ex-exec-000000
	// Workflow:  wf-gen
	// Started:   2026-03-14 09:26:53.589Z
	// Duration:  4ms
	//
	// Nodes: [+] 1 completed
	// Checkpoints: 1
	//
	// ------------------------------------------------------------
	//                       TIMELINE
	// ------------------------------------------------------------
	//
	// [09:26:53.589Z] [i] Execution started for workflow 'Generated'
	// [09:26:53.590Z] [D] Node 'node-0' started (node: node-0)
	// [09:26:53.591Z] [+] Node 'node-0' completed (1 tool calls) (node: node-0) [12.5ms]
	// [09:26:53.592Z] [i] Checkpoint '3' created (step 3) (node: node-0)
	// [09:26:53.593Z] [+] Execution completed (1 nodes, 1 checkpoints) [5.0ms]
	//
	// ============================================================
	// wtb: execution "nope" not found
}
