package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/httpapi"
	"github.com/wtbdev/wtb/jetstream"
	"github.com/wtbdev/wtb/jetstream/jstest"
	"github.com/wtbdev/wtb/postgres"
	"github.com/wtbdev/wtb/postgres/pgtest"
)

// quietLog drops the logs of the in-process services of these tests.
var quietLog = slog.New(slog.DiscardHandler)

// natsStream is a stream configuration of the test's own.
func natsStream(t testing.TB, name string) jetstream.StreamConfig {
	id := strings.ToUpper(strings.NewReplacer("/", "_", " ", "_").Replace(name)) + fmt.Sprintf("_%d", time.Now().UnixNano()%1e9)
	return jetstream.StreamConfig{Name: "WTB_T_" + id, SubjectPrefix: "wtbt." + strings.ToLower(id), MaxAge: time.Hour}
}

// natsArgs are the serve or publish flags naming cfg's stream.
func natsArgs(url string, cfg jetstream.StreamConfig) []string {
	return []string{"--nats", url, "--nats-stream", cfg.Name, "--nats-subjects", cfg.SubjectPrefix, "--nats-max-age", "1h"}
}

// startServeArgs starts `wtb serve` with args on a free loopback port and
// waits for the address it prints.
func startServeArgs(t *testing.T, bin string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), envDB+"=", envStore+"=", envSync+"=", envAddr+"=", envTokens+"=", envNATS+"=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
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
		t.Fatalf("reading the address: %v", err)
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

// lockedWriter serialises writes (the child's stderr is read by the test).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// genEvents returns n generated events of executions of 10 events.
func genEvents(seed string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = genEvent(seed, i, 10)
	}
	return evs
}

