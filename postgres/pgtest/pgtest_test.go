package pgtest_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

func schemaExists(t *testing.T, dsn, schema string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestNewSchemaIsDroppedAfterTheTest(t *testing.T) {
	var dsn, schema string
	t.Run("user", func(t *testing.T) {
		dsn, schema = pgtest.NewSchema(t)
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !schemaExists(t, dsn, schema) {
			t.Fatalf("schema %s not created by Open", schema)
		}
	})
	if schema == "" {
		t.Skip("subtest skipped")
	}
	if schemaExists(t, dsn, schema) {
		t.Fatalf("schema %s still exists after its test ended", schema)
	}
}

func TestStoreURLNamesAFreshSchema(t *testing.T) {
	u1, u2 := pgtest.StoreURL(t), pgtest.StoreURL(t)
	p1, err := url.Parse(u1)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := url.Parse(u2)
	s1, s2 := p1.Query().Get("schema"), p2.Query().Get("schema")
	if s1 == "" || s1 == s2 {
		t.Fatalf("schemas %q and %q: want two fresh names", s1, s2)
	}
	s, err := postgres.Open(context.Background(), u1, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Schema() != s1 {
		t.Fatalf("store schema %q, want %q", s.Schema(), s1)
	}
}

func TestDSN(t *testing.T) {
	tests := []struct{ env, want string }{
		{"", pgtest.DefaultDSN},
		{"postgres://other@db:5433/x", "postgres://other@db:5433/x"},
	}
	for _, tc := range tests {
		t.Setenv(pgtest.EnvDSN, tc.env)
		if got := pgtest.DSN(); got != tc.want {
			t.Errorf("with %s=%q: DSN() = %q, want %q", pgtest.EnvDSN, tc.env, got, tc.want)
		}
	}
}
