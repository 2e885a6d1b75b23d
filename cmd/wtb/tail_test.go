package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
	"github.com/wtbdev/wtb/sqlite"
)

// tailTimeout bounds every wait of the tail tests.
const tailTimeout = 60 * time.Second

// tailRun is `wtb audit tail ...` running in-process; its output lines are
// collected as they are printed.
type tailRun struct {
	t      *testing.T
	cancel context.CancelFunc
	code   chan int
	stderr *syncBuffer

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on every line
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTail runs the command line in-process until stop; the store and
// server environment variables are cleared first.
func startTail(t *testing.T, args ...string) *tailRun {
	t.Helper()
	for _, k := range []string{envDB, envStore, envSync, envServer} {
		t.Setenv(k, "")
	}
	resetFlags(rootCmd)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	r := &tailRun{t: t, cancel: cancel, code: make(chan int, 1), stderr: &syncBuffer{}, more: make(chan struct{})}
	go func() {
		r.code <- execute(ctx, args, strings.NewReader(""), pw, r.stderr)
		pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			r.mu.Lock()
			r.lines = append(r.lines, sc.Text())
			close(r.more)
			r.more = make(chan struct{})
			r.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.code:
		case <-time.After(tailTimeout):
			t.Error("tail did not stop")
		}
	})
	return r
}

// waitLines waits until the output has n lines at least, or fails.
func (r *tailRun) waitLines(n int) []string {
	r.t.Helper()
	deadline := time.After(tailTimeout)
	for {
		r.mu.Lock()
		lines, more := slices.Clone(r.lines), r.more
		r.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		select {
		case <-more:
		case c := <-r.code:
			r.code <- c
			r.t.Fatalf("tail exited %d with %d of %d lines; stderr:\n%s", c, len(lines), n, r.stderr)
		case <-deadline:
			r.t.Fatalf("tail printed %d of %d lines in %s; stderr:\n%s", len(lines), n, tailTimeout, r.stderr)
		}
	}
}

// stop interrupts tail as Ctrl-C does and returns its exit status.
func (r *tailRun) stop() int {
	r.t.Helper()
	r.cancel()
	select {
	case c := <-r.code:
		r.code <- c
		return c
	case <-time.After(tailTimeout):
		r.t.Fatal("tail did not stop when interrupted")
		return -1
	}
}

// seqsOfJSONLines reads the seq of every JSON line.
func seqsOfJSONLines(t *testing.T, lines []string) []int64 {
	t.Helper()
	out := make([]int64, 0, len(lines))
	for _, l := range lines {
		var e audit.Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, e.Seq)
	}
	return out
}

// tailEvents returns n node events of execution exec, with ids unique to
// the test.
func tailEvents(exec string, from, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		ev := event.New[event.NodeStarted]()
		ev.ExecutionID, ev.NodeID, ev.NodeName = exec, fmt.Sprintf("node-%d", from+i), "n"
		evs[i] = ev
	}
	return evs
}

