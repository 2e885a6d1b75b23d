package httpapi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// The ledger's routes answer on stores that keep the Merkle tree
// (ledger.Store: SQLite and PostgreSQL) and 404 on others.

// InclusionProof is the answer of GET /v1/proof/inclusion: the RFC 6962
// inclusion proof of the entry Seq, leaf Index, in the tree of Size
// leaves. Hashes are base64 (as encoding/json writes []byte); LeafHash and
// Root are hex. Checkpoint is the stored signed checkpoint of that size,
// when there is one: verify the proof against its root.
type InclusionProof struct {
	Seq        int64    `json:"seq"`
	Index      uint64   `json:"index"`
	Size       uint64   `json:"size"`
	LeafHash   string   `json:"leaf_hash"`
	Hashes     [][]byte `json:"hashes"`
	Checkpoint string   `json:"checkpoint,omitempty"`
}

// ConsistencyProof is the answer of GET /v1/proof/consistency: the RFC
// 6962 consistency proof between the trees of From and To leaves.
type ConsistencyProof struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes [][]byte `json:"hashes"`
}

func (s *Server) ledgerStore() (ledger.Store, *apiError) {
	ls, ok := s.store.(ledger.Store)
	if !ok {
		return nil, newError(http.StatusNotFound, CodeNotFound, "this store keeps no Merkle tree")
	}
	return ls, nil
}

// latestCheckpoint returns the latest stored checkpoint, parsed.
func latestCheckpoint(r *http.Request, ls ledger.Store) ([]byte, ledger.Checkpoint, *apiError) {
	note, err := ls.LatestCheckpoint(r.Context())
	if errors.Is(err, ledger.ErrNoCheckpoint) {
		return nil, ledger.Checkpoint{}, newError(http.StatusNotFound, CodeNotFound, "no checkpoint yet")
	}
	if err != nil {
		return nil, ledger.Checkpoint{}, storeError(err)
	}
	c, err := ledger.ParseUnverified(note)
	if err != nil {
		return nil, c, newError(http.StatusInternalServerError, CodeInternal, err.Error())
	}
	return note, c, nil
}

// handleCheckpoint answers the latest signed checkpoint, a C2SP signed
// note, as text/plain.
func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) *apiError {
	ls, e := s.ledgerStore()
	if e != nil {
		return e
	}
	note, _, e := latestCheckpoint(r, ls)
	if e != nil {
		return e
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(note)
	return nil
}

// sizeParam reads a tree size parameter; absent, the latest checkpoint's.
func sizeParam(r *http.Request, ls ledger.Store, name string) (uint64, []byte, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		note, c, e := latestCheckpoint(r, ls)
		return c.Size, note, e
	}
	n, e := parseSeq(name, v)
	if e != nil {
		return 0, nil, e
	}
	return uint64(n), nil, nil
}

// checkSize refuses a size beyond the tree.
func checkSize(r *http.Request, ls ledger.Store, name string, size uint64) *apiError {
	h, err := ls.LedgerHead(r.Context())
	if err != nil {
		return storeError(err)
	}
	if size > h.Size {
		return newError(http.StatusBadRequest, CodeBadParameter, fmt.Sprintf("%s=%d: the tree has %d leaves", name, size, h.Size))
	}
	return nil
}

// handleInclusion answers the inclusion proof of entry seq in the tree of
// size leaves (default: the latest checkpoint's size).
func (s *Server) handleInclusion(w http.ResponseWriter, r *http.Request) *apiError {
	ls, e := s.ledgerStore()
	if e != nil {
		return e
	}
	q := r.URL.Query()
	if q.Get("seq") == "" {
		return newError(http.StatusBadRequest, CodeBadParameter, "seq is required")
	}
	seq, e := parseSeq("seq", q.Get("seq"))
	if e != nil {
		return e
	}
	size, note, e := sizeParam(r, ls, "size")
	if e != nil {
		return e
	}
	if e := checkSize(r, ls, "size", size); e != nil {
		return e
	}
	idx, err := ls.LeafIndex(r.Context(), seq)
	if errors.Is(err, audit.ErrNotFound) {
		return newError(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no entry with seq %d", seq))
	}
	if err != nil {
		return storeError(err)
	}
	if idx >= size {
		return newError(http.StatusBadRequest, CodeBadParameter, fmt.Sprintf("entry %d is leaf %d, not in a tree of %d leaves", seq, idx, size))
	}
	p, err := ledger.InclusionProof(r.Context(), ls, idx, size)
	if err != nil {
		return storeError(err)
	}
	leaf, err := ledger.ReadLeaf(r.Context(), ls, idx)
	if err != nil {
		return storeError(err)
	}
	return writeJSONValue(w, InclusionProof{Seq: seq, Index: idx, Size: size, LeafHash: hex.EncodeToString(leaf[:]),
		Hashes: p, Checkpoint: string(note)})
}

// handleConsistency answers the consistency proof between the trees of
// from and to leaves (to defaults to the latest checkpoint's size).
func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request) *apiError {
	ls, e := s.ledgerStore()
	if e != nil {
		return e
	}
	if r.URL.Query().Get("from") == "" {
		return newError(http.StatusBadRequest, CodeBadParameter, "from is required")
	}
	from, e := parseSeq("from", r.URL.Query().Get("from"))
	if e != nil {
		return e
	}
	to, _, e := sizeParam(r, ls, "to")
	if e != nil {
		return e
	}
	if uint64(from) > to {
		return newError(http.StatusBadRequest, CodeBadParameter, fmt.Sprintf("from=%d is after to=%d", from, to))
	}
	if e := checkSize(r, ls, "to", to); e != nil {
		return e
	}
	p, err := ledger.ConsistencyProof(r.Context(), ls, uint64(from), to)
	if err != nil {
		return storeError(err)
	}
	return writeJSONValue(w, ConsistencyProof{From: uint64(from), To: to, Hashes: p})
}
