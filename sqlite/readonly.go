package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// createFile creates the database file with FileMode unless it exists, so
// that SQLite, which would create it with the process's default mode, finds
// it (an empty file is a new database to SQLite). A directory that does not
// exist or is not writable is reported here, in the operating system's
// words ("permission denied").
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// openReadOnly opens the readers of an existing database with mode=ro and
// checks its schema, creating nothing.
func (s *Store) openReadOnly(ctx context.Context) error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return err // a *fs.PathError: "no such file or directory", "permission denied"
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", s.path)
	}
	if fi.Size() == 0 {
		return ErrNoSchema
	}
	f, err := os.Open(s.path) // check read permission before SQLite's vaguer error
	if err != nil {
		return err
	}
	f.Close()
	err = s.openReaders(ctx, false)
	if err != nil && isReadOnlyError(err) && !walInUse(s.path) {
		// SQLite reads a WAL database through its -shm file, which a
		// user who may not write the directory cannot create. With no
		// -wal file, every commit is in the database file: read it as
		// immutable, without the -shm.
		err = s.openReaders(ctx, true)
	}
	return err
}

// openReaders opens the read connections and checks the schema.
func (s *Store) openReaders(ctx context.Context, immutable bool) error {
	var setup []string
	if s.opts.MmapMiB > 0 {
		setup = append(setup, fmt.Sprintf("PRAGMA mmap_size = %d", int64(s.opts.MmapMiB)<<20))
	}
	name := dsn(s.path, s.opts, true)
	if immutable {
		name += "&immutable=1"
	}
	var err error
	if s.rdb, err = openDB(string(s.opts.Driver), name, setup...); err != nil {
		return err
	}
	s.rdb.SetMaxOpenConns(s.opts.Readers)
	s.rdb.SetMaxIdleConns(s.opts.Readers)
	s.rdb.SetConnMaxIdleTime(0)
	if err := s.checkSchema(ctx); err != nil {
		s.rdb.Close()
		return err
	}
	return nil
}

// isReadOnlyError reports an error of SQLite opening a WAL database it
// may not write to.
func isReadOnlyError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "readonly database") || strings.Contains(msg, "unable to open database file")
}

// walInUse reports whether the database has a non-empty -wal file: a
// writer has it open, or commits are in it not yet copied to the database.
func walInUse(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err == nil && fi.Size() > 0
}

// checkSchema compares the schema version of a read-only database with the
// embedded migrations.
func (s *Store) checkSchema(ctx context.Context) error {
	ms, err := embedded()
	if err != nil {
		return err
	}
	var version int
	err = s.rdb.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return ErrNoSchema
	case err != nil && strings.Contains(err.Error(), "file is not a database"):
		return fmt.Errorf("%w (not a SQLite database)", ErrNoSchema)
	case err != nil:
		return err
	case version > len(ms):
		return fmt.Errorf("%w: version %d, this program knows %d", ErrSchemaTooNew, version, len(ms))
	case version < len(ms):
		return fmt.Errorf("%w: version %d, this program's is %d; opening it once for writing (wtb import, wtb serve) migrates it", ErrSchemaOutdated, version, len(ms))
	}
	return nil
}
