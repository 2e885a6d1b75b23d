package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/internal/jsonw"
)

// summaryColumns are the columns of an executions row that scanSummary reads.
const summaryColumns = `execution_id, workflow_id, started_ns, ended_ns, end_type, paused, total,
	nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq`

// upsertExecutions merges the audit.ExecutionDelta rows of a JSON array
// (see deltaArgs) into the executions' summary rows (see
// migrations/0003_executions.sql). t is the quoted executions table.
func upsertExecutions(t string) string {
	return `INSERT INTO ` + t + ` AS x (execution_id, workflow_id, started_ns, ended_ns, end_type, paused,
	total, nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq)
SELECT d.e, d.w, d.s, d.n, d.t, d.p, d.c, d.ne, d.nf, d.ck, d.rb, d.er, d.f, d.l
FROM json_to_recordset($1::json) AS d(e text, w text, s bigint, n bigint, t text, p boolean,
	c bigint, ne bigint, nf bigint, ck bigint, rb bigint, er bigint, f bigint, l bigint)
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

// deltaFolders are the audit.DeltaFolders of the append paths (Append runs
// concurrently).
var deltaFolders = sync.Pool{New: func() any { return new(audit.DeltaFolder) }}

// deltaArgs is the argument of upsertExecutions for the recorded entries of
// a batch: entries[unique[k]] got seqs[k] (0: a duplicate), folded into one
// delta per execution and written as one JSON array, whose encoding costs
// the append path far less than 14 typed arrays (which the driver encodes
// element by element). A null field is left out. It returns nil when no
// entry belongs to an execution.
func deltaArgs(entries []audit.Entry, unique []int, seqs []int64) []any {
	for k, seq := range seqs {
		entries[unique[k]].Seq = seq
	}
	f := deltaFolders.Get().(*audit.DeltaFolder)
	defer deltaFolders.Put(f)
	deltas := f.Fold(entries)
	for _, i := range unique {
		entries[i].Seq = 0 // Append sets them once committed
	}
	if len(deltas) == 0 {
		return nil
	}
	b := make([]byte, 0, len(deltas)*(160+len(deltas[0].ExecutionID)))
	b = append(b, '[')
	num := func(key string, v int64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	for i := range deltas {
		d := &deltas[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"e":`...)
		b = jsonw.AppendString(b, d.ExecutionID)
		if d.WorkflowID != "" {
			b = append(b, `,"w":`...)
			b = jsonw.AppendString(b, d.WorkflowID)
		}
		num("s", d.StartedAt.UnixNano())
		if d.EndType != "" {
			num("n", d.EndedAt.UnixNano())
			b = append(b, `,"t":`...)
			b = jsonw.AppendString(b, string(d.EndType))
		}
		if d.PauseSet {
			b = append(b, `,"p":`...)
			b = strconv.AppendBool(b, d.Paused)
		}
		num("c", int64(d.Total))
		num("ne", int64(d.NodesExecuted))
		num("nf", int64(d.NodesFailed))
		num("ck", int64(d.Checkpoints))
		num("rb", int64(d.Rollbacks))
		num("er", int64(d.Errors))
		num("f", d.FirstSeq)
		num("l", d.LastSeq)
		b = append(b, '}')
	}
	b = append(b, ']')
	return []any{b}
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
