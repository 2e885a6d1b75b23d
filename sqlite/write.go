package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// insertColumns are the columns Append writes; seq is the rowid, assigned
// by SQLite as max(seq)+1 for each row in order.
const insertColumns = "event_id, source_type, ts, event_type, severity, message, execution_id, node_id, details, error, duration_ms"

const (
	numColumns = 11
	// maxChunkRows is the largest number of rows per INSERT statement
	// (11,264 bound parameters; both drivers allow 32,766). A batch goes in
	// as chunks of power-of-two sizes, so at most 11 statements are ever
	// prepared.
	maxChunkRows = 1024
)

// maxKeptIndex is the largest batch whose id index the writer keeps for the
// next Append.
const maxKeptIndex = 1 << 16

// chunkSize is the number of rows of the next INSERT when n rows are left:
// the largest power of two not above n and maxChunkRows.
func chunkSize(n int) int {
	k := maxChunkRows
	for k > n {
		k >>= 1
	}
	return k
}

// writeState belongs to the write connection and is guarded by Store.wsem.
// It talks to the driver's connection directly (sql.Conn.Raw), skipping
// database/sql's per-call argument copies: Append is the hot path.
type writeState struct {
	inserts map[int]driver.Stmt // INSERT of n rows, prepared on the writer
	args    []driver.NamedValue
	index   map[string]int // event id -> position, reused per Append
	uniq    []int          // positions of the first occurrence of each id
	boxes   boxCache
	deltas  audit.DeltaFolder
	upserts map[int]driver.Stmt // summary upsert of n executions (-n: not countsOnly), prepared on first use
	upArgs  []driver.NamedValue
	led     ledgerWriter
}

// upsertColumns is the number of values of one executions row the summary
// upsert binds; maxUpsertRows the most rows of one upsert statement. A
// batch's deltas go in as chunks of power-of-two sizes (like the entries),
// so a batch touching 100 executions costs 3 statements, not 100.
const (
	upsertColumns = 14
	maxUpsertRows = 64
)

// upsertExecutions merges n audit.ExecutionDelta rows into the
// executions' summary rows (see migrations/0002_executions.sql); excluded
// is each row's own proposed values. counts leaves the workflow, end and
// pause columns of an existing row alone: for deltas that set none of
// them (most batches of a long run), an update that assigns no indexed
// column leaves the status and workflow indexes untouched.
func upsertExecutions(n int, counts bool) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO executions (execution_id, workflow_id, started_ns, ended_ns, end_type, paused,
	total, nodes_executed, nodes_failed, checkpoints, rollbacks, errors, first_seq, last_seq) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	if counts {
		b.WriteString(upsertCounts)
	} else {
		b.WriteString(upsertSet)
	}
	return b.String()
}

// countsOnly reports whether a delta sets no workflow, end or pause.
func countsOnly(d *audit.ExecutionDelta) bool {
	return d.WorkflowID == "" && d.EndType == "" && !d.PauseSet
}

// upsertCounts merges a row of countsOnly into an existing summary row.
const upsertCounts = `
ON CONFLICT (execution_id) DO UPDATE SET
	total = total + excluded.total,
	nodes_executed = nodes_executed + excluded.nodes_executed,
	nodes_failed = nodes_failed + excluded.nodes_failed,
	checkpoints = checkpoints + excluded.checkpoints,
	rollbacks = rollbacks + excluded.rollbacks,
	errors = errors + excluded.errors,
	last_seq = excluded.last_seq`

// upsertSet merges a row into an existing summary row (see
// audit.ExecutionDelta).
const upsertSet = `
ON CONFLICT (execution_id) DO UPDATE SET
	workflow_id = coalesce(workflow_id, excluded.workflow_id),
	ended_ns = coalesce(excluded.ended_ns, ended_ns),
	end_type = coalesce(excluded.end_type, end_type),
	paused = coalesce(excluded.paused, paused),
	total = total + excluded.total,
	nodes_executed = nodes_executed + excluded.nodes_executed,
	nodes_failed = nodes_failed + excluded.nodes_failed,
	checkpoints = checkpoints + excluded.checkpoints,
	rollbacks = rollbacks + excluded.rollbacks,
	errors = errors + excluded.errors,
	last_seq = excluded.last_seq`

