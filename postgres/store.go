package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wtbdev/wtb/audit"
)

// Defaults and limits of Options.
const (
	// DefaultSchema is the schema used when neither Options.Schema nor the
	// DSN's schema parameter names one.
	DefaultSchema = "wtb"
	// DefaultMaxConns is the pool size when Options.MaxConns is 0.
	DefaultMaxConns = 8
	// DefaultConnectTimeout bounds establishing one connection when
	// Options.ConnectTimeout is 0 and the DSN sets no connect_timeout.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultMaxBatch is the largest batch Append accepts when
	// Options.MaxBatch is 0.
	DefaultMaxBatch = 100_000
	// MaxSchemaLen is the longest schema name accepted: PostgreSQL silently
	// truncates identifiers beyond 63 bytes.
	MaxSchemaLen = 63
)

// Errors of this package, for errors.Is. Errors of the audit.Store contract
// (audit.ErrClosed, audit.ErrNotFound) are returned as defined there.
var (
	// ErrSchemaTooNew is returned by Open when the schema was migrated by a
	// newer build than this one.
	ErrSchemaTooNew = errors.New("postgres: schema is newer than this build")
	// ErrBatchTooLarge is returned by Append for a batch above Options.MaxBatch.
	ErrBatchTooLarge = errors.New("postgres: batch too large")
	// ErrInvalidOptions is returned by Open for unusable options.
	ErrInvalidOptions = errors.New("postgres: invalid options")
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Schema holds the store's tables; it is created if missing. Distinct
	// schemas keep tenants (and tests) apart in one database. Empty means the
	// DSN's "schema" query parameter if it has one, else DefaultSchema.
	Schema string
	// MaxConns caps the connection pool (0 means DefaultMaxConns).
	MaxConns int32
	// ConnectTimeout bounds establishing one connection (0 means the DSN's
	// connect_timeout, else DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// MaxBatch caps the entries of one Append (0 means DefaultMaxBatch).
	MaxBatch int
	// AsyncCommit lets Append return before its commit is flushed to the
	// server's disk (synchronous_commit = off for the store's connections).
	// A crash of the application loses nothing; a crash of the server or
	// the machine can lose the batches of its last moments (up to three
	// times wal_writer_delay, 600 ms by default) although Append reported
	// them recorded. The database stays consistent and seqs stay in commit
	// order. The default (false) flushes every commit: what Append reports
	// recorded survives any crash.
	AsyncCommit bool
	// ReadOnly opens an existing store for reading only: Open creates and
	// migrates nothing (a missing schema or table is ErrNoSchema, an older
	// one ErrSchemaOutdated) and the sessions are read-only, so Append
	// fails.
	ReadOnly bool
	// NoLedger turns the Merkle tree off: Append writes no leaves and
	// Redact and Prune fail. Only for measuring what the tree costs; the
	// next Open with the tree on adds the missing leaves.
	NoLedger bool
}

// Store is an audit.Store on PostgreSQL, safe for concurrent use by many
// goroutines and many processes sharing one schema.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	maxBatch int
	closed   atomic.Bool

	appendKey int64
	q         queries
	led       pgLedger // the Merkle tree's writer side

	// expectDuplicates is set after a batch with duplicates: the next
	// batches check for them first (see appendTx).
	expectDuplicates atomic.Bool
	// unknown holds the transactions whose COMMIT was not answered (see
	// Append).
	unknown unknownTxs

	// Test hooks (zero in production).
	mode         appendMode                                   // how rows reach the table (benchmarks compare them)
	noAppendLock bool                                         // disables the append lock, to show what it prevents
	beforeCommit func(ctx context.Context, c *pgx.Conn) error // runs after the insert, before COMMIT
}

// appendMode is how Append moves rows into the entries table.
type appendMode int

const (
	// modeCopy: reserve seqs under the lock, then COPY into entries.
	modeCopy appendMode = iota
	// modeInsert: as modeCopy with multi-row INSERT instead of COPY.
	modeInsert
	// modeStaging: COPY into a temporary table, then INSERT ... SELECT ...
	// ON CONFLICT DO NOTHING under the lock.
	modeStaging
)

var _ audit.Store = (*Store)(nil)

// entryInsertColumns are the columns Append writes into entries, in order.
var entryInsertColumns = []string{
	"seq", "event_id", "source_type", "ts", "ts_nanos", "event_type", "severity",
	"message", "execution_id", "node_id", "details", "error", "duration_ms",
}

