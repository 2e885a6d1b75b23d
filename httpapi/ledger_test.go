package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/ledger"
)

var testLedgerSigner, testLedgerVerifier = func() (*ledger.Signer, *ledger.Verifier) {
	skey, vkey, err := ledger.GenerateKey("wtb.test/httpapi")
	if err != nil {
		panic(err)
	}
	s, _ := ledger.NewSigner(skey)
	v, _ := ledger.NewVerifier(vkey)
	return s, v
}()

// signCheckpoint stores a signed checkpoint of st's tree as it is.
func signCheckpoint(t testing.TB, st audit.Store) ledger.Checkpoint {
	t.Helper()
	ls := st.(ledger.Store)
	ctx := context.Background()
	h, err := ls.LedgerHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := testLedgerSigner.Sign(h.Size, h.Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.AddCheckpoint(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c.Checkpoint
}

// TestLedgerRoutes records events, makes checkpoints, and checks that every
// inclusion and consistency proof the API answers verifies with the merkle
// library's verifier against the signed checkpoints.
func TestLedgerRoutes(t *testing.T) {
	env := newEnv(t, Options{})
	if r := env.get("/v1/checkpoint"); r.status != 404 {
		t.Fatalf("checkpoint of an empty log: %d %s", r.status, r.body)
	}
	var cps []ledger.Checkpoint
	for round := range 3 {
		var evs []event.Event
		for i := range 150 {
			evs = append(evs, nodeStarted("exec-l", "n"+strings.Repeat("x", round)+string(rune('a'+i%26))))
		}
		if r := env.post(MediaJSON, jsonArray(t, evs)); r.status != 200 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
		cps = append(cps, signCheckpoint(t, env.store))
	}
	r := env.get("/v1/checkpoint")
	got, err := testLedgerVerifier.Open([]byte(r.body))
	if r.status != 200 || err != nil || got.Size != cps[2].Size {
		t.Fatalf("GET /v1/checkpoint: %d %v %+v", r.status, err, got)
	}
	entries, err := env.store.Query(context.Background(), audit.Filter{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		for _, e := range []audit.Entry{entries[0], entries[cp.Size/2], entries[cp.Size-1]} {
			r := env.get("/v1/proof/inclusion?seq=" + itoa(e.Seq) + "&size=" + itoa(int64(cp.Size)))
			var p InclusionProof
			if r.status != 200 || json.Unmarshal([]byte(r.body), &p) != nil {
				t.Fatalf("inclusion of %d in %d: %d %s", e.Seq, cp.Size, r.status, r.body)
			}
			leaf := ledger.LeafHash(&e)
			if p.LeafHash != hex.EncodeToString(leaf[:]) {
				t.Fatalf("leaf hash %s, recomputed %x", p.LeafHash, leaf)
			}
			if err := ledger.VerifyInclusion(leaf, p.Index, cp.Size, p.Hashes, cp.Root); err != nil {
				t.Fatalf("inclusion of %d in %d does not verify: %v", e.Seq, cp.Size, err)
			}
		}
	}
	r = env.get("/v1/proof/consistency?from=" + itoa(int64(cps[0].Size)))
	var c ConsistencyProof
	if r.status != 200 || json.Unmarshal([]byte(r.body), &c) != nil || c.To != cps[2].Size {
		t.Fatalf("consistency: %d %s", r.status, r.body)
	}
	if err := ledger.VerifyConsistency(c.From, c.To, c.Hashes, cps[0].Root, cps[2].Root); err != nil {
		t.Fatalf("consistency proof does not verify: %v", err)
	}
	for q, want := range map[string]int{
		"/v1/proof/inclusion?seq=999999":           404,
		"/v1/proof/inclusion?size=3":               400,
		"/v1/proof/inclusion?seq=1&size=99999":     400,
		"/v1/proof/inclusion?seq=x":                400,
		"/v1/proof/consistency?from=10&to=5":       400,
		"/v1/proof/consistency?from=1&to=99999999": 400,
		"/v1/proof/consistency":                    400,
	} {
		if r := env.get(q); r.status != want {
			t.Errorf("GET %s: %d, want %d (%s)", q, r.status, want, r.body)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
