package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/wtbdev/wtb/sqlite"
)

func TestFileMode(t *testing.T) {
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wtb.db")
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{Driver: d})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Append(context.Background(), entries("mode", 3)); err != nil {
				t.Fatal(err)
			}
			// The database and, while it is open, its -wal and -shm files.
			for _, name := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != sqlite.FileMode {
					t.Errorf("%s: mode %v, want %v", filepath.Base(name), perm, fs.FileMode(sqlite.FileMode))
				}
			}
		})
	}
}

func TestOpenInMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "wtb.db")
	_, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open in a missing directory: %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			dir := t.TempDir()
			ro := sqlite.Options{Driver: d, ReadOnly: true}

			// A missing file is an error and is not created.
			missing := filepath.Join(dir, "missing.db")
			if _, err := sqlite.Open(ctx, missing, ro); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing file: %v, want fs.ErrNotExist", err)
			}
			assertNoFiles(t, missing)

			// An empty file, or a SQLite database of something else, has no
			// audit trail, and stays as it was.
			empty := filepath.Join(dir, "empty.db")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := sqlite.Open(ctx, empty, ro); !errors.Is(err, sqlite.ErrNoSchema) {
				t.Fatalf("empty file: %v, want ErrNoSchema", err)
			}
			other := filepath.Join(dir, "other.db")
			db, err := sql.Open(string(d), "file:"+other)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if _, err := sqlite.Open(ctx, other, ro); !errors.Is(err, sqlite.ErrNoSchema) {
				t.Fatalf("other database: %v, want ErrNoSchema", err)
			}
			notDB := filepath.Join(dir, "text.db")
			if err := os.WriteFile(notDB, []byte("this is not a database, just some text that is long enough to hold a header ......................................"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := sqlite.Open(ctx, notDB, ro); !errors.Is(err, sqlite.ErrNoSchema) {
				t.Fatalf("text file: %v, want ErrNoSchema", err)
			}
			if fi, _ := os.Stat(empty); fi.Size() != 0 {
				t.Fatalf("the empty file was written: %d bytes", fi.Size())
			}
			assertNoFiles(t, empty+"-wal", empty+"-shm")

			// A database written and closed, then made read-only, is read.
			path := filepath.Join(dir, "wtb.db")
			w, err := sqlite.Open(ctx, path, sqlite.Options{Driver: d})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Append(ctx, entries("ro", 5)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o400); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := sqlite.Open(ctx, path, ro)
			if err != nil {
				t.Fatalf("read-only open: %v", err)
			}
			if n, err := r.Count(ctx); err != nil || n != 5 {
				t.Fatalf("Count = %d, %v; want 5", n, err)
			}
			if _, err := r.Append(ctx, entries("more", 1)); !errors.Is(err, sqlite.ErrReadOnly) {
				t.Fatalf("Append on a read-only store: %v, want ErrReadOnly", err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(before) != string(after) {
				t.Fatal("a read-only open changed the database file")
			}

			// A database another store is writing is read, live.
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
			w, err = sqlite.Open(ctx, path, sqlite.Options{Driver: d})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			r, err = sqlite.Open(ctx, path, ro)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := w.Append(ctx, entries("live", 2)); err != nil {
				t.Fatal(err)
			}
			if n, err := r.Count(ctx); err != nil || n != 7 {
				t.Fatalf("Count while another store writes = %d, %v; want 7", n, err)
			}
		})
	}
}

func assertNoFiles(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := os.Stat(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists (%v): a read-only open created it", filepath.Base(n), err)
		}
	}
}
