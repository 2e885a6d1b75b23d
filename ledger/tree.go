package ledger

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
)

// Tiles. The tree's hashes are kept in tiles, as in the transparency logs
// (C2SP tlog-tiles): a tile of tile level L and index i holds the hashes of
// the tree's nodes at level TileHeight*L with indices 256*i to 256*i+255,
// 32 bytes each, in order. Tile level 0 holds the leaf hashes. A tile with
// fewer than TileWidth hashes is partial: the last tile of a level, which
// grows as the tree grows. Any complete node of the tree is computed from
// at most TileWidth hashes of one tile.
const (
	// TileHeight is the number of tree levels a tile spans.
	TileHeight = 8
	// TileWidth is the number of hashes in a full tile.
	TileWidth = 1 << TileHeight
)

// Tile is one tile of the tree's hashes.
type Tile struct {
	// Level is the tile level: the tile holds nodes of tree level TileHeight*Level.
	Level int
	// Index is the tile's index within its level.
	Index uint64
	// Hashes are the tile's hashes, HashSize bytes each (at most TileWidth of them).
	Hashes []byte
	// From, in a tile Builder.Flush returns, is the number of its first
	// hashes that a committed batch wrote already: a store may write only
	// the rest.
	From int
}

// Width returns the number of hashes in t.
func (t Tile) Width() int { return len(t.Hashes) / HashSize }

// Hash returns the i-th hash of t.
func (t Tile) Hash(i int) []byte { return t.Hashes[i*HashSize : (i+1)*HashSize] }

// TileLevels returns the number of tile levels a tree of size leaves has
// (tiles that hold at least one hash).
func TileLevels(size uint64) int {
	n := 0
	for s := size; s > 0; s >>= TileHeight {
		n++
	}
	return n
}

// LastTile returns the id of the last tile of level l in a tree of size
// leaves and its width (0 when the level has no hash yet).
func LastTile(size uint64, l int) (index uint64, width int) {
	nodes := size >> (TileHeight * l)
	if nodes == 0 {
		return 0, 0
	}
	if nodes%TileWidth == 0 {
		return nodes/TileWidth - 1, TileWidth
	}
	return nodes / TileWidth, int(nodes % TileWidth)
}

// rangeFactory builds the compact ranges of the ledger: RFC 6962 node hashes.
var rangeFactory = &compact.RangeFactory{Hash: nodeHash}

// arena hands out HashSize-byte slices carved from larger blocks: one
// allocation per block of hashes instead of one per hash. Blocks double
// from arenaFirst hashes to arenaBlock, so that a small tree takes little.
// A block stays alive while any of its hashes is referenced (a compact
// range keeps at most 64).
type arena struct {
	block []byte
	next  int // the number of hashes of the next block
}

const (
	arenaFirst = 32
	arenaBlock = 1024
)

func (a *arena) alloc() []byte {
	if len(a.block) < HashSize {
		a.next = min(max(2*a.next, arenaFirst), arenaBlock)
		a.block = make([]byte, a.next*HashSize)
	}
	h := a.block[:HashSize:HashSize]
	a.block = a.block[HashSize:]
	return h
}

// Head is the state of the tree after the last committed append.
type Head struct {
	// Size is the number of leaves: the entries recorded.
	Size uint64
	// LastSeq is the seq of the last leaf (0 when Size is 0).
	LastSeq int64
	// Root is the tree's root hash (the SHA-256 of nothing when empty).
	Root Hash
	// Range is the tree's compact range: the roots of its perfect subtrees,
	// largest first, HashSize bytes each. From it the writer carries on
	// without reading the leaves.
	Range []byte
}

// EmptyRoot is the root hash of the empty tree: SHA-256 of no bytes.
var EmptyRoot = Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}

// Builder is a store's writer side of the tree: it keeps the compact range
// and the last tile of every level in memory, takes the leaf hashes of
// each appended batch, and says which tiles changed and what the new head
// is, for the store to write in the same transaction as the entries. A
// Builder is not safe for concurrent use; a store uses it under its append
// lock.
type Builder struct {
	rng     *compact.Range
	lastSeq int64
	// tiles[l] is the last tile of level l, partial or full; done holds the
	// tiles completed since the last Flush.
	tiles []Tile
	done  []Tile
	dirty []bool
	// saved is the state before the batch in progress (see Begin).
	saved *Mark
	err   error
	mem   arena
	rf    *compact.RangeFactory // rangeFactory with node hashes in mem
	// stored[l] is the last tile of level l as the last committed batch
	// left it: its index and width.
	stored []storedTile
	// runs holds the seq runs begun since Begin.
	runs []SeqRun
}

