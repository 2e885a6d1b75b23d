package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"

	"github.com/wtbdev/wtb/audit"
)

// EncodingVersion is the version of the canonical entry encoding that leaf
// hashes are computed over. It is the first byte of every leaf's data, so
// a later encoding can never produce the same leaf as this one.
const EncodingVersion = 1

// HashSize is the size of every hash of the ledger: SHA-256.
const HashSize = sha256.Size

// Hash is a SHA-256 hash: a leaf, a node, a root or a payload digest.
type Hash [HashSize]byte

// payloadDomain and leafDomain start the bytes hashed into a payload digest
// and a leaf: RFC 6962's leaf prefix 0x00 for leaves, and a tag that no leaf
// starts with for payloads.
const (
	leafPrefix    = 0x00
	payloadPrefix = 0x70 // 'p'
)

// PayloadDigest returns the digest of e's payload: its Message, Details and
// Error, the fields a redaction may remove. It is
//
//	SHA-256(0x70 ‖ str(message) ‖ str(details) ‖ str(error))
//
// where str(s) is the length of s as a 4-byte big-endian integer followed
// by the bytes of s, and details are canonical (see CanonicalDetails).
func PayloadDigest(e *audit.Entry) Hash {
	var scratch [256]byte
	b := appendPayload(scratch[:0], e)
	return sha256.Sum256(b)
}

func appendPayload(b []byte, e *audit.Entry) []byte {
	b = append(b, payloadPrefix)
	b = appendStr(b, e.Message)
	b = appendBytes(b, CanonicalDetails(e.Details))
	return appendStr(b, e.Error)
}

var emptyObject = []byte("{}")

// CanonicalDetails returns details as the leaf encoding takes them: without
// surrounding white space, and {} when empty. Stores keep the bytes of
// details as given (inner white space and key order included), so a store
// that reads back what it wrote reproduces them.
func CanonicalDetails(d []byte) []byte {
	d = bytes.TrimSpace(d)
	if len(d) == 0 {
		return emptyObject
	}
	return d
}

// LeafData appends the canonical encoding of e (version 1) to b, with
// payload, the digest of its payload (PayloadDigest, or the digest a
// redaction kept):
//
//	0x01                       encoding version
//	u64(seq)                   8 bytes, big-endian
//	str(event_id) str(source_type)
//	i64(timestamp)             Unix nanoseconds, 8 bytes, big-endian
//	str(event_type) str(severity) str(execution_id) str(node_id)
//	0x00 | 0x01 ‖ u64(bits)    duration_ms absent, or its IEEE 754 bits (-0 as 0)
//	payload                    32 bytes
//
// str(s) is a 4-byte big-endian length followed by the bytes of s. Every
// field of the entry is covered: the header fields directly, message,
// details and error through the payload digest.
func LeafData(b []byte, e *audit.Entry, payload Hash) []byte {
	b = append(b, EncodingVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendStr(b, e.EventID)
	b = appendStr(b, e.SourceType)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Timestamp.UnixNano()))
	b = appendStr(b, string(e.Type))
	b = appendStr(b, string(e.Severity))
	b = appendStr(b, e.ExecutionID)
	b = appendStr(b, e.NodeID)
	if e.DurationMS == nil {
		b = append(b, 0)
	} else {
		d := *e.DurationMS
		if d == 0 {
			d = 0 // -0 and +0 are one value to every store
		}
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(d))
	}
	return append(b, payload[:]...)
}

// LeafHash returns the RFC 6962 leaf hash of e, SHA-256(0x00 ‖ LeafData),
// over its own payload. e.Seq must be the seq the store gave it.
func LeafHash(e *audit.Entry) Hash {
	return LeafHashWith(e, PayloadDigest(e))
}

// LeafHashWith returns the leaf hash of e over the given payload digest:
// the digest a redaction kept when e's payload is gone.
func LeafHashWith(e *audit.Entry, payload Hash) Hash {
	var scratch [512]byte
	b := append(scratch[:0], leafPrefix)
	b = LeafData(b, e, payload)
	return sha256.Sum256(b)
}

// Hasher computes leaf hashes reusing one buffer: use one per goroutine.
// The zero value is ready to use.
type Hasher struct {
	buf []byte
}

// Leaf returns the leaf hash of e over its own payload.
func (h *Hasher) Leaf(e *audit.Entry) Hash {
	h.buf = appendPayload(h.buf[:0], e)
	p := Hash(sha256.Sum256(h.buf))
	return h.LeafWith(e, p)
}

// LeafWith returns the leaf hash of e over the payload digest p.
func (h *Hasher) LeafWith(e *audit.Entry, p Hash) Hash {
	h.buf = LeafData(append(h.buf[:0], leafPrefix), e, p)
	sum := Hash(sha256.Sum256(h.buf))
	if cap(h.buf) > 64<<10 {
		h.buf = nil // do not keep the memory of one huge entry
	}
	return sum
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// nodeHash is RFC 6962's interior node hash, SHA-256(0x01 ‖ left ‖ right).
func nodeHash(left, right []byte) []byte {
	h := make([]byte, HashSize)
	nodeHashInto(h, left, right)
	return h
}

// nodeHashInto writes the node hash of left and right into h.
func nodeHashInto(h, left, right []byte) {
	var b [1 + 2*HashSize]byte
	b[0] = 0x01
	copy(b[1:], left)
	copy(b[1+HashSize:], right)
	s := sha256.Sum256(b[:])
	copy(h, s[:])
}