// stagingTable is the per-connection temporary table of modeStaging. Its
// rows vanish at the end of every transaction.
const stagingTable = "wtb_staging"

// stagingColumns are the columns COPY writes, in row order.
var stagingColumns = []string{
	"ord", "event_id", "source_type", "ts", "ts_nanos", "event_type", "severity",
	"message", "execution_id", "node_id", "details", "error", "duration_ms",
}

const createStaging = `CREATE TEMP TABLE IF NOT EXISTS ` + stagingTable + ` (
	ord          integer          NOT NULL,
	event_id     text             NOT NULL,
	source_type  text             NOT NULL,
	ts           timestamptz      NOT NULL,
	ts_nanos     smallint         NOT NULL,
	event_type   text             NOT NULL,
	severity     text             NOT NULL,
	message      text             NOT NULL,
	execution_id text,
	node_id      text,
	details      json,
	error        text,
	duration_ms  double precision
) ON COMMIT DELETE ROWS`

// Open connects to the PostgreSQL server at dsn (a URL such as
// postgres://user@host:5432/db?sslmode=disable, or key=value pairs), creates
// the schema and applies the embedded migrations, and returns the store.
// Opening the same schema from several processes at once is safe.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	dsn, dsnSchema, err := splitSchemaParam(dsn)
	if err != nil {
		return nil, err
	}
	schema := opts.Schema
	if schema == "" {
		schema = dsnSchema
	}
	if schema == "" {
		schema = DefaultSchema
	}
	if len(schema) > MaxSchemaLen || strings.ContainsRune(schema, 0) {
		return nil, fmt.Errorf("%w: schema name %q: at most %d bytes, no NUL", ErrInvalidOptions, schema, MaxSchemaLen)
	}
	if opts.MaxConns < 0 || opts.MaxBatch < 0 || opts.ConnectTimeout < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrInvalidOptions)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if opts.AsyncCommit {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	cfg.MaxConns = DefaultMaxConns
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if opts.ReadOnly {
		err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return checkSchema(ctx, c.Conn(), schema) })
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: schema %q: %w", schema, err)
		}
	} else {
		err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return migrate(ctx, c.Conn(), schema) })
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: migrate schema %q: %w", schema, err)
		}
	}
	s := &Store{
		pool:      pool,
		schema:    schema,
		maxBatch:  DefaultMaxBatch,
		appendKey: lockKey("append", schema),
		q:         newQueries(schema),
		led:       pgLedger{off: opts.NoLedger || opts.ReadOnly, q: newLedgerQueries(schema)},
	}
	if opts.MaxBatch > 0 {
		s.maxBatch = opts.MaxBatch
	}
	if !s.led.off {
		if err := s.backfill(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// IsDSN reports whether s is a PostgreSQL URL (postgres:// or
// postgresql://), as a --store flag or WTB_STORE value names this store.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// splitSchemaParam removes a "schema" query parameter from a URL DSN (the
// server would reject it as an unknown setting) and returns its value.
func splitSchemaParam(dsn string) (rest, schema string, err error) {
	if !IsDSN(dsn) {
		return dsn, "", nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", fmt.Errorf("postgres: parse dsn: %w", err)
	}
	q := u.Query()
	if !q.Has("schema") {
		return dsn, "", nil
	}
	schema = q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// Pool returns the store's connection pool, for callers that need to run
// their own SQL against the same server (e.g. health checks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool, waiting for operations in flight; calling it again
// returns nil. Later calls to the other methods return an error wrapping
// audit.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// check returns the error an operation must fail with before it starts.
func (s *Store) check(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, audit.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return nil
}

// wrap annotates an error of a running operation, preferring the causes a
// caller tests for: the store closed under it, or its context ended.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("postgres: %s: %w (%w)", op, audit.ErrClosed, err)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("postgres: %s: %w (%w)", op, ctx.Err(), err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// Count returns the number of entries recorded.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.check(ctx, "count"); err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, s.q.count).Scan(&n); err != nil {
		return 0, s.wrap(ctx, "count", err)
	}
	return n, nil
}

// splitTime splits t into the microsecond-precision part PostgreSQL stores
// and the nanoseconds below it.
func splitTime(t time.Time) (time.Time, int16) {
	us := t.Truncate(time.Microsecond)
	return us, int16(t.Sub(us))
}

// joinTime is the inverse of splitTime, in UTC.
func joinTime(us time.Time, nanos int16) time.Time {
	return us.Add(time.Duration(nanos)).UTC()
}

// nullable maps "" to SQL NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullableJSON maps empty details to SQL NULL.
func nullableJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}
