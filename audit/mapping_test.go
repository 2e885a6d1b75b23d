package audit_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/internal/refdata"
)

// pinned is the entry of the first reference sample of every event type
// (LangGraphAudit, which has no sample, is pinned in TestLangGraphMapping).
var pinned = []struct {
	typeName  string
	auditType audit.Type
	severity  audit.Severity
	message   string
	execution string
	node      string
}{
	{"BranchCreated", audit.TypeBranchCreated, audit.SeverityInfo, "Branch created: thread embed from exec-3", "exec-2", ""},
	{"CheckpointCreated", audit.TypeCheckpointCreated, audit.SeverityInfo, "Checkpoint 'cp-1477' created (step 472)", "exec-3", "retrieve"},
	{"ExecutionHistoryLoaded", audit.TypeExecutionHistoryLoaded, audit.SeverityInfo, "Execution history loaded (445 checkpoints, 1 completed nodes)", "exec-6", ""},
	{"NodeBoundaryRecorded", audit.TypeNodeBoundaryRecorded, audit.SeverityDebug, "Node 'finalize' retrieve boundary recorded (finalize)", "exec-4", "finalize"},
	{"RollbackCompleted", audit.TypeRollbackPerformed, audit.SeverityWarning, "Rolled back to checkpoint 'cp-8cc1' (3 nodes reverted)", "exec-5", ""},
	{"RollbackFailed", audit.TypeRollbackFailed, audit.SeverityError, "Rollback to checkpoint 'cp-8350' failed: bad tool output", "exec-4", ""},
	{"RollbackRequested", audit.TypeRollbackRequested, audit.SeverityInfo, "Rollback to checkpoint 'cp-c43c' requested: timeout after 30s", "exec-5", "rank"},
	{"DependenciesAdded", audit.TypeDependenciesAdded, audit.SeverityWarning, "Added 3 packages to environment 'wf-sql_rank_tool_call' (exit code 48)", "", "rank"},
	{"DependenciesRemoved", audit.TypeDependenciesRemoved, audit.SeverityWarning, "Removed 4 packages from environment 'wf-rag_rank_tool_call' (exit code 331)", "", "rank"},
	{"DependenciesUpdated", audit.TypeDependenciesUpdated, audit.SeverityWarning, "Updated 0 packages in environment 'wf-sql_retrieve_generate' (exit code 328)", "", "retrieve"},
	{"DependencyOperationFailed", audit.TypeDependencyOperationFailed, audit.SeverityError, "Dependency embed failed in environment 'wf-sql_summarize_rank': user requested", "", "summarize"},
	{"EnvironmentCleanupCompleted", audit.TypeEnvironmentCleanupCompleted, audit.SeveritySuccess, "Environment cleanup completed: 26 environments deleted", "", ""},
	{"EnvironmentCleanupStarted", audit.TypeEnvironmentCleanupStarted, audit.SeverityInfo, "Environment cleanup started (idle for 453 hours)", "", ""},
	{"EnvironmentCreated", audit.TypeEnvironmentCreated, audit.SeveritySuccess, "Environment 'wf-sql_grader_finalize' created", "", "grader"},
	{"EnvironmentCreationFailed", audit.TypeEnvironmentCreationFailed, audit.SeverityError, "Environment 'wf-triage_summarize_retrieve' creation failed: user requested", "", "summarize"},
	{"EnvironmentCreationStarted", audit.TypeEnvironmentCreationStarted, audit.SeverityInfo, "Environment 'wf-sql_grader_summarize' creation started (Python generate, 4 packages)", "", "grader"},
	{"EnvironmentDeleted", audit.TypeEnvironmentDeleted, audit.SeverityInfo, "Environment 'wf-sql_rank_router' deleted", "", "rank"},
	{"EnvironmentLockAcquired", audit.TypeEnvironmentLockAcquired, audit.SeverityDebug, "Environment 'wf-triage_finalize_sql_agent' locked for finalize", "", "finalize"},
	{"EnvironmentLockReleased", audit.TypeEnvironmentLockReleased, audit.SeverityDebug, "Environment 'wf-rag_rank_finalize' unlocked after grader", "", "rank"},
	{"EnvironmentLockTimeout", audit.TypeEnvironmentLockTimeout, audit.SeverityError, "Environment 'wf-triage_summarize_tool_call' lock timed out for summarize after 206ms", "", "summarize"},
	{"EnvironmentSyncFailed", audit.TypeEnvironmentSyncFailed, audit.SeverityError, "Environment 'wf-rag_router_generate' sync failed: bad tool output", "", "router"},
	{"EnvironmentSynced", audit.TypeEnvironmentSynced, audit.SeverityWarning, "Environment 'wf-triage_router_grader' synced (exit code 31)", "", "router"},
	{"ExecutionCancelled", audit.TypeExecutionCancelled, audit.SeverityWarning, "Execution cancelled: timeout after 30s", "exec-6", "summarize"},
	{"ExecutionCompleted", audit.TypeExecutionCompleted, audit.SeveritySuccess, "Execution completed (91 nodes, 337 checkpoints)", "exec-3", ""},
	{"ExecutionFailed", audit.TypeExecutionFailed, audit.SeverityError, "Execution failed at node 'grader'", "exec-5", "grader"},
	{"ExecutionPaused", audit.TypeExecutionPaused, audit.SeverityInfo, "Execution paused: user requested", "exec-6", "tool_call"},
	{"ExecutionResumed", audit.TypeExecutionResumed, audit.SeverityInfo, "Execution resumed from node 'sql_agent'", "exec-4", "sql_agent"},
	{"ExecutionStarted", audit.TypeExecutionStarted, audit.SeverityInfo, "Execution started for workflow 'wf-rag'", "exec-4", ""},
	{"BlobCreated", audit.TypeBlobCreated, audit.SeverityDebug, "Blob 'sql_agent' created (327 bytes)", "", ""},
	{"BlobDeleted", audit.TypeBlobDeleted, audit.SeverityDebug, "Blob 'generate' deleted (247 bytes)", "", ""},
	{"CheckpointFileLinkCreated", audit.TypeCheckpointFileLinkCreated, audit.SeverityInfo, "Checkpoint 207 linked to file commit '7aa1e64771a08dd3116eb1ec6511ac99806d56cc' (179 files)", "", ""},
	{"CheckpointFileLinkVerified", audit.TypeCheckpointFileLinkVerified, audit.SeverityInfo, "Checkpoint 383 link to file commit '7eda1fca69a3e9a58f6aa4b93364aad344f45bef' verified (426 blobs)", "", ""},
	{"FileCommitCreated", audit.TypeFileCommitCreated, audit.SeveritySuccess, "File commit '6add74beb3af779d8856924dc636088a72bde070' created (233 files, 389 bytes)", "exec-6", ""},
	{"FileCommitDeleted", audit.TypeFileCommitDeleted, audit.SeverityInfo, "File commit '59cd96b9569eabda64d990f5efbff24cb52186f2' deleted (397 files)", "", ""},
	{"FileCommitVerified", audit.TypeFileCommitVerified, audit.SeverityInfo, "File commit 'cb850d0e2c76aeb8293d857d53c5936fd5755d1c' verified (32 blobs)", "", ""},
	{"FileRestoreFailed", audit.TypeFileRestoreFailed, audit.SeverityError, "File restore from commit '59ab6908d839d0ae92d271c553373361cf288da6' failed: user requested", "", ""},
	{"FileRestored", audit.TypeFileRestored, audit.SeveritySuccess, "Restored 392 files from commit 'e01e14a2dafc3cd85ec609b7725f0fda6c7fb489'", "", ""},
	{"FileTrackingCompleted", audit.TypeFileTrackingCompleted, audit.SeveritySuccess, "File tracking 'tool_call' completed (commit 'b4d72afaf2bfebc45355f91b23372dbd7bb47b27')", "", ""},
	{"FileTrackingFailed", audit.TypeFileTrackingFailed, audit.SeverityError, "File tracking 'embed' failed: timeout after 30s", "", ""},
	{"FileTrackingStarted", audit.TypeFileTrackingStarted, audit.SeverityDebug, "File tracking 'router' started (1 files)", "", ""},
	{"NodeCompleted", audit.TypeNodeCompleted, audit.SeveritySuccess, "Node 'generate_8' completed (122 tool calls)", "exec-4", "retrieve"},
	{"NodeFailed", audit.TypeNodeFailed, audit.SeverityError, "Node 'grader_4' failed", "exec-3", "rank"},
	{"NodeSkipped", audit.TypeNodeSkipped, audit.SeverityInfo, "Node 'embed_7' skipped: timeout after 30s", "exec-1", "embed"},
	{"NodeStarted", audit.TypeNodeStarted, audit.SeverityDebug, "Node 'generate_2' started", "exec-3", "embed"},
	{"RayActorFailed", audit.TypeRayActorFailed, audit.SeverityError, "Ray actor 'actor-2' failed: bad tool output", "batch-3", ""},
	{"RayActorInitialized", audit.TypeRayActorInitialized, audit.SeverityDebug, "Ray actor 'actor-0' initialized", "batch-2", ""},
	{"RayActorPoolCreated", audit.TypeRayActorPoolCreated, audit.SeverityInfo, "Ray actor pool created: 341 actors", "batch-1", ""},
	{"RayActorRestarted", audit.TypeRayActorRestarted, audit.SeverityWarning, "Ray actor 'actor-5' restarted (restart 354): rate limited", "batch-2", ""},
	{"RayBackpressureApplied", audit.TypeRayBackpressure, audit.SeverityWarning, "Backpressure applied: 457/495 pending tasks", "batch-1", ""},
	{"RayBackpressureReleased", audit.TypeRayBackpressureReleased, audit.SeverityInfo, "Backpressure released: 388 pending tasks", "batch-1", ""},
	{"RayBatchTestCancelled", audit.TypeRayBatchTestCancelled, audit.SeverityWarning, "Ray batch test cancelled: user requested", "batch-1", ""},
	{"RayBatchTestCompleted", audit.TypeRayBatchTestCompleted, audit.SeveritySuccess, "Ray batch test completed: 21 succeeded, 214 failed", "batch-1", ""},
	{"RayBatchTestFailed", audit.TypeRayBatchTestFailed, audit.SeverityError, "Ray batch test failed: bad tool output", "batch-3", ""},
	{"RayBatchTestProgress", audit.TypeRayBatchTestProgress, audit.SeverityDebug, "Ray batch test progress: 124/148 variants completed, 26 failed", "batch-3", ""},
	{"RayBatchTestStarted", audit.TypeRayBatchTestStarted, audit.SeverityInfo, "Ray batch test 'batch-3' started (175 variants, 75 workers)", "batch-3", ""},
	{"RayVariantExecutionCancelled", audit.TypeRayVariantExecutionCancelled, audit.SeverityWarning, "Variant 'generate_3' cancelled: rate limited", "batch-3", "exec-4"},
	{"RayVariantExecutionCompleted", audit.TypeRayVariantExecutionCompleted, audit.SeveritySuccess, "Variant 'retrieve_6' completed (score: 4974.63)", "batch-3", "exec-4"},
	{"RayVariantExecutionFailed", audit.TypeRayVariantExecutionFailed, audit.SeverityError, "Variant 'embed_4' failed: bad tool output", "batch-2", "exec-5"},
	{"RayVariantExecutionStarted", audit.TypeRayVariantExecutionStarted, audit.SeverityDebug, "Variant 'generate_8' started on actor 'actor-4'", "batch-3", "exec-6"},
	{"RayVariantFilesTracked", audit.TypeRayFilesTracked, audit.SeverityInfo, "Tracked 79 files for variant 'generate_4'", "batch-3", "exec-3"},
	{"RayVariantFilesTrackingFailed", audit.TypeRayFilesTrackingFailed, audit.SeverityError, "File tracking failed for variant 'retrieve_1': rate limited", "batch-1", "exec-4"},
	{"ActorCreated", audit.TypeActorCreated, audit.SeverityInfo, "Actor 'actor-2' created to resume", "exec-4", ""},
	{"ActorKilled", audit.TypeActorKilled, audit.SeverityInfo, "Actor 'actor-6' killed: rate limited", "", ""},
	{"ActorReset", audit.TypeActorReset, audit.SeverityInfo, "Actor 'actor-6' reset: bad tool output", "", ""},
	{"FileRestore", audit.TypeWorkspaceFilesRestored, audit.SeverityError, "File restore into workspace 'embed' from checkpoint 182 failed: bad tool output", "exec-2", ""},
	{"WorkspaceFileRestoreFailed", audit.TypeWorkspaceFileRestoreFailed, audit.SeverityError, "File restore into workspace 'tool_call' from checkpoint 315 failed: user requested", "exec-5", ""},
	{"FileSnapshotCreated", audit.TypeFileSnapshotCreated, audit.SeverityInfo, "File snapshot '133c13f4829098fa2c177c245fc99a2fbd13864f' created for workspace 'summarize' (303 files)", "batch-2", ""},
	{"ForkCompleted", audit.TypeExecutionForked, audit.SeveritySuccess, "Execution 'exec-5' forked from 'exec-2' (224 files copied)", "exec-2", ""},
	{"ForkRequested", audit.TypeForkRequested, audit.SeverityInfo, "Fork of execution 'exec-4' requested as 'exec-3' (embed)", "exec-4", ""},
	{"OrphanCleanupCompleted", audit.TypeOrphanCleanupCompleted, audit.SeverityWarning, "Orphan cleanup completed: 336 of 242 cleaned (4 errors)", "", ""},
	{"OrphanWorkspaceDetected", audit.TypeOrphanWorkspaceDetected, audit.SeverityWarning, "Orphan workspace '/srv/agent-ws/embed.txt' detected (tool_call)", "", ""},
	{"ResourcesReacquired", audit.TypeResourcesReacquired, audit.SeverityInfo, "Actor 'actor-4' reacquired resources", "", ""},
	{"ResourcesReleased", audit.TypeResourcesReleased, audit.SeverityInfo, "Actor 'actor-1' released resources: timeout after 30s", "", ""},
	{"VenvCreated", audit.TypeVenvCreated, audit.SeverityInfo, "Virtual environment created at '/srv/agent-ws/grader.txt' (Python retrieve, 3 packages)", "exec-2", ""},
	{"VenvInvalidated", audit.TypeVenvInvalidated, audit.SeverityWarning, "Virtual environment of node 'tool_call' invalidated: rate limited", "", "tool_call"},
	{"VenvMismatchWarning", audit.TypeVenvMismatch, audit.SeverityWarning, "Virtual environment differs from checkpoint 353", "", ""},
	{"VenvRestored", audit.TypeVenvRestored, audit.SeverityInfo, "Virtual environment '/srv/agent-ws/router.txt' restored from summarize", "", ""},
	{"VenvReused", audit.TypeVenvReused, audit.SeverityDebug, "Virtual environment '/srv/agent-ws/sql_agent.txt' reused", "", ""},
	{"WorkspaceActivated", audit.TypeWorkspaceActivated, audit.SeverityDebug, "Workspace 'tool_call' activated", "exec-6", ""},
	{"WorkspaceCleanedUp", audit.TypeWorkspaceCleanedUp, audit.SeverityInfo, "Workspace 'router' preserved: rate limited", "", ""},
	{"WorkspaceCreated", audit.TypeWorkspaceCreated, audit.SeverityInfo, "Workspace 'tool_call' created for variant 'router_8' (451 files)", "exec-4", ""},
	{"WorkspaceDeactivated", audit.TypeWorkspaceDeactivated, audit.SeverityDebug, "Workspace 'tool_call' deactivated (290 files written)", "exec-1", ""},
}

