package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// embedded returns the migrations embedded in the binary, in version order.
func embedded() ([]migrations.Migration, error) {
	return migrations.Load(migrationFS, "migrations/*.sql")
}

// lockKey derives a 64-bit advisory lock key from a purpose and a schema,
// so that different schemas (tenants) never contend for the same lock.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("wtb:" + purpose + ":"))
	h.Write([]byte(schema))
	return int64(h.Sum64())
}

// migrate creates the schema if needed and applies every embedded migration
// not yet recorded in its schema_migrations table, all in one transaction
// that holds a transaction-level advisory lock: processes opening the same
// schema at once apply the migrations exactly once, the others wait and
// then find nothing to do.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) error {
	ms, err := embedded()
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit

	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", schema)); err != nil {
		return err
	}
	q := pgx.Identifier{schema}.Sanitize()
	steps := []string{
		"CREATE SCHEMA IF NOT EXISTS " + q,
		"SET LOCAL search_path TO " + q,
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	if current > latest {
		return fmt.Errorf("%w: schema %q is at version %d, this build knows up to %d",
			ErrSchemaTooNew, schema, current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
