package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// TileReader reads stored tiles: the tiles of one level with indices in
// [from, to), in index order. Tiles that do not exist are left out.
type TileReader interface {
	ReadTiles(ctx context.Context, level int, from, to uint64) ([]Tile, error)
}

// ErrProofRange is returned for a proof of a leaf or size the tree does
// not have.
var ErrProofRange = errors.New("ledger: out of range")

// ErrMissingTile is returned when a hash a proof needs is not stored: the
// store was truncated or its tiles damaged.
var ErrMissingTile = errors.New("ledger: tile missing")

// InclusionProof returns the RFC 6962 inclusion proof of leaf index in the
// tree of size leaves, built from stored tiles (github.com/transparency-dev/merkle/proof).
func InclusionProof(ctx context.Context, r TileReader, index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d", ErrProofRange, index, size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return rehash(ctx, r, nodes)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the trees
// of size1 and size2 leaves (size1 <= size2), built from stored tiles.
func ConsistencyProof(ctx context.Context, r TileReader, size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("%w: from %d is after to %d", ErrProofRange, size1, size2)
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return rehash(ctx, r, nodes)
}

// RootAt returns the root hash of the tree of size leaves from stored tiles.
func RootAt(ctx context.Context, r TileReader, size uint64) (Hash, error) {
	if size == 0 {
		return EmptyRoot, nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hs, err := nodeHashes(ctx, r, ids)
	if err != nil {
		return Hash{}, err
	}
	rng, err := rangeFactory.NewRange(0, size, hs)
	if err != nil {
		return Hash{}, err
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return Hash{}, err
	}
	return Hash(root), nil
}

// VerifyInclusion checks an inclusion proof of leaf at index in the tree of
// size leaves with the given root, with the library's own verifier.
func VerifyInclusion(leaf Hash, index, size uint64, p [][]byte, root Hash) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leaf[:], p, root[:])
}

// VerifyConsistency checks a consistency proof between two roots, with the
// library's own verifier.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 Hash) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, root1[:], root2[:])
}

func rehash(ctx context.Context, r TileReader, nodes proof.Nodes) ([][]byte, error) {
	hs, err := nodeHashes(ctx, r, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, nodeHash)
}

type tileKey struct {
	level int
	index uint64
}

// nodeHashes returns the hashes of complete nodes, each computed from the
// tile holding its descendants at the nearest tile level at or below it.
func nodeHashes(ctx context.Context, r TileReader, ids []compact.NodeID) ([][]byte, error) {
	need := map[tileKey]struct{}{}
	for _, id := range ids {
		l, sub := int(id.Level/TileHeight), id.Level%TileHeight
		first := id.Index << sub
		need[tileKey{l, first / TileWidth}] = struct{}{}
	}
	keys := make([]tileKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tileKey) int {
		if a.level != b.level {
			return a.level - b.level
		}
		return cmp.Compare(a.index, b.index)
	})
	tiles := map[tileKey]Tile{}
	// Read runs of consecutive tiles of one level with one call.
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].level == keys[i].level && keys[j].index == keys[j-1].index+1 {
			j++
		}
		ts, err := r.ReadTiles(ctx, keys[i].level, keys[i].index, keys[j-1].index+1)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			tiles[tileKey{t.Level, t.Index}] = t
		}
		i = j
	}
	out := make([][]byte, len(ids))
	for k, id := range ids {
		l, sub := int(id.Level/TileHeight), id.Level%TileHeight
		first := id.Index << sub
		n := uint64(1) << sub
		t, ok := tiles[tileKey{l, first / TileWidth}]
		off := int(first % TileWidth)
		if !ok || t.Width() < off+int(n) {
			return nil, fmt.Errorf("%w: node %d/%d needs tile %d/%d", ErrMissingTile, id.Level, id.Index, l, first/TileWidth)
		}
		level := make([][]byte, n)
		for i := range level {
			level[i] = t.Hash(off + i)
		}
		for len(level) > 1 {
			for i := 0; i < len(level)/2; i++ {
				level[i] = nodeHash(level[2*i], level[2*i+1])
			}
			level = level[:len(level)/2]
		}
		out[k] = append([]byte(nil), level[0]...)
	}
	return out, nil
}

// ReadLeaf returns the stored leaf hash at index i.
func ReadLeaf(ctx context.Context, r TileReader, i uint64) (Hash, error) {
	ts, err := r.ReadTiles(ctx, 0, i/TileWidth, i/TileWidth+1)
	if err != nil {
		return Hash{}, err
	}
	if len(ts) == 0 || ts[0].Width() <= int(i%TileWidth) {
		return Hash{}, fmt.Errorf("%w: leaf %d", ErrMissingTile, i)
	}
	return Hash(ts[0].Hash(int(i % TileWidth))), nil
}
