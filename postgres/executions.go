package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
)

// summaryColumns are the columns of an executions row that scanSummary reads.
const summaryColumns = `execution_id, workflow_id, started_ns, ended_ns, end_type, paused, total,
	nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq`

// upsertExecutions merges one audit.ExecutionDelta per array element into
// the executions' summary rows (see migrations/0003_executions.sql). t is
// the quoted executions table.
func upsertExecutions(t string) string {
	return `INSERT INTO ` + t + ` AS x (execution_id, workflow_id, started_ns, ended_ns, end_type, paused,
	total, nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::boolean[],
	$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
ON CONFLICT (execution_id) DO UPDATE SET
	workflow_id = coalesce(x.workflow_id, excluded.workflow_id),
	ended_ns = coalesce(excluded.ended_ns, x.ended_ns),
	end_type = coalesce(excluded.end_type, x.end_type),
	paused = coalesce(excluded.paused, x.paused),
	total = x.total + excluded.total,
	nodes_executed = x.nodes_executed + excluded.nodes_executed,
	nodes_failed = x.nodes_failed + excluded.nodes_failed,
	checkpoints = x.checkpoints + excluded.checkpoints,
	rollbacks = x.rollbacks + excluded.rollbacks,
	errors = x.errors + excluded.errors,
	last_seq = excluded.last_seq`
}

// deltaArgs are the 14 array arguments of upsertExecutions for the
// recorded entries of a batch: entries[unique[k]] got seqs[k] (0: a
// duplicate). It returns nil when no entry belongs to an execution.
func deltaArgs(entries []audit.Entry, unique []int, seqs []int64) []any {
	for k, seq := range seqs {
		entries[unique[k]].Seq = seq
	}
	deltas := audit.ExecutionDeltas(entries)
	for _, i := range unique {
		entries[i].Seq = 0 // Append sets them once committed
	}
	if len(deltas) == 0 {
		return nil
	}
	n := len(deltas)
	var (
		ids, workflows, endTypes                   = make([]string, n), make([]*string, n), make([]*string, n)
		started, ended                             = make([]int64, n), make([]*int64, n)
		paused                                     = make([]*bool, n)
		total, nodes, failed, cps, rollbacks, errs = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		first, last                                = make([]int64, n), make([]int64, n)
	)
	for i := range deltas {
		d := &deltas[i]
		ids[i] = d.ExecutionID
		if d.WorkflowID != "" {
			workflows[i] = &d.WorkflowID
		}
		started[i] = d.StartedAt.UnixNano()
		if d.EndType != "" {
			et, en := string(d.EndType), d.EndedAt.UnixNano()
			endTypes[i], ended[i] = &et, &en
		}
		if d.PauseSet {
			paused[i] = &d.Paused
		}
		total[i], nodes[i], failed[i] = int64(d.Total), int64(d.NodesExecuted), int64(d.NodesFailed)
		cps[i], rollbacks[i], errs[i] = int64(d.Checkpoints), int64(d.Rollbacks), int64(d.Errors)
		first[i], last[i] = d.FirstSeq, d.LastSeq
	}
	return []any{ids, workflows, started, ended, endTypes, paused, total, nodes, failed, cps, rollbacks, errs, first, last}
}

// scanSummary reads one row of summaryColumns.
func scanSummary(row pgx.CollectableRow) (audit.Summary, error) {
	var (
		sum           audit.Summary
		workflow, end *string
		started       int64
		ended         *int64
		paused        *bool
		counts        [6]int64
	)
	if err := row.Scan(&sum.ExecutionID, &workflow, &started, &ended, &end, &paused, &counts[0],
		&counts[1], &counts[2], &counts[3], &counts[4], &counts[5], &sum.FirstSeq, &sum.LastSeq); err != nil {
		return sum, err
	}
	sum.TotalEntries, sum.NodesExecuted, sum.NodesFailed = int(counts[0]), int(counts[1]), int(counts[2])
	sum.CheckpointsCreated, sum.Rollbacks, sum.Errors = int(counts[3]), int(counts[4]), int(counts[5])
	sum.WorkflowID = deref(workflow)
	st := time.Unix(0, started).UTC()
	sum.StartedAt = &st
	if end != nil && ended != nil {
		t := time.Unix(0, *ended).UTC()
		sum.EndedAt = &t
		d := float64(t.Sub(st)) / float64(time.Millisecond)
		sum.DurationMS = &d
	}
	sum.Status = audit.ExecutionStatus(audit.Type(deref(end)), paused != nil && *paused)
	return sum, nil
}

