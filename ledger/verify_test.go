package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

func keys(t *testing.T, origin string) (*ledger.Signer, *ledger.Verifier) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ledger.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestCheckpointSignOpen(t *testing.T) {
	s, v := keys(t, "wtb.example/test")
	root := ledger.Hash{1, 2, 3}
	c, err := s.Sign(1234, root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(c.Note, []byte("wtb.example/test\n1234\n")) {
		t.Fatalf("note = %q", c.Note)
	}
	got, err := v.Open(c.Note)
	if err != nil || got.Size != 1234 || got.Root != root || got.Origin != "wtb.example/test" {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	forged := bytes.Replace(c.Note, []byte("1234"), []byte("1235"), 1)
	if _, err := v.Open(forged); !errors.Is(err, ledger.ErrForged) {
		t.Fatalf("changed size: Open error %v, want ErrForged", err)
	}
	_, other := keys(t, "wtb.example/test")
	if _, err := other.Open(c.Note); !errors.Is(err, ledger.ErrUnverified) {
		t.Fatalf("other key: Open error %v, want ErrUnverified", err)
	}
}

// build makes a log of n entries with a checkpoint every cpEvery entries
// (and one at the end).
func build(t *testing.T, n, cpEvery int) (*ledger.MemoryLog, *ledger.Signer, *ledger.Verifier) {
	t.Helper()
	s, v := keys(t, "wtb.example/verify")
	m := ledger.NewMemoryLog()
	for i := 0; i < n; i += cpEvery {
		k := min(cpEvery, n-i)
		b := make([]audit.Entry, k)
		for j := range b {
			b[j] = entry(i + j)
		}
		if _, err := m.Append(b...); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Checkpoint(s); err != nil {
			t.Fatal(err)
		}
	}
	return m, s, v
}

func verify(t *testing.T, src ledger.Source, opts ledger.VerifyOptions) *ledger.Report {
	t.Helper()
	r, err := ledger.Verify(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func TestVerifyClean(t *testing.T) {
	m, _, v := build(t, 1000, 100)
	r := verify(t, m, ledger.VerifyOptions{Keys: v})
	if !r.OK() || r.Entries != 1000 || r.Size != 1000 || r.Checkpoints != 10 || r.Latest == nil || r.Latest.Size != 1000 {
		t.Fatalf("clean log: %+v", r)
	}
}

// TestVerifyTampering tampers with one entry at a time, in every way, at
// the start, inside and at the end of the log, and expects the kind and
// the seq.
func TestVerifyTampering(t *testing.T) {
	const n = 600
	type tc struct {
		name string
		fn   func(es []audit.Entry, i int) []audit.Entry
		kind ledger.Kind
		seq  func(i int) int64 // the seq to be named, for the entry at position i
	}
	seqOf := func(i int) int64 { return int64(i + 1) }
	renumber := func(es []audit.Entry, from int) {
		for j := from; j < len(es); j++ {
			es[j].Seq = int64(j + 1)
		}
	}
	cases := []tc{
		{"message", func(es []audit.Entry, i int) []audit.Entry { es[i].Message += "!"; return es }, ledger.KindChanged, seqOf},
		{"timestamp", func(es []audit.Entry, i int) []audit.Entry {
			es[i].Timestamp = es[i].Timestamp.Add(1)
			return es
		}, ledger.KindChanged, seqOf},
		{"delete", func(es []audit.Entry, i int) []audit.Entry { return slices.Delete(es, i, i+1) }, ledger.KindDeleted, seqOf},
		{"duplicate", func(es []audit.Entry, i int) []audit.Entry {
			es = slices.Insert(es, i+1, es[i])
			renumber(es, i+1)
			return es
		}, ledger.KindDuplicated, func(i int) int64 { return int64(i + 2) }},
		{"swap", func(es []audit.Entry, i int) []audit.Entry {
			j := i + 1
			if j == len(es) {
				i, j = i-1, i
			}
			es[i], es[j] = es[j], es[i]
			es[i].Seq, es[j].Seq = es[j].Seq, es[i].Seq
			return es
		}, ledger.KindReordered, func(i int) int64 { return int64(min(i+1, n-1)) }},
		{"insert", func(es []audit.Entry, i int) []audit.Entry {
			f := es[i]
			f.EventID, f.Message = "forged", "forged"
			es = slices.Insert(es, i, f)
			renumber(es, i)
			return es
		}, ledger.KindInserted, seqOf},
	}
	for _, c := range cases {
		for _, i := range []int{0, 1, 99, 100, 255, 256, 300, n - 2, n - 1} {
			m, _, v := build(t, n, 100)
			m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
				return c.fn(slices.Clone(es), i), notes
			})
			r := verify(t, m, ledger.VerifyOptions{Keys: v})
			f := r.First()
			want := c.kind
			if c.name == "delete" && i == n-1 {
				want = ledger.KindTruncated
			}
			if f == nil || f.Kind != want || f.Seq != c.seq(i) {
				t.Errorf("%s at seq %d: first finding %v, want %s at seq %d (all: %v)", c.name, i+1, f, want, c.seq(i), r.Findings)
			}
		}
	}
}

func TestVerifyCheckpoints(t *testing.T) {
	t.Run("forged signature", func(t *testing.T) {
		m, _, v := build(t, 500, 100)
		m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
			n := bytes.Clone(notes[2])
			n[len(n)-5] ^= 1 // a byte of the signature's base64
			notes[2] = n
			return es, notes
		})
		r := verify(t, m, ledger.VerifyOptions{Keys: v})
		if f := r.First(); f == nil || f.Kind != ledger.KindForgedCheckpoint || f.Index != 300 {
			t.Fatalf("first finding %v, want a forged checkpoint of size 300", f)
		}
	})
	t.Run("checkpoint by another key", func(t *testing.T) {
		m, _, v := build(t, 200, 100)
		other, _ := keys(t, "wtb.example/verify")
		if _, err := m.Checkpoint(other); err != nil {
			t.Fatal(err)
		}
		r := verify(t, m, ledger.VerifyOptions{Keys: v})
		if f := r.First(); f == nil || f.Kind != ledger.KindForgedCheckpoint {
			t.Fatalf("first finding %v, want a forged checkpoint", f)
		}
	})
	t.Run("rolled back", func(t *testing.T) {
		m, _, v := build(t, 500, 100)
		m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
			return es, append(notes, notes[1]) // an old checkpoint stored again as the newest
		})
		r := verify(t, m, ledger.VerifyOptions{Keys: v})
		if f := r.First(); f == nil || f.Kind != ledger.KindRolledBack {
			t.Fatalf("first finding %v, want a rolled-back checkpoint", f)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		m, _, v := build(t, 500, 100)
		m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
			return es[:420], notes
		})
		r := verify(t, m, ledger.VerifyOptions{Keys: v})
		if f := r.First(); f == nil || f.Kind != ledger.KindTruncated || f.Seq != 421 {
			t.Fatalf("first finding %v, want truncated at seq 421", f)
		}
	})
	t.Run("truncated and checkpoints removed, witness remembers", func(t *testing.T) {
		m, _, v := build(t, 500, 100)
		var witnessed [][]byte
		m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
			witnessed = slices.Clone(notes)
			return es[:300], notes[:3]
		})
		// Without the witness the database is consistent with itself but
		// for the tree's head.
		r := verify(t, m, ledger.VerifyOptions{Keys: v, Witnessed: witnessed})
		if f := r.First(); f == nil || f.Kind != ledger.KindRolledBack {
			t.Fatalf("first finding %v, want rolled back (witness)", f)
		}
	})
	t.Run("rewritten with its hashes", func(t *testing.T) {
		// Someone rewrites an entry and recomputes everything the store
		// holds; only the signed checkpoint tells.
		m, s, v := build(t, 300, 100)
		var notes [][]byte
		m.Checkpoints(context.Background(), 0, func(n []byte) error { notes = append(notes, n); return nil })
		es := entries(300)
		es[150].Message = "rewritten"
		m2 := ledger.NewMemoryLog()
		m2.Append(es...)
		m2.Tamper(func(es []audit.Entry, _ [][]byte) ([]audit.Entry, [][]byte) { return es, notes })
		_ = s
		r := verify(t, m2, ledger.VerifyOptions{Keys: v})
		if f := r.First(); f == nil || f.Kind != ledger.KindChanged || f.Seq != 200 {
			t.Fatalf("first finding %v, want changed up to seq 200", f)
		}
	})
}

// TestVerifyFrom resumes from every verified head of a clean run and finds
// a tampering after it.
func TestVerifyFrom(t *testing.T) {
	m, _, v := build(t, 500, 100)
	var heads []ledger.Head
	verify(t, m, ledger.VerifyOptions{Keys: v, OnVerified: func(h ledger.Head) { heads = append(heads, h) }})
	if len(heads) != 5 {
		t.Fatalf("%d verified heads, want 5", len(heads))
	}
	m.Tamper(func(es []audit.Entry, notes [][]byte) ([]audit.Entry, [][]byte) {
		es[450].NodeID = "x"
		return es, notes
	})
	for _, h := range heads[:4] {
		r := verify(t, m, ledger.VerifyOptions{Keys: v, From: &h, StopAtFirst: true})
		if f := r.First(); f == nil || f.Kind != ledger.KindChanged || f.Seq != 451 {
			t.Fatalf("from %d: first finding %v, want changed at 451", h.Size, f)
		}
		if r.Entries > int64(500-h.Size) {
			t.Fatalf("from %d read %d entries", h.Size, r.Entries)
		}
	}
}
