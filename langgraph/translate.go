package langgraph

import (
	"container/list"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wtbdev/wtb/event"
)

// ErrNoExecution is returned for a record that names no execution: the
// Options give no ExecutionID and its metadata has no thread_id.
var ErrNoExecution = errors.New("langgraph: no execution id: pass one, or run the graph with a thread_id in its configurable")

// Options choose how a Translator records a stream. The zero value is the
// reference's production configuration: outputs kept, inputs left out,
// internal names filtered, every node.
type Options struct {
	// ExecutionID names the execution every record belongs to. Empty: the
	// thread_id of each record's metadata.
	ExecutionID string
	// WorkflowID is the workflow_id of the execution events. Empty: the
	// graph's name.
	WorkflowID string
	// IncludeInputs copies the records' inputs into the events (the
	// reference's include_inputs; inputs may hold personal data).
	IncludeInputs bool
	// OmitOutputs leaves the records' outputs out of the events (the
	// reference's include_outputs=False).
	OmitOutputs bool
	// KeepInternal records runs whose name starts with "__", such as
	// __start__ (the reference's filter_internal=False).
	KeepInternal bool
	// Nodes, when not empty, records only these graph nodes and what runs
	// inside them (the reference's node_name_filter).
	Nodes []string
	// ExcludeNodes leaves these graph nodes and what runs inside them out
	// (the reference's exclude_node_names).
	ExcludeNodes []string
}

// Default limits of a Translator.
const (
	DefaultMaxExecutions = 10_000
	DefaultMaxRuns       = 100_000
)

// Limits bound the memory a Translator keeps between records.
type Limits struct {
	// MaxExecutions bounds the executions whose state is kept (default
	// DefaultMaxExecutions). The state of an execution is kept from its
	// first record until its graph ends; past the limit, the execution
	// used least recently is forgotten, and the durations, counts and
	// inferred failures of its later records are then unknown.
	MaxExecutions int
	// MaxRuns bounds the runs remembered per execution (default
	// DefaultMaxRuns); past it, finished runs are forgotten.
	MaxRuns int
}

// Outcome says what became of one record.
type Outcome int

// The outcomes of a record.
const (
	// Recorded: the record produced events.
	Recorded Outcome = iota
	// Filtered: an option left the record out (internal name, node filter).
	Filtered
	// Folded: the record is summed up in another record's event: a chat
	// model's stream chunks after the first (counted in the metrics of
	// its end) and the graph's and nodes' own stream records (their output
	// is in the end record).
	Folded
)

// Translator turns LangGraph stream records into wtb events. It keeps, per
// execution, what the stream has shown so far (runs started and not ended,
// attempts of each node task, nodes completed), so that a stream may come
// in several parts. It is safe for concurrent use.
type Translator struct {
	mu      sync.Mutex
	lim     Limits
	execs   map[string]*list.Element // of *execution
	lru     *list.List               // front: used most recently
	evicted int64
}

// NewTranslator returns a Translator with the given limits (zero fields
// take the defaults).
func NewTranslator(lim Limits) *Translator {
	if lim.MaxExecutions <= 0 {
		lim.MaxExecutions = DefaultMaxExecutions
	}
	if lim.MaxRuns <= 0 {
		lim.MaxRuns = DefaultMaxRuns
	}
	return &Translator{lim: lim, execs: map[string]*list.Element{}, lru: list.New()}
}

// Evicted returns the number of executions whose state was forgotten
// before their graph ended because of Limits.MaxExecutions.
func (t *Translator) Evicted() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.evicted
}

// InFlight returns the number of executions whose state is kept.
func (t *Translator) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.execs)
}

type role int

const (
	roleOther role = iota
	roleRoot
	roleNode
)

// run is what a Translator remembers of one run.
type run struct {
	id        string
	name      string
	role      role
	start     time.Time
	task      string // node attempts: the task key
	attempt   int
	ended     bool
	toolCalls int
	chunks    int
	workflow  string // root: workflow id
}

// execution is the state of one execution's stream.
type execution struct {
	id        string
	root      *run
	runs      map[string]*run
	open      map[string]*run // open node attempt by task key
	attempts  map[string]int  // attempts started by task key
	completed map[string]struct{}
	lastNode  string // node of the attempt that failed last

	interrupted bool   // the graph's stream showed an interrupt
	paused      bool   // the last invocation stopped at an interrupt
	pausedAt    string // the node it stopped at
	resumed     bool   // the current invocation resumes a paused one

	elem *list.Element
}

