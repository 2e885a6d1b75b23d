package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// testClient bounds every request of the tests: a request that hangs fails
// its test instead of the suite. Streams also carry a context deadline.
var testClient = &http.Client{Timeout: 30 * time.Second}

// serveProcess is a wtb serve child process.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan error
}

// buildWTB builds the wtb binary into a temporary directory.
func buildWTB(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wtb")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe starts `wtb serve` on a free loopback port and waits for the
// address it prints.
func startServe(t *testing.T, bin, db string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...)...)
	cmd.Env = append(os.Environ(), envDB+"=", envStore+"=", envSync+"=", envAddr+"=", envTokens+"=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v (stderr: %s)", err, p.stderr)
	}
	m := listenRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	p.url = m[1]
	go func() {
		_, _ = io.Copy(io.Discard, br)
		p.done <- cmd.Wait()
	}()
	return p
}

// post sends evs as one batch; it reports whether they were acknowledged.
func postBatch(client *http.Client, base string, evs []event.Event) (bool, error) {
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			return false, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	res, err := client.Post(base+"/v1/events", "application/x-ndjson", &buf)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	var out struct{ Accepted, Duplicates int }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return false, err
	}
	if res.StatusCode != 200 || out.Accepted+out.Duplicates != len(evs) {
		return false, fmt.Errorf("status %d, %+v", res.StatusCode, out)
	}
	return true, nil
}

// storedIDs reads every entry through GET /v1/audit and counts event ids.
func storedIDs(t *testing.T, base string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	cursor := ""
	for {
		q := url.Values{"limit": {"10000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res, err := testClient.Get(base + "/v1/audit?" + q.Encode())
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
			ids[e.EventID]++
		}
		if page.NextCursor == nil {
			return ids
		}
		cursor = *page.NextCursor
	}
}

// Killing the service with SIGKILL during sustained ingest loses no
// acknowledged event and records none twice.
func TestServeSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWTB(t)
	db := filepath.Join(t.TempDir(), "wtb.db")
	p := startServe(t, bin, db)

	const clients, batch, killAfter = 8, 50, 4000
	var (
		mu       sync.Mutex
		acked    []string
		inFlight [][]event.Event // sent, answer lost
		wg       sync.WaitGroup
	)
	killed := make(chan struct{})
	var killOnce sync.Once
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := 0; ; i++ {
				evs := make([]event.Event, batch)
				for j := range evs {
					ev := event.New[event.NodeCompleted]()
					ev.ExecutionID = fmt.Sprintf("kill-%d", c)
					ev.NodeID = fmt.Sprintf("n-%d-%d", i, j)
					evs[j] = ev
				}
				ok, err := postBatch(client, p.url, evs)
				mu.Lock()
				if ok {
					for _, ev := range evs {
						acked = append(acked, ev.EventID())
					}
					if len(acked) >= killAfter {
						killOnce.Do(func() { close(killed) })
					}
				} else {
					inFlight = append(inFlight, evs)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(2 * time.Minute):
		t.Fatalf("ingest too slow to reach %d events", killAfter)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	werr := <-p.done
	p.done <- werr
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("server did not die of SIGKILL: %v", werr)
	}

	p2 := startServe(t, bin, db)
	ids := storedIDs(t, p2.url)
	for _, id := range acked {
		if ids[id] != 1 {
			t.Fatalf("acknowledged event %s recorded %d times", id, ids[id])
		}
	}
	sent := map[string]bool{}
	for _, id := range acked {
		sent[id] = true
	}
	for _, evs := range inFlight {
		for _, ev := range evs {
			sent[ev.EventID()] = true
		}
	}
	for id, n := range ids {
		if n != 1 || !sent[id] {
			t.Fatalf("store holds %s %d times (sent: %v)", id, n, sent[id])
		}
	}
	// Sending the unanswered batches again records each event once.
	client := &http.Client{Timeout: 30 * time.Second}
	for _, evs := range inFlight {
		if ok, err := postBatch(client, p2.url, evs); !ok {
			t.Fatalf("re-sending a batch: %v", err)
		}
	}
	ids = storedIDs(t, p2.url)
	if len(ids) != len(sent) {
		t.Fatalf("store holds %d events, %d sent", len(ids), len(sent))
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s recorded %d times", id, n)
		}
	}
	t.Logf("%d acknowledged before SIGKILL, %d batches unanswered", len(acked), len(inFlight))

	// SIGTERM: a graceful stop, exit status 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p2.done:
		p2.done <- err
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, p2.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("no exit after SIGTERM")
	}
}