// SeqRun is where the seqs of the tree's leaves jump: the leaves from
// Index on have the seqs FirstSeq, FirstSeq+1, ... up to the next run. A
// log's seqs start a run at 1 and leaf 0 unless a SeqRun says otherwise.
// Stores keep them (written with the tiles) to turn a seq into its leaf
// index with one indexed read: see LeafIndexOf.
type SeqRun struct {
	FirstSeq int64
	Index    uint64
}

// LeafIndexOf returns the leaf index of seq given the run with the
// largest FirstSeq not above seq (ok false: no run, the implicit one that
// starts at seq 1, leaf 0). seq is assumed to be a leaf's.
func LeafIndexOf(seq int64, run SeqRun, ok bool) uint64 {
	if !ok {
		run = SeqRun{FirstSeq: 1}
	}
	return run.Index + uint64(seq-run.FirstSeq)
}

type storedTile struct {
	index uint64
	width int
}

type builderState struct {
	hashes  [][]byte
	end     uint64
	lastSeq int64
	tiles   []Tile
	done    int
	dirty   []bool
	runs    int
}

// NewBuilder returns the Builder of an empty tree.
func NewBuilder() *Builder {
	b := &Builder{}
	b.rf = b.factory()
	b.rng = b.rf.NewEmptyRange(0)
	return b
}

// factory returns a range factory whose node hashes are carved from b.mem.
func (b *Builder) factory() *compact.RangeFactory { return b.mem.factory() }

// factory returns a range factory whose node hashes are carved from a.
func (a *arena) factory() *compact.RangeFactory {
	return &compact.RangeFactory{Hash: func(l, r []byte) []byte {
		h := a.alloc()
		nodeHashInto(h, l, r)
		return h
	}}
}

// RestoreBuilder returns the Builder of the tree whose head is h and whose
// last tile of each level is last[level] (as LastTile names them; a level
// without hashes may be missing). It checks that they agree.
func RestoreBuilder(h Head, last []Tile) (*Builder, error) {
	hashes, err := splitHashes(h.Range)
	if err != nil {
		return nil, fmt.Errorf("ledger: restore tree: range: %w", err)
	}
	b := &Builder{lastSeq: h.LastSeq}
	b.rf = b.factory()
	rng, err := b.rf.NewRange(0, h.Size, hashes)
	if err != nil {
		return nil, fmt.Errorf("ledger: restore tree of size %d: %w", h.Size, err)
	}
	b.rng = rng
	if root := b.Root(); root != h.Root {
		return nil, fmt.Errorf("ledger: restore tree of size %d: range root %x, head root %x", h.Size, root[:], h.Root[:])
	}
	levels := TileLevels(h.Size)
	b.tiles = make([]Tile, levels)
	b.dirty = make([]bool, levels)
	for l := range levels {
		idx, w := LastTile(h.Size, l)
		var t *Tile
		for i := range last {
			if last[i].Level == l && last[i].Index == idx {
				t = &last[i]
			}
		}
		if t == nil || t.Width() < w || len(t.Hashes)%HashSize != 0 {
			return nil, fmt.Errorf("ledger: restore tree of size %d: tile %d/%d missing or short", h.Size, l, idx)
		}
		b.tiles[l] = Tile{Level: l, Index: idx, Hashes: append([]byte(nil), t.Hashes[:w*HashSize]...)}
	}
	b.markStored()
	return b, nil
}

// Size returns the number of leaves.
func (b *Builder) Size() uint64 { return b.rng.End() }

// LastSeq returns the seq of the last leaf.
func (b *Builder) LastSeq() int64 { return b.lastSeq }

// Root returns the root hash of the tree.
func (b *Builder) Root() Hash {
	if b.rng.End() == 0 {
		return EmptyRoot
	}
	r, err := b.rng.GetRootHash(nil)
	if err != nil || len(r) != HashSize {
		panic(fmt.Sprintf("ledger: root of a range from 0: %v", err)) // cannot happen
	}
	return Hash(r)
}

// Head returns the tree's head.
func (b *Builder) Head() Head {
	return Head{Size: b.Size(), LastSeq: b.lastSeq, Root: b.Root(), Range: joinHashes(b.rng.Hashes())}
}

// Mark is a point of a Builder's batch that Undo returns to.
type Mark struct{ s *builderState }

// Mark returns the current point of the batch.
func (b *Builder) Mark() Mark {
	s := &builderState{hashes: append([][]byte(nil), b.rng.Hashes()...), end: b.rng.End(), lastSeq: b.lastSeq}
	// Tiles only grow by appending past their length, or are replaced by
	// a new tile: copies of their headers keep their saved contents.
	s.tiles = append([]Tile(nil), b.tiles...)
	s.done = len(b.done)
	s.dirty = append([]bool(nil), b.dirty...)
	s.runs = len(b.runs)
	return Mark{s}
}

