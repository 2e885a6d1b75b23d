package main

// The quickstart prints the failing node as it happens, then the timeline read back from SQLite.
func Example() {
	main()
	// Output:
	// node generate failed: LLM call timed out
	// ============================================================
	//                    WTB AUDIT TRAIL
	// ============================================================
	//
	// Execution: exec-1
	// Workflow:  wf-rag
	// Started:   2026-01-27 10:00:00.000Z
	// Duration:  1500ms
	//
	// Nodes: [+] 1 completed | [X] 1 failed
	// Checkpoints: 1 | 1 rollbacks
	// [!] Errors: 1
	//
	// ------------------------------------------------------------
	//                       TIMELINE
	// ------------------------------------------------------------
	//
	// [10:00:00.000Z] [i] Execution started for workflow 'RAG'
	// [10:00:00.120Z] [+] Node 'retrieve' completed (2 tool calls) (node: retrieve) [120.0ms]
	// [10:00:00.121Z] [i] Checkpoint 'cp-1' created (step 1)
	// [10:00:00.900Z] [X] Node 'generate' failed (node: generate) [779.0ms]
	//               Error: TimeoutError: LLM call timed out
	// [10:00:00.905Z] [!] Rolled back to checkpoint 'cp-1' (1 nodes reverted)
	// [10:00:01.500Z] [+] Execution completed (3 nodes, 1 checkpoints) [1500.0ms]
	//
	// ============================================================
}
