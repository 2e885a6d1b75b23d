package ledger

import (
	"context"
	"fmt"
	"sync"

	"github.com/wtbdev/wtb/audit"
)

// MemoryLog is a log kept in memory with its tree, tiles and checkpoints:
// what a store keeps, for tests and examples. It is a Source. It is safe
// for concurrent use.
type MemoryLog struct {
	mu      sync.Mutex
	entries []audit.Entry
	b       *Builder
	tiles   map[tileKey][]byte
	head    Head
	notes   [][]byte
	h       Hasher
}

// NewMemoryLog returns an empty MemoryLog.
func NewMemoryLog() *MemoryLog {
	b := NewBuilder()
	return &MemoryLog{b: b, tiles: map[tileKey][]byte{}, head: b.Head()}
}

// Append records entries with consecutive seqs and returns them with their
// Seq set.
func (m *MemoryLog) Append(entries ...audit.Entry) ([]audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.b.Begin()
	out := make([]audit.Entry, len(entries))
	for i, e := range entries {
		e.Seq = m.b.LastSeq() + 1
		if err := m.b.Append(e.Seq, m.h.Leaf(&e)); err != nil {
			m.b.Rollback()
			return nil, err
		}
		out[i] = e
	}
	for _, t := range m.b.Flush() {
		m.tiles[tileKey{t.Level, t.Index}] = append([]byte(nil), t.Hashes...)
	}
	m.b.Commit()
	m.entries = append(m.entries, out...)
	m.head = m.b.Head()
	return out, nil
}

// Checkpoint signs and stores a checkpoint of the log as it is.
func (m *MemoryLog) Checkpoint(s *Signer) (SignedCheckpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := s.Sign(m.head.Size, m.head.Root)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	m.notes = append(m.notes, c.Note)
	return c, nil
}

// Entry returns the entry with the given seq.
func (m *MemoryLog) Entry(seq int64) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq < 1 || seq > int64(len(m.entries)) {
		return audit.Entry{}, fmt.Errorf("%w: seq %d", ErrProofRange, seq)
	}
	return m.entries[seq-1], nil
}

// Tamper calls fn with the log's entries and checkpoint notes, which it may
// change in place or replace (as someone with write access to a store
// could), and keeps what fn returns. The tiles and head are left alone.
func (m *MemoryLog) Tamper(fn func(entries []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries, m.notes = fn(m.entries, m.notes)
}

// Head returns the head. It implements Source.
func (m *MemoryLog) Head(context.Context) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head, nil
}

// Pruned returns the zero Pruned: a MemoryLog does not prune.
func (m *MemoryLog) Pruned(context.Context) (Pruned, error) { return Pruned{}, nil }

// Redactions returns no redactions.
func (m *MemoryLog) Redactions(context.Context) (map[int64]Hash, error) { return nil, nil }

// Entries calls fn with the entries after seq after, in seq order.
func (m *MemoryLog) Entries(ctx context.Context, after int64, fn func(*audit.Entry, error) error) error {
	m.mu.Lock()
	es := m.entries
	m.mu.Unlock()
	for i := range es {
		if es[i].Seq <= after {
			continue
		}
		e := es[i]
		if err := fn(&e, nil); err != nil {
			return err
		}
	}
	return nil
}

// Checkpoints calls fn with the stored notes in order.
func (m *MemoryLog) Checkpoints(ctx context.Context, minSize uint64, fn func([]byte) error) error {
	m.mu.Lock()
	ns := m.notes
	m.mu.Unlock()
	for _, n := range ns {
		if c, err := ParseUnverified(n); err == nil && c.Size < minSize {
			continue
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

// ReadTiles returns the stored tiles of a level in [from, to).
func (m *MemoryLog) ReadTiles(ctx context.Context, level int, from, to uint64) ([]Tile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Tile
	for i := from; i < to; i++ {
		if h, ok := m.tiles[tileKey{level, i}]; ok {
			out = append(out, Tile{Level: level, Index: i, Hashes: h})
		} else if i > from+uint64(len(m.tiles)) {
			break
		}
	}
	return out, nil
}

var _ Source = (*MemoryLog)(nil)
