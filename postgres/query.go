package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
)

// queries holds the SQL of one schema, built once at Open.
type queries struct {
	entries        string // quoted table name
	seqName        string // quoted sequence name, passed as a regclass parameter
	reserve        string
	reserveBlock   string
	copy           string
	insertStaged   string
	count          string
	countAndCommit string
	summary        string
	executions     string
}

// entryColumns are the columns Query reads (readEntries, scanEntry), in order.
const entryColumns = `seq, event_id, source_type, ts, ts_nanos, event_type, severity, message,
	execution_id, node_id, details, error, duration_ms`

// terminalTypes are the audit types that end an execution (see audit.Summary).
var terminalTypes = []audit.Type{
	audit.TypeExecutionCompleted, audit.TypeExecutionFailed, audit.TypeExecutionCancelled,
	audit.TypeRayBatchTestCompleted, audit.TypeRayBatchTestFailed, audit.TypeRayBatchTestCancelled,
}

// sqlList renders types as a SQL list of string literals. The values are
// the package's own constants, never user input.
func sqlList(ts ...audit.Type) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "'" + strings.ReplaceAll(string(t), "'", "''") + "'"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func newQueries(schema string) queries {
	t := pgx.Identifier{schema, "entries"}.Sanitize()
	q := queries{
		entries: t,
		seqName: pgx.Identifier{schema, "entries_seq"}.Sanitize(),
	}
	// The checked way: $1 = the batch's event ids (distinct), $2 =
	// sequence, $3 = len($1).
	// Returns the ids already recorded and base: the new entries get seqs
	// base+1..base+n, n = $3 - duplicates, reserved in one step (the append
	// lock makes nextval and setval atomic together). base is 0 when n is 0.
	q.reserve = `WITH d AS (
	SELECT coalesce(array_agg(event_id), '{}') AS ids FROM ` + t + ` WHERE event_id = ANY($1::text[])
)
SELECT d.ids, CASE WHEN $3 > cardinality(d.ids)
	THEN setval($2::regclass, nextval($2::regclass) + ($3 - cardinality(d.ids)) - 1) - ($3 - cardinality(d.ids))
	ELSE 0 END
FROM d`
	// $1 = sequence, $2 = n >= 1: reserves base+1..base+n, returns base.
	q.reserveBlock = `SELECT setval($1::regclass, nextval($1::regclass) + $2 - 1) - $2`
	q.copy = "COPY " + t + " (" + strings.Join(entryInsertColumns, ", ") + ") FROM STDIN (FORMAT binary)"
	// modeStaging: $1 = number of staged rows, $2 = sequence. The block
	// base+1..base+$1 is reserved in one step; staged row ord k gets seq
	// base+k, so seqs follow batch order. Rows whose event_id exists
	// already are skipped and their seq left unused.
	q.insertStaged = `WITH blk AS MATERIALIZED (
	SELECT setval($2::regclass, nextval($2::regclass) + $1 - 1) - $1 AS base
), ins AS (
	INSERT INTO ` + t + ` (seq, event_id, source_type, ts, ts_nanos, event_type, severity,
		message, execution_id, node_id, details, error, duration_ms)
	SELECT blk.base + s.ord, s.event_id, s.source_type, s.ts, s.ts_nanos, s.event_type, s.severity,
		s.message, s.execution_id, s.node_id, s.details, s.error, s.duration_ms
	FROM pg_temp.` + stagingTable + ` s CROSS JOIN blk
	ORDER BY s.ord
	ON CONFLICT (event_id) DO NOTHING
	RETURNING seq
)
SELECT (SELECT base FROM blk), coalesce((SELECT array_agg(seq) FROM ins), '{}')`
	count := pgx.Identifier{schema, "entry_count"}.Sanitize()
	q.count = `SELECT n FROM ` + count
	q.countAndCommit = `UPDATE ` + count + ` SET n = n + `
	q.summary = summarySelect(t, "$1") + ` WHERE a.total > 0`
	// Executions: a loose index scan over (execution_id, seq) finds the next
	// distinct ids without reading every entry, then each is summarised.
	q.executions = `WITH RECURSIVE ids(id) AS (
	(SELECT execution_id FROM ` + t + ` WHERE execution_id > $1 ORDER BY execution_id LIMIT 1)
	UNION ALL
	SELECT (SELECT e.execution_id FROM ` + t + ` e WHERE e.execution_id > ids.id ORDER BY e.execution_id LIMIT 1)
	FROM ids WHERE ids.id IS NOT NULL
), page AS (
	SELECT id FROM ids WHERE id IS NOT NULL LIMIT $2
)
SELECT page.id, sm.* FROM page CROSS JOIN LATERAL (` + summarySelect(t, "page.id") + `) sm ORDER BY page.id`
	return q
}

