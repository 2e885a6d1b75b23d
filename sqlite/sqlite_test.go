package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"wtb/audit"
	"wtb/audit/storetest"
	"wtb/sqlite"
)

func openTemp(t testing.TB, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wtb.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the audit.Store suite on both drivers. Under -race
// only the default driver runs it: the race detector would instrument
// modernc.org/sqlite's translated C (slowly) and our code is the same for
// both drivers.
func TestConformance(t *testing.T) {
	for _, d := range []sqlite.Driver{sqlite.DriverCgo, sqlite.DriverPure} {
		t.Run(string(d), func(t *testing.T) {
			if raceEnabled && d != sqlite.DefaultDriver {
				t.Skipf("driver %s: skipped under -race (run go test without -race)", d)
			}
			storetest.Run(t, func(t *testing.T) audit.Store { return openTemp(t, sqlite.Options{Driver: d}) })
		})
	}
}
