package audit

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Step kinds of a Comparison.
const (
	StepNode     = "node"     // a node run
	StepRollback = "rollback" // a rollback_performed entry
)

// Divergence kinds, in the order Compare looks for them within a step.
const (
	DivergeNode       = "node"        // one run has a step the other has not
	DivergeStatus     = "status"      // the same node ended differently
	DivergeError      = "error"       // the same node failed with another error
	DivergeRollback   = "rollback"    // a rollback in one run only, or to another checkpoint
	DivergeOutputKeys = "output_keys" // the final state keys differ
	DivergeEnd        = "end"         // the executions ended differently after the same steps
)

// StepSide is one run's side of a compared step.
type StepSide struct {
	Kind     string    `json:"kind"`
	Run      *NodeRun  `json:"run,omitempty"`
	Rollback *Rollback `json:"rollback,omitempty"`
}

// label names the side in a message: "grade (attempt 2, failed: X)".
func (s *StepSide) label() string {
	if s == nil {
		return "nothing"
	}
	if s.Kind == StepRollback {
		return "a rollback to checkpoint " + strconv.Quote(s.Rollback.ToCheckpoint)
	}
	r := s.Run
	b := strings.Builder{}
	b.WriteString("node " + strconv.Quote(r.NodeID) + " (")
	if r.Attempt > 1 {
		b.WriteString("attempt " + strconv.Itoa(r.Attempt) + ", ")
	}
	b.WriteString(r.Status)
	if r.Error != "" {
		b.WriteString(": " + r.Error)
	}
	b.WriteString(")")
	return b.String()
}

// CompareStep is one aligned position: the same node run (or rollback) in
// both executions, or a step of one only (the other side nil).
type CompareStep struct {
	// Index is the step's position, from 0.
	Index int `json:"index"`
	// A and B are the two sides; nil when the step is missing on that side.
	A *StepSide `json:"a"`
	B *StepSide `json:"b"`
	// Differences lists the divergence kinds of the step (empty when equal).
	Differences []string `json:"differences"`
	// DurationDeltaMS is B's node run duration less A's, when both ended.
	DurationDeltaMS *float64 `json:"duration_delta_ms"`
}

// Divergence is the first point where two executions differ.
type Divergence struct {
	// Step is the index of the first differing step, or len(Steps) when
	// every step is equal and the executions differ at the end.
	Step int `json:"step"`
	// Kind is one of the Diverge* constants.
	Kind string `json:"kind"`
	// Message says what differs, in words.
	Message string `json:"message"`
}

// NodeDelta compares the runs of one node.
type NodeDelta struct {
	NodeID string `json:"node_id"`
	// RunsA and RunsB count the node's runs; FailedA and FailedB the failed ones.
	RunsA   int `json:"runs_a"`
	RunsB   int `json:"runs_b"`
	FailedA int `json:"failed_a"`
	FailedB int `json:"failed_b"`
	// DurationA and DurationB add up the durations of the node's ended runs.
	DurationAMS float64 `json:"duration_a_ms"`
	DurationBMS float64 `json:"duration_b_ms"`
	// DeltaMS is DurationBMS - DurationAMS.
	DeltaMS float64 `json:"delta_ms"`
}

// FieldDiff is a summary field whose values differ.
type FieldDiff struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
}

// Comparison is two executions side by side, aligned by their sequence of
// node runs and rollbacks.
type Comparison struct {
	A Summary `json:"a"`
	B Summary `json:"b"`
	// Steps are the aligned node runs and rollbacks.
	Steps []CompareStep `json:"steps"`
	// Divergence is the first point where they differ; nil when they do not.
	Divergence *Divergence `json:"divergence"`
	// Nodes compares each node's runs and durations, in the order nodes
	// first ran.
	Nodes []NodeDelta `json:"nodes"`
	// SummaryDiffs lists the summary fields that differ.
	SummaryDiffs []FieldDiff `json:"summary_diffs"`
	// FinalStateKeysA and FinalStateKeysB are the final_state_keys of the
	// execution_completed entries (nil when there is none).
	FinalStateKeysA []string `json:"final_state_keys_a"`
	FinalStateKeysB []string `json:"final_state_keys_b"`
}

// maxAlignCells bounds the table of the alignment (steps of A times steps
// of B, after the common prefix and suffix are set aside); above it the
// middles are aligned position by position.
const maxAlignCells = 4_000_000

