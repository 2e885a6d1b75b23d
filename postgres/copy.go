package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"wtb/audit"
)

// copyEntries writes entries[rows[j]] into the entries table with seq
// base+j+1, in COPY's binary format encoded here directly: one buffer per
// batch, no per-value boxing or type lookups. The columns and their types
// are those of entryInsertColumns and migration 0001.
func (s *Store) copyEntries(ctx context.Context, tx pgx.Tx, entries []audit.Entry, rows []int, base int64) error {
	bp := copyBufs.Get().(*[]byte)
	buf := append((*bp)[:0], copyHeader...)
	for j, i := range rows {
		buf = appendCopyRow(buf, base+int64(j)+1, &entries[i])
	}
	buf = binary.BigEndian.AppendUint16(buf, 0xffff) // trailer: -1
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), s.q.copy)
	if cap(buf) <= maxPooledCopyBuf {
		*bp = buf
		copyBufs.Put(bp)
	}
	return err
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
