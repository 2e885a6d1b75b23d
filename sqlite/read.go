package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/wtbdev/wtb/audit"
)

const selectColumns = "seq, " + insertColumns

var severities = [...]audit.Severity{audit.SeverityDebug, audit.SeverityInfo, audit.SeveritySuccess, audit.SeverityWarning, audit.SeverityError}

// Query returns the entries matching f in seq order. See audit.Store.
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	if err := s.enter(ctx, "query"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	q, args := buildQuery(f)
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return nil, wrap(ctx, "query", err)
	}
	defer conn.Close()
	// Room for a small answer only: many queries ask for a whole page and
	// get a few entries (the ledger seals every run that ends by reading
	// its entries back), and zeroing a page's worth of entries per query
	// was a large part of sealing short runs. Appending grows it as needed.
	out := make([]audit.Entry, 0, min(f.EffectiveLimit(), 64))
	// Rows are decoded straight from the driver's values: no database/sql
	// conversion and copy per column.
	err = conn.Raw(func(dc any) error {
		return queryRows(ctx, dc.(driver.Conn), q, named, func(row []driver.Value) error {
			var e audit.Entry
			if err := decodeEntry(row, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, wrap(ctx, "query", err)
	}
	return out, nil
}

// buildQuery returns the SQL and arguments of f. Every filter is a
// condition an index can serve; ORDER BY seq follows (x, seq) indexes.
func buildQuery(f audit.Filter) (string, []any) {
	var where []string
	var args []any
	if f.ExecutionID != "" {
		where = append(where, "execution_id = ?")
		args = append(args, f.ExecutionID)
	}
	if f.NodeID != "" {
		where = append(where, "node_id = ?")
		args = append(args, f.NodeID)
	}
	if len(f.Types) > 0 {
		where = append(where, "event_type IN (?"+strings.Repeat(",?", len(f.Types)-1)+")")
		for _, t := range f.Types {
			args = append(args, string(t))
		}
	}
	if f.MinSeverity != "" && f.MinSeverity.Rank() > 0 {
		where = append(where, "severity >= ?")
		args = append(args, int64(f.MinSeverity.Rank()))
	}
	if !f.Since.IsZero() {
		where = append(where, "ts >= ?")
		args = append(args, unixNano(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "ts < ?")
		args = append(args, unixNano(f.Until))
	}
	if f.After > 0 {
		where = append(where, "seq > ?")
		args = append(args, f.After)
	}
	var b strings.Builder
	b.WriteString("SELECT " + selectColumns + " FROM entries")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY seq LIMIT ?")
	args = append(args, int64(f.EffectiveLimit()))
	return b.String(), args
}

// unixNano is t in Unix nanoseconds, clamped to the int64 range.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// decodeEntry fills e from one row of selectColumns as the driver returns
// it: int64, float64, string (or []byte) and nil.
func decodeEntry(row []driver.Value, e *audit.Entry) error {
	var ok [12]bool
	e.Seq, ok[0] = row[0].(int64)
	e.EventID, ok[1] = text(row[1])
	e.SourceType, ok[2] = text(row[2])
	ts, tsOK := row[3].(int64)
	ok[3] = tsOK
	var typ string
	typ, ok[4] = text(row[4])
	e.Type = audit.Type(typ)
	sev, sevOK := row[5].(int64)
	ok[5] = sevOK && sev >= 0 && sev < int64(len(severities))
	e.Message, ok[6] = text(row[6])
	e.ExecutionID, ok[7] = text(row[7])
	e.NodeID, ok[8] = text(row[8])
	switch d := row[9].(type) {
	case string:
		e.Details, ok[9] = []byte(d), true
	case []byte:
		e.Details, ok[9] = bytes.Clone(d), true
	}
	e.Error, ok[10] = text(row[10])
	switch d := row[11].(type) {
	case nil:
		ok[11] = true
	case float64:
		e.DurationMS, ok[11] = &d, true
	case int64:
		f := float64(d)
		e.DurationMS, ok[11] = &f, true
	}
	for i, good := range ok {
		if !good {
			return fmt.Errorf("entry %d: column %d holds %T %v", e.Seq, i, row[i], row[i])
		}
	}
	e.Severity = severities[sev]
	e.Timestamp = time.Unix(0, ts).UTC()
	return nil
}

// text returns a TEXT column's value.
func text(v driver.Value) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case []byte:
		return string(t), true
	}
	return "", false
}

// Count returns the number of entries. See audit.Store.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.enter(ctx, "count"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	var n int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM entries").Scan(&n); err != nil {
		return 0, wrap(ctx, "count", err)
	}
	return n, nil
}