// Compare compares execution a (summary sa, entries ea in Seq order) with
// execution b. Steps are aligned by the longest common sequence of node
// ids and rollbacks, preferring to pair runs that ended the same way, so a
// retry or an extra rollback in one execution shows as a step of that
// execution only. The first divergence is the first step that differs
// (a step on one side only, a different status, a different error, a
// rollback to another checkpoint); after equal steps, different final
// state keys or a different end.
func Compare(sa Summary, ea []Entry, sb Summary, eb []Entry) Comparison {
	c := Comparison{A: sa, B: sb, Steps: []CompareStep{}, Nodes: []NodeDelta{}, SummaryDiffs: []FieldDiff{}}
	xa, xb := sides(ea), sides(eb)
	for i, p := range align(xa, xb) {
		st := CompareStep{Index: i}
		if p[0] >= 0 {
			st.A = &xa[p[0]]
		}
		if p[1] >= 0 {
			st.B = &xb[p[1]]
		}
		st.Differences = stepDifferences(st.A, st.B)
		if st.Differences == nil {
			st.Differences = []string{}
		}
		if st.A != nil && st.B != nil && st.A.Run != nil && st.B.Run != nil &&
			st.A.Run.DurationMS != nil && st.B.Run.DurationMS != nil {
			d := *st.B.Run.DurationMS - *st.A.Run.DurationMS
			st.DurationDeltaMS = &d
		}
		c.Steps = append(c.Steps, st)
		if c.Divergence == nil && len(st.Differences) > 0 {
			c.Divergence = &Divergence{Step: i, Kind: st.Differences[0],
				Message: fmt.Sprintf("step %d: A has %s, B has %s", i+1, st.A.label(), st.B.label())}
		}
	}
	c.FinalStateKeysA, c.FinalStateKeysB = finalStateKeys(ea), finalStateKeys(eb)
	if c.Divergence == nil {
		switch {
		case !slices.Equal(c.FinalStateKeysA, c.FinalStateKeysB):
			c.Divergence = &Divergence{Step: len(c.Steps), Kind: DivergeOutputKeys,
				Message: fmt.Sprintf("after the same %d steps, the final state keys differ: A %q, B %q",
					len(c.Steps), c.FinalStateKeysA, c.FinalStateKeysB)}
		case sa.Status != sb.Status:
			c.Divergence = &Divergence{Step: len(c.Steps), Kind: DivergeEnd,
				Message: fmt.Sprintf("after the same %d steps, A is %s and B is %s", len(c.Steps), sa.Status, sb.Status)}
		}
	}
	c.Nodes = nodeDeltas(xa, xb)
	c.SummaryDiffs = summaryDiffs(sa, sb)
	return c
}