// Summary summarises one execution from its summary row; the error wraps
// audit.ErrNotFound when it has no entries.
func (s *Store) Summary(ctx context.Context, executionID string) (audit.Summary, error) {
	if err := s.check(ctx, "summary"); err != nil {
		return audit.Summary{}, err
	}
	if executionID == "" {
		return audit.Summary{}, fmt.Errorf("postgres: summary of the empty execution id: %w", audit.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+summaryColumns+" FROM "+s.q.executionsTable+" WHERE execution_id = $1", executionID)
	if err != nil {
		return audit.Summary{}, s.wrap(ctx, "summary", err)
	}
	sum, err := pgx.CollectExactlyOneRow(rows, scanSummary)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Summary{}, fmt.Errorf("postgres: summary of execution %q: %w", executionID, audit.ErrNotFound)
	}
	if err != nil {
		return audit.Summary{}, s.wrap(ctx, "summary", err)
	}
	return sum, nil
}

// buildExecutions renders a page of executions as SQL: newest first, each
// filter a condition on the summary rows, served by the executions_*
// indexes read backwards.
func (s *Store) buildExecutions(p audit.Page) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(p.Statuses) == 1 {
		where = append(where, "status = "+arg(p.Statuses[0]))
	} else if len(p.Statuses) > 1 {
		where = append(where, "status = ANY("+arg(p.Statuses)+"::text[])")
	}
	if p.WorkflowID != "" {
		where = append(where, "workflow_id = "+arg(p.WorkflowID))
	}
	if p.Text != "" {
		// ILIKE under the "C" collation folds ASCII letters only, as audit.Page says.
		pat := arg("%" + likeEscaper.Replace(p.Text) + "%")
		where = append(where, "(execution_id ILIKE "+pat+" OR workflow_id ILIKE "+pat+")")
	}
	if !p.Since.IsZero() {
		where = append(where, "started_ns >= "+arg(clampNano(p.Since)))
	}
	if !p.Until.IsZero() {
		where = append(where, "started_ns < "+arg(clampNano(p.Until)))
	}
	if p.After != "" {
		ns, id, err := audit.ParseCursor(p.After)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "(started_ns, execution_id) < ("+arg(ns)+", "+arg(id)+"::text COLLATE \"C\")")
	}
	var b strings.Builder
	b.WriteString("SELECT " + summaryColumns + " FROM " + s.q.executionsTable)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY started_ns DESC, execution_id DESC LIMIT " + arg(p.EffectiveLimit()))
	return b.String(), args, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// clampNano is t in Unix nanoseconds, clamped to the int64 range.
func clampNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, -1<<63)):
		return -1 << 63
	case t.After(time.Unix(0, 1<<63-1)):
		return 1<<63 - 1
	}
	return t.UnixNano()
}

// Executions lists the executions p selects, newest first (see
// audit.Store and audit.Page).
func (s *Store) Executions(ctx context.Context, p audit.Page) ([]audit.Summary, error) {
	if err := s.check(ctx, "executions"); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: executions: %w", err)
	}
	q, args, err := s.buildExecutions(p)
	if err != nil {
		return nil, fmt.Errorf("postgres: executions: %w", err)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(ctx, "executions", err)
	}
	out, err := pgx.CollectRows(rows, scanSummary)
	if err != nil {
		return nil, s.wrap(ctx, "executions", err)
	}
	if out == nil {
		out = []audit.Summary{}
	}
	return out, nil
}