// TestMappingPinned pins the audit type, severity, message and ids of every
// event type of the catalog.
func TestMappingPinned(t *testing.T) {
	first := map[string]event.Event{}
	for _, line := range lines(refdata.Events) {
		ev, err := event.Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := first[ev.Type().Name]; !ok {
			first[ev.Type().Name] = ev
		}
	}
	if len(pinned)+1 != event.NumTypes || len(first) != len(pinned) {
		t.Fatalf("%d pinned types, %d sampled, want %d", len(pinned), len(first), event.NumTypes-1)
	}
	for _, p := range pinned {
		t.Run(p.typeName, func(t *testing.T) {
			ev := first[p.typeName]
			if ev == nil {
				t.Fatalf("no sample of %s", p.typeName)
			}
			e := audit.FromEvent(ev)
			if e.Type != p.auditType || e.Severity != p.severity || e.Message != p.message || e.ExecutionID != p.execution || e.NodeID != p.node {
				t.Errorf("got  %s %s %q exec=%q node=%q\nwant %s %s %q exec=%q node=%q",
					e.Type, e.Severity, e.Message, e.ExecutionID, e.NodeID, p.auditType, p.severity, p.message, p.execution, p.node)
			}
			if e.EventID != ev.EventID() || e.SourceType != ev.WireName() || !e.Timestamp.Equal(ev.EventTime()) {
				t.Errorf("identity: %q %q %v", e.EventID, e.SourceType, e.Timestamp)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMappingCoversEveryType checks that every event type maps to a known
// audit type, and every audit type but the reference's four unused ones is
// produced by some event.
func TestMappingCoversEveryType(t *testing.T) {
	produced := map[audit.Type]bool{}
	for _, typ := range event.Types() {
		ev := typ.New()
		if lg, ok := ev.(*event.LangGraphAudit); ok {
			for _, k := range event.LangGraphKinds() {
				lg.Kind = k
				produced[audit.FromEvent(event.Stamp(lg)).Type] = true
			}
			continue
		}
		e := audit.FromEvent(event.Stamp(ev))
		if !e.Type.Known() || strings.HasPrefix(e.Message, "Event ") {
			t.Errorf("%s maps to %q %q", typ.Name, e.Type, e.Message)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: zero event: %v", typ.Name, err)
		}
		produced[e.Type] = true
	}
	unused := []audit.Type{audit.TypeStateModified, audit.TypeBreakpointHit, audit.TypeVariantStarted, audit.TypeVariantCompleted,
		// The ledger's own records: no event makes them.
		audit.TypeRunSealed, audit.TypeEntryRedacted, audit.TypeLogPruned}
	for _, typ := range audit.Types() {
		if produced[typ] == slices.Contains(unused, typ) {
			t.Errorf("audit type %s: produced %v", typ, produced[typ])
		}
	}
}

func sp(s string) *string { return &s }
func ip(v int64) *int64   { return &v }

func TestLangGraphMapping(t *testing.T) {
	tests := []struct {
		kind     event.LangGraphKind
		typ      audit.Type
		severity audit.Severity
		message  string
	}{
		{event.LangGraphExecutionStarted, audit.TypeLangGraphExecutionStarted, audit.SeverityInfo, "LangGraph execution 'agent' started"},
		{event.LangGraphExecutionCompleted, audit.TypeLangGraphExecutionCompleted, audit.SeveritySuccess, "LangGraph execution 'agent' completed"},
		{event.LangGraphExecutionFailed, audit.TypeLangGraphExecutionFailed, audit.SeverityError, "LangGraph execution 'agent' failed"},
		{event.LangGraphExecutionPaused, audit.TypeLangGraphExecutionPaused, audit.SeverityInfo, "LangGraph execution 'agent' paused"},
		{event.LangGraphExecutionResumed, audit.TypeLangGraphExecutionResumed, audit.SeverityInfo, "LangGraph execution 'agent' resumed"},
		{event.LangGraphNodeStarted, audit.TypeLangGraphNodeStarted, audit.SeverityDebug, "LangGraph node 'agent' started"},
		{event.LangGraphNodeCompleted, audit.TypeLangGraphNodeCompleted, audit.SeveritySuccess, "LangGraph node 'agent' completed"},
		{event.LangGraphNodeFailed, audit.TypeLangGraphNodeFailed, audit.SeverityError, "LangGraph node 'agent' failed"},
		{event.LangGraphNodeSkipped, audit.TypeLangGraphNodeSkipped, audit.SeverityInfo, "LangGraph node 'agent' skipped"},
		{event.LangGraphCheckpointCreated, audit.TypeLangGraphCheckpointCreated, audit.SeverityInfo, "LangGraph checkpoint 'cp-9' created (step 3)"},
		{event.LangGraphCheckpointRestored, audit.TypeLangGraphCheckpointRestored, audit.SeverityInfo, "LangGraph checkpoint 'cp-9' restored (step 3)"},
		{event.LangGraphToolStarted, audit.TypeLangGraphToolStarted, audit.SeverityDebug, "LangGraph tool 'agent' started"},
		{event.LangGraphToolCompleted, audit.TypeLangGraphToolCompleted, audit.SeverityDebug, "LangGraph tool 'agent' completed"},
		{event.LangGraphToolFailed, audit.TypeLangGraphToolFailed, audit.SeverityError, "LangGraph tool 'agent' failed"},
		{event.LangGraphLLMStarted, audit.TypeLangGraphLLMStarted, audit.SeverityDebug, "LangGraph LLM 'agent' started"},
		{event.LangGraphLLMCompleted, audit.TypeLangGraphLLMCompleted, audit.SeverityDebug, "LangGraph LLM 'agent' completed"},
		{event.LangGraphLLMStreamed, audit.TypeLangGraphLLMStreamed, audit.SeverityDebug, "LangGraph LLM 'agent' streamed"},
		{event.LangGraphRetrieverStarted, audit.TypeLangGraphRetrieverStarted, audit.SeverityDebug, "LangGraph retriever 'agent' started"},
		{event.LangGraphRetrieverCompleted, audit.TypeLangGraphRetrieverCompleted, audit.SeverityDebug, "LangGraph retriever 'agent' completed"},
		{event.LangGraphCustomEvent, audit.TypeLangGraphCustomEvent, audit.SeverityInfo, "LangGraph custom event 'agent'"},
		{event.LangGraphProgressUpdate, audit.TypeLangGraphProgressUpdate, audit.SeverityDebug, "LangGraph progress update from 'agent'"},
		{event.LangGraphSuperstepStarted, audit.TypeLangGraphSuperstepStarted, audit.SeverityDebug, "LangGraph super-step 3 started"},
		{event.LangGraphSuperstepCompleted, audit.TypeLangGraphSuperstepCompleted, audit.SeverityDebug, "LangGraph super-step 3 completed"},
	}
	if len(tests) != len(event.LangGraphKinds()) {
		t.Fatalf("%d kinds tested, %d exist", len(tests), len(event.LangGraphKinds()))
	}
	var entries []audit.Entry
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			ev := &event.LangGraphAudit{Base: event.NewBase(), Kind: tt.kind, ThreadID: "exec-1", RunID: "run-1",
				NodeID: sp("agent"), CheckpointID: sp("cp-9"), Step: ip(3), DurationMS: ip(40), Error: sp("boom"),
				Tags: []string{"a"}, Metrics: map[string]float64{"tokens": 12}}
			e := audit.FromEvent(ev)
			if e.Type != tt.typ || e.Severity != tt.severity || e.Message != tt.message {
				t.Errorf("got %s %s %q, want %s %s %q", e.Type, e.Severity, e.Message, tt.typ, tt.severity, tt.message)
			}
			if e.ExecutionID != "exec-1" || e.NodeID != "agent" || e.Error != "boom" || e.DurationMS == nil || *e.DurationMS != 40 || e.SourceType != string(tt.kind) {
				t.Errorf("fields: %+v", e)
			}
			want := `{"run_id":"run-1","parent_run_id":null,"checkpoint_id":"cp-9","step":3,"tags":["a"],"metadata":null,"metrics":{"tokens":12}}`
			if string(e.Details) != want {
				t.Errorf("details %s, want %s", e.Details, want)
			}
			entries = append(entries, e)
		})
	}
	// LangGraph entries never count as the execution's nodes or checkpoints.
	s := audit.Summarize("exec-1", entries)
	if s.NodesExecuted != 0 || s.NodesFailed != 0 || s.CheckpointsCreated != 0 || s.Status != audit.StatusRunning {
		t.Errorf("summary counts LangGraph entries: %+v", s)
	}
}