// summarySelect aggregates the execution whose id is the SQL expression id.
// Columns: total, first_seq, last_seq, nodes_executed, nodes_failed,
// checkpoints, rollbacks, errors, first ts/ts_nanos, last terminal
// ts/ts_nanos/event_type, first workflow details.
func summarySelect(t, id string) string {
	return `SELECT a.total, a.first_seq, a.last_seq, a.nodes_executed, a.nodes_failed,
	a.checkpoints, a.rollbacks, a.errors,
	f.ts, f.ts_nanos, z.ts, z.ts_nanos, z.event_type, w.details
FROM (
	SELECT count(*) AS total, min(seq) AS first_seq, max(seq) AS last_seq,
		count(*) FILTER (WHERE event_type = '` + string(audit.TypeNodeCompleted) + `') AS nodes_executed,
		count(*) FILTER (WHERE event_type = '` + string(audit.TypeNodeFailed) + `') AS nodes_failed,
		count(*) FILTER (WHERE event_type = '` + string(audit.TypeCheckpointCreated) + `') AS checkpoints,
		count(*) FILTER (WHERE event_type = '` + string(audit.TypeRollbackPerformed) + `') AS rollbacks,
		count(*) FILTER (WHERE severity = '` + string(audit.SeverityError) + `') AS errors
	FROM ` + t + ` WHERE execution_id = ` + id + `
) a
LEFT JOIN LATERAL (
	SELECT ts, ts_nanos FROM ` + t + ` WHERE execution_id = ` + id + ` ORDER BY seq LIMIT 1
) f ON true
LEFT JOIN LATERAL (
	SELECT ts, ts_nanos, event_type FROM ` + t + ` WHERE execution_id = ` + id + `
		AND event_type IN ` + sqlList(terminalTypes...) + ` ORDER BY seq DESC LIMIT 1
) z ON true
LEFT JOIN LATERAL (
	SELECT details FROM ` + t + ` WHERE execution_id = ` + id + `
		AND event_type IN ` + sqlList(audit.TypeExecutionStarted, audit.TypeRayBatchTestStarted) + `
		AND json_typeof(details -> 'workflow_id') = 'string' AND details ->> 'workflow_id' <> ''
		ORDER BY seq LIMIT 1
) w ON true`
}

// Query returns the entries matching f in seq order (see audit.Store).
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	if err := s.check(ctx, "query"); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: query: %w", err)
	}
	sql, args := s.buildQuery(f)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.wrap(ctx, "query", err)
	}
	out, err := readEntries(rows)
	if err != nil {
		return nil, s.wrap(ctx, "query", err)
	}
	return out, nil
}

// buildQuery renders f as SQL with positional arguments.
func (s *Store) buildQuery(f audit.Filter) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ExecutionID != "" {
		where = append(where, "execution_id = "+arg(f.ExecutionID))
	}
	if f.NodeID != "" {
		where = append(where, "node_id = "+arg(f.NodeID))
	}
	if len(f.Types) > 0 {
		ts := make([]string, len(f.Types))
		for i, t := range f.Types {
			ts[i] = string(t)
		}
		where = append(where, "event_type = ANY("+arg(ts)+"::text[])")
	}
	if f.MinSeverity != "" {
		var sev []string
		for _, v := range []audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError} {
			if v.Rank() >= f.MinSeverity.Rank() {
				sev = append(sev, string(v))
			}
		}
		where = append(where, "severity = ANY("+arg(sev)+"::text[])")
	}
	if !f.Since.IsZero() {
		ts, ns := splitTime(f.Since)
		where = append(where, "(ts, ts_nanos) >= ("+arg(ts)+"::timestamptz, "+arg(ns)+"::smallint)")
	}
	if !f.Until.IsZero() {
		ts, ns := splitTime(f.Until)
		where = append(where, "(ts, ts_nanos) < ("+arg(ts)+"::timestamptz, "+arg(ns)+"::smallint)")
	}
	if f.After > 0 {
		where = append(where, "seq > "+arg(f.After))
	}
	var b strings.Builder
	b.WriteString("SELECT " + entryColumns + " FROM " + s.q.entries)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY seq LIMIT " + arg(f.EffectiveLimit()))
	return b.String(), args
}

