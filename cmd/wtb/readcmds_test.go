package main

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wtbdev/wtb/postgres/pgtest"
	"github.com/wtbdev/wtb/sqlite"
)

// readCommands are the commands that only read, with the arguments they
// need besides the store flags.
var readCommands = [][]string{
	{"audit", "list"},
	{"audit", "show", "some-execution"},
	{"audit", "summary", "some-execution"},
	{"audit", "export"},
	{"audit", "diff", "execution-a", "execution-b"},
}

func TestReadCommandsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range readCommands {
		name := strings.Join(args, " ")
		r := run(t, "", append(args, "--db", missing)...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "no audit database at "+missing) || !strings.Contains(r.stderr, "never create") {
			t.Errorf("%s on a missing file: exit %d, stderr %q", name, r.code, r.stderr)
		}
		for _, f := range []string{missing, missing + "-wal", missing + "-shm"} {
			if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s created %s", name, f)
			}
		}
		r = run(t, "", append(args, "--db", empty)...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "holds no audit trail") {
			t.Errorf("%s on an empty file: exit %d, stderr %q", name, r.code, r.stderr)
		}
		if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
			t.Fatalf("%s wrote into the empty file", name)
		}
	}
}

func TestReadCommandsCreateNoPostgresSchema(t *testing.T) {
	dsn, schema := pgtest.NewSchema(t)
	url := pgtest.WithParam(t, dsn, "schema", schema)
	for _, args := range readCommands {
		r := run(t, "", append(args, "--store", url)...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "holds no audit trail") {
			t.Errorf("%s on a missing schema: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("a read command created the schema %s", schema)
	}
}

// runAsOther runs the built wtb as another user than the file owner: as
// nobody (65534) when the tests run as root (root ignores permissions),
// else as this user (the files' modes then apply to it).
func runAsOther(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), envDB+"=", envStore+"=", envSync+"=")
	cmd.Dir = os.TempDir()
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running wtb: %v", err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// worldDir returns a new directory every user may enter and read, and
// nobody but its owner write.
func worldDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadOnlyDatabaseIsRead(t *testing.T) {
	bin := builtWTB(t)
	dir := worldDir(t)
	db := filepath.Join(dir, "wtb.db")
	mustRun(t, "", "import", "--db", db, eventsFile(t, t.TempDir(), "ro", 20, 10))
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "list"}, {"audit", "show", "ro-exec-000001"}, {"audit", "summary", "ro-exec-000001"}, {"audit", "export"},
	} {
		out, errOut, code := runAsOther(t, bin, append(args, "--db", db)...)
		if code != 0 || !strings.Contains(out, "ro-exec-000001") {
			t.Errorf("%s on a read-only file: exit %d\nstdout %q\nstderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("reading changed the database file")
	}
	// Writing into it is refused with the reason.
	_, errOut, code := runAsOther(t, bin, "demo", "--db", db)
	if code != exitFailure || !strings.Contains(errOut, "permission denied") && !strings.Contains(errOut, "readonly") {
		t.Errorf("demo into a read-only file: exit %d, stderr %q", code, errOut)
	}
}

func TestDirectoryWithoutPermission(t *testing.T) {
	bin := builtWTB(t)
	dir := worldDir(t)
	closed := filepath.Join(dir, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(closed, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(closed, 0o700) })
	}
	// A directory the user may enter but not write: SQLite alone would
	// say "no such file or directory".
	readOnly := filepath.Join(dir, "read-only")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(closed, "wtb.db")
	events := eventsFile(t, dir, "perm", 3, 3)
	if err := os.Chmod(events, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "list", "--db", db},
		{"demo", "--db", db},
		{"import", "--db", db, events},
		{"demo", "--db", filepath.Join(readOnly, "wtb.db")},
		{"import", "--db", filepath.Join(readOnly, "wtb.db"), events},
	} {
		_, errOut, code := runAsOther(t, bin, args...)
		if code != exitFailure || !strings.Contains(errOut, "permission denied") || strings.Contains(errOut, "no such file") {
			t.Errorf("%s: exit %d, stderr %q; want permission denied", strings.Join(args, " "), code, errOut)
		}
	}
}

// TestReadCommandMigratesAnOlderDatabase: a database written by an older
// wtb is migrated by a read command when the file is writable (nothing is
// created), and read-only it is an error that says what to do.
func TestReadCommandMigratesAnOlderDatabase(t *testing.T) {
	bin := builtWTB(t)
	dir := worldDir(t)
	db := filepath.Join(dir, "wtb.db")
	mustRun(t, "", "import", "--db", db, eventsFile(t, t.TempDir(), "old", 20, 10))
	downgrade := func() {
		conn, err := sql.Open(string(sqlite.DefaultDriver), "file:"+db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var version int
		if err := conn.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != 2 {
			t.Skipf("written for schema version 2 (executions), the schema is at %d", version)
		}
		for _, q := range []string{"DROP TABLE executions", "DELETE FROM schema_migrations WHERE version = 2"} {
			if _, err := conn.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	downgrade()
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runAsOther(t, bin, "audit", "list", "--db", db)
	if code != exitFailure || !strings.Contains(errOut, "older than this program") || !strings.Contains(errOut, "migrates it") {
		t.Errorf("audit list of a read-only older database: exit %d, stderr %q", code, errOut)
	}
	if err := os.Chmod(db, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := mustRun(t, "", "audit", "list", "--db", db); !strings.Contains(r.stdout, "old-exec-000001") {
		t.Errorf("audit list of a writable older database:\n%s", r.stdout)
	}
}
