package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
)

// queries holds the SQL of one schema, built once at Open.
type queries struct {
	entries         string // quoted table name
	seqName         string // quoted sequence name, passed as a regclass parameter
	reserve         string
	reserveBlock    string
	copy            string
	insertStaged    string
	count           string
	countAndCommit  string
	findOwn         string
	notCommitted    string
	lastSeq         string
	upsertExecs     string
	executionsTable string // quoted table name
}

// entryColumns are the columns Query reads (readEntries, scanEntry), in order.
const entryColumns = `seq, event_id, source_type, ts, ts_nanos, event_type, severity, message,
	execution_id, node_id, details, error, duration_ms`

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
	ELSE 0 END, txid_current()
FROM d`
	// $1 = sequence, $2 = n >= 1: reserves base+1..base+n, returns base.
	// Both reserving queries also return the transaction's id (see
	// Append on a commit of unknown outcome).
	q.reserveBlock = `SELECT setval($1::regclass, nextval($1::regclass) + $2 - 1) - $2, txid_current()`
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
	q.lastSeq = `SELECT coalesce(max(seq), 0) FROM ` + t
	q.countAndCommit = `UPDATE ` + count + ` SET n = n + `
	// $1 = event ids recorded already, $2 = 32-bit ids of transactions of
	// unknown outcome: the rows among $1 that one of $2 wrote.
	q.findOwn = `SELECT event_id, seq, xmin::text::bigint FROM ` + t +
		` WHERE event_id = ANY($1::text[]) AND xmin::text::bigint = ANY($2::bigint[])`
	// $1 = transaction ids (txid_current()): those that did not commit
	// (aborted, or too old for the server to tell).
	q.notCommitted = `SELECT coalesce(array_agg(x), '{}') FROM unnest($1::bigint[]) AS x
WHERE txid_status(x) IS DISTINCT FROM 'committed'`
	q.executionsTable = pgx.Identifier{schema, "executions"}.Sanitize()
	q.upsertExecs = upsertExecutions(q.executionsTable)
	return q
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
