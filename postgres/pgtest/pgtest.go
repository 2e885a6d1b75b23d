// Package pgtest connects tests to the real PostgreSQL server and gives each
// test a schema of its own, dropped when the test ends.
//
// The server's address comes from the WTB_TEST_POSTGRES environment variable
// (default DefaultDSN). When the server is unreachable a test is skipped with
// a message saying so, except when CI=true, where it fails: CI must never
// pass by skipping the PostgreSQL tests.
//
//	func TestSomething(t *testing.T) {
//		dsn, schema := pgtest.NewSchema(t)
//		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
//		...
//	}
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the test server used when WTB_TEST_POSTGRES is not set: the
// local server with trust authentication and database "test".
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "WTB_TEST_POSTGRES"

// ConnectTimeout bounds the reachability check and the schema clean-up.
const ConnectTimeout = 5 * time.Second

// DSN returns the test server's DSN: WTB_TEST_POSTGRES, else DefaultDSN.
func DSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

var (
	reachOnce sync.Once
	reachErr  error
)

// Reachable connects once per process to DSN() and reports why it failed,
// or nil.
func Reachable() error {
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ConnectTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, DSN())
		if err != nil {
			reachErr = err
			return
		}
		defer conn.Close(ctx)
		reachErr = conn.Ping(ctx)
	})
	return reachErr
}

// Require returns the test server's DSN. When the server is unreachable it
// skips t, or fails it when the CI environment variable is "true".
func Require(t testing.TB) string {
	t.Helper()
	if err := Reachable(); err != nil {
		msg := fmt.Sprintf("PostgreSQL test server unreachable at %s (set %s to another server): %v", DSN(), EnvDSN, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return DSN()
}

// NewSchema returns the test server's DSN and the name of a fresh schema
// (random, prefixed "wtb_test_") that is dropped, with everything in it,
// when t ends. The schema itself is not created: stores create theirs.
// It skips or fails t like Require.
func NewSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = Require(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema = "wtb_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if err := DropSchema(dsn, schema); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// StoreURL returns a DSN URL naming a fresh schema in its "schema" query
// parameter (as postgres.Open and the --store flag accept it), dropped when t
// ends. It skips or fails t like Require.
func StoreURL(t testing.TB) string {
	t.Helper()
	dsn, schema := NewSchema(t)
	return WithParam(t, dsn, "schema", schema)
}

// WithParam returns the URL DSN dsn with its query parameter key set to
// value, built with net/url so that a DSN with or without a query string
// both work. It fails t if dsn is not a postgres:// URL.
func WithParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %q is not a postgres:// URL (set %s to one)", dsn, EnvDSN)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// DropSchema drops schema and everything in it, if it exists.
func DropSchema(dsn, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*ConnectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}