// apiSeqs reads the seqs of every entry (of one execution when exec is
// set) through GET /v1/audit.
func apiSeqs(t *testing.T, base, token, exec string) []int64 {
	t.Helper()
	var out []int64
	cursor := "0"
	for {
		q := url.Values{"limit": {"10000"}, "cursor": {cursor}}
		if exec != "" {
			q.Set("execution_id", exec)
		}
		req, _ := http.NewRequest("GET", base+"/v1/audit?"+q.Encode(), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Entries    []audit.Entry `json:"entries"`
			NextCursor *string       `json:"next_cursor"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /v1/audit: %d %v", res.StatusCode, err)
		}
		for _, e := range page.Entries {
			out = append(out, e.Seq)
		}
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
}

// postWithToken posts evs as one NDJSON batch and fails unless all are
// acknowledged.
func postWithToken(t *testing.T, base, token string, evs []event.Event) {
	t.Helper()
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	req, _ := http.NewRequest("POST", base+"/v1/events", &buf)
	req.Header.Set("Content-Type", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST /v1/events: %d %s", res.StatusCode, b)
	}
}

// restartableServe is a wtb serve child process that can be killed and
// started again on the same address.
type restartableServe struct {
	t          *testing.T
	bin        string
	args       []string
	addr, base string
	cmd        *exec.Cmd
	done       chan struct{}
}

func (s *restartableServe) start() {
	s.t.Helper()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cmd := exec.Command(s.bin, append([]string{"serve", "--addr", addr, "--heartbeat", "1s", "--request-log", "off"}, s.args...)...)
	cmd.Env = append(os.Environ(), envDB+"=", envStore+"=", envSync+"=", envAddr+"=", envTokens+"=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	lineC := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lineC <- line
		_, _ = io.Copy(io.Discard, br)
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case line := <-lineC:
		m := listenRE.FindStringSubmatch(line)
		if m == nil {
			s.t.Fatalf("serve printed %q (stderr: %s)", line, stderr.String())
		}
		s.base = m[1]
		s.addr = strings.TrimPrefix(s.base, "http://")
	case <-time.After(tailTimeout):
		s.t.Fatal("serve did not start")
	}
}

func (s *restartableServe) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// tail --follow against a real wtb serve that is killed (SIGKILL) and
// started again in the middle, while entries are also committed to its
// database while it is down: every seq is printed exactly once, in order,
// and the token is never printed.
func TestAuditTailServerRestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "wtb.db")
	const token = "tail-test-token-0f3a9c"
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(token+" read,ingest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := &restartableServe{t: t, bin: builtWTB(t), args: []string{"--db", db, "--tokens", tokens}}
	srv.start()
	t.Cleanup(srv.kill)

	postWithToken(t, srv.base, token, tailEvents("tail-a", 0, 25))
	postWithToken(t, srv.base, token, tailEvents("tail-b", 0, 5))

	// A wrong token is refused at once, with the server's reason, and the
	// token is not printed.
	t.Setenv(envToken, "wrong-token-77")
	r := run(t, "", "audit", "tail", "--server", srv.base)
	if r.code != exitFailure || !strings.Contains(r.stderr, "refused") || !strings.Contains(r.stderr, "401") || strings.Contains(r.stderr, "wrong-token-77") {
		t.Fatalf("wrong token: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv(envToken, "")

	// Without --follow: the last 10 entries of the whole log, as text.
	r = run(t, "", "audit", "tail", "--server", srv.base, "--token-file", tokenFile)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 10 || !regexp.MustCompile(`^21 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z tail-a `).MatchString(r.stdout) || !strings.Contains(r.stdout, "Z tail-b ") {
		t.Fatalf("tail: exit %d\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// Follow one execution from its last 5 entries.
	t.Setenv(envTokenFile, tokenFile)
	tr := startTail(t, "audit", "tail", "--server", srv.base, "--execution", "tail-a", "--follow", "--json", "--lines", "5")
	tr.waitLines(5)
	postWithToken(t, srv.base, token, tailEvents("tail-a", 25, 30))
	postWithToken(t, srv.base, token, tailEvents("tail-b", 5, 30))
	tr.waitLines(5 + 30)

	// Kill the server; while it is down, commit more entries to its database.
	srv.kill()
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var down []audit.Entry
	for _, ev := range tailEvents("tail-a", 55, 40) {
		down = append(down, audit.FromEvent(ev))
	}
	if _, err := st.Append(context.Background(), down); err != nil {
		t.Fatal(err)
	}
	st.Close()
	srv.start()
	for i := range 5 {
		postWithToken(t, srv.base, token, tailEvents("tail-a", 95+10*i, 10))
		postWithToken(t, srv.base, token, tailEvents("tail-b", 35+10*i, 3))
	}
	want := apiSeqs(t, srv.base, token, "tail-a")
	if len(want) != 25+30+40+50 {
		t.Fatalf("the server holds %d entries of tail-a", len(want))
	}
	lines := tr.waitLines(len(want) - 20)
	time.Sleep(200 * time.Millisecond) // a repeat would show by now
	if code := tr.stop(); code != exitInterrupted {
		t.Fatalf("interrupted tail exited %d, want %d", code, exitInterrupted)
	}
	tr.mu.Lock()
	lines = slices.Clone(tr.lines)
	tr.mu.Unlock()
	got := seqsOfJSONLines(t, lines)
	if !slices.Equal(got, want[20:]) {
		t.Fatalf("tail printed seqs\n%v\nthe server holds (after the first 20)\n%v", got, want[20:])
	}
	errText := tr.stderr.String()
	if !strings.Contains(errText, "reconnecting after seq") || !strings.Contains(errText, "reconnected") || !strings.HasSuffix(errText, "wtb: interrupted\n") {
		t.Fatalf("stderr %q: want the reconnection notices and interrupted", errText)
	}
	if strings.Contains(errText, token) {
		t.Fatal("the token was printed")
	}
}

// tail --follow of a database that another writer keeps appending to, for
// both stores: the last entries first, then every entry committed, each
// once, in seq order.
func TestAuditTailDatabase(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			var st audit.Store
			var args []string
			if kind == "sqlite" {
				db := tempDB(t)
				s, err := sqlite.Open(ctx, db, sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				st, args = s, []string{"--db", db}
			} else {
				dsn, schema := pgtest.NewSchema(t)
				s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
				if err != nil {
					t.Fatal(err)
				}
				st, args = s, []string{"--store", pgtest.WithParam(t, dsn, "schema", schema)}
			}
			defer st.Close()
			appendEvents := func(evs []event.Event) {
				t.Helper()
				entries := make([]audit.Entry, len(evs))
				for i, ev := range evs {
					entries[i] = audit.FromEvent(ev)
				}
				if _, err := st.Append(ctx, entries); err != nil {
					t.Fatal(err)
				}
			}
			appendEvents(tailEvents("db-a", 0, 12))
			appendEvents(tailEvents("db-b", 0, 4))

			for _, c := range []struct {
				exec  string
				lines int
			}{{"", 3}, {"db-a", 7}} {
				t.Run("execution="+c.exec, func(t *testing.T) {
					before, err := st.Query(ctx, audit.Filter{ExecutionID: c.exec, Limit: audit.MaxLimit})
					if err != nil {
						t.Fatal(err)
					}
					a := append(slices.Clone(args), "audit", "tail", "--follow", "--json", "--poll", "20ms", "--lines", fmt.Sprint(c.lines))
					if c.exec != "" {
						a = append(a, "--execution", c.exec)
					}
					tr := startTail(t, a...)
					tr.waitLines(c.lines)
					// The writer commits batches while tail follows; every
					// fourth batch it waits until tail has printed it.
					printed := c.lines
					for i := range 20 {
						appendEvents(tailEvents("db-a", 100*i+1000, 1+i%7))
						appendEvents(tailEvents("db-b", 100*i+1000, 2))
						printed += 1 + i%7
						if c.exec == "" {
							printed += 2
						}
						if i%4 == 0 {
							tr.waitLines(printed)
						}
					}
					all, err := st.Query(ctx, audit.Filter{ExecutionID: c.exec, Limit: audit.MaxLimit})
					if err != nil {
						t.Fatal(err)
					}
					var want []int64
					for _, e := range all[len(before)-c.lines:] {
						want = append(want, e.Seq)
					}
					tr.waitLines(len(want))
					time.Sleep(100 * time.Millisecond) // a repeat would show by now
					if code := tr.stop(); code != exitInterrupted {
						t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, tr.stderr)
					}
					tr.mu.Lock()
					got := seqsOfJSONLines(t, tr.lines)
					tr.mu.Unlock()
					if !slices.Equal(got, want) {
						t.Fatalf("tail printed seqs\n%v\nthe store holds\n%v", got, want)
					}
				})
			}
		})
	}
}

// The last entries of an execution spread thinly over a long log, the
// whole log, --after, and the usage and failure cases.
func TestAuditTailOnce(t *testing.T) {
	ctx := context.Background()
	db := tempDB(t)
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var entries []audit.Entry
	for i := range 3000 {
		exec := "busy"
		if i%700 == 0 {
			exec = "rare"
		}
		entries = append(entries, audit.FromEvent(tailEvents(exec, i, 1)[0]))
	}
	if _, err := st.Append(ctx, entries); err != nil {
		t.Fatal(err)
	}
	st.Close()

	seqs := func(r result) []int64 {
		t.Helper()
		var out []int64
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if l == "" {
				continue
			}
			var seq int64
			if _, err := fmt.Sscan(strings.Fields(l)[0], &seq); err != nil {
				t.Fatalf("line %q", l)
			}
			out = append(out, seq)
		}
		return out
	}
	r := mustRun(t, "", "audit", "tail", "--db", db, "--execution", "rare", "-n", "3")
	if got := seqs(r); !slices.Equal(got, []int64{1401, 2101, 2801}) {
		t.Fatalf("last 3 of rare: %v\n%s", got, r.stdout)
	}
	if !regexp.MustCompile(`^1401 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z [^ ]+ Node 'n' started \(node: node-1400\)\n`).MatchString(r.stdout) {
		t.Fatalf("text form %q", r.stdout)
	}
	r = mustRun(t, "", "audit", "tail", "--db", db, "--execution", "rare", "-n", "100")
	if got := seqs(r); !slices.Equal(got, []int64{1, 701, 1401, 2101, 2801}) {
		t.Fatalf("all of rare: %v", got)
	}
	r = mustRun(t, "", "audit", "tail", "--db", db)
	if got := seqs(r); len(got) != 10 || got[0] != 2991 || got[9] != 3000 {
		t.Fatalf("last 10: %v", got)
	}
	r = mustRun(t, "", "audit", "tail", "--db", db, "--after", "2995", "--json")
	if got := seqsOfJSONLines(t, strings.Split(strings.TrimSpace(r.stdout), "\n")); !slices.Equal(got, []int64{2996, 2997, 2998, 2999, 3000}) {
		t.Fatalf("after 2995: %v", got)
	}
	r = mustRun(t, "", "audit", "tail", "--db", db, "--lines", "0")
	if r.stdout != "" {
		t.Fatalf("--lines 0 printed %q", r.stdout)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--execution", "nope"}, exitFailure, `execution "nope" not found`},
		{[]string{"--lines", "-1"}, exitUsage, "--lines -1"},
		{[]string{"--lines", "10001"}, exitUsage, "--lines 10001"},
		{[]string{"--after", "3", "--lines", "3"}, exitUsage, "--after and --lines"},
		{[]string{"--poll", "1ms"}, exitUsage, "--poll 1ms"},
		{[]string{"--server", "http://127.0.0.1:1"}, exitUsage, "--server and --db"},
		{[]string{"--token-file", "x"}, exitUsage, "--token-file applies to --server only"},
		{[]string{"extra"}, exitUsage, "takes no arguments"},
	} {
		r := run(t, "", append([]string{"audit", "tail", "--db", db}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("tail %v: exit %d, stderr %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
	for _, c := range []struct {
		server string
		code   int
		msg    string
	}{
		{"ftp://x", exitUsage, "want http://HOST:PORT"},
		{"http://user:secret@127.0.0.1:1", exitUsage, "credentials"},
		{"http://127.0.0.1:1", exitFailure, "reaching http://127.0.0.1:1"},
	} {
		r := run(t, "", "audit", "tail", "--server", c.server)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) || strings.Contains(r.stderr, "secret") {
			t.Errorf("tail --server %s: exit %d, stderr %q; want %d and %q", c.server, r.code, r.stderr, c.code, c.msg)
		}
	}
}
