package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/audit/storetest"
	"github.com/wtbdev/wtb/sqlite"
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
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			if raceEnabled && d != sqlite.DefaultDriver {
				t.Skipf("driver %s: skipped under -race (run go test without -race)", d)
			}
			storetest.Run(t, func(t *testing.T) audit.Store { return openTemp(t, sqlite.Options{Driver: d}) })
		})
	}
}

func TestParseSync(t *testing.T) {
	tests := []struct {
		in      string
		want    sqlite.Sync
		wantErr bool
	}{
		{"normal", sqlite.SyncNormal, false},
		{"full", sqlite.SyncFull, false},
		{" FULL ", sqlite.SyncFull, false},
		{"", 0, true},
		{"off", 0, true},
		{"extra", 0, true},
	}
	for _, tc := range tests {
		got, err := sqlite.ParseSync(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseSync(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if !tc.wantErr && got.String() != strings.ToLower(strings.TrimSpace(tc.in)) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts sqlite.Options
	}{
		{"empty path", "", sqlite.Options{}},
		{"memory", ":memory:", sqlite.Options{}},
		{"uri", "file:" + filepath.Join(dir, "a.db"), sqlite.Options{}},
		{"query in path", filepath.Join(dir, "a.db?mode=ro"), sqlite.Options{}},
		{"bad sync", filepath.Join(dir, "b.db"), sqlite.Options{Sync: 7}},
		{"unknown driver", filepath.Join(dir, "c.db"), sqlite.Options{Driver: "nope"}},
		{"directory", dir, sqlite.Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q, %+v) succeeded", tc.path, tc.opts)
			}
		})
	}
}

// TestPathCharacters opens files whose names hold characters that mean
// something in a URI.
func TestPathCharacters(t *testing.T) {
	for _, tc := range []struct {
		driver sqlite.Driver
		name   string
	}{
		{sqlite.DriverCgo, "with space.db"}, {sqlite.DriverCgo, "100%25.db"}, {sqlite.DriverCgo, "per%cent.db"},
		{sqlite.DriverCgo, "ünï😀.db"}, {sqlite.DriverCgo, "semi;colon&amp.db"},
		{sqlite.DriverPure, "with space.db"}, {sqlite.DriverPure, "100%25.db"}, {sqlite.DriverPure, "ünï😀.db"},
	} {
		t.Run(string(tc.driver)+"/"+tc.name, func(t *testing.T) {
			skipUnavailable(t, tc.driver)
			path := filepath.Join(t.TempDir(), tc.name)
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{Driver: tc.driver})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(context.Background(), entries("p", 1)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("database not at %s: %v", path, err)
			}
		})
	}
}

// TestModes opens every driver with every sync mode, writes, reopens and
// reads back; seqs continue after a reopen.
func TestModes(t *testing.T) {
	ctx := context.Background()
	for _, d := range drivers {
		for _, sm := range []sqlite.Sync{sqlite.SyncNormal, sqlite.SyncFull} {
			t.Run(fmt.Sprintf("%s/%s", d, sm), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "wtb.db")
				opts := sqlite.Options{Driver: d, Sync: sm}
				var last int64
				for round := range 2 {
					s, err := sqlite.Open(ctx, path, opts)
					if err != nil {
						t.Fatal(err)
					}
					if got := s.Options(); got.Sync != sm || got.Driver != d || got.Readers != sqlite.DefaultReaders {
						t.Fatalf("Options() = %+v", got)
					}
					es := entries(fmt.Sprintf("m%d", round), 3)
					if _, err := s.Append(ctx, es); err != nil {
						t.Fatal(err)
					}
					if es[0].Seq <= last {
						t.Fatalf("round %d: seq %d after %d", round, es[0].Seq, last)
					}
					last = es[2].Seq
					n, err := s.Count(ctx)
					if err != nil || n != int64(3*(round+1)) {
						t.Fatalf("Count = %d, %v", n, err)
					}
					if err := s.CheckpointError(); err != nil {
						t.Fatal(err)
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func entries(prefix string, n int) []audit.Entry {
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = audit.Entry{
			EventID: fmt.Sprintf("%s-%d", prefix, i), SourceType: "NodeStartedEvent",
			Timestamp: time.Date(2026, 1, 1, 0, 0, 0, i, time.UTC), Type: "node_started",
			Severity: audit.SeverityDebug, Message: "Node started", ExecutionID: "exec-" + prefix, NodeID: "n",
		}
	}
	return es
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wtb.db")
	// Two processes (here: two stores) opening a new file at once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	db, err := sql.Open(string(sqlite.DefaultDriver), "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, version int
	if err := db.QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	if n != 5 || version != 5 {
		t.Fatalf("schema_migrations: %d rows, version %d; want 5, 5", n, version)
	}
	// A database migrated by a newer program is refused.
	if _, err := db.Exec("INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(ctx, path, sqlite.Options{}); !errors.Is(err, sqlite.ErrSchemaTooNew) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestTwoStoresOneFile has two Stores (as two processes would) append to
// one file at once, with overlapping ids: each id is recorded once, seqs
// are unique and increasing, and both stores read everything.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := make([]*sqlite.Store, 2)
	for i := range stores {
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const perWriter, batch = 2000, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	appended := map[string]int{}
	errc := make(chan error, 4)
	for w := range 4 {
		s := stores[w%2]
		wg.Go(func() {
			for i := 0; i < perWriter; i += batch {
				es := entries("unused", batch)
				for j := range es {
					// Writers 0 and 1 share ids, as do 2 and 3.
					es[j].EventID = fmt.Sprintf("w%d-%05d", w/2, i+j)
				}
				if _, err := s.Append(ctx, es); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				for _, e := range es {
					if e.Seq != 0 {
						appended[e.EventID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(appended) != 2*perWriter {
		t.Fatalf("%d ids appended, want %d", len(appended), 2*perWriter)
	}
	for id, n := range appended {
		if n != 1 {
			t.Fatalf("%s appended %d times", id, n)
		}
	}
	for i, s := range stores {
		var all []audit.Entry
		for f := (audit.Filter{Limit: audit.MaxLimit}); ; {
			page, err := s.Query(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].Seq
		}
		if len(all) != 2*perWriter {
			t.Fatalf("store %d reads %d entries, want %d", i, len(all), 2*perWriter)
		}
		for k := 1; k < len(all); k++ {
			if all[k].Seq <= all[k-1].Seq {
				t.Fatalf("store %d: seq %d after %d", i, all[k].Seq, all[k-1].Seq)
			}
		}
	}
}

// skipUnavailable skips a test of a driver this build does not have.
func skipUnavailable(t *testing.T, d sqlite.Driver) {
	t.Helper()
	if !slices.Contains(drivers, d) {
		t.Skipf("driver %s is not in this build (built without cgo)", d)
	}
}
