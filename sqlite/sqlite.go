package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // DriverCgo
	_ "modernc.org/sqlite"          // DriverPure

	"github.com/wtbdev/wtb/audit"
)

// Sync is the durability level of commits.
type Sync int

const (
	// SyncNormal survives a process crash; a power loss may lose the last
	// commits (never part of one). It is the default.
	SyncNormal Sync = iota
	// SyncFull survives a power loss: every commit is synced to disk.
	SyncFull
)

// String returns "normal" or "full".
func (s Sync) String() string {
	switch s {
	case SyncNormal:
		return "normal"
	case SyncFull:
		return "full"
	}
	return fmt.Sprintf("Sync(%d)", int(s))
}

// ParseSync parses "normal" or "full" (the --sync flag).
func ParseSync(s string) (Sync, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "normal":
		return SyncNormal, nil
	case "full":
		return SyncFull, nil
	}
	return 0, fmt.Errorf("sqlite: unknown sync mode %q (want normal or full)", s)
}

// Driver names a database/sql SQLite driver.
type Driver string

const (
	// DriverCgo is github.com/mattn/go-sqlite3 (needs cgo).
	DriverCgo Driver = "sqlite3"
	// DriverPure is modernc.org/sqlite (pure Go).
	DriverPure Driver = "sqlite"
)

// Defaults of Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReaders     = 4
	DefaultCacheMiB    = 64
	DefaultMmapMiB     = 2048
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Sync is the durability of commits: SyncNormal (default) or SyncFull.
	Sync Sync
	// Driver is the SQLite driver; "" means DefaultDriver.
	Driver Driver
	// BusyTimeout bounds how long a statement waits for a lock held by
	// another process (default DefaultBusyTimeout).
	BusyTimeout time.Duration
	// Readers is the number of read connections (default DefaultReaders).
	Readers int
	// CacheMiB is the page cache of the write connection in MiB (default
	// DefaultCacheMiB); each read connection gets a quarter of it.
	CacheMiB int
	// MmapMiB is how much of the file each read connection maps into
	// memory, in MiB (default DefaultMmapMiB; SQLite caps it at 2 GiB; -1
	// disables it). Mapped pages are read without a system call and
	// without a copy, which keeps queries over large files fast; an I/O
	// error on a mapped page kills the process instead of failing a query.
	MmapMiB int
	// ReadOnly opens an existing database for reading only: Open never
	// creates the file or the schema (a missing file is an error wrapping
	// fs.ErrNotExist, a missing schema ErrNoSchema), the file needs only
	// read permission, and Append fails with ErrReadOnly.
	ReadOnly bool
	// NoLedger turns the Merkle tree off: Append writes no leaves and
	// Redact and Prune fail. Only for measuring what the tree costs; the
	// next Open with the tree on adds the missing leaves.
	NoLedger bool
}