func newExecution(id string) *execution {
	return &execution{id: id, runs: map[string]*run{}, open: map[string]*run{},
		attempts: map[string]int{}, completed: map[string]struct{}{}}
}

// Translate turns one record, read at time at (used when the record has no
// timestamp of its own), into events appended to dst. It returns dst, what
// became of the record, and ErrNoExecution when the record names no
// execution. Translating the same record again yields events with the same
// ids.
func (t *Translator) Translate(dst []event.Event, rec *Record, at time.Time, opts *Options) ([]event.Event, Outcome, error) {
	if opts == nil {
		opts = &Options{}
	}
	execID := opts.ExecutionID
	if execID == "" {
		execID = str(rec.Metadata["thread_id"])
		if execID == "" {
			return dst, Filtered, ErrNoExecution
		}
	}
	if filtered(rec, opts) {
		return dst, Filtered, nil
	}
	ts := rec.Time
	if ts.IsZero() {
		ts = at
	}
	ts = ts.UTC()

	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.execution(execID)
	tr := translation{t: t, x: x, rec: rec, ts: ts, opts: opts, dst: dst}
	out := tr.run()
	return tr.dst, out, nil
}

// filtered applies the internal-name and node filters. The graph's own
// records are never filtered.
func filtered(rec *Record, opts *Options) bool {
	if !opts.KeepInternal && strings.HasPrefix(rec.Name, "__") {
		return true
	}
	node := str(rec.Metadata["langgraph_node"])
	if node == "" {
		return false
	}
	if len(opts.Nodes) > 0 && !slices.Contains(opts.Nodes, node) {
		return true
	}
	return slices.Contains(opts.ExcludeNodes, node)
}

// execution returns the state of id, creating it and evicting the state
// used least recently past the limit. t.mu is held.
func (t *Translator) execution(id string) *execution {
	if e, ok := t.execs[id]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*execution)
	}
	x := newExecution(id)
	x.elem = t.lru.PushFront(x)
	t.execs[id] = x.elem
	for len(t.execs) > t.lim.MaxExecutions {
		old := t.lru.Back().Value.(*execution)
		t.drop(old)
		t.evicted++
	}
	return x
}

func (t *Translator) drop(x *execution) {
	t.lru.Remove(x.elem)
	delete(t.execs, x.id)
}

// translation is the work on one record.
type translation struct {
	t    *Translator
	x    *execution
	rec  *Record
	ts   time.Time
	opts *Options
	dst  []event.Event
}

func (tr *translation) run() Outcome {
	rec, x := tr.rec, tr.x
	node := str(rec.Metadata["langgraph_node"])
	chain := strings.HasPrefix(rec.Event, "on_chain_")
	switch {
	case rec.Event == "on_chain_stream":
		if c, ok := rec.Data["chunk"].(map[string]any); ok && c["__interrupt__"] != nil {
			x.interrupted = true
		}
		return Folded
	case chain && (x.root != nil && rec.RunID == x.root.id || node == "" && len(rec.ParentIDs) == 0):
		tr.root()
	case chain && node != "" && rec.Name == node:
		tr.node()
	default:
		return tr.audit()
	}
	return Recorded
}

// id derives an event id from the execution, the run and what the event
// says of it, so that the same record always yields the same id.
func (tr *translation) id(runID, what string) string {
	return eventID(tr.x.id, runID, what)
}

// idSpace is the UUID namespace of the ids of events made from LangGraph
// stream records.
var idSpace = uuid.MustParse("7d0f3c1e-5b0a-4c55-9a51-2f6a4c9e8b11")

func eventID(exec, runID, what string) string {
	return uuid.NewSHA1(idSpace, []byte(exec+"\x00"+runID+"\x00"+what)).String()
}

func (tr *translation) base(runID, what string, at time.Time) event.Base {
	return event.Base{ID: tr.id(runID, what), Timestamp: at}
}

func (tr *translation) emit(ev event.Event) { tr.dst = append(tr.dst, ev) }