// sides lists an execution's node runs and rollbacks in the order they
// happened (by the seq of the entry that starts each).
func sides(entries []Entry) []StepSide {
	runs := NodeRuns(entries)
	var out []StepSide
	type at struct {
		seq int64
		s   StepSide
	}
	var all []at
	for i := range runs {
		seq := runs[i].StartSeq
		if seq == 0 {
			seq = runs[i].EndSeq
		}
		all = append(all, at{seq, StepSide{Kind: StepNode, Run: &runs[i]}})
	}
	for _, e := range entries {
		if e.Type == TypeRollbackPerformed {
			rb := RollbackOf(e)
			all = append(all, at{e.Seq, StepSide{Kind: StepRollback, Rollback: &rb}})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for _, x := range all {
		out = append(out, x.s)
	}
	return out
}

// key is what aligned steps share: the node id, or the rollback.
func (s *StepSide) key() string {
	if s.Kind == StepRollback {
		return "\x00rollback"
	}
	return s.Run.NodeID
}

// same reports whether two sides of one key ended the same way.
func (s *StepSide) same(o *StepSide) bool {
	return len(stepDifferences(s, o)) == 0
}

// align pairs the sides of a and b: each pair holds an index into a and
// one into b, -1 for a missing side.
func align(a, b []StepSide) [][2]int {
	// The equal prefix and suffix pair up directly.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre].key() == b[pre].key() && a[pre].same(&b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre {
		x, y := &a[len(a)-1-suf], &b[len(b)-1-suf]
		if x.key() != y.key() || !x.same(y) {
			break
		}
		suf++
	}
	var out [][2]int
	for i := range pre {
		out = append(out, [2]int{i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxAlignCells {
		for i := range max(len(ma), len(mb)) {
			p := [2]int{-1, -1}
			if i < len(ma) {
				p[0] = pre + i
			}
			if i < len(mb) {
				p[1] = pre + i
			}
			out = append(out, p)
		}
	} else {
		// Longest common sequence by key; a pair that also ended the same
		// way scores more, so a retry pairs with the run that matches.
		n, m := len(ma), len(mb)
		score := make([]int32, (n+1)*(m+1))
		at := func(i, j int) *int32 { return &score[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				best := max(*at(i+1, j), *at(i, j+1))
				if ma[i].key() == mb[j].key() {
					w := int32(2)
					if ma[i].same(&mb[j]) {
						w = 3
					}
					best = max(best, *at(i+1, j+1)+w)
				}
				*at(i, j) = best
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i].key() == mb[j].key() && *at(i, j) == *at(i+1, j+1)+pairWeight(&ma[i], &mb[j]):
				out = append(out, [2]int{pre + i, pre + j})
				i++
				j++
			case j >= m || i < n && *at(i, j) == *at(i+1, j):
				out = append(out, [2]int{pre + i, -1})
				i++
			default:
				out = append(out, [2]int{-1, pre + j})
				j++
			}
		}
	}
	for k := suf; k > 0; k-- {
		out = append(out, [2]int{len(a) - k, len(b) - k})
	}
	return out
}

func pairWeight(a, b *StepSide) int32 {
	if a.same(b) {
		return 3
	}
	return 2
}

// stepDifferences lists how two sides differ, in the order of the
// Diverge* constants.
func stepDifferences(a, b *StepSide) []string {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil || b == nil:
		s := a
		if s == nil {
			s = b
		}
		if s.Kind == StepRollback {
			return []string{DivergeRollback}
		}
		return []string{DivergeNode}
	case a.Kind != b.Kind:
		return []string{DivergeNode}
	case a.Kind == StepRollback:
		if a.Rollback.ToCheckpoint != b.Rollback.ToCheckpoint || !slices.Equal(a.Rollback.RevertedNodes, b.Rollback.RevertedNodes) {
			return []string{DivergeRollback}
		}
		return nil
	}
	var d []string
	if a.Run.NodeID != b.Run.NodeID {
		d = append(d, DivergeNode)
	}
	if a.Run.Status != b.Run.Status {
		d = append(d, DivergeStatus)
	}
	if a.Run.Error != b.Run.Error {
		d = append(d, DivergeError)
	}
	return d
}

// finalStateKeys returns the final_state_keys of the last
// execution_completed entry, nil when there is none.
func finalStateKeys(entries []Entry) []string {
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Type == TypeExecutionCompleted {
			keys := stringListDetail(entries[i].Details, "final_state_keys")
			if keys == nil {
				keys = []string{}
			}
			return keys
		}
	}
	return nil
}

func nodeDeltas(a, b []StepSide) []NodeDelta {
	var order []string
	byNode := map[string]*NodeDelta{}
	add := func(sides []StepSide, isA bool) {
		for _, s := range sides {
			if s.Kind != StepNode {
				continue
			}
			d := byNode[s.Run.NodeID]
			if d == nil {
				d = &NodeDelta{NodeID: s.Run.NodeID}
				byNode[s.Run.NodeID] = d
				order = append(order, s.Run.NodeID)
			}
			var dur float64
			if s.Run.DurationMS != nil {
				dur = *s.Run.DurationMS
			}
			failed := 0
			if s.Run.Status == RunFailed {
				failed = 1
			}
			if isA {
				d.RunsA++
				d.FailedA += failed
				d.DurationAMS += dur
			} else {
				d.RunsB++
				d.FailedB += failed
				d.DurationBMS += dur
			}
		}
	}
	add(a, true)
	add(b, false)
	out := make([]NodeDelta, 0, len(order))
	for _, id := range order {
		d := byNode[id]
		d.DeltaMS = d.DurationBMS - d.DurationAMS
		out = append(out, *d)
	}
	return out
}

func summaryDiffs(a, b Summary) []FieldDiff {
	out := []FieldDiff{}
	add := func(field, x, y string) {
		if x != y {
			out = append(out, FieldDiff{field, x, y})
		}
	}
	ms := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64) + "ms"
	}
	add("workflow_id", a.WorkflowID, b.WorkflowID)
	add("status", a.Status, b.Status)
	add("duration", ms(a.DurationMS), ms(b.DurationMS))
	add("total_entries", strconv.Itoa(a.TotalEntries), strconv.Itoa(b.TotalEntries))
	add("nodes_executed", strconv.Itoa(a.NodesExecuted), strconv.Itoa(b.NodesExecuted))
	add("nodes_failed", strconv.Itoa(a.NodesFailed), strconv.Itoa(b.NodesFailed))
	add("checkpoints_created", strconv.Itoa(a.CheckpointsCreated), strconv.Itoa(b.CheckpointsCreated))
	add("rollbacks", strconv.Itoa(a.Rollbacks), strconv.Itoa(b.Rollbacks))
	add("errors", strconv.Itoa(a.Errors), strconv.Itoa(b.Errors))
	return out
}

