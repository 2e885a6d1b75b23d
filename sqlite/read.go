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
	out := make([]audit.Entry, 0, min(f.EffectiveLimit(), 1024))
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

// summarySQL computes a Summary in one statement (one snapshot). ?1 is the
// execution id.
const summarySQL = `SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0),
	coalesce(sum(event_type = 'node_completed'), 0),
	coalesce(sum(event_type = 'node_failed'), 0),
	coalesce(sum(event_type = 'checkpoint_created'), 0),
	coalesce(sum(event_type = 'rollback_performed'), 0),
	coalesce(sum(severity = 4), 0),
	(SELECT ts FROM entries WHERE execution_id = ?1 ORDER BY seq LIMIT 1),
	(SELECT ts FROM entries WHERE execution_id = ?1 AND event_type IN (` + terminalTypes + `) ORDER BY seq DESC LIMIT 1),
	(SELECT event_type FROM entries WHERE execution_id = ?1 AND event_type IN (` + terminalTypes + `) ORDER BY seq DESC LIMIT 1),
	(SELECT json_extract(details, '$.workflow_id') FROM entries WHERE execution_id = ?1
		AND event_type IN ('execution_started', 'ray_batch_test_started')
		AND json_type(details, '$.workflow_id') = 'text' AND json_extract(details, '$.workflow_id') <> ''
		ORDER BY seq LIMIT 1)
FROM entries WHERE execution_id = ?1`

const terminalTypes = `'execution_completed', 'execution_failed', 'execution_cancelled',
	'ray_batch_test_completed', 'ray_batch_test_failed', 'ray_batch_test_cancelled'`

// Summary summarises one execution. See audit.Store and audit.Summary.
func (s *Store) Summary(ctx context.Context, executionID string) (audit.Summary, error) {
	if err := s.enter(ctx, "summary"); err != nil {
		return audit.Summary{}, err
	}
	defer s.mu.RUnlock()
	sum, err := summarize(ctx, s.rdb, executionID)
	if err != nil {
		return audit.Summary{}, wrap(ctx, "summary "+executionID, err)
	}
	return sum, nil
}

// rowQuerier is *sql.DB or *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// terminalStatus maps a terminal audit type to the Summary status.
var terminalStatus = map[string]string{
	"execution_completed":      audit.StatusCompleted,
	"execution_failed":         audit.StatusFailed,
	"execution_cancelled":      audit.StatusCancelled,
	"ray_batch_test_completed": audit.StatusCompleted,
	"ray_batch_test_failed":    audit.StatusFailed,
	"ray_batch_test_cancelled": audit.StatusCancelled,
}

// summarize runs summarySQL; audit.ErrNotFound when id has no entries.
func summarize(ctx context.Context, q rowQuerier, id string) (audit.Summary, error) {
	sum := audit.Summary{ExecutionID: id, Status: audit.StatusRunning}
	if id == "" {
		return sum, audit.ErrNotFound
	}
	var first, end sql.NullInt64
	var endType, workflow sql.NullString
	err := q.QueryRowContext(ctx, summarySQL, id).Scan(&sum.TotalEntries, &sum.FirstSeq, &sum.LastSeq,
		&sum.NodesExecuted, &sum.NodesFailed, &sum.CheckpointsCreated, &sum.Rollbacks, &sum.Errors,
		&first, &end, &endType, &workflow)
	if err != nil {
		return sum, err
	}
	if sum.TotalEntries == 0 {
		return sum, audit.ErrNotFound
	}
	sum.WorkflowID = workflow.String
	if first.Valid {
		t := time.Unix(0, first.Int64).UTC()
		sum.StartedAt = &t
	}
	if end.Valid && sum.StartedAt != nil {
		t := time.Unix(0, end.Int64).UTC()
		sum.EndedAt = &t
		d := float64(t.Sub(*sum.StartedAt)) / float64(time.Millisecond)
		sum.DurationMS = &d
		sum.Status = terminalStatus[endType.String]
	}
	return sum, nil
}

// executionsSQL lists up to ?2 execution ids greater than ?1 in byte order,
// one index seek per id (no scan of the entries of each execution).
const executionsSQL = `WITH RECURSIVE ids(id, n) AS (
	SELECT (SELECT min(execution_id) FROM entries WHERE execution_id > ?1), 1
	UNION ALL
	SELECT (SELECT min(execution_id) FROM entries WHERE execution_id > ids.id), n + 1
	FROM ids WHERE ids.id IS NOT NULL AND n < ?2
) SELECT id FROM ids WHERE id IS NOT NULL`

// Executions lists executions with their summaries, ordered by id. See
// audit.Store.
func (s *Store) Executions(ctx context.Context, p audit.Page) ([]audit.Summary, error) {
	if err := s.enter(ctx, "executions"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: executions: %w", err)
	}
	// One read transaction: the ids and their summaries from one snapshot.
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap(ctx, "executions", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, executionsSQL, p.After, int64(p.EffectiveLimit()))
	if err != nil {
		return nil, wrap(ctx, "executions", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(ctx, "executions", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "executions", err)
	}
	out := make([]audit.Summary, 0, len(ids))
	for _, id := range ids {
		sum, err := summarize(ctx, tx, id)
		if err != nil {
			return nil, wrap(ctx, "executions", err)
		}
		out = append(out, sum)
	}
	return out, nil
}