// summaryColumns are the columns of an executions row that scanSummary reads.
const summaryColumns = `execution_id, workflow_id, started_ns, ended_ns, end_type, paused, total,
	nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq`

// Summary summarises one execution from its summary row. See audit.Store
// and audit.Summary.
func (s *Store) Summary(ctx context.Context, executionID string) (audit.Summary, error) {
	if err := s.enter(ctx, "summary"); err != nil {
		return audit.Summary{}, err
	}
	defer s.mu.RUnlock()
	if executionID == "" {
		return audit.Summary{}, fmt.Errorf("sqlite: summary of the empty execution id: %w", audit.ErrNotFound)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+summaryColumns+" FROM executions WHERE execution_id = ?", executionID)
	if err != nil {
		return audit.Summary{}, wrap(ctx, "summary "+executionID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return audit.Summary{}, wrap(ctx, "summary "+executionID, err)
		}
		return audit.Summary{}, fmt.Errorf("sqlite: summary of execution %q: %w", executionID, audit.ErrNotFound)
	}
	sum, err := scanSummary(rows)
	if err != nil {
		return audit.Summary{}, wrap(ctx, "summary "+executionID, err)
	}
	return sum, nil
}

// scanSummary reads one row of summaryColumns.
func scanSummary(rows *sql.Rows) (audit.Summary, error) {
	var (
		sum           audit.Summary
		workflow, end sql.NullString
		started       int64
		ended, paused sql.NullInt64
		first, last   int64
	)
	if err := rows.Scan(&sum.ExecutionID, &workflow, &started, &ended, &end, &paused, &sum.TotalEntries,
		&sum.NodesExecuted, &sum.NodesFailed, &sum.CheckpointsCreated, &sum.Rollbacks, &sum.Errors, &first, &last); err != nil {
		return sum, err
	}
	sum.WorkflowID = workflow.String
	sum.FirstSeq, sum.LastSeq = first, last
	st := time.Unix(0, started).UTC()
	sum.StartedAt = &st
	if end.Valid && ended.Valid {
		t := time.Unix(0, ended.Int64).UTC()
		sum.EndedAt = &t
		d := float64(t.Sub(st)) / float64(time.Millisecond)
		sum.DurationMS = &d
	}
	sum.Status = audit.ExecutionStatus(audit.Type(end.String), paused.Valid && paused.Int64 == 1)
	return sum, nil
}

// buildExecutions returns the SQL and arguments of a page of executions:
// newest first, each filter a condition on the summary rows; the order
// follows the executions_started, executions_status and
// executions_workflow indexes backwards.
func buildExecutions(p audit.Page) (string, []any, error) {
	var where []string
	var args []any
	if len(p.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(",?", len(p.Statuses)-1)+")")
		for _, st := range p.Statuses {
			args = append(args, st)
		}
	}
	if p.WorkflowID != "" {
		where = append(where, "workflow_id = ?")
		args = append(args, p.WorkflowID)
	}
	if p.Text != "" {
		// LIKE compares ASCII letters without case, as audit.Page says.
		where = append(where, `(execution_id LIKE ? ESCAPE '\' OR workflow_id LIKE ? ESCAPE '\')`)
		pat := "%" + likeEscaper.Replace(p.Text) + "%"
		args = append(args, pat, pat)
	}
	if !p.Since.IsZero() {
		where = append(where, "started_ns >= ?")
		args = append(args, unixNano(p.Since))
	}
	if !p.Until.IsZero() {
		where = append(where, "started_ns < ?")
		args = append(args, unixNano(p.Until))
	}
	if p.After != "" {
		ns, id, err := audit.ParseCursor(p.After)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "(started_ns, execution_id) < (?, ?)")
		args = append(args, ns, id)
	}
	var b strings.Builder
	b.WriteString("SELECT " + summaryColumns + " FROM executions")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY started_ns DESC, execution_id DESC LIMIT ?")
	args = append(args, int64(p.EffectiveLimit()))
	return b.String(), args, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// Executions lists the executions p selects, newest first. See audit.Store
// and audit.Page.
func (s *Store) Executions(ctx context.Context, p audit.Page) ([]audit.Summary, error) {
	if err := s.enter(ctx, "executions"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: executions: %w", err)
	}
	q, args, err := buildExecutions(p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: executions: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, "executions", err)
	}
	defer rows.Close()
	out := []audit.Summary{}
	for rows.Next() {
		sum, err := scanSummary(rows)
		if err != nil {
			return nil, wrap(ctx, "executions", err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "executions", err)
	}
	return out, nil
}