// scanEntry reads one row of entryColumns.
func scanEntry(row pgx.CollectableRow) (audit.Entry, error) {
	var (
		e                 audit.Entry
		ts                time.Time
		nanos             int16
		typ, sev          string
		execID, node, msg *string
		details           []byte
	)
	if err := row.Scan(&e.Seq, &e.EventID, &e.SourceType, &ts, &nanos, &typ, &sev, &e.Message,
		&execID, &node, &details, &msg, &e.DurationMS); err != nil {
		return e, err
	}
	e.Timestamp = joinTime(ts, nanos)
	e.Type = audit.Type(typ)
	e.Severity = audit.Severity(sev)
	e.ExecutionID = deref(execID)
	e.NodeID = deref(node)
	e.Error = deref(msg)
	if len(details) == 0 {
		details = []byte("{}")
	}
	e.Details = json.RawMessage(details)
	return e, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// summaryRow receives the columns of summarySelect.
type summaryRow struct {
	total, firstSeq, lastSeq                                 int64
	nodesExecuted, nodesFailed, checkpoints, rollbacks, errs int64
	firstTS, endTS                                           *time.Time
	firstNanos, endNanos                                     *int16
	endType                                                  *string
	workflow                                                 []byte
}

func (r *summaryRow) dest() []any {
	return []any{&r.total, &r.firstSeq, &r.lastSeq, &r.nodesExecuted, &r.nodesFailed,
		&r.checkpoints, &r.rollbacks, &r.errs, &r.firstTS, &r.firstNanos, &r.endTS, &r.endNanos,
		&r.endType, &r.workflow}
}

func (r *summaryRow) summary(executionID string) audit.Summary {
	s := audit.Summary{
		TotalEntries:       int(r.total),
		ExecutionID:        executionID,
		NodesExecuted:      int(r.nodesExecuted),
		NodesFailed:        int(r.nodesFailed),
		CheckpointsCreated: int(r.checkpoints),
		Rollbacks:          int(r.rollbacks),
		Errors:             int(r.errs),
		Status:             audit.StatusRunning,
		FirstSeq:           r.firstSeq,
		LastSeq:            r.lastSeq,
	}
	if r.firstTS != nil && r.firstNanos != nil {
		t := joinTime(*r.firstTS, *r.firstNanos)
		s.StartedAt = &t
	}
	if r.endTS != nil && r.endNanos != nil && r.endType != nil {
		t := joinTime(*r.endTS, *r.endNanos)
		s.EndedAt = &t
		s.Status = terminalStatus(audit.Type(*r.endType))
		if s.StartedAt != nil {
			d := float64(t.Sub(*s.StartedAt)) / float64(time.Millisecond)
			s.DurationMS = &d
		}
	}
	if len(r.workflow) > 0 {
		var d struct {
			WorkflowID any `json:"workflow_id"`
		}
		if json.Unmarshal(r.workflow, &d) == nil {
			s.WorkflowID, _ = d.WorkflowID.(string)
		}
	}
	return s
}

// terminalStatus is the status a terminal entry type leaves an execution in.
func terminalStatus(t audit.Type) string {
	switch t {
	case audit.TypeExecutionCompleted, audit.TypeRayBatchTestCompleted:
		return audit.StatusCompleted
	case audit.TypeExecutionFailed, audit.TypeRayBatchTestFailed:
		return audit.StatusFailed
	case audit.TypeExecutionCancelled, audit.TypeRayBatchTestCancelled:
		return audit.StatusCancelled
	}
	return audit.StatusRunning
}

// Summary summarises one execution; the error wraps audit.ErrNotFound when
// it has no entries.
func (s *Store) Summary(ctx context.Context, executionID string) (audit.Summary, error) {
	if err := s.check(ctx, "summary"); err != nil {
		return audit.Summary{}, err
	}
	if executionID == "" {
		return audit.Summary{}, fmt.Errorf("postgres: summary of the empty execution id: %w", audit.ErrNotFound)
	}
	var r summaryRow
	err := s.pool.QueryRow(ctx, s.q.summary, executionID).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Summary{}, fmt.Errorf("postgres: summary of execution %q: %w", executionID, audit.ErrNotFound)
	}
	if err != nil {
		return audit.Summary{}, s.wrap(ctx, "summary", err)
	}
	return r.summary(executionID), nil
}

// Executions lists executions with an id greater than p.After, ordered by
// id (byte-wise), with their summaries.
func (s *Store) Executions(ctx context.Context, p audit.Page) ([]audit.Summary, error) {
	if err := s.check(ctx, "executions"); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: executions: %w", err)
	}
	rows, err := s.pool.Query(ctx, s.q.executions, p.After, p.EffectiveLimit())
	if err != nil {
		return nil, s.wrap(ctx, "executions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Summary, error) {
		var (
			id string
			r  summaryRow
		)
		if err := row.Scan(append([]any{&id}, r.dest()...)...); err != nil {
			return audit.Summary{}, err
		}
		return r.summary(id), nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "executions", err)
	}
	return out, nil
}
