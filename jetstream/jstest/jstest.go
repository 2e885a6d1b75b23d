// Package jstest runs NATS JetStream servers for tests: embedded servers
// (github.com/nats-io/nats-server/v2) that a test starts, stops and restarts
// on the same port and storage directory, and the machine's real server.
//
// The real server's address comes from WTB_TEST_NATS (default
// DefaultURL). When it is unreachable a test is skipped with a message
// saying so, except when CI=true, where it fails.
package jstest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// DefaultURL is the real test server used when WTB_TEST_NATS is not set.
const DefaultURL = "nats://127.0.0.1:4222"

// EnvURL names the environment variable holding the real server's URL.
const EnvURL = "WTB_TEST_NATS"

// StartTimeout bounds an embedded server's start.
const StartTimeout = 10 * time.Second

// Server is an embedded JetStream server on a loopback port of its own,
// storing in a directory of the test's. It syncs every write to disk
// (sync_interval: always), the setting under which wtb counts an
// acknowledgement as durable.
type Server struct {
	t    testing.TB
	dir  string
	port int

	mu  sync.Mutex
	srv *server.Server
}

// Start starts an embedded server; it is shut down when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: filepath.Join(t.TempDir(), "jetstream"), port: -1}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	opts := &server.Options{
		Host:       "127.0.0.1",
		Port:       s.port,
		JetStream:  true,
		StoreDir:   s.dir,
		SyncAlways: true,
		NoLog:      true,
		NoSigs:     true,
		ServerName: "wtb-test",
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		s.t.Fatalf("jstest: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(StartTimeout) {
		srv.Shutdown()
		s.t.Fatalf("jstest: server not ready within %s", StartTimeout)
	}
	s.mu.Lock()
	s.srv = srv
	if s.port == -1 {
		s.port = srv.Addr().(*net.TCPAddr).Port
	}
	s.mu.Unlock()
}

// URL is the server's client URL; it stays the same across restarts.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart stops the server and starts it again on the same port and
// storage directory, after down has passed.
func (s *Server) Restart(down time.Duration) {
	s.t.Helper()
	s.Stop()
	time.Sleep(down)
	s.start()
}

var (
	realOnce sync.Once
	realErr  error
)

// RealURL returns the URL of the machine's real NATS server (WTB_TEST_NATS,
// default DefaultURL), after checking once that it answers with
// JetStream. When it does not, t is skipped, or fails when CI=true.
func RealURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		url = DefaultURL
	}
	realOnce.Do(func() {
		nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
		if err != nil {
			realErr = err
			return
		}
		defer nc.Close()
		_, err = nc.Request("$JS.API.INFO", nil, 2*time.Second)
		realErr = err
	})
	if realErr != nil {
		msg := fmt.Sprintf("NATS JetStream test server unreachable at %s (set %s to another server): %v", url, EnvURL, realErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return url
}