// summarise merges the recorded entries of a batch into the executions'
// summary rows, inside the batch's transaction: one delta per execution,
// folded in memory, written in chunks of power-of-two sizes (at most
// maxUpsertRows) by one statement each.
func (w *writeState) summarise(ctx context.Context, dc driver.Conn, entries []audit.Entry) error {
	deltas := w.deltas.Fold(entries)
	// The deltas that only count go first (an execution is in one delta).
	plain := 0
	for i := range deltas {
		if countsOnly(&deltas[i]) {
			deltas[plain], deltas[i] = deltas[i], deltas[plain]
			plain++
		}
	}
	for _, part := range [...]struct {
		deltas []audit.ExecutionDelta
		counts bool
	}{{deltas[:plain], true}, {deltas[plain:], false}} {
		for d := part.deltas; len(d) > 0; {
			k := maxUpsertRows
			for k > len(d) {
				k >>= 1
			}
			if err := w.upsertChunk(ctx, dc, d[:k], part.counts); err != nil {
				return err
			}
			d = d[k:]
		}
	}
	return nil
}

// upsertChunk writes the deltas with one statement; counts says they are
// all countsOnly.
func (w *writeState) upsertChunk(ctx context.Context, dc driver.Conn, deltas []audit.ExecutionDelta, counts bool) error {
	n := len(deltas)
	key := n
	if !counts {
		key = -n
	}
	stmt := w.upserts[key]
	if stmt == nil {
		st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, upsertExecutions(n, counts))
		if err != nil {
			return err
		}
		if w.upserts == nil {
			w.upserts = make(map[int]driver.Stmt)
			w.upArgs = make([]driver.NamedValue, maxUpsertRows*upsertColumns)
			for i := range w.upArgs {
				w.upArgs[i].Ordinal = i + 1
			}
		}
		w.upserts[key], stmt = st, st
	}
	st, ok := stmt.(driver.StmtExecContext)
	if !ok {
		return fmt.Errorf("driver statement %T cannot execute with a context", stmt)
	}
	args := w.upArgs[:n*upsertColumns]
	for i := range deltas {
		d := &deltas[i]
		a := args[i*upsertColumns : (i+1)*upsertColumns]
		a[0].Value = d.ExecutionID
		a[1].Value = nil
		if d.WorkflowID != "" {
			a[1].Value = d.WorkflowID
		}
		a[2].Value = d.StartedAt.UnixNano()
		a[3].Value, a[4].Value = nil, nil
		if d.EndType != "" {
			a[3].Value, a[4].Value = d.EndedAt.UnixNano(), string(d.EndType)
		}
		a[5].Value = nil
		if d.PauseSet {
			a[5].Value = int64(0)
			if d.Paused {
				a[5].Value = int64(1)
			}
		}
		a[6].Value = int64(d.Total)
		a[7].Value = int64(d.NodesExecuted)
		a[8].Value = int64(d.NodesFailed)
		a[9].Value = int64(d.Checkpoints)
		a[10].Value = int64(d.Rollbacks)
		a[11].Value = int64(d.Errors)
		a[12].Value = d.FirstSeq
		a[13].Value = d.LastSeq
	}
	_, err := st.ExecContext(ctx, args)
	for i := range args {
		args[i].Value = nil
	}
	if err != nil {
		return fmt.Errorf("execution summaries of %d executions (%q...): %w", n, deltas[0].ExecutionID, err)
	}
	return nil
}

// boxCache keeps driver values of the columns that repeat from row to row
// (wire and audit type names, execution and node ids), so that binding them
// does not allocate an interface value per row: the writer is the
// pipeline's bottleneck and its garbage slows it down.
type boxCache struct {
	names      map[string]any // source and audit types: a few hundred values
	exec, node string
	execV      any
	nodeV      any
}

// maxBoxedNames bounds boxCache.names; past it the map starts over.
const maxBoxedNames = 1024

func (c *boxCache) name(s string) any {
	if v, ok := c.names[s]; ok {
		return v
	}
	if c.names == nil || len(c.names) >= maxBoxedNames {
		c.names = make(map[string]any)
	}
	var v any = s
	c.names[s] = v
	return v
}

func (c *boxCache) execID(s string) any {
	if c.execV == nil || s != c.exec {
		c.exec, c.execV = s, s
	}
	return c.execV
}

func (c *boxCache) nodeID(s string) any {
	if c.nodeV == nil || s != c.node {
		c.node, c.nodeV = s, s
	}
	return c.nodeV
}

