package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change, applied once per schema.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Files are
// named NNNN_name.sql; the number is the version.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(files))
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		if !ok {
			return nil, fmt.Errorf("postgres: migration %q: name is not NNNN_name.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %q: bad version", base)
		}
		b, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: two migrations with version %d", out[i].version)
		}
	}
	return out, nil
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
	ms, err := migrations()
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
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return fmt.Errorf("%w: schema %q is at version %d, this build knows up to %d",
			ErrSchemaTooNew, schema, current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
