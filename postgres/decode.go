package postgres

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wtbdev/wtb/audit"
)

// entryColumnOIDs are the types of entryColumns, in order.
var entryColumnOIDs = [...]uint32{
	pgtype.Int8OID, pgtype.TextOID, pgtype.TextOID, pgtype.TimestamptzOID, pgtype.Int2OID,
	pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID,
	pgtype.JSONOID, pgtype.TextOID, pgtype.Float8OID,
}

// maxInterned bounds the distinct strings one read shares between entries.
const maxInterned = 4096

// readEntries reads rows of entryColumns. It decodes their binary form
// itself (text and json are the same in both forms): repeated values (types, severities, execution and node ids) are
// shared between entries and all details of a read live in one buffer,
// which makes reading a page of entries several times cheaper than scanning
// value by value. If the server answers in another form, it scans.
func readEntries(rows pgx.Rows) ([]audit.Entry, error) {
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(entryColumnOIDs) {
		return pgx.CollectRows(rows, scanEntry)
	}
	for i, fd := range fds {
		oid := entryColumnOIDs[i]
		textual := oid == pgtype.TextOID || oid == pgtype.JSONOID // same bytes in either format
		if fd.DataTypeOID != oid || (!textual && fd.Format != pgx.BinaryFormatCode) {
			return pgx.CollectRows(rows, scanEntry)
		}
	}
	var (
		out     []audit.Entry
		details []byte // every row's details, back to back
		spans   [][2]int
		strs    = make(map[string]string)
	)
	intern := func(b []byte) string {
		if s, ok := strs[string(b)]; ok {
			return s
		}
		s := string(b)
		if len(strs) < maxInterned {
			strs[s] = s
		}
		return s
	}
	for rows.Next() {
		v := rows.RawValues()
		var e audit.Entry
		if len(v[0]) != 8 || len(v[3]) != 8 || len(v[4]) != 2 || v[1] == nil || v[2] == nil ||
			v[5] == nil || v[6] == nil || v[7] == nil {
			return nil, fmt.Errorf("decode entry: unexpected value sizes")
		}
		e.Seq = int64(binary.BigEndian.Uint64(v[0]))
		e.EventID = string(v[1])
		e.SourceType = intern(v[2])
		us := int64(binary.BigEndian.Uint64(v[3]))
		nanos := int64(int16(binary.BigEndian.Uint16(v[4])))
		e.Timestamp = time.UnixMicro(us + pgEpochMicros).Add(time.Duration(nanos)).UTC()
		e.Type = audit.Type(intern(v[5]))
		e.Severity = audit.Severity(intern(v[6]))
		e.Message = string(v[7])
		if v[8] != nil {
			e.ExecutionID = intern(v[8])
		}
		if v[9] != nil {
			e.NodeID = intern(v[9])
		}
		span := [2]int{len(details), len(details)}
		if v[10] != nil {
			details = append(details, v[10]...)
			span[1] = len(details)
		}
		spans = append(spans, span)
		if v[11] != nil {
			e.Error = string(v[11])
		}
		if v[12] != nil {
			if len(v[12]) != 8 {
				return nil, fmt.Errorf("decode entry: duration of %d bytes", len(v[12]))
			}
			d := math.Float64frombits(binary.BigEndian.Uint64(v[12]))
			e.DurationMS = &d
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for k, sp := range spans {
		if sp[0] == sp[1] {
			out[k].Details = json.RawMessage(emptyDetails)
			continue
		}
		out[k].Details = json.RawMessage(details[sp[0]:sp[1]:sp[1]])
	}
	return out, nil
}

// emptyDetails is what NULL details read back as.
const emptyDetails = "{}"
