package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Errors of a read-only Open (Options.ReadOnly).
var (
	// ErrNoSchema: the schema, or its audit tables, do not exist.
	ErrNoSchema = errors.New("postgres: no audit trail in this schema")
	// ErrSchemaOutdated: the schema predates this program; opening it
	// once for writing migrates it.
	ErrSchemaOutdated = errors.New("postgres: schema is older than this program")
)

// checkSchema checks, creating nothing, that schema holds the audit tables
// at the version of the embedded migrations.
func checkSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	ms, err := embedded()
	if err != nil {
		return err
	}
	var exists bool
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return ErrNoSchema
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+table).Scan(&current); err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	switch {
	case current > latest:
		return fmt.Errorf("%w: version %d, this build knows up to %d", ErrSchemaTooNew, current, latest)
	case current < latest:
		return fmt.Errorf("%w: version %d, this program's is %d; opening it once for writing (wtb import, wtb serve) migrates it", ErrSchemaOutdated, current, latest)
	}
	return nil
}
