package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/audit"
)

// copyStream is a batch encoded in COPY's binary format directly (no
// per-value boxing or type lookups), for the columns of entryInsertColumns
// with the types of migration 0001. Rows are encoded before their seqs are
// known, so that encoding overlaps the server's lock and duplicate check;
// setSeqs fills them in afterwards.
//
// The rows are written grouped by execution id (seqs still follow the
// batch order): when many executions run at once, a batch interleaves
// their entries, and grouping keeps each execution's entries of the batch
// on one or two heap pages instead of one page per entry. Reading an
// execution then touches about one page per batch it appears in.
type copyStream struct {
	buf   *[]byte // pooled
	seqAt []int   // offset in buf of the seq of the j-th row of rows
	order []int   // positions in rows, in the order they are written
}

// encode writes entries[rows[j]] as rows of the stream.
func (cs *copyStream) encode(entries []audit.Entry, rows []int) {
	if cs.buf == nil {
		cs.buf = copyBufs.Get().(*[]byte)
	}
	cs.order = cs.order[:0]
	for j := range rows {
		cs.order = append(cs.order, j)
	}
	byExecution := func(a, b int) int {
		return strings.Compare(entries[rows[a]].ExecutionID, entries[rows[b]].ExecutionID)
	}
	if !slices.IsSortedFunc(cs.order, byExecution) {
		slices.SortStableFunc(cs.order, byExecution)
	}
	cs.seqAt = slices.Grow(cs.seqAt[:0], len(rows))[:len(rows)]
	b := append((*cs.buf)[:0], copyHeader...)
	for _, j := range cs.order {
		cs.seqAt[j] = len(b) + 2 + 4 // after field count and length
		b = appendCopyRow(b, 0, &entries[rows[j]])
	}
	*cs.buf = binary.BigEndian.AppendUint16(b, 0xffff) // trailer: -1
}

// setSeqs gives row j seq base+j+1.
func (cs *copyStream) setSeqs(base int64) {
	for j, off := range cs.seqAt {
		binary.BigEndian.PutUint64((*cs.buf)[off:], uint64(base+int64(j)+1))
	}
}

// send runs the COPY on c.
func (cs *copyStream) send(ctx context.Context, c *pgx.Conn, sql string) error {
	_, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(*cs.buf), sql)
	return err
}

// release returns the buffer to the pool unless it grew too large.
func (cs *copyStream) release() {
	if cs.buf != nil && cap(*cs.buf) <= maxPooledCopyBuf {
		copyBufs.Put(cs.buf)
	}
	cs.buf = nil
}

// maxPooledCopyBuf is the largest COPY buffer kept for reuse; larger ones
// (batches with large details) are left to the garbage collector.
const maxPooledCopyBuf = 4 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// copyHeader starts a binary COPY stream: signature, flags, extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's timestamp epoch, in Unix
// microseconds.
const pgEpochMicros = 946684800 * 1_000_000

// appendCopyRow appends one row of entryInsertColumns.
func appendCopyRow(b []byte, seq int64, e *audit.Entry) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(entryInsertColumns)))
	b = appendInt8(b, seq)
	b = appendText(b, e.EventID)
	b = appendText(b, e.SourceType)
	us, nanos := pgTime(e.Timestamp)
	b = appendInt8(b, us) // timestamptz
	b = binary.BigEndian.AppendUint32(b, 2)
	b = binary.BigEndian.AppendUint16(b, uint16(nanos))
	b = appendText(b, string(e.Type))
	b = appendText(b, string(e.Severity))
	b = appendText(b, e.Message)
	b = appendNullText(b, e.ExecutionID)
	b = appendNullText(b, e.NodeID)
	if len(e.Details) == 0 {
		b = appendNull(b)
	} else { // json's binary form is its text
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.Details)))
		b = append(b, e.Details...)
	}
	b = appendNullText(b, e.Error)
	if e.DurationMS == nil {
		b = appendNull(b)
	} else {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*e.DurationMS))
	}
	return b
}

// pgTime splits t into PostgreSQL microseconds since 2000-01-01 (floored)
// and the nanoseconds below the microsecond, as splitTime does.
func pgTime(t time.Time) (int64, int16) {
	ns := t.Nanosecond()
	return t.Unix()*1_000_000 + int64(ns/1000) - pgEpochMicros, int16(ns % 1000)
}

func appendInt8(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendNull(b []byte) []byte { return binary.BigEndian.AppendUint32(b, 0xffffffff) }

func appendNullText(b []byte, s string) []byte {
	if s == "" {
		return appendNull(b)
	}
	return appendText(b, s)
}
