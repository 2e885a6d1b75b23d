package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// The log of TamperEveryRow: TamperRows entries, a signed checkpoint every
// tamperCheckpointEvery.
const (
	TamperRows            = 10_000
	tamperCheckpointEvery = 100
)

// tamperCase is one way of tampering with the entry at position p.
type tamperCase struct {
	name string
	// apply tampers; all are the entries as recorded (consecutive seqs).
	apply func(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error
	// want is the kind and seq Verify must report first.
	want func(all []audit.Entry, p int, far int64) (ledger.Kind, int64)
}

// shiftUp renumbers the entries at positions p..p+3 to the next seq,
// after moving the entry at p+4 out of the way (to far+1): room for one
// more entry at seq all[p].Seq. Verify stops at the first finding, at p or
// p+1, so where the moved entry went does not matter.
func shiftUp(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error {
	end := min(p+3, len(all)-1)
	if end+1 < len(all) {
		if err := tx.Move(ctx, all[end+1].Seq, far+1); err != nil {
			return err
		}
	}
	for q := end; q >= p; q-- {
		if err := tx.Move(ctx, all[q].Seq, all[q].Seq+1); err != nil {
			return err
		}
	}
	return nil
}

func tamperCases(columns []string) []tamperCase {
	var cases []tamperCase
	for _, col := range columns {
		cases = append(cases, tamperCase{
			name: "change " + col,
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, _ int64) error {
				return tx.Change(ctx, all[p].Seq, col)
			},
			want: func(all []audit.Entry, p int, _ int64) (ledger.Kind, int64) { return ledger.KindChanged, all[p].Seq },
		})
	}
	return append(cases,
		tamperCase{
			// The seq column: no seq is free between two entries, so the
			// entry moves past the end, out of its place.
			name: "change seq",
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error {
				return tx.Move(ctx, all[p].Seq, far)
			},
			want: func(all []audit.Entry, p int, far int64) (ledger.Kind, int64) {
				if p == len(all)-1 {
					return ledger.KindChanged, far
				}
				return ledger.KindDeleted, all[p].Seq
			},
		},
		tamperCase{
			name: "delete",
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, _ int64) error {
				return tx.Delete(ctx, all[p].Seq)
			},
			want: func(all []audit.Entry, p int, _ int64) (ledger.Kind, int64) {
				if p == len(all)-1 {
					return ledger.KindTruncated, all[p].Seq
				}
				return ledger.KindDeleted, all[p].Seq
			},
		},
		tamperCase{
			name: "duplicate",
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error {
				if p+1 < len(all) {
					if err := shiftUp(ctx, tx, all, p+1, far); err != nil {
						return err
					}
				}
				return tx.Copy(ctx, all[p].Seq, all[p].Seq+1)
			},
			want: func(all []audit.Entry, p int, _ int64) (ledger.Kind, int64) {
				return ledger.KindDuplicated, all[p].Seq + 1
			},
		},
		tamperCase{
			name: "swap with neighbour",
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error {
				a, b := p, p+1
				if b == len(all) {
					a, b = p-1, p
				}
				for _, m := range [][2]int64{{all[a].Seq, far}, {all[b].Seq, all[a].Seq}, {far, all[b].Seq}} {
					if err := tx.Move(ctx, m[0], m[1]); err != nil {
						return err
					}
				}
				return nil
			},
			want: func(all []audit.Entry, p int, _ int64) (ledger.Kind, int64) {
				if p == len(all)-1 {
					return ledger.KindReordered, all[p-1].Seq
				}
				return ledger.KindReordered, all[p].Seq
			},
		},
		tamperCase{
			name: "insert forged before",
			apply: func(ctx context.Context, tx Tamper, all []audit.Entry, p int, far int64) error {
				if err := shiftUp(ctx, tx, all, p, far); err != nil {
					return err
				}
				f := all[p]
				f.EventID, f.Message = "forged-"+f.EventID, "forged"
				return tx.Insert(ctx, f)
			},
			want: func(all []audit.Entry, p int, _ int64) (ledger.Kind, int64) {
				return ledger.KindInserted, all[p].Seq
			},
		},
	)
}