// remember returns the run of the record, creating it (started at tr.ts)
// when it is new. The second result is false when the run was known.
func (tr *translation) remember(r role) (*run, bool) {
	x, rec := tr.x, tr.rec
	if got, ok := x.runs[rec.RunID]; ok {
		return got, false
	}
	u := &run{id: rec.RunID, name: rec.Name, role: r, start: tr.ts}
	if len(x.runs) >= tr.t.lim.MaxRuns {
		for id, old := range x.runs {
			if old.ended {
				delete(x.runs, id)
			}
		}
	}
	if len(x.runs) < tr.t.lim.MaxRuns {
		x.runs[rec.RunID] = u
	}
	return u, true
}

// finish marks the run of an end or error record ended and returns it with
// its duration (zero when its start is unknown); nil when the run is
// unknown. again reports that the run had ended before (the same record
// seen twice).
func (tr *translation) finish() (u *run, d float64, again bool) {
	u, ok := tr.x.runs[tr.rec.RunID]
	if !ok {
		return nil, 0, false
	}
	again = u.ended
	u.ended = true
	return u, ms(tr.ts.Sub(u.start)), again
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond)
}

// root handles the graph's own start, end and error records.
func (tr *translation) root() {
	x, rec := tr.x, tr.rec
	switch rec.Event {
	case "on_chain_start":
		resumed := false
		if x.root == nil || x.root.id != rec.RunID {
			// A new invocation of the graph on this execution; after an
			// interrupt, the one that resumes it.
			resumed = x.pausedAt != "" || x.paused
			done := x.completed
			*x = execution{id: x.id, elem: x.elem, runs: map[string]*run{}, open: map[string]*run{},
				attempts: map[string]int{}, completed: map[string]struct{}{}, pausedAt: x.pausedAt}
			if resumed {
				x.completed = done
			}
		} else {
			resumed = x.resumed
		}
		x.resumed = resumed
		u, _ := tr.remember(roleRoot)
		x.root = u
		if u.workflow == "" {
			u.workflow = tr.opts.WorkflowID
			if u.workflow == "" {
				u.workflow = rec.Name
			}
		}
		if resumed {
			var state map[string]any
			if tr.opts.IncludeInputs {
				state = asMap(rec.Data["input"], "input")
			}
			tr.emit(&event.ExecutionResumed{
				Base:           tr.base(rec.RunID, "ExecutionResumedEvent", u.start),
				ExecutionID:    x.id,
				ResumeFromNode: x.pausedAt,
				ModifiedState:  state,
			})
			return
		}
		tr.emit(&event.ExecutionStarted{
			Base:         tr.base(rec.RunID, "ExecutionStartedEvent", u.start),
			ExecutionID:  x.id,
			WorkflowID:   u.workflow,
			WorkflowName: rec.Name,
			InitialState: tr.inputMap(),
		})
	case "on_chain_end":
		u, d, _ := tr.finish()
		if x.interrupted {
			// The graph stopped at an interrupt: the execution is paused
			// where the open attempt is, until an invocation resumes it.
			at := tr.latestOpen()
			for _, a := range x.open {
				a.ended = true
			}
			clear(x.open)
			if at != nil {
				x.pausedAt = at.name
			}
			x.paused, x.interrupted = true, false
			tr.emit(&event.ExecutionPaused{
				Base:          tr.base(rec.RunID, "ExecutionPausedEvent", tr.ts),
				ExecutionID:   x.id,
				PausedAtNode:  x.pausedAt,
				Reason:        "interrupt",
				ElapsedTimeMS: d,
			})
			return
		}
		tr.closeOpen(func(a *run) *event.NodeFailed {
			return &event.NodeFailed{ErrorType: "Unknown", Recoverable: true,
				ErrorMessage: fmt.Sprintf("attempt %d of node %q has no end record, though the graph completed", a.attempt, a.name)}
		})
		tr.emit(&event.ExecutionCompleted{
			Base:          tr.base(rec.RunID, "ExecutionCompletedEvent", tr.ts),
			ExecutionID:   x.id,
			WorkflowID:    tr.workflow(u),
			FinalState:    tr.outputMap(),
			DurationMS:    d,
			NodesExecuted: int64(len(x.completed)),
		})
		tr.t.drop(x)
	case "on_chain_error":
		msg, typ := errorOf(rec.Data)
		failedAt := x.lastNode
		if latest := tr.latestOpen(); latest != nil {
			failedAt = latest.name
		}
		tr.closeOpen(func(*run) *event.NodeFailed {
			return &event.NodeFailed{ErrorType: typ, ErrorMessage: msg}
		})
		runID := rec.RunID
		if runID == "" && x.root != nil {
			runID = x.root.id
		}
		u, d, _ := tr.finish()
		if u == nil && x.root != nil && x.root.id == runID {
			d = ms(tr.ts.Sub(x.root.start))
			u = x.root
		}
		tr.emit(&event.ExecutionFailed{
			Base:         tr.base(runID, "ExecutionFailedEvent", tr.ts),
			ExecutionID:  x.id,
			WorkflowID:   tr.workflow(u),
			FailedAtNode: failedAt,
			ErrorMessage: msg,
			ErrorType:    typ,
			DurationMS:   d,
		})
		tr.t.drop(x)
	default:
		// on_chain_stream is folded before; other chain kinds are unknown.
		tr.audit()
	}
}

