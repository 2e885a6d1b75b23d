package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
	"github.com/wtbdev/wtb/sqlite"
)

// BenchmarkAppendTree appends batches of 4,096 entries (the recorder's
// default) with the Merkle tree on and off: the tree's cost on the write
// path alone. One op is one batch.
func BenchmarkAppendTree(b *testing.B) {
	for _, tree := range []string{"on", "off"} {
		b.Run("tree="+tree, func(b *testing.B) {
			s := openTemp(b, sqlite.Options{NoLedger: tree == "off"})
			ctx := context.Background()
			es := benchEntries("", 4096)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				for j := range es {
					es[j].EventID = strconv.Itoa(1e9+i) + "-" + strconv.Itoa(1e4+j)
					es[j].Timestamp = time.Unix(0, int64(i*4096+j)*1000)
				}
				if res, err := s.Append(ctx, es); err != nil || res.Appended != len(es) {
					b.Fatal(res.Appended, err)
				}
			}
			b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N*4096)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
			_ = audit.Entry{}
		})
	}
}

// verifyCacheName is the 10-million-entry database of BenchmarkVerify10M,
// built once into os.TempDir() with its Merkle tree and one signed
// checkpoint (key pair beside it) and reused.
const verifyCacheName = "wtb-sqlite-bench-10m-ledger-v1.db"

// BenchmarkVerify10M verifies a 10-million-entry log: every leaf and root
// recomputed, the checkpoint's signature checked. One op is the whole log.
// It runs only when -bench names it; run it with -benchtime=1x.
func BenchmarkVerify10M(b *testing.B) {
	if !benchSelected("Verify10M") {
		b.Skip("builds a 10-million-entry database: run with -bench Verify10M")
	}
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), verifyCacheName)
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		tmp := path + ".entries"
		if err := buildBig(tmp); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d entries in %v", bigRows, time.Since(start))
		start = time.Now()
		s, err := sqlite.Open(ctx, tmp, sqlite.Options{}) // adds the leaves
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("added the tree's leaves at Open in %v", time.Since(start))
		skey, vkey, err := ledger.GenerateKey("wtb.bench/verify10m")
		if err != nil {
			b.Fatal(err)
		}
		signer, _ := ledger.NewSigner(skey)
		h, err := s.LedgerHead(ctx)
		if err != nil {
			b.Fatal(err)
		}
		c, err := signer.Sign(h.Size, h.Root)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddCheckpoint(ctx, c); err != nil {
			b.Fatal(err)
		}
		s.Close()
		if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	keys, err := ledger.ReadVerifierFile(path + ".pub")
	if err != nil {
		b.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		snap, err := s.LedgerSnapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r, err := ledger.Verify(ctx, snap, ledger.VerifyOptions{Keys: keys})
		snap.Close()
		if err != nil || !r.OK() || r.Entries != bigRows || r.Latest == nil {
			b.Fatalf("Verify: %v %+v", err, r)
		}
	}
	b.ReportMetric(float64(b.N*bigRows)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*bigRows), "cpu-ns/entry")
}
