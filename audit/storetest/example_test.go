package storetest_test

import (
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
)

// A store's package runs the suite from one test; newStore returns a fresh,
// empty store for every subtest and registers its own cleanup.
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) audit.Store {
			return newNaive("")
		})
	}
}