// latestOpen returns the open node attempt that started last, or nil.
func (tr *translation) latestOpen() *run {
	var latest *run
	for _, a := range tr.x.open {
		if latest == nil || a.start.After(latest.start) {
			latest = a
		}
	}
	return latest
}

func (tr *translation) workflow(u *run) string {
	if u != nil && u.workflow != "" {
		return u.workflow
	}
	if tr.opts.WorkflowID != "" {
		return tr.opts.WorkflowID
	}
	return tr.rec.Name
}

// closeOpen records a failure for every node attempt still open, in the
// order they started, using mk for the error fields.
func (tr *translation) closeOpen(mk func(*run) *event.NodeFailed) {
	open := make([]*run, 0, len(tr.x.open))
	for _, a := range tr.x.open {
		open = append(open, a)
	}
	slices.SortFunc(open, func(a, b *run) int { return a.start.Compare(b.start) })
	for _, a := range open {
		tr.failAttempt(a, mk(a))
	}
}

// failAttempt records the failure of the open attempt a.
func (tr *translation) failAttempt(a *run, ev *event.NodeFailed) {
	a.ended = true
	if tr.x.open[a.task] == a {
		delete(tr.x.open, a.task)
	}
	tr.x.lastNode = a.name
	ev.Base = tr.base(a.id, "NodeFailedEvent", tr.ts)
	ev.ExecutionID, ev.NodeID, ev.NodeName = tr.x.id, a.name, a.name
	ev.DurationMS = ms(tr.ts.Sub(a.start))
	tr.emit(ev)
}

// taskKey names the task a node record belongs to: the attempts of one
// task (a retried node) share it, parallel tasks of one node do not.
func taskKey(rec *Record) string {
	if ns := str(rec.Metadata["langgraph_checkpoint_ns"]); ns != "" {
		return ns
	}
	if ns := str(rec.Metadata["checkpoint_ns"]); ns != "" {
		return ns
	}
	return rec.Name + "@" + str(rec.Metadata["langgraph_step"])
}

// node handles a graph node's start, end and error records.
func (tr *translation) node() {
	x, rec := tr.x, tr.rec
	key := taskKey(rec)
	switch rec.Event {
	case "on_chain_start":
		if _, known := x.runs[rec.RunID]; !known {
			tr.retried(key)
		}
		u, isNew := tr.remember(roleNode)
		if isNew {
			x.attempts[key]++
			u.task, u.attempt = key, x.attempts[key]
			x.open[key] = u
		}
		ctx := event.Map{"run_id": rec.RunID, "attempt": int64(u.attempt), "task": key}
		if s, ok := num(rec.Metadata["langgraph_step"]); ok {
			ctx["step"] = s
		}
		if tr.opts.IncludeInputs {
			if in, ok := rec.Data["input"]; ok {
				ctx["input"] = in
			}
		}
		tr.emit(&event.NodeStarted{
			Base:        tr.base(rec.RunID, "NodeStartedEvent", u.start),
			ExecutionID: x.id, NodeID: rec.Name, NodeName: rec.Name,
			NodeType: "langgraph", Context: ctx,
		})
	case "on_chain_end":
		u, d, _ := tr.finish()
		tools := 0
		if u != nil {
			tools = u.toolCalls
			if x.open[u.task] == u {
				delete(x.open, u.task)
			}
		}
		x.completed[rec.RunID] = struct{}{}
		var result any
		if !tr.opts.OmitOutputs {
			result = rec.Data["output"]
		}
		tr.emit(&event.NodeCompleted{
			Base:        tr.base(rec.RunID, "NodeCompletedEvent", tr.ts),
			ExecutionID: x.id, NodeID: rec.Name, NodeName: rec.Name,
			Result: result, DurationMS: d, ToolInvocations: int64(tools),
		})
	case "on_chain_error":
		msg, typ := errorOf(rec.Data)
		u, _ := tr.remember(roleNode)
		if u.task == "" {
			u.task = key
		}
		if !u.ended {
			tr.failAttempt(u, &event.NodeFailed{ErrorType: typ, ErrorMessage: msg, Recoverable: true})
			return
		}
		// Already ended (the same record again): the same event.
		tr.emit(&event.NodeFailed{
			Base:        tr.base(rec.RunID, "NodeFailedEvent", tr.ts),
			ExecutionID: x.id, NodeID: rec.Name, NodeName: rec.Name,
			ErrorType: typ, ErrorMessage: msg, Recoverable: true,
		})
	default:
		tr.audit()
	}
}

