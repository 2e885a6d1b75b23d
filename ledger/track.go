package ledger

import (
	"unsafe"
)

// runTracks keeps the leaves (seq and leaf hash) of the entries of the
// runs not sealed yet, as they are committed, within a bound on the memory
// they take: a Sealer computes a run's seal from them instead of reading
// the run back. A Sealer uses it under its mutex.
type runTracks struct {
	max   int64 // the bound on bytes; 0 keeps nothing
	bytes int64 // what the runs kept take, as counted
	runs  map[string]*runTrack
	// queue lists the runs kept, those that started first first; a ref
	// whose run was dropped since (another generation, or none) is stale.
	queue []trackRef
	gen   uint64
}

// runTrack is what is kept of one run.
type runTrack struct {
	gen    uint64
	leaves []trackLeaf // in seq order
	bytes  int64       // the leaves' bytes, their slice's capacity counted
	// partial says entries of the run were not kept (dropped over the
	// bound, or not in seq order): its seal reads them back.
	partial bool
}

// trackLeaf is one entry kept: its seq and leaf hash.
type trackLeaf struct {
	seq  int64
	leaf Hash
}

// trackRef is a run in the queue.
type trackRef struct {
	id  string
	gen uint64
}

const (
	// leafSize is what one entry kept takes, counted for each one the
	// slices of kept leaves have room for.
	leafSize = int64(unsafe.Sizeof(trackLeaf{}))
	// runOverhead is counted for each run kept, besides its id: its map
	// entry, its runTrack and its ref in the queue.
	runOverhead = 128
)

func newRunTracks(max int64) runTracks {
	return runTracks{max: max, runs: map[string]*runTrack{}}
}

// runBytes is what a kept run counts besides its entries.
func runBytes(id string) int64 { return runOverhead + int64(len(id)) }

// keeps reports whether leaves are kept at all.
func (t *runTracks) keeps() bool { return t.max > 0 }

// add keeps the leaf of the entry seq of run id, a run not sealed, just
// committed. An entry whose seq is not after the last kept of its run
// makes the run partial.
func (t *runTracks) add(id string, seq int64, leaf Hash) {
	if t.max == 0 {
		return
	}
	r := t.runs[id]
	if r == nil {
		t.gen++
		r = &runTrack{gen: t.gen}
		t.runs[id] = r
		t.push(trackRef{id, r.gen})
		t.bytes += runBytes(id)
	}
	if r.partial {
		return
	}
	if n := len(r.leaves); n > 0 && seq <= r.leaves[n-1].seq {
		t.forget(r)
		return
	}
	c := cap(r.leaves)
	r.leaves = append(r.leaves, trackLeaf{seq, leaf})
	b := int64(cap(r.leaves)-c) * leafSize
	r.bytes += b
	t.bytes += b
}

// push adds ref to the queue, first leaving out the stale refs when they
// are as many as the runs kept (so that the queue stays within twice the
// runs, at a constant cost per push over time).
func (t *runTracks) push(ref trackRef) {
	if len(t.queue) >= 2*len(t.runs)+64 {
		keep := t.queue[:0]
		for _, q := range t.queue {
			if r := t.runs[q.id]; r != nil && r.gen == q.gen {
				keep = append(keep, q)
			}
		}
		clear(t.queue[len(keep):])
		t.queue = keep
	}
	t.queue = append(t.queue, ref)
}

// forget drops the leaves of r and marks it partial.
func (t *runTracks) forget(r *runTrack) {
	t.bytes -= r.bytes
	r.leaves, r.bytes, r.partial = nil, 0, true
}

// drop stops keeping run id: it is sealed.
func (t *runTracks) drop(id string) {
	if r := t.runs[id]; r != nil {
		t.bytes -= runBytes(id) + r.bytes
		delete(t.runs, id)
	}
}

// evict brings the bytes within the bound, taking the runs in the order
// they started: a run kept loses its leaves and becomes partial (a mark
// that keeps its later entries from being kept, moved to the end of the
// queue); a partial run is dropped.
func (t *runTracks) evict() {
	for t.bytes > t.max && len(t.queue) > 0 {
		ref := t.queue[0]
		t.queue[0] = trackRef{}
		t.queue = t.queue[1:]
		r := t.runs[ref.id]
		switch {
		case r == nil || r.gen != ref.gen:
		case r.partial:
			t.drop(ref.id)
		default:
			t.forget(r)
			t.queue = append(t.queue, ref)
		}
	}
}

// upTo returns the leaves kept of run id with a seq at most through, nil
// when the run is not kept or partial.
func (t *runTracks) upTo(id string, through int64) []trackLeaf {
	r := t.runs[id]
	if r == nil || r.partial {
		return nil
	}
	n := len(r.leaves)
	for n > 0 && r.leaves[n-1].seq > through {
		n--
	}
	return r.leaves[:n:n]
}