func (o Options) withDefaults() Options {
	if o.Driver == "" {
		o.Driver = DefaultDriver
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.Readers <= 0 {
		o.Readers = DefaultReaders
	}
	if o.CacheMiB <= 0 {
		o.CacheMiB = DefaultCacheMiB
	}
	if o.MmapMiB == 0 {
		o.MmapMiB = DefaultMmapMiB
	}
	return o
}

// Checkpoints (copying the WAL into the database file, with fsyncs) run on
// their own connection in the background, at most every checkpointInterval
// after a commit, so the writer does not pay for them. If they fall behind,
// the write connection checkpoints itself when the WAL reaches
// walCheckpointPages pages (256 MiB with 4 KiB pages). The WAL file is
// truncated to walSizeLimit bytes when it restarts.
const (
	checkpointInterval = 50 * time.Millisecond
	walCheckpointPages = 65536
	walSizeLimit       = 64 << 20
)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer version of this package.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")

// Errors of a read-only Open (Options.ReadOnly) and its Store.
var (
	// ErrNoSchema: the file holds no audit schema (an empty file, or a
	// SQLite database of something else).
	ErrNoSchema = errors.New("sqlite: no audit trail in this file")
	// ErrSchemaOutdated: the schema predates this program; opening the
	// database once for writing migrates it.
	ErrSchemaOutdated = errors.New("sqlite: database schema is older than this program")
	// ErrReadOnly: Append on a Store opened read-only.
	ErrReadOnly = errors.New("sqlite: database opened read-only")
)

// FileMode is the permission of a database file Open creates: the audit
// trail may hold inputs and outputs of workflows, so only its owner reads
// it. SQLite gives the -wal and -shm files the database file's permission.
const FileMode = 0o600

// Store is an audit.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	path string
	opts Options

	mu     sync.RWMutex // held shared by every call, exclusively by Close
	closed bool

	wdb    *sql.DB
	writer *sql.Conn
	wsem   chan struct{} // the writer's token: at most one Append at a time
	w      writeState    // guarded by wsem

	rdb *sql.DB

	cdb      *sql.DB       // the checkpointer's connection
	kick     chan struct{} // a commit happened; capacity 1
	stopCkpt chan struct{}
	ckptDone chan struct{}
	ckptErr  atomic.Pointer[error] // last background checkpoint error
}

var _ audit.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path, applies the
// embedded migrations and returns a Store. path is a file name; ":memory:"
// is not supported (the readers need the same file as the writer).
//
// Processes that open a new file at once race to switch it to WAL and to
// create its schema, and SQLite answers some of those races with
// SQLITE_BUSY at once, without waiting in its busy handler: Open then
// tries again, with a growing pause, until Options.BusyTimeout has passed.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	deadline := time.Now().Add(opts.withDefaults().BusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		s, err := open(ctx, path, opts)
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return s, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (both drivers say
// "database is locked").
func isBusy(err error) bool {
	return strings.Contains(err.Error(), "database is locked")
}

func open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}
	if opts.Sync != SyncNormal && opts.Sync != SyncFull {
		return nil, fmt.Errorf("sqlite: open %s: invalid sync mode %d", path, opts.Sync)
	}
	s := &Store{path: path, opts: opts, wsem: make(chan struct{}, 1)}
	if opts.ReadOnly {
		if err := s.openReadOnly(ctx); err != nil {
			return nil, fmt.Errorf("sqlite: open %s read-only: %w", path, err)
		}
		return s, nil
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var err error
	if s.wdb, err = sql.Open(string(opts.Driver), dsn(path, opts, false)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if s.writer, err = s.wdb.Conn(ctx); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.setup(ctx); err != nil {
		s.writer.Close()
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var readerSetup []string
	if opts.MmapMiB > 0 {
		readerSetup = append(readerSetup, fmt.Sprintf("PRAGMA mmap_size = %d", int64(opts.MmapMiB)<<20))
	}
	if s.rdb, err = openDB(string(opts.Driver), dsn(path, opts, true), readerSetup...); err != nil {
		s.w.close(s.writer)
		s.writer.Close()
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.rdb.SetMaxOpenConns(opts.Readers)
	s.rdb.SetMaxIdleConns(opts.Readers)
	s.rdb.SetConnMaxIdleTime(0)
	if s.cdb, err = sql.Open(string(opts.Driver), dsn(path, opts, false)); err != nil {
		s.w.close(s.writer)
		s.writer.Close()
		s.wdb.Close()
		s.rdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.cdb.SetMaxOpenConns(1)
	s.cdb.SetMaxIdleConns(1)
	s.kick = make(chan struct{}, 1)
	s.stopCkpt = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.checkpointLoop()
	return s, nil
}

// checkpointLoop checkpoints the WAL in the background after commits, at
// most every checkpointInterval. PASSIVE checkpoints never block the writer
// or the readers; what they cannot copy yet is copied by a later one.
func (s *Store) checkpointLoop() {
	defer close(s.ckptDone)
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-s.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
		if _, err := s.cdb.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			err = fmt.Errorf("sqlite: checkpoint %s: %w", s.path, err)
			s.ckptErr.Store(&err)
		} else {
			s.ckptErr.Store(nil)
		}
		cancel()
		select {
		case <-s.stopCkpt:
			return
		case <-time.After(checkpointInterval):
		}
	}
}

// CheckpointError returns the error of the last background checkpoint that
// failed, or nil. A failed checkpoint loses nothing (the WAL keeps the
// pages) and is retried after the next commit.
func (s *Store) CheckpointError() error {
	if p := s.ckptErr.Load(); p != nil {
		return *p
	}
	return nil
}

// committed tells the checkpointer that the WAL grew.
func (s *Store) committed() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// dsn builds the data source name of a connection for the chosen driver.
func dsn(path string, o Options, reader bool) string {
	sync := "NORMAL"
	if o.Sync == SyncFull {
		sync = "FULL"
	}
	cache := o.CacheMiB * 1024
	if reader {
		cache /= 4
	}
	busy := o.BusyTimeout.Milliseconds()
	v := url.Values{}
	switch o.Driver {
	case DriverCgo:
		v.Set("_busy_timeout", fmt.Sprint(busy))
		if !o.ReadOnly { // a read-only connection changes nothing
			v.Set("_journal_mode", "WAL")
		}
		v.Set("_synchronous", sync)
		v.Set("_txlock", "immediate")
		v.Set("_cache_size", fmt.Sprint(-cache))
		if reader {
			v.Set("_txlock", "deferred")
			v.Set("_query_only", "1")
		}
		if o.ReadOnly {
			v.Set("mode", "ro")
		}
	default:
		v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy))
		if !o.ReadOnly {
			v.Add("_pragma", "journal_mode(WAL)")
		}
		v.Add("_pragma", fmt.Sprintf("synchronous(%s)", sync))
		v.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cache))
		v.Set("_txlock", "immediate")
		if reader {
			v.Set("_txlock", "deferred")
			v.Add("_pragma", "query_only(1)")
		}
		if o.ReadOnly {
			v.Set("mode", "ro")
		}
	}
	// SQLite decodes %XX in URI file names and ends them at '?' or '#'.
	return "file:" + uriPathEscaper.Replace(path) + "?" + v.Encode()
}

var uriPathEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// setup checks the connection's settings and migrates the schema.
func (s *Store) setup(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var syncLevel int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return err
	}
	if want := map[Sync]int{SyncNormal: 1, SyncFull: 2}[s.opts.Sync]; syncLevel != want {
		return fmt.Errorf("synchronous is %d, want %d", syncLevel, want)
	}
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walCheckpointPages)); err != nil {
		return err
	}
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA journal_size_limit = %d", walSizeLimit)); err != nil {
		return err
	}
	if err := migrate(ctx, s.writer); err != nil {
		return err
	}
	if err := s.w.prepare(ctx, s.writer); err != nil {
		return err
	}
	s.w.led.off = s.opts.NoLedger
	if s.opts.NoLedger {
		return nil
	}
	return s.backfill(ctx)
}

// Path returns the database file name.
func (s *Store) Path() string { return s.path }

// Options returns the options in effect, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// enter takes the shared lock of a call; the caller must call s.mu.RUnlock.
func (s *Store) enter(ctx context.Context, op string) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("sqlite: %s: %w", op, audit.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		s.mu.RUnlock()
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// wrap wraps err of operation op, preferring the context's error when ctx
// is done (the driver's error then only says it was interrupted).
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlite: %s: %w (%v)", op, cerr, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// Close waits for the calls in progress, then closes the database. Calling
// it again returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errs := []error{s.rdb.Close()}
	if !s.opts.ReadOnly {
		close(s.stopCkpt)
		<-s.ckptDone
		s.w.close(s.writer)
		errs = append(errs, s.writer.Close(), s.wdb.Close(), s.cdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}
