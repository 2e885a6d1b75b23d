package audit

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// MemoryStore is a Store that keeps entries in memory, for tests, demos and
// short-lived processes. It has exactly the contract of Store: Seq starts at
// 1 and has no gaps. Its memory grows with the entries recorded.
type MemoryStore struct {
	mu     sync.RWMutex
	closed bool
	chunks [][]Entry        // entries in Seq order, memChunk per chunk; entry p has Seq p+1
	n      int              // number of entries
	ids    map[string]int64 // event id -> seq
	execs  map[string]*memExecution
	order  []string // execution ids, sorted
}

type memExecution struct {
	positions []int // indexes into entries, ascending
	summary   SummaryBuilder
}

var emptyObject = []byte("{}")

// memChunk is the number of entries per chunk: entries are kept in fixed
// chunks so that growing the store never copies what it holds.
const memChunk = 1024

// add stores e as entry s.n and returns it.
func (s *MemoryStore) add(e Entry) *Entry {
	if s.n%memChunk == 0 {
		s.chunks = append(s.chunks, make([]Entry, 0, memChunk))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, e)
	s.n++
	return &(*c)[len(*c)-1]
}

// at returns entry p (Seq p+1).
func (s *MemoryStore) at(p int) *Entry { return &s.chunks[p/memChunk][p%memChunk] }

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{ids: make(map[string]int64), execs: make(map[string]*memExecution)}
}

var _ Store = (*MemoryStore)(nil)

func (s *MemoryStore) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: memory store %s: %w", op, err)
	}
	if s.closed {
		return fmt.Errorf("audit: memory store %s: %w", op, ErrClosed)
	}
	return nil
}

// Append records entries as one atomic batch; see Store.
func (s *MemoryStore) Append(ctx context.Context, entries []Entry) (AppendResult, error) {
	for i := range entries {
		entries[i].Seq = 0
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			return AppendResult{}, fmt.Errorf("audit: memory store append: entry %d: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx, "append"); err != nil {
		return AppendResult{}, err
	}
	var res AppendResult
	for i := range entries {
		e := &entries[i]
		if _, dup := s.ids[e.EventID]; dup {
			res.Duplicates = append(res.Duplicates, e.EventID)
			continue
		}
		seq := int64(s.n + 1)
		e.Seq = seq
		s.ids[e.EventID] = seq
		c := *e
		c.Timestamp = c.Timestamp.UTC()
		if d := bytes.TrimSpace(c.Details); len(d) == 0 {
			c.Details = emptyObject
		} else {
			c.Details = bytes.Clone(d)
		}
		if c.DurationMS != nil {
			d := *c.DurationMS
			c.DurationMS = &d
		}
		stored := s.add(c)
		res.Appended++
		if c.ExecutionID == "" {
			continue
		}
		x := s.execs[c.ExecutionID]
		if x == nil {
			x = &memExecution{}
			s.execs[c.ExecutionID] = x
			at, _ := slices.BinarySearch(s.order, c.ExecutionID)
			s.order = slices.Insert(s.order, at, c.ExecutionID)
		}
		x.positions = append(x.positions, s.n-1)
		x.summary.Add(stored)
	}
	return res, nil
}

// Query returns the entries matching f in Seq order; see Store.
func (s *MemoryStore) Query(ctx context.Context, f Filter) ([]Entry, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("audit: memory store query: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "query"); err != nil {
		return nil, err
	}
	limit := f.EffectiveLimit()
	out := []Entry{}
	keep := func(e *Entry) bool {
		if f.NodeID != "" && e.NodeID != f.NodeID {
			return false
		}
		if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
			return false
		}
		if f.MinSeverity != "" && e.Severity.Rank() < f.MinSeverity.Rank() {
			return false
		}
		if !f.Since.IsZero() && e.Timestamp.Before(f.Since) {
			return false
		}
		if !f.Until.IsZero() && !e.Timestamp.Before(f.Until) {
			return false
		}
		return true
	}
	emit := func(e *Entry) bool {
		if keep(e) {
			c := *e
			c.Details = bytes.Clone(e.Details)
			if e.DurationMS != nil {
				d := *e.DurationMS
				c.DurationMS = &d
			}
			out = append(out, c)
		}
		return len(out) < limit
	}
	if f.ExecutionID != "" {
		x := s.execs[f.ExecutionID]
		if x == nil {
			return out, nil
		}
		// Seq is position+1, so Seq > After means position >= After.
		from := sort.SearchInts(x.positions, int(min(f.After, int64(s.n))))
		for _, p := range x.positions[from:] {
			if !emit(s.at(p)) {
				break
			}
		}
		return out, nil
	}
	for p := int(min(f.After, int64(s.n))); p < s.n; p++ {
		if !emit(s.at(p)) {
			break
		}
	}
	return out, nil
}

// Summary summarises one execution; see Store and Summary.
func (s *MemoryStore) Summary(ctx context.Context, executionID string) (Summary, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "summary"); err != nil {
		return Summary{}, err
	}
	x := s.execs[executionID]
	if x == nil {
		return Summary{}, fmt.Errorf("audit: memory store summary of execution %q: %w", executionID, ErrNotFound)
	}
	return x.summary.Summary(executionID), nil
}

// Executions lists the executions p selects, newest first; see Store and
// Page. It looks at every execution: the memory store is for small trails.
func (s *MemoryStore) Executions(ctx context.Context, p Page) ([]Summary, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("audit: memory store executions: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "executions"); err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, id := range s.order {
		if sum := s.execs[id].summary.Summary(id); p.Match(sum) {
			out = append(out, sum)
		}
	}
	sort.Slice(out, func(i, j int) bool { return Before(out[i], out[j]) })
	if n := p.EffectiveLimit(); len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// Count returns the number of entries recorded.
func (s *MemoryStore) Count(ctx context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx, "count"); err != nil {
		return 0, err
	}
	return int64(s.n), nil
}

// Close releases the store; later calls of the other methods return errors
// wrapping ErrClosed. Calling Close again returns nil.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	s.closed = true
	s.chunks, s.n, s.ids, s.execs, s.order = nil, 0, nil, nil, nil
	s.mu.Unlock()
	return nil
}
