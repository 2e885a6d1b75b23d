package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/bus"
	"github.com/wtbdev/wtb/event"
)

// demoCloseTimeout bounds draining the demo's recorder.
const demoCloseTimeout = 30 * time.Second

var demoCmd = &cobra.Command{
	Use:   "demo",
	Short: "Simulate one agent-graph execution, record it and print its timeline",
	Long: `Simulate one execution of a small agentic RAG graph (plan, retrieve, grade,
generate, review, finalize): a node fails and succeeds on retry, the review
triggers a rollback to an earlier checkpoint, a branch keeps the rejected
draft, and two output files are tracked. Every event goes through the bus and
is printed as it is delivered; the audit listener records it through the
recorder into the store (default ./wtb.db), and the timeline is then read back
from the store. Each run is a new execution.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		t, err := globalStore.resolve()
		if err != nil {
			return err
		}
		st, err := openTarget(cmd.Context(), t)
		if err != nil {
			return err
		}
		defer st.Close()
		return runDemo(cmd.Context(), st, t.String(), serveCommand(t), cmd.OutOrStdout(), cmd.ErrOrStderr())
	},
}

func init() {
	rootCmd.AddCommand(demoCmd)
}

// demoIDs are the fresh ids of one demo run.
type demoIDs struct {
	Execution, Branch, Workspace, Commit, Operation string
}

func newDemoIDs() demoIDs {
	return demoIDs{
		Execution: event.NewID(),
		Branch:    event.NewID(),
		Workspace: "ws-" + event.NewID(),
		Commit:    event.NewID(),
		Operation: "track-" + event.NewID(),
	}
}

// demoWorkflow is the workflow the demo simulates.
const (
	demoWorkflowID   = "agentic-rag"
	demoWorkflowName = "Agentic RAG"
)

// demoEvents returns the events of one simulated execution, in order, with
// the given ids; its last event happens at end. The content is fixed: only
// ids and the time base change between runs.
func demoEvents(ids demoIDs, end time.Time) []event.Event {
	const total = 21210 * time.Millisecond // last event's offset
	start := end.Add(-total).UTC().Truncate(time.Millisecond)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	exec := ids.Execution
	var evs []event.Event
	add := func(ev event.Event) { evs = append(evs, ev) }
	stamp := func(b *event.Base, ms int) { b.ID, b.Timestamp = event.NewID(), at(ms) }
	i64 := func(v int64) *int64 { return &v }
	str := func(s string) *string { return &s }

	{
		ev := event.New[event.ExecutionStarted]()
		stamp(&ev.Base, 0)
		ev.ExecutionID, ev.WorkflowID, ev.WorkflowName = exec, demoWorkflowID, demoWorkflowName
		ev.InitialState = event.Map{"question": "Which regions had the highest churn last quarter, and why?"}
		add(ev)
	}
	checkpoint := 0
	// node appends one node run: started, optionally failed, completed and
	// its checkpoint, from offset ms with the given duration.
	node := func(ms int, id, typ string, durMS float64, tools int64, result any, next []string, terminal bool) {
		s := event.New[event.NodeStarted]()
		stamp(&s.Base, ms)
		s.ExecutionID, s.NodeID, s.NodeName, s.NodeType = exec, id, id, typ
		if checkpoint > 0 {
			s.EntryCheckpointID = i64(int64(checkpoint))
		}
		add(s)
		checkpoint++
		c := event.New[event.NodeCompleted]()
		done := ms + int(durMS)
		stamp(&c.Base, done)
		c.ExecutionID, c.NodeID, c.NodeName = exec, id, id
		c.DurationMS, c.ToolInvocations, c.Result = durMS, tools, result
		c.ExitCheckpointID = i64(int64(checkpoint))
		add(c)
		k := event.New[event.CheckpointCreated]()
		stamp(&k.Base, done+2)
		k.ExecutionID, k.CheckpointID, k.Step = exec, strconv.Itoa(checkpoint), int64(checkpoint)
		k.CompletedNode, k.NextNodes, k.IsTerminal = str(id), next, terminal
		k.NodeWrites = event.Map{id: "ok"}
		add(k)
	}

	node(5, "plan", "llm", 842, 0, map[string]any{"steps": 3}, []string{"retrieve"}, false)
	node(852, "retrieve", "tool", 1630, 2, map[string]any{"documents": 12}, []string{"grade"}, false)
	{ // grade fails on a rate limit, then succeeds on retry
		s := event.New[event.NodeStarted]()
		stamp(&s.Base, 2487)
		s.ExecutionID, s.NodeID, s.NodeName, s.NodeType = exec, "grade", "grade", "llm"
		s.EntryCheckpointID = i64(int64(checkpoint))
		add(s)
		f := event.New[event.NodeFailed]()
		stamp(&f.Base, 5499)
		f.ExecutionID, f.NodeID, f.NodeName = exec, "grade", "grade"
		f.ErrorType, f.ErrorMessage = "RateLimitError", "LLM provider answered 429 Too Many Requests (retry after 2s)"
		f.DurationMS, f.Recoverable = 3012, true
		add(f)
	}
	node(7502, "grade", "llm", 1245, 0, map[string]any{"relevant": 7}, []string{"generate"}, false)
	node(8752, "generate", "llm", 4380, 0, map[string]any{"tokens": 1184}, []string{"review"}, false)
	node(13137, "review", "llm", 1904, 1, map[string]any{"verdict": "revise", "unsupported_claims": 1}, []string{"generate"}, false)
	{ // the review rejects the draft: roll back to the graded documents
		r := event.New[event.RollbackRequested]()
		stamp(&r.Base, 15050)
		r.ExecutionID, r.TargetCheckpointID, r.TargetNodeID = exec, "3", str("generate")
		r.Reason, r.RequestedBy = "review found an unsupported claim", "system"
		add(r)
		c := event.New[event.RollbackCompleted]()
		stamp(&c.Base, 15112)
		c.ExecutionID, c.FromCheckpointID, c.ToCheckpointID = exec, "5", "3"
		c.RolledBackNodes, c.StateRestored = []string{"generate", "review"}, true
		add(c)
		// keep the rejected draft on a branch for comparison
		b := event.New[event.BranchCreated]()
		stamp(&b.Base, 15120)
		b.ExecutionID, b.FromCheckpointID, b.NewThreadID = exec, "5", "thread-"+ids.Branch
		b.ParentExecutionID, b.BranchReason = exec, "rollback"
		add(b)
		fr := event.New[event.ForkRequested]()
		stamp(&fr.Base, 15124)
		fr.ParentExecutionID, fr.ForkCheckpointID, fr.NewExecutionID = exec, i64(5), ids.Branch
		fr.ForkType, fr.WorkspaceID = "rollback_branch", ids.Workspace
		add(fr)
		fc := event.New[event.ForkCompleted]()
		stamp(&fc.Base, 15290)
		fc.NewExecutionID, fc.WorkspaceID, fc.ThreadID = ids.Branch, ids.Workspace, "thread-"+ids.Branch
		fc.ParentExecutionID, fc.ForkCheckpointID, fc.ReadyToExecute = exec, i64(5), true
		fc.FilesCopied, fc.TotalSizeBytes = 14, 91_336
		add(fc)
	}
	node(15300, "generate", "llm", 3975, 0, map[string]any{"tokens": 1052}, []string{"review"}, false)
	node(19280, "review", "llm", 1502, 1, map[string]any{"verdict": "approve"}, []string{"finalize"}, false)
	node(20787, "finalize", "tool", 356, 1, map[string]any{"files": 2}, nil, true)
	{ // track the two output files and link them to the final checkpoint
		paths := []string{"output/answer.md", "output/citations.json"}
		const size = 6_210 + 12_222
		s := event.New[event.FileTrackingStarted]()
		stamp(&s.Base, 21150)
		s.OperationID, s.FilePaths, s.CheckpointID = ids.Operation, paths, i64(int64(checkpoint))
		add(s)
		c := event.New[event.FileCommitCreated]()
		stamp(&c.Base, 21190)
		c.CommitID, c.FileCount, c.TotalSizeBytes = ids.Commit, 2, size
		c.Message, c.FilePaths, c.ExecutionID = str("Final answer and citations"), paths, str(exec)
		add(c)
		l := event.New[event.CheckpointFileLinkCreated]()
		stamp(&l.Base, 21195)
		l.CheckpointID, l.CommitID, l.FileCount, l.TotalSizeBytes = int64(checkpoint), ids.Commit, 2, size
		add(l)
		d := event.New[event.FileTrackingCompleted]()
		stamp(&d.Base, 21201)
		d.OperationID, d.CommitID, d.DurationMS = ids.Operation, ids.Commit, 51
		add(d)
	}
	{
		c := event.New[event.ExecutionCompleted]()
		stamp(&c.Base, 21210)
		c.ExecutionID, c.WorkflowID = exec, demoWorkflowID
		c.FinalState = event.Map{"answer_path": "output/answer.md", "citations": 9}
		c.DurationMS, c.NodesExecuted, c.CheckpointsCreated = 21210, 8, int64(checkpoint)
		add(c)
	}
	return evs
}

// eventLine renders an event as one readable line: its time, wire name and
// what happened (the audit message, node, duration and error).
func eventLine(ev event.Event) string {
	e := audit.FromEvent(ev)
	var b strings.Builder
	b.WriteString(ev.EventTime().UTC().Format("15:04:05.000Z"))
	b.WriteString("  ")
	name := ev.WireName()
	b.WriteString(name)
	for n := len(name); n < 28; n++ {
		b.WriteByte(' ')
	}
	b.WriteString("  ")
	b.WriteString(oneLine(e.Message))
	if e.NodeID != "" {
		b.WriteString(" (node: " + e.NodeID + ")")
	}
	if e.DurationMS != nil && *e.DurationMS != 0 {
		b.WriteString(" [" + strconv.FormatFloat(*e.DurationMS, 'f', 1, 64) + "ms]")
	}
	if e.Error != "" {
		b.WriteString(" error: " + oneLine(e.Error))
	}
	return b.String()
}

// runDemo publishes the demo execution on a bus with a printing subscriber
// and an audit listener recording into st, then prints the timeline read back
// from st.
func runDemo(ctx context.Context, st audit.Store, where, serve string, out, errOut io.Writer) error {
	ids := newDemoIDs()
	evs := demoEvents(ids, time.Now())

	logger := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b := bus.New(bus.WithLogger(logger))
	defer b.Close()
	rec := audit.NewRecorder(st, audit.RecorderOptions{Logger: logger})
	recorderOpen := true
	defer func() {
		if recorderOpen {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), demoCloseTimeout)
			rec.Close(cctx)
			cancel()
		}
	}()

	var printErr error
	b.SubscribeAll(func(_ context.Context, ev event.Event) error {
		if _, err := fmt.Fprintln(out, eventLine(ev)); err != nil && printErr == nil {
			printErr = err
		}
		return nil
	}, bus.Name("demo-printer"))
	listener := audit.NewListener(rec)
	listener.Attach(b)
	defer listener.Detach()

	fmt.Fprintf(out, "Simulating execution %s of workflow %q (%s), recording into %s\n\n",
		ids.Execution, demoWorkflowName, demoWorkflowID, where)
	for _, ev := range evs {
		if err := b.Publish(ctx, ev); err != nil {
			return fmt.Errorf("publishing %s: %w", ev.WireName(), err)
		}
	}
	if printErr != nil {
		return fmt.Errorf("writing: %w", printErr)
	}
	if s := b.Stats(); s.Failed+s.Panics > 0 {
		return fmt.Errorf("%d events could not be recorded (see the log above)", s.Failed+s.Panics)
	}
	cctx, cancel := context.WithTimeout(ctx, demoCloseTimeout)
	err := rec.Close(cctx)
	cancel()
	recorderOpen = false
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	rs := rec.Stats()
	fmt.Fprintf(out, "\nRecorded %s (%d new, %d duplicates) in %s.\n\n",
		plural(len(evs), "event"), rs.Committed, rs.Duplicates, plural(rs.Batches, "batch"))

	text, err := timeline(ctx, st, ids.Execution, audit.FormatOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, text)
	fmt.Fprintf(out, "\nEvery entry, debug ones included: wtb audit show %s --all --debug\n", ids.Execution)
	fmt.Fprintf(out, "Open it in the console: run %s, then open http://%s/executions/%s\n", serve, defaultAddr, url.PathEscape(ids.Execution))
	return nil
}

// serveCommand is the command line that serves the store t.
func serveCommand(t storeTarget) string {
	switch {
	case t.kind == "postgres":
		return "wtb serve --store '" + redactDSN(t.dsn) + "'"
	case t.path != defaultDB:
		return "wtb serve --db " + shellQuote(t.path)
	}
	return "wtb serve"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
