package ledger_test

import (
	"context"
	"fmt"

	"github.com/wtbdev/wtb/ledger"
)

// A log with its tree, a signed checkpoint, an inclusion proof checked
// against it, and the log verified.
func Example() {
	ctx := context.Background()
	skey, vkey, _ := ledger.GenerateKey("wtb.example/log")
	signer, _ := ledger.NewSigner(skey)
	keys, _ := ledger.NewVerifier(vkey)

	log := ledger.NewMemoryLog()
	recorded, _ := log.Append(entries(1000)...)
	cp, _ := log.Checkpoint(signer)

	e := recorded[417] // seq 418, leaf 417
	proof, _ := ledger.InclusionProof(ctx, log, 417, cp.Size)
	fmt.Println("inclusion:", ledger.VerifyInclusion(ledger.LeafHash(&e), 417, cp.Size, proof, cp.Root) == nil)

	report, _ := ledger.Verify(ctx, log, ledger.VerifyOptions{Keys: keys})
	fmt.Println("verified:", report.OK(), report.Entries, "entries")
	// Output:
	// inclusion: true
	// verified: true 1000 entries
}
