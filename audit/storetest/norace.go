//go:build !race

package storetest

// TamperStride is the stride of the row sweep of RunLedger's TamperEveryRow:
// 1, every row, without the race detector.
const TamperStride = 1