// retried records the failure of the open attempt of task key, if any: a
// new attempt of a task starts only after the previous one failed, and
// LangGraph's stream carries no error record for it.
func (tr *translation) retried(key string) {
	if prev := tr.x.open[key]; prev != nil {
		tr.failAttempt(prev, &event.NodeFailed{ErrorType: "Unknown", Recoverable: true,
			ErrorMessage: fmt.Sprintf("attempt %d of node %q failed and was retried (the event stream carries no error record)", prev.attempt, prev.name)})
	}
}

// kinds maps record kinds to LangGraph audit kinds: the reference's table
// (event.KindOfStreamEvent) plus the completion-model records.
func kindOf(name string) event.LangGraphKind {
	switch name {
	case "on_llm_start":
		return event.LangGraphLLMStarted
	case "on_llm_end":
		return event.LangGraphLLMCompleted
	case "on_llm_stream":
		return event.LangGraphLLMStreamed
	}
	return event.KindOfStreamEvent(name)
}

// audit records a tool, model, retriever, inner chain or custom record as
// a LangGraphAudit event.
func (tr *translation) audit() Outcome {
	x, rec := tr.x, tr.rec
	kind := kindOf(rec.Event)
	ev := &event.LangGraphAudit{Kind: kind, ThreadID: x.id, RunID: rec.RunID}
	if n := len(rec.ParentIDs); n > 0 {
		p := rec.ParentIDs[n-1]
		ev.ParentRunID = &p
	}
	if rec.Name != "" {
		name := rec.Name
		ev.NodeID = &name
	}
	if s, ok := num(rec.Metadata["langgraph_step"]); ok {
		ev.Step = &s
	}
	ev.Metadata, ev.Tags = rec.Metadata, rec.Tags
	if ev.Metadata == nil {
		ev.Metadata = map[string]any{}
	}
	if ev.Tags == nil {
		ev.Tags = []string{}
	}
	what := "lg:" + string(kind)
	at := tr.ts
	switch kind {
	case event.LangGraphNodeStarted, event.LangGraphToolStarted, event.LangGraphLLMStarted, event.LangGraphRetrieverStarted:
		u, _ := tr.remember(roleOther)
		at = u.start
		if tr.opts.IncludeInputs {
			ev.Inputs = asMap(rec.Data["input"], "input")
		}
	case event.LangGraphNodeCompleted, event.LangGraphToolCompleted, event.LangGraphLLMCompleted, event.LangGraphRetrieverCompleted,
		event.LangGraphNodeFailed, event.LangGraphToolFailed:
		u, d, again := tr.finish()
		if u != nil {
			di := int64(d)
			ev.DurationMS = &di
		}
		if !again && (kind == event.LangGraphToolCompleted || kind == event.LangGraphToolFailed) {
			// A tool call of the node attempt it ran in.
			if a := x.open[taskKey(rec)]; a != nil {
				a.toolCalls++
			}
		}
		if !tr.opts.OmitOutputs {
			ev.Outputs = asMap(rec.Data["output"], "output")
		}
		if kind == event.LangGraphLLMCompleted {
			ev.Metrics = tokenMetrics(rec.Data["output"])
			if u != nil && u.chunks > 0 {
				if ev.Metrics == nil {
					ev.Metrics = map[string]float64{}
				}
				ev.Metrics["stream_chunks"] = float64(u.chunks)
			}
		}
		if kind == event.LangGraphNodeFailed || kind == event.LangGraphToolFailed {
			msg, typ := errorOf(rec.Data)
			e := typ + ": " + msg
			ev.Error = &e
		}
	case event.LangGraphLLMStreamed:
		u, _ := tr.remember(roleOther)
		u.chunks++
		if u.chunks > 1 {
			return Folded
		}
		// The first chunk is recorded: the time to the first token.
		ev.Metrics = map[string]float64{"time_to_first_chunk_ms": ms(tr.ts.Sub(u.start))}
		if !tr.opts.OmitOutputs {
			ev.Outputs = asMap(rec.Data["chunk"], "chunk")
		}
	default:
		// Custom events and records of kinds outside the table (model and
		// retriever errors among them) are custom events.
		ev.Kind = event.LangGraphCustomEvent
		what = "lg:custom:" + rec.Event
		if rec.Event != "on_custom_event" {
			ev.Metadata = withKey(ev.Metadata, "langgraph_event", rec.Event)
		}
		if strings.HasSuffix(rec.Event, "_error") {
			msg, typ := errorOf(rec.Data)
			e := typ + ": " + msg
			ev.Error = &e
		} else if !tr.opts.OmitOutputs && rec.Data != nil {
			ev.Outputs = rec.Data
		}
	}
	ev.Base = tr.base(rec.RunID, what, at)
	tr.emit(ev)
	return Recorded
}