// publisher returns a Publisher to url for cfg's stream, which it creates.
func publisher(t *testing.T, url string, cfg jetstream.StreamConfig, retryFor time.Duration) (*jetstream.Publisher, *nats.Conn) {
	t.Helper()
	nc, err := jetstream.Connect(url, t.Name(), true, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	pub, err := jetstream.NewPublisher(nc, jetstream.PublisherOptions{Logger: quietLog, SubjectPrefix: cfg.SubjectPrefix, RetryFor: retryFor,
		RetryBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, AckTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := njs.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := jetstream.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	return pub, nc
}

// checkRecorded checks the guarantees on the store: every acknowledged
// event recorded once, nothing never published, seqs strictly increasing.
func checkRecorded(t *testing.T, st audit.Store, acked, sent []event.Event) {
	t.Helper()
	ok := map[string]bool{}
	for _, ev := range sent {
		ok[ev.EventID()] = true
	}
	seen := map[string]int{}
	var after int64
	for {
		es, err := st.Query(context.Background(), audit.Filter{After: after, Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Seq <= after {
				t.Fatalf("seq %d after %d: not strictly increasing", e.Seq, after)
			}
			after = e.Seq
			seen[e.EventID]++
			if !ok[e.EventID] {
				t.Fatalf("recorded event %s was never published", e.EventID)
			}
		}
		if len(es) < audit.MaxLimit {
			break
		}
	}
	lost, twice := 0, 0
	for _, ev := range acked {
		switch seen[ev.EventID()] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	if lost > 0 || twice > 0 {
		t.Fatalf("of %d acknowledged events, %d lost and %d recorded twice", len(acked), lost, twice)
	}
}

// waitCount waits until st holds at least n entries.
func waitCount(t *testing.T, st audit.Store, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, err := st.Count(context.Background())
		if err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries recorded after %s, want %d (last error %v)", got, within, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var redeliveriesRE = regexp.MustCompile(`(?m)^wtb_jetstream_redeliveries_total (\d+)`)

// A `wtb serve --nats` instance is SIGKILLed while it holds messages it
// has not acknowledged; a second instance, sharing the durable consumer,
// gets them again after the ack wait. Every acknowledged publish is
// recorded exactly once, seqs strictly increasing.
func TestServeNATSConsumerSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildWTB(t)
	ns := jstest.Start(t)
	store := pgtest.StoreURL(t)
	cfg := natsStream(t, "kill")
	pub, _ := publisher(t, ns.URL(), cfg, time.Minute)

	args := append([]string{"--store", store, "--nats-ack-wait", "2s"}, natsArgs(ns.URL(), cfg)...)
	a := startServeArgs(t, bin, args...)

	const total = 20_000
	evs := genEvents("natskill", total)
	ctx := context.Background()
	pubDone := make(chan error, 1)
	go func() {
		_, err := pub.PublishBatch(ctx, evs)
		pubDone <- err
	}()

	st, err := postgres.Open(ctx, strings.Split(store, "?")[0]+"?sslmode=disable", postgres.Options{Schema: schemaOf(t, store)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCount(t, st, 5000, time.Minute)
	// Hold the instance's commits (an exclusive lock on the entries table
	// blocks its inserts) so that it surely holds submitted, uncommitted
	// messages when it is killed.
	lock, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "LOCK TABLE "+pgx.Identifier{st.Schema(), "entries"}.Sanitize()+" IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	held, _ := a.metric(t, "wtb_jetstream_received_total")
	heldAcked, _ := a.metric(t, "wtb_jetstream_acked_total")
	t.Logf("instance A: received %s, acked %s", held, heldAcked)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := <-a.done
	a.done <- werr
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("instance did not die of SIGKILL: %v", werr)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	killedAt, _ := st.Count(ctx)
	if err := <-pubDone; err != nil {
		t.Fatalf("publish: %v", err)
	}

	b := startServeArgs(t, bin, args...)
	waitCount(t, st, total, 90*time.Second)
	checkRecorded(t, st, evs, evs)

	res, err := (&http.Client{Timeout: 10 * time.Second}).Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := redeliveriesRE.FindSubmatch(body)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("the second instance saw no redelivery (%q): the first held no unacknowledged message", m)
	}
	t.Logf("killed at %d of %d recorded; the second instance got %s redeliveries", killedAt, total, m[1])
}

// metric reads one sample of the instance's metrics.
func (p *serveProcess) metric(t *testing.T, name string) (string, bool) {
	t.Helper()
	res, err := (&http.Client{Timeout: 10 * time.Second}).Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)`).FindSubmatch(body)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// schemaOf returns the schema parameter of a store URL.
func schemaOf(t *testing.T, store string) string {
	t.Helper()
	_, q, _ := strings.Cut(store, "?")
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "schema" {
			return v
		}
	}
	t.Fatalf("no schema in %s", store)
	return ""
}

// consumerInstance is a service recording into st and consuming cfg's
// stream, wired as `wtb serve --nats` wires it.
type consumerInstance struct {
	url  string
	srv  *httpapi.Server
	cons *jetstream.Consumer
	stop func()
}

func startConsumerInstance(t *testing.T, st audit.Store, natsURL string, cfg jetstream.StreamConfig) *consumerInstance {
	t.Helper()
	srv, err := httpapi.New(st, serverOptions(st, httpapi.Options{Logger: quietLog, RequestLogLevel: httpapi.RequestLogOff, Recorder: audit.RecorderOptions{
		MaxRetries: 2, RetryBackoff: 20 * time.Millisecond, AppendTimeout: 5 * time.Second}}))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := jetstream.Connect(natsURL, t.Name(), true, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := jetstream.StartConsumer(nc, srv.Recorder(), jetstream.ConsumerOptions{Stream: cfg, AckWait: 5 * time.Second,
		RetryBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, MetricsInterval: 100 * time.Millisecond,
		Registerer: srv.Registry(), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, c := context.WithTimeout(context.Background(), 30*time.Second)
			defer c()
			if err := cons.Stop(ctx); err != nil {
				t.Errorf("consumer stop: %v", err)
			}
			cancel()
			<-done
			nc.Close()
		})
	}
	t.Cleanup(stop)
	return &consumerInstance{url: "http://" + ln.Addr().String(), srv: srv, cons: cons, stop: stop}
}

// PostgreSQL (a throwaway cluster of the test's own) goes down in the
// middle of a publish stream and comes back: the consumer stops
// acknowledging, JetStream holds the backlog, and once the store is back
// the backlog drains with nothing lost and nothing twice.
func TestPostgresDownBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	cl := pgtest.StartCluster(t)
	ns := jstest.Start(t)
	cfg := natsStream(t, "pgdown")
	pub, nc := publisher(t, ns.URL(), cfg, 2*time.Minute)
	ctx := context.Background()
	st, err := postgres.Open(ctx, cl.DSN(), postgres.Options{Schema: "wtb"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inst := startConsumerInstance(t, st, ns.URL(), cfg)

	const batches, per = 30, 500
	var all []event.Event
	for b := range batches {
		evs := genEvents(fmt.Sprintf("pgdown%02d", b), per)
		if _, err := pub.PublishBatch(ctx, evs); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		all = append(all, evs...)
		if b == 10 {
			waitCount(t, st, int64(len(all)), time.Minute)
			cl.Stop()
		}
		if b == 20 {
			// The store has been down while 10 batches were published:
			// they wait in the stream, unacknowledged.
			js, _ := njs.New(nc)
			s, err := js.Stream(ctx, cfg.Name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs < 9*per {
				t.Fatalf("while PostgreSQL is down the stream holds %d messages, want the backlog (>= %d)", info.State.Msgs, 9*per)
			}
			if inst.cons.Stats().Failed == 0 {
				t.Fatal("no failed commit counted while PostgreSQL was down")
			}
			t.Logf("backlog while PostgreSQL is down: %d messages; consumer %+v", info.State.Msgs, inst.cons.Stats())
			waitGauge(t, inst.srv, "wtb_jetstream_consumer_lag", func(v float64) bool { return v >= 9*per })
			waitGauge(t, inst.srv, "wtb_jetstream_backlog_age_seconds", func(v float64) bool { return v > 0 })
			cl.Start()
		}
	}
	waitCount(t, st, int64(len(all)), 2*time.Minute)
	checkRecorded(t, st, all, all)
	waitGauge(t, inst.srv, "wtb_jetstream_consumer_lag", func(v float64) bool { return v == 0 })
	waitGauge(t, inst.srv, "wtb_jetstream_backlog_age_seconds", func(v float64) bool { return v == 0 })
	t.Logf("consumer %+v", inst.cons.Stats())
}

// waitGauge waits until the server's gauge name satisfies ok.
func waitGauge(t *testing.T, srv *httpapi.Server, name string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last float64
	for time.Now().Before(deadline) {
		mfs, err := srv.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name && len(mf.GetMetric()) == 1 {
				last = mf.GetMetric()[0].GetGauge().GetValue()
				if ok(last) {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("metric %s stayed at %v", name, last)
}

// With NATS down, HTTP ingest goes on; the consumer catches up once NATS
// is back.
func TestNATSDownHTTPIngest(t *testing.T) {
	ns := jstest.Start(t)
	cfg := natsStream(t, "natsdown")
	st := audit.NewMemoryStore()
	pub, _ := publisher(t, ns.URL(), cfg, time.Minute)
	inst := startConsumerInstance(t, st, ns.URL(), cfg)
	ctx := context.Background()
	viaNATS := genEvents("vianats", 100)
	if _, err := pub.PublishBatch(ctx, viaNATS); err != nil {
		t.Fatal(err)
	}
	waitCount(t, st, 100, 30*time.Second)
	ns.Stop()
	viaHTTP := genEvents("viahttp", 100)
	client := &http.Client{Timeout: 10 * time.Second}
	if ok, err := postBatch(client, inst.url, viaHTTP); !ok {
		t.Fatalf("HTTP ingest with NATS down: %v", err)
	}
	waitCount(t, st, 200, 10*time.Second)
	ns.Restart(0)
	more := genEvents("after", 100)
	if _, err := pub.PublishBatch(ctx, more); err != nil {
		t.Fatal(err)
	}
	waitCount(t, st, 300, 30*time.Second)
	all := append(append(viaNATS, viaHTTP...), more...)
	checkRecorded(t, st, all, all)
}

// wtb publish publishes a file and says so; an invalid line stops it with
// the line's number; a usage error exits 2.
func TestPublishCommand(t *testing.T) {
	ns := jstest.Start(t)
	cfg := natsStream(t, "cmd")
	dir := t.TempDir()
	file := eventsFile(t, dir, "pubcmd", 1000, 10)
	args := append([]string{"publish"}, natsArgs(ns.URL(), cfg)...)
	r := mustRun(t, "", append(args, file)...)
	if !strings.Contains(r.stdout, "published 1000 events") {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = run(t, "", append(args, "-")...)
	if r.code != 0 || !strings.Contains(r.stdout, "published 0 events") {
		t.Fatalf("empty stdin: %+v", r)
	}
	bad := eventsFile(t, dir, "pubbad", 20, 10)
	b, _ := os.ReadFile(bad)
	lines := strings.SplitAfter(string(b), "\n")
	lines[12] = "{\"event_type\": \"NoSuchEvent\"}\n"
	r = run(t, strings.Join(lines, ""), append(args, "-")...)
	if r.code != 1 || !strings.Contains(r.stderr, "line 13") || !strings.Contains(r.stderr, "12 events before it are published") {
		t.Fatalf("invalid line: %+v", r)
	}
	for _, bad := range [][]string{{"publish"}, {"publish", "--nats-replicas", "9", file}, {"publish", "--nats-max-age", "1s", file}} {
		if r := run(t, "", bad...); r.code != 2 {
			t.Errorf("wtb %v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
	nc := connectPlain(t, ns.URL())
	js, _ := njs.New(nc)
	s, err := js.Stream(context.Background(), cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(context.Background())
	if info.State.Msgs != 1012 {
		t.Fatalf("stream holds %d, want 1012", info.State.Msgs)
	}
}

func connectPlain(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
