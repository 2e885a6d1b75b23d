package console_test

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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wtbdev/wtb/event"
)

// The browser tests drive the distribution's Chromium with chromedp
// against `wtb serve` run as a child process built from this repository.
// Outside CI they skip when Chromium is missing; with CI=true they fail.

// chromiumPaths are where the distribution installs Chromium.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"}

// testTimeout bounds one browser test.
const testTimeout = 2 * time.Minute

func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("WTB_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "Chromium not found (install it: apt-get install -y chromium, or set WTB_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// wtbBinary builds cmd/wtb once per test process.
func wtbBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "wtb-console-test")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "wtb")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/wtb").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is `wtb serve` in a child process.
type server struct {
	t      testing.TB
	db     string
	addr   string // host:port, kept across restarts
	tokens string // tokens file, "" for none
	token  string // the token the test client sends
	cmd    *exec.Cmd
	url    string
}

func startServer(t testing.TB, db, tokens, token string) *server {
	s := &server{t: t, db: db, addr: "127.0.0.1:0", tokens: tokens, token: token}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	args := []string{"serve", "--db", s.db, "--addr", s.addr, "--heartbeat", "1s"}
	if s.tokens != "" {
		args = append(args, "--tokens", s.tokens)
	}
	cmd := exec.Command(wtbBinary(s.t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
				lines <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case addr := <-lines:
		s.addr, s.url = addr, "http://"+addr
	case <-time.After(30 * time.Second):
		s.t.Fatal("wtb serve did not start within 30s")
	}
}

// kill sends SIGKILL and waits for the process to end.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

var client = &http.Client{Timeout: 30 * time.Second}

func (s *server) do(method, path string, body []byte) []byte {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b
}

// post ingests events as NDJSON.
func (s *server) post(evs ...event.Event) {
	s.t.Helper()
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			s.t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	s.do("POST", "/v1/events", buf.Bytes())
}

// seqs returns the seqs of an execution's entries, as the API holds them.
func (s *server) seqs(exec string) []int64 {
	s.t.Helper()
	var out []int64
	cursor := ""
	for {
		q := url.Values{"execution_id": {exec}, "limit": {"10000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Entries []struct {
				Seq int64 `json:"seq"`
			} `json:"entries"`
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(s.do("GET", "/v1/audit?"+q.Encode(), nil), &page); err != nil {
			s.t.Fatal(err)
		}
		for _, e := range page.Entries {
			out = append(out, e.Seq)
		}
		if page.Next == nil {
			return out
		}
		cursor = *page.Next
	}
}

// browser starts a headless Chromium for the test; listeners get its
// protocol events.
func browser(t testing.TB, listeners ...func(ev any)) context.Context {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("enable-precise-memory-info", true),
		chromedp.WindowSize(1440, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var copts []chromedp.ContextOption
	for _, l := range listeners {
		copts = append(copts, chromedp.WithListener(l))
	}
	ctx, cancelCtx := chromedp.NewContext(actx, copts...)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(cancelTimeout)
	return tctx
}

func run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func waitFor(t testing.TB, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
			t.Fatalf("waiting for %s: %s still false after 30s", what, cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshotDir is where the tests save a screenshot of each view:
// $WTB_SCREENSHOTS, else console/testdata/screenshots (CI keeps it).
func screenshotDir() string {
	if d := os.Getenv("WTB_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "screenshots")
}

func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	// Finish transitions (a new row's highlight) so the picture shows the
	// view at rest.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getAnimations().forEach(a => a.finish()), true)`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// events of a small execution.

type runBuilder struct {
	exec string
	at   time.Time
	evs  []event.Event
}

func newRun(exec string, at time.Time) *runBuilder { return &runBuilder{exec: exec, at: at} }

func (r *runBuilder) tick(b *event.Base, ms int) {
	r.at = r.at.Add(time.Duration(ms) * time.Millisecond)
	b.Timestamp = r.at
}

func (r *runBuilder) start(workflow string) *runBuilder {
	ev := event.New[event.ExecutionStarted]()
	r.tick(&ev.Base, 0)
	ev.ExecutionID, ev.WorkflowID, ev.WorkflowName = r.exec, workflow, workflow
	r.evs = append(r.evs, ev)
	return r
}

// node adds a run of node: started, then completed (or failed with errText).
func (r *runBuilder) node(node string, ms int, errText string) *runBuilder {
	s := event.New[event.NodeStarted]()
	r.tick(&s.Base, 5)
	s.ExecutionID, s.NodeID, s.NodeName = r.exec, node, node
	r.evs = append(r.evs, s)
	if errText != "" {
		f := event.New[event.NodeFailed]()
		r.tick(&f.Base, ms)
		f.ExecutionID, f.NodeID, f.NodeName, f.ErrorType, f.ErrorMessage, f.DurationMS = r.exec, node, node, "Error", errText, float64(ms)
		r.evs = append(r.evs, f)
		return r
	}
	c := event.New[event.NodeCompleted]()
	r.tick(&c.Base, ms)
	c.ExecutionID, c.NodeID, c.NodeName, c.DurationMS = r.exec, node, node, float64(ms)
	r.evs = append(r.evs, c)
	k := event.New[event.CheckpointCreated]()
	r.tick(&k.Base, 1)
	step := int64(len(r.evs))
	k.ExecutionID, k.CheckpointID, k.Step, k.CompletedNode = r.exec, fmt.Sprint(step), step, &node
	r.evs = append(r.evs, k)
	return r
}

func (r *runBuilder) rollback(to string, nodes ...string) *runBuilder {
	ev := event.New[event.RollbackCompleted]()
	r.tick(&ev.Base, 3)
	ev.ExecutionID, ev.FromCheckpointID, ev.ToCheckpointID, ev.RolledBackNodes = r.exec, "9", to, nodes
	r.evs = append(r.evs, ev)
	return r
}

func (r *runBuilder) complete() *runBuilder {
	ev := event.New[event.ExecutionCompleted]()
	r.tick(&ev.Base, 2)
	ev.ExecutionID = r.exec
	ev.FinalState = event.Map{"answer": "x"}
	r.evs = append(r.evs, ev)
	return r
}