// Undo returns the Builder to m, a Mark of the batch in progress.
func (b *Builder) Undo(m Mark) {
	s := m.s
	rng, err := b.rf.NewRange(0, s.end, s.hashes)
	if err != nil {
		panic(fmt.Sprintf("ledger: undo: %v", err)) // the saved range is valid
	}
	b.rng, b.lastSeq = rng, s.lastSeq
	b.tiles = append(b.tiles[:0:0], s.tiles...)
	b.done = b.done[:s.done]
	b.runs = b.runs[:s.runs]
	b.dirty = append(append(b.dirty[:0:0], s.dirty...), make([]bool, len(s.tiles)-len(s.dirty))...)
	b.err = nil
}

// Begin starts a batch: Rollback returns the Builder to this point.
func (b *Builder) Begin() {
	b.done = b.done[:0]
	b.runs = b.runs[:0]
	clear(b.dirty)
	b.err = nil
	m := b.Mark()
	b.saved = &m
}

// Rollback undoes the appends since Begin: the store's transaction failed.
func (b *Builder) Rollback() {
	if b.saved == nil {
		return
	}
	b.Undo(*b.saved)
	b.saved = nil
}

// Append adds the leaf of the entry with the given seq, which must be
// greater than the last one.
func (b *Builder) Append(seq int64, leaf Hash) error {
	if b.err != nil {
		return b.err
	}
	if seq <= b.lastSeq {
		return fmt.Errorf("ledger: append seq %d after seq %d", seq, b.lastSeq)
	}
	h := b.mem.alloc()
	copy(h, leaf[:])
	idx := b.rng.End()
	if err := b.rng.Append(h, b.visit); err != nil {
		return err
	}
	if seq != b.lastSeq+1 {
		b.runs = append(b.runs, SeqRun{FirstSeq: seq, Index: idx})
	}
	b.lastSeq = seq
	return b.err
}

// visit records the nodes at tile boundaries (tree levels multiple of
// TileHeight) into their tiles.
func (b *Builder) visit(id compact.NodeID, hash []byte) {
	if id.Level%TileHeight != 0 || b.err != nil {
		return
	}
	l := int(id.Level / TileHeight)
	idx, slot := id.Index/TileWidth, int(id.Index%TileWidth)
	for len(b.tiles) <= l {
		b.tiles = append(b.tiles, Tile{Level: len(b.tiles)})
		b.dirty = append(b.dirty, false)
	}
	t := &b.tiles[l]
	if t.Index != idx {
		if t.Width() == TileWidth && idx == t.Index+1 {
			b.done = append(b.done, *t)
			*t = Tile{Level: l, Index: idx, Hashes: make([]byte, 0, TileWidth*HashSize)}
		}
	}
	if t.Index != idx || t.Width() != slot {
		b.err = fmt.Errorf("ledger: node %d/%d does not follow tile %d/%d of width %d", id.Level, id.Index, l, t.Index, t.Width())
		return
	}
	if t.Hashes == nil {
		t.Hashes = make([]byte, 0, TileWidth*HashSize)
	}
	t.Hashes = append(t.Hashes, hash...)
	b.dirty[l] = true
}

// Flush returns the tiles written since Begin (complete ones and the
// current last tile of every level that changed), for the store to write
// (insert or replace) in the batch's transaction. The returned tiles share
// memory with the Builder until the next Begin or Append.
func (b *Builder) Flush() []Tile {
	out := append([]Tile(nil), b.done...)
	for l, d := range b.dirty {
		if d {
			out = append(out, b.tiles[l])
		}
	}
	for i := range out {
		t := &out[i]
		t.From = 0
		if t.Level < len(b.stored) && b.stored[t.Level].index == t.Index {
			t.From = min(b.stored[t.Level].width, t.Width())
		}
	}
	return out
}

// Runs returns the seq runs begun since Begin (where a leaf's seq is not
// the last one's plus one), for the store to write with the tiles.
func (b *Builder) Runs() []SeqRun { return b.runs }

// Commit ends the batch: the store's transaction committed.
func (b *Builder) Commit() {
	b.saved = nil
	b.done = b.done[:0]
	b.runs = b.runs[:0]
	clear(b.dirty)
	b.markStored()
}

// markStored records the last tiles as stored.
func (b *Builder) markStored() {
	b.stored = b.stored[:0]
	for _, t := range b.tiles {
		b.stored = append(b.stored, storedTile{t.Index, t.Width()})
	}
}

// ErrBadRange is returned for a compact range that is not a whole number
// of hashes.
var ErrBadRange = errors.New("ledger: range is not a list of hashes")

func splitHashes(b []byte) ([][]byte, error) {
	if len(b)%HashSize != 0 {
		return nil, ErrBadRange
	}
	out := make([][]byte, len(b)/HashSize)
	for i := range out {
		out[i] = append([]byte(nil), b[i*HashSize:(i+1)*HashSize]...)
	}
	return out, nil
}

func joinHashes(hs [][]byte) []byte {
	out := make([]byte, 0, len(hs)*HashSize)
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}