// FormatComparison renders c as text: the two executions, the first
// divergence, the aligned steps with duration deltas, the per-node
// durations and the summary differences. `wtb audit diff` prints it.
func FormatComparison(c Comparison) string {
	var b strings.Builder
	head := func(tag string, s Summary) {
		fmt.Fprintf(&b, "%s: %s  workflow %s  %s", tag, s.ExecutionID, dashed(s.WorkflowID), s.Status)
		if s.DurationMS != nil {
			fmt.Fprintf(&b, " in %s", fmtMS(*s.DurationMS))
		}
		fmt.Fprintf(&b, "  (%d entries)\n", s.TotalEntries)
	}
	head("A", c.A)
	head("B", c.B)
	b.WriteString("\n")
	if c.Divergence == nil {
		b.WriteString("No divergence: the same steps, ending the same way.\n")
	} else {
		fmt.Fprintf(&b, "First divergence (%s): %s\n", c.Divergence.Kind, c.Divergence.Message)
	}
	b.WriteString("\n")
	rows := [][]string{{"STEP", "", "A", "B", "Δ DURATION"}}
	for _, st := range c.Steps {
		mark := ""
		if c.Divergence != nil && c.Divergence.Step == st.Index {
			mark = ">>"
		} else if len(st.Differences) > 0 {
			mark = "*"
		}
		delta := ""
		if st.DurationDeltaMS != nil {
			delta = signedMS(*st.DurationDeltaMS)
		}
		rows = append(rows, []string{strconv.Itoa(st.Index + 1), mark, sideText(st.A), sideText(st.B), delta})
	}
	writeTable(&b, rows)
	if len(c.FinalStateKeysA) > 0 || len(c.FinalStateKeysB) > 0 {
		fmt.Fprintf(&b, "\nFinal state keys: A %s, B %s\n", strings.Join(c.FinalStateKeysA, ","), strings.Join(c.FinalStateKeysB, ","))
	}
	if len(c.Nodes) > 0 {
		b.WriteString("\n")
		rows = [][]string{{"NODE", "RUNS A", "RUNS B", "DURATION A", "DURATION B", "Δ"}}
		for _, n := range c.Nodes {
			rows = append(rows, []string{n.NodeID, runsText(n.RunsA, n.FailedA), runsText(n.RunsB, n.FailedB),
				fmtMS(n.DurationAMS), fmtMS(n.DurationBMS), signedMS(n.DeltaMS)})
		}
		writeTable(&b, rows)
	}
	b.WriteString("\n")
	if len(c.SummaryDiffs) == 0 {
		b.WriteString("Summaries: equal\n")
	} else {
		rows = [][]string{{"SUMMARY", "A", "B"}}
		for _, d := range c.SummaryDiffs {
			rows = append(rows, []string{d.Field, d.A, d.B})
		}
		writeTable(&b, rows)
	}
	return strings.TrimRight(b.String(), "\n")
}

func sideText(s *StepSide) string {
	switch {
	case s == nil:
		return "-"
	case s.Kind == StepRollback:
		return "rollback to " + s.Rollback.ToCheckpoint
	}
	r := s.Run
	t := r.NodeID
	if r.Attempt > 1 {
		t += " #" + strconv.Itoa(r.Attempt)
	}
	t += " " + r.Status
	if r.DurationMS != nil {
		t += " " + fmtMS(*r.DurationMS)
	}
	if r.Error != "" {
		e := r.Error
		if len(e) > 40 {
			e = e[:37] + "..."
		}
		t += " (" + e + ")"
	}
	return t
}

func runsText(n, failed int) string {
	if failed == 0 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d (%d failed)", n, failed)
}

func fmtMS(ms float64) string {
	if ms >= 1000 || ms <= -1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
}

func signedMS(ms float64) string {
	if ms >= 0 {
		return "+" + fmtMS(ms)
	}
	return fmtMS(ms)
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeTable writes rows as left-aligned columns two spaces apart.
func writeTable(b *strings.Builder, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
