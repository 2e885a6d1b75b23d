package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a throwaway PostgreSQL server that a test starts itself with
// initdb and pg_ctl, on a loopback port and in a directory of its own, so
// that it can stop it and start it again; it never touches the machine's
// shared server. As root (which initdb refuses), it runs as the postgres
// user through setpriv.
type Cluster struct {
	t    testing.TB
	bin  string
	dir  string // data directory
	sock string // socket directory
	port int
	as   []string // command prefix running as the cluster's owner
}

// StartCluster creates and starts a cluster, stopped and removed when t
// ends. It skips t when the PostgreSQL server binaries are not installed,
// or fails it when CI=true.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		msg := "pgtest: no initdb under /usr/lib/postgresql/*/bin: cannot start a throwaway cluster"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &Cluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	root, err := os.MkdirTemp("", "wtb-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c.dir = filepath.Join(root, "data")
	c.sock = root
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root, and no postgres user to run the cluster as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.as = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run("initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = on\nmax_connections = 50\nshared_buffers = 64MB\n", c.port, c.sock)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() {
		argv := append(append([]string(nil), c.as...), filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-w", "stop", "-m", "immediate")
		_ = exec.Command(argv[0], argv[1:]...).Run() // stopped already is fine
	})
	return c
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	argv := append(append([]string(nil), c.as...), filepath.Join(c.bin, name))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.sock
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("pgtest: %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

func (c *Cluster) pgctl(args ...string) {
	c.t.Helper()
	c.run("pg_ctl", append([]string{"-D", c.dir, "-w", "-t", "60", "-l", filepath.Join(c.sock, "log")}, args...)...)
}

// DSN is the cluster's URL: database postgres, user postgres.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", c.port)
}

// Start starts the server and waits until it answers.
func (c *Cluster) Start() {
	c.t.Helper()
	c.pgctl("start")
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.DSN())
		if err == nil {
			conn.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			c.t.Fatalf("pgtest: cluster not answering: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server at once, as a crash would (immediate mode: no
// checkpoint, connections cut).
func (c *Cluster) Stop() {
	c.t.Helper()
	c.pgctl("stop", "-m", "immediate")
}