// testTamperEveryRow tampers with every row of a 10,000-entry log in every
// way, one at a time, each in a transaction rolled back afterwards, and
// expects Verify to name the kind and the seq. Each run verifies from the
// head verified at the last checkpoint at least two entries before the row
// (as an auditor resuming where the last audit stopped would): the rows
// before it are not read again, which keeps 160,000 runs fast.
func testTamperEveryRow(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	start := time.Now()
	fill(t, s, "t", TamperRows, tamperCheckpointEvery)
	probe := beginTamper(t, s)
	columns := probe.Columns()
	if err := probe.Rollback(); err != nil {
		t.Fatal(err)
	}
	all := queryAll(t, s, audit.Filter{})
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("seqs %d and %d are not consecutive", all[i-1].Seq, all[i].Seq)
		}
	}
	var heads []ledger.Head
	r := verifyStore(t, s, ledger.VerifyOptions{OnVerified: func(h ledger.Head) { heads = append(heads, h) }})
	if !r.OK() || r.Entries != TamperRows || len(heads) != TamperRows/tamperCheckpointEvery {
		t.Fatalf("untouched log: %d entries, %d verified heads, findings %v", r.Entries, len(heads), r.Findings)
	}
	t.Logf("built and verified %d entries in %v", len(all), time.Since(start))
	start = time.Now()
	far := all[len(all)-1].Seq + 1_000_000
	cases := tamperCases(columns)
	var rows []int
	for p := range all {
		boundary := p%ledger.TileWidth <= 1 || p%ledger.TileWidth == ledger.TileWidth-1 ||
			p%tamperCheckpointEvery <= 2 || p%tamperCheckpointEvery == tamperCheckpointEvery-1 || p >= len(all)-3
		if p%TamperStride == 0 || boundary {
			rows = append(rows, p)
		}
	}
	var (
		mu       sync.Mutex
		runs     int
		failures int
	)
	// sweep runs every case on the rows given, one transaction at a time.
	sweep := func(rows []int) {
		for _, p := range rows {
			var from *ledger.Head
			for i := range heads {
				if heads[i].Size+2 <= uint64(p) {
					from = &heads[i]
				}
			}
			for _, c := range cases {
				tx, err := s.Tamper(ctx)
				if err != nil {
					t.Errorf("begin tampering: %v", err)
					return
				}
				if err := c.apply(ctx, tx, all, p, far+int64(p)*16); err != nil {
					tx.Rollback()
					t.Errorf("%s at seq %d: %v", c.name, all[p].Seq, err)
					return
				}
				r, err := ledger.Verify(ctx, tx, ledger.VerifyOptions{From: from, StopAtFirst: true})
				if rerr := tx.Rollback(); rerr != nil {
					t.Errorf("rollback: %v", rerr)
					return
				}
				if err != nil {
					t.Errorf("%s at seq %d: Verify: %v", c.name, all[p].Seq, err)
					return
				}
				kind, seq := c.want(all, p, far+int64(p)*16)
				mu.Lock()
				runs++
				if f := r.First(); f == nil || f.Kind != kind || f.Seq != seq {
					failures++
					if failures <= 20 {
						t.Errorf("%s at seq %d: first finding %v; want %s at seq %d", c.name, all[p].Seq, describe(f), kind, seq)
					}
				}
				mu.Unlock()
			}
		}
	}
	// With several transactions at once, each takes a block of rows; the
	// rows near the blocks' ends (whose cases touch the next block's rows)
	// are swept afterwards, alone.
	workers := max(s.Parallel, 1)
	var wg sync.WaitGroup
	var alone []int
	per := (len(rows) + workers - 1) / workers
	for w := range workers {
		block := rows[min(w*per, len(rows)):min((w+1)*per, len(rows))]
		if w < workers-1 && len(block) > 0 {
			end := all[block[len(block)-1]].Seq
			for len(block) > 0 && all[block[len(block)-1]].Seq > end-8 {
				alone = append(alone, block[len(block)-1])
				block = block[:len(block)-1]
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sweep(block)
		}()
	}
	wg.Wait()
	sweep(alone)
	if failures > 20 {
		t.Errorf("... %d failures in all", failures)
	}
	t.Logf("%d tamperings (%d ways, stride %d, %d at once) verified in %v", runs, len(cases), TamperStride, workers, time.Since(start))
	// The log is untouched afterwards.
	if r := verifyStore(t, s, ledger.VerifyOptions{}); !r.OK() {
		t.Fatalf("after the rollbacks: %v", r.Findings)
	}
}

func describe(f *ledger.Finding) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprint(*f)
}