func (w *writeState) prepare(ctx context.Context, conn *sql.Conn) error {
	w.inserts = make(map[int]driver.Stmt)
	w.args = make([]driver.NamedValue, maxChunkRows*numColumns)
	for i := range w.args {
		w.args[i].Ordinal = i + 1
	}
	w.index = make(map[string]int)
	return conn.Raw(func(dc any) error {
		if _, ok := dc.(driver.ExecerContext); !ok {
			return fmt.Errorf("driver connection %T cannot execute statements", dc)
		}
		if _, ok := dc.(driver.QueryerContext); !ok {
			return fmt.Errorf("driver connection %T cannot query", dc)
		}
		if _, ok := dc.(driver.ConnPrepareContext); !ok {
			return fmt.Errorf("driver connection %T cannot prepare with a context", dc)
		}
		return nil
	})
}

// insert returns the prepared INSERT of n rows.
func (w *writeState) insert(ctx context.Context, dc driver.Conn, n int) (driver.StmtExecContext, error) {
	if st := w.inserts[n]; st != nil {
		return st.(driver.StmtExecContext), nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO entries (" + insertColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (event_id) DO NOTHING")
	st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	se, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("driver statement %T cannot execute with a context", st)
	}
	w.inserts[n] = st
	return se, nil
}

// close closes the prepared statements; conn is the write connection.
func (w *writeState) close(conn *sql.Conn) {
	_ = conn.Raw(func(any) error {
		for _, st := range w.inserts {
			st.Close()
		}
		for _, st := range w.upserts {
			st.Close()
		}
		w.led.close()
		return nil
	})
	w.inserts, w.upserts = nil, nil
}

// Append records entries as one transaction. See audit.Store.
func (s *Store) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	res, _, err := s.appendEntries(ctx, entries, false)
	return res, err
}

// AppendLeaves is Append that also returns the leaf hash of each entry
// appended (nil when the tree is off). See ledger.LeafAppender.
func (s *Store) AppendLeaves(ctx context.Context, entries []audit.Entry) (audit.AppendResult, []ledger.Hash, error) {
	return s.appendEntries(ctx, entries, true)
}

func (s *Store) appendEntries(ctx context.Context, entries []audit.Entry, wantLeaves bool) (audit.AppendResult, []ledger.Hash, error) {
	for i := range entries {
		entries[i].Seq = 0
	}
	if err := s.enter(ctx, "append"); err != nil {
		return audit.AppendResult{}, nil, err
	}
	defer s.mu.RUnlock()
	if s.opts.ReadOnly {
		return audit.AppendResult{}, nil, fmt.Errorf("sqlite: append to %s: %w", s.path, ErrReadOnly)
	}
	if len(entries) == 0 {
		return audit.AppendResult{}, nil, nil
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return audit.AppendResult{}, nil, fmt.Errorf("sqlite: append: entry %d: %w", i, err)
		}
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		return audit.AppendResult{}, nil, fmt.Errorf("sqlite: append: %w", ctx.Err())
	}
	defer func() { <-s.wsem }()
	var (
		res    audit.AppendResult
		leaves []ledger.Hash
	)
	err := s.writer.Raw(func(dc any) error {
		if wantLeaves && !s.w.led.off {
			leaves = make([]ledger.Hash, len(entries))
			s.w.led.out = leaves
			defer func() { s.w.led.out = nil }()
		}
		var err error
		res, err = s.w.append(ctx, dc.(driver.Conn), entries)
		return err
	})
	if res.Appended > 0 {
		s.committed()
	}
	if err != nil {
		for i := range entries {
			entries[i].Seq = 0
		}
		return audit.AppendResult{}, nil, wrap(ctx, "append", err)
	}
	return res, leaves, nil
}

// append runs one Append on the write connection.
func (w *writeState) append(ctx context.Context, dc driver.Conn, entries []audit.Entry) (res audit.AppendResult, err error) {
	exec := dc.(driver.ExecerContext)
	if _, err := exec.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		// A cancellation can be reported after BEGIN took effect: never
		// leave the write connection inside a transaction.
		rollback(exec)
		return res, err
	}
	defer func() {
		if err != nil {
			rollback(exec)
			w.led.rollback()
		}
	}()
	if err := w.appendInTx(ctx, dc, entries); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if _, err := exec.ExecContext(ctx, "COMMIT", nil); err != nil {
		return res, err
	}
	w.led.commit()
	for i := range entries {
		if entries[i].Seq != 0 {
			res.Appended++
		} else {
			res.Duplicates = append(res.Duplicates, entries[i].EventID)
		}
	}
	return res, nil
}

// rollback ends the transaction open on the write connection, if any. A
// ROLLBACK can itself be interrupted by the cancellation that failed the
// transaction (the pure-Go driver interrupts the connection when a context
// ends), so it is tried again until SQLite says no transaction is active.
func rollback(exec driver.ExecerContext) {
	for range 5 {
		_, err := exec.ExecContext(context.Background(), "ROLLBACK", nil)
		if err == nil || strings.Contains(err.Error(), "no transaction is active") {
			return
		}
	}
}

