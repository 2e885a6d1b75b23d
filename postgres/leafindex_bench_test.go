package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// leafIndexEntries is the size of BenchmarkLeafIndex's log.
const leafIndexEntries = 1_000_000

// BenchmarkLeafIndex turns random seqs of a 1,000,000-entry log (recorded
// with the tree, in batches of 10,000) into leaf indices: LeafIndex, which
// reads the seq runs, beside "count", the query it replaced (the entries
// before the seq counted on the primary key).
func BenchmarkLeafIndex(b *testing.B) {
	dsn, schema := pgtest.NewSchema(b)
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 10_000
	es := make([]audit.Entry, batch)
	for i := 0; i < leafIndexEntries; i += batch {
		for j := range es {
			es[j] = audit.Entry{EventID: fmt.Sprintf("li-%09d", i+j), SourceType: "bench", Timestamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i+j) * time.Millisecond),
				Type: audit.TypeNodeCompleted, Severity: audit.SeverityInfo, Message: "node completed",
				ExecutionID: fmt.Sprintf("exec-%d", (i+j)/100)}
		}
		if _, err := s.Append(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, "VACUUM ANALYZE "+s.q.entries); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("LeafIndex", func(b *testing.B) {
		for b.Loop() {
			seq := 1 + rng.Int64N(leafIndexEntries)
			idx, err := s.LeafIndex(ctx, seq)
			if err != nil || idx != uint64(seq-1) {
				b.Fatalf("LeafIndex(%d) = %d, %v", seq, idx, err)
			}
		}
	})
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			seq := 1 + rng.Int64N(leafIndexEntries)
			var (
				n     int64
				found bool
			)
			err := s.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+s.q.entries+" WHERE seq < $1), EXISTS (SELECT 1 FROM "+s.q.entries+" WHERE seq = $1)",
				seq).Scan(&n, &found)
			if err != nil || !found || n != seq-1 {
				b.Fatalf("count before %d = %d, %v", seq, n, err)
			}
		}
	})
}