func withKey(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

// inputMap returns the record's input as a map when inputs are included.
func (tr *translation) inputMap() event.Map {
	if !tr.opts.IncludeInputs {
		return event.Map{}
	}
	return asMap(tr.rec.Data["input"], "input")
}

// outputMap returns the record's output as a map unless outputs are omitted.
func (tr *translation) outputMap() event.Map {
	if tr.opts.OmitOutputs {
		return event.Map{}
	}
	return asMap(tr.rec.Data["output"], "output")
}

// asMap returns v when it is a JSON object, {key: v} otherwise, nil for
// nil.
func asMap(v any, key string) map[string]any {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return x
	}
	return map[string]any{key: v}
}

// errorOf returns the error message and type of an error record's data.
func errorOf(data map[string]any) (msg, typ string) {
	switch e := data["error"].(type) {
	case nil:
		msg = "Unknown error"
	case string:
		msg = e
	case map[string]any:
		msg = str(e["message"])
		if typ == "" {
			typ = str(e["name"])
		}
		if msg == "" {
			b, _ := json.Marshal(e)
			msg = string(b)
		}
	default:
		b, _ := json.Marshal(e)
		msg = string(b)
	}
	if t := str(data["error_type"]); t != "" {
		typ = t
	}
	if typ == "" {
		typ = "Exception"
	}
	return msg, typ
}

// str returns v as a string: strings as they are, numbers in decimal,
// anything else "".
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	return ""
}

// num returns v as an integer when it is a whole number.
func num(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// float returns v as a number.
func float(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// tokenMetrics reads the token usage of a model's output: usage_metadata
// (LangChain messages, also under "kwargs" in LangChain.js's serialised
// form) or llm_output.token_usage (completion models).
func tokenMetrics(out any) map[string]float64 {
	m, _ := out.(map[string]any)
	if m == nil {
		return nil
	}
	usage, _ := m["usage_metadata"].(map[string]any)
	if usage == nil {
		if kw, ok := m["kwargs"].(map[string]any); ok {
			usage, _ = kw["usage_metadata"].(map[string]any)
		}
	}
	names := [][2]string{{"input_tokens", "input_tokens"}, {"output_tokens", "output_tokens"}, {"total_tokens", "total_tokens"}}
	if usage == nil {
		if lo, ok := m["llm_output"].(map[string]any); ok {
			usage, _ = lo["token_usage"].(map[string]any)
			names = [][2]string{{"prompt_tokens", "input_tokens"}, {"completion_tokens", "output_tokens"}, {"total_tokens", "total_tokens"}}
		}
	}
	if usage == nil {
		return nil
	}
	var out2 map[string]float64
	for _, n := range names {
		if f, ok := float(usage[n[0]]); ok {
			if out2 == nil {
				out2 = map[string]float64{}
			}
			out2[n[1]] = f
		}
	}
	return out2
}