// appendInTx inserts entries (setting their Seq; 0 for duplicates), their
// executions' summaries and their leaves in the transaction open on dc.
func (w *writeState) appendInTx(ctx context.Context, dc driver.Conn, entries []audit.Entry) error {
	// Repeats within the batch: the first occurrence wins.
	w.uniq = w.uniq[:0]
	clear(w.index)
	for i := range entries {
		id := entries[i].EventID
		if _, seen := w.index[id]; seen {
			continue
		}
		w.index[id] = i
		w.uniq = append(w.uniq, i)
	}
	last, headSize, headLast, err := readLast(ctx, dc)
	if err != nil {
		return err
	}
	first := last + 1
	if !w.led.off {
		if _, err := w.led.begin(ctx, dc, last, headSize, headLast, -1); err != nil {
			return err
		}
		w.led.hashAhead(entries, w.uniq, first)
		defer w.led.wait()
	}
	for rest := w.uniq; len(rest) > 0; {
		k := chunkSize(len(rest))
		if last, err = w.insertChunk(ctx, dc, entries, rest[:k], last); err != nil {
			return err
		}
		rest = rest[k:]
	}
	if err := w.summarise(ctx, dc, entries); err != nil {
		return err
	}
	if !w.led.off {
		if err := w.led.record(ctx, dc, entries, w.uniq, first); err != nil {
			return err
		}
	}
	if len(w.index) > maxKeptIndex {
		w.index = make(map[string]int) // do not keep the memory of a huge batch
		w.uniq = nil
	}
	return nil
}

// insertChunk inserts the entries at positions chunk, after the row with
// seq last, sets their Seq (left 0 for ids already recorded) and returns
// the new last seq.
func (w *writeState) insertChunk(ctx context.Context, dc driver.Conn, entries []audit.Entry, chunk []int, last int64) (int64, error) {
	st, err := w.insert(ctx, dc, len(chunk))
	if err != nil {
		return 0, err
	}
	args := w.args[:len(chunk)*numColumns]
	for k, i := range chunk {
		e := &entries[i]
		var details any = "{}"
		if len(e.Details) > 0 {
			// The entries are not modified while the statement runs.
			details = unsafe.String(unsafe.SliceData(e.Details), len(e.Details))
		}
		var dur any
		if e.DurationMS != nil {
			dur = *e.DurationMS
		}
		a := args[k*numColumns : (k+1)*numColumns]
		a[0].Value = e.EventID
		a[1].Value = w.boxes.name(e.SourceType)
		a[2].Value = e.Timestamp.UnixNano()
		a[3].Value = w.boxes.name(string(e.Type))
		a[4].Value = int64(e.Severity.Rank())
		a[5].Value = e.Message
		a[6].Value = w.boxes.execID(e.ExecutionID)
		a[7].Value = w.boxes.nodeID(e.NodeID)
		a[8].Value = details
		a[9].Value = e.Error
		a[10].Value = dur
	}
	r, err := st.ExecContext(ctx, args)
	for i := range args {
		args[i].Value = nil
	}
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if int(n) == len(chunk) {
		// No duplicates: the rows took last+1, last+2, ... in order.
		for k, i := range chunk {
			entries[i].Seq = last + 1 + int64(k)
		}
		return last + n, nil
	}
	if n == 0 {
		return last, nil
	}
	// Some ids were already recorded: read back which rows went in.
	err = queryRows(ctx, dc, "SELECT seq, event_id FROM entries WHERE seq > ? ORDER BY seq",
		[]driver.NamedValue{{Ordinal: 1, Value: last}}, func(row []driver.Value) error {
			seq, ok := row[0].(int64)
			id, ok2 := row[1].(string)
			if !ok || !ok2 {
				return fmt.Errorf("read back %T %T", row[0], row[1])
			}
			i, ok := w.index[id]
			if !ok {
				return fmt.Errorf("row %d (%s) was not inserted by this batch", seq, id)
			}
			entries[i].Seq = seq
			last = seq
			return nil
		})
	return last, err
}

// queryRows runs a query on a driver connection and calls fn for each row.
func queryRows(ctx context.Context, dc driver.Conn, q string, args []driver.NamedValue, fn func([]driver.Value) error) error {
	rows, err := dc.(driver.QueryerContext).QueryContext(ctx, q, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	row := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(row); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}
