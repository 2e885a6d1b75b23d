//go:build race

package storetest

// TamperStride is the stride of the row sweep of RunLedger's TamperEveryRow:
// under the race detector, which slows the verifier down tenfold, every
// TamperStride-th row (and the rows at tile and checkpoint boundaries).
const TamperStride = 97
