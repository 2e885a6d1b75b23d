package postgres_test

import (
	"context"
	"testing"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// BenchmarkEndToEnd runs storetest.BenchEndToEnd (bus -> audit.Listener ->
// audit.Recorder with batches of 1,000 -> PostgreSQL, 1,000,000 events into
// a fresh schema, 100 executions interleaved), with durable and with asynchronous commits. Run it with
// -benchtime=1x. cpu-µs/event is the client's CPU only. durable/tree=off
// turns the Merkle tree off (Options.NoLedger): what the tree costs.
func BenchmarkEndToEnd(b *testing.B) {
	for _, c := range []struct {
		name          string
		async, noTree bool
	}{{"durable", false, false}, {"durable/tree=off", false, true}, {"async-commit", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			storetest.BenchEndToEnd(b, func(tb testing.TB) audit.Store {
				dsn, schema := pgtest.NewSchema(tb)
				s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, AsyncCommit: c.async, NoLedger: c.noTree})
				if err != nil {
					tb.Fatal(err)
				}
				return s
			}, audit.RecorderOptions{MaxBatch: 1000}, 100)
		})
	}
}