func TestServeRefusesOpenAddressWithoutTokens(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		r := run(t, "", "serve", "--addr", addr, "--db", tempDB(t))
		if r.code != 1 || !strings.Contains(r.stderr, "--tokens") || !strings.Contains(r.stderr, "127.0.0.1") {
			t.Fatalf("serve --addr %s: exit %d, stderr %q", addr, r.code, r.stderr)
		}
	}
	r := run(t, "", "serve", "--tokens", filepath.Join(t.TempDir(), "missing"), "--db", tempDB(t))
	if r.code != 1 || !strings.Contains(r.stderr, "tokens") {
		t.Fatalf("missing tokens file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, "", "serve", "--max-batch", "0", "--db", tempDB(t))
	if r.code != 2 {
		t.Fatalf("--max-batch 0: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, "", "serve", "--stream-delay", "2s", "--db", tempDB(t))
	if r.code != 2 || !strings.Contains(r.stderr, "--stream-delay") {
		t.Fatalf("--stream-delay 2s: exit %d, stderr %q", r.code, r.stderr)
	}
}

// serve reads its settings from WTB_* variables when flags are absent,
// answers, and stops cleanly when its context ends.
func TestServeEnvironmentAndStop(t *testing.T) {
	db := tempDB(t)
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("tok-1 ingest,read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{envStore, envSync} {
		t.Setenv(k, "")
	}
	t.Setenv(envDB, db)
	t.Setenv(envAddr, "127.0.0.1:0")
	t.Setenv(envTokens, tokens)
	t.Setenv(envMaxBatch, "2")
	resetFlags(rootCmd)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, []string{"serve"}, strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, br)
	m := listenRE.FindStringSubmatch(line)
	if m == nil || !strings.Contains(line, db) || !strings.Contains(line, "1 tokens") {
		t.Fatalf("first line %q", line)
	}
	do := func(token string, n int) int {
		evs := make([]string, n)
		for i := range evs {
			b, _ := event.Encode(event.New[event.NodeStarted]())
			evs[i] = string(b)
		}
		req, _ := http.NewRequest("POST", m[1]+"/v1/events", strings.NewReader("["+strings.Join(evs, ",")+"]"))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := do("", 1); s != 401 {
		t.Fatalf("without token: %d", s)
	}
	if s := do("tok-1", 2); s != 200 {
		t.Fatalf("with token: %d", s)
	}
	if s := do("tok-1", 3); s != 413 {
		t.Fatalf("over WTB_MAX_BATCH: %d", s)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d: %s", c, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	r := run(t, "", "audit", "export", "--db", db)
	if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != 2 {
		t.Fatalf("export after serve: exit %d, %d lines", r.code, n)
	}
}

// serveInProcess runs `wtb serve args...` in-process and returns its base
// URL and a function that stops it and returns its exit status.
func serveInProcess(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	resetFlags(rootCmd)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, append([]string{"serve"}, args...), strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve: %v (exit %d: %s)", err, <-code, errOut.String())
	}
	go io.Copy(io.Discard, br)
	m := listenRE.FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("first line %q", line)
	}
	return m[1], func() int {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Logf("serve stderr: %s", errOut.String())
			}
			return c
		case <-time.After(time.Minute):
			t.Fatal("serve did not stop")
			return -1
		}
	}
}

// The service on PostgreSQL: ingest, query, resume a stream, summary. Skipped
// when the server is unreachable, except with CI=true.
func TestServePostgres(t *testing.T) {
	store := pgtest.StoreURL(t)
	for _, k := range []string{envDB, envStore, envSync, envAddr, envTokens} {
		t.Setenv(k, "")
	}
	base, stop := serveInProcess(t, "--addr", "127.0.0.1:0", "--store", store)
	client := &http.Client{Timeout: 30 * time.Second}
	var evs []event.Event
	for i := range 30 {
		ev := event.New[event.NodeStarted]()
		ev.ExecutionID, ev.NodeID = "pg-exec", fmt.Sprintf("n%d", i)
		evs = append(evs, ev)
	}
	if ok, err := postBatch(client, base, evs); !ok {
		t.Fatalf("ingest: %v", err)
	}
	if ok, err := postBatch(client, base, evs[:10]); !ok {
		t.Fatalf("ingest again: %v", err)
	}
	ids := storedIDs(t, base)
	if len(ids) != 30 {
		t.Fatalf("%d events stored, want 30", len(ids))
	}
	for _, ev := range evs {
		if ids[ev.EventID()] != 1 {
			t.Fatalf("event %s stored %d times", ev.EventID(), ids[ev.EventID()])
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?topic=execution:pg-exec", nil)
	req.Header.Set("Last-Event-ID", "0")
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(res.Body)
	var got []string
	for len(got) < 30 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d entries: %v", len(got), err)
		}
		if strings.HasPrefix(line, "data: ") {
			var e audit.Entry
			if err := json.Unmarshal([]byte(line[6:]), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.EventID)
		}
	}
	res.Body.Close()
	for i, ev := range evs {
		if got[i] != ev.EventID() {
			t.Fatalf("stream entry %d is %s, want %s", i, got[i], ev.EventID())
		}
	}

	res, err = client.Get(base + "/v1/executions/pg-exec/summary")
	if err != nil {
		t.Fatal(err)
	}
	var sum audit.Summary
	err = json.NewDecoder(res.Body).Decode(&sum)
	res.Body.Close()
	if err != nil || sum.TotalEntries != 30 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	if c := stop(); c != 0 {
		t.Fatalf("exit %d", c)
	}
}
