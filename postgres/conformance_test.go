package postgres_test

import (
	"context"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// openTest opens a store on a fresh schema of the test server, closed and
// dropped when t ends.
func openTest(t *testing.T, opts postgres.Options) *postgres.Store {
	t.Helper()
	dsn, schema := pgtest.NewSchema(t)
	opts.Schema = schema
	s, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) audit.Store {
		return openTest(t, postgres.Options{})
	})
}
