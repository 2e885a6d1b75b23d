package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/jetstream"
)

// clusterConfig configures the modes that run several `wtb serve`
// processes on one PostgreSQL: jetstream and xlatency.
type clusterConfig struct {
	mode       string
	wtb        string
	store      string
	nats       string
	instances  int
	events     int
	publishers int
	rate       float64
	batch      int
	duration   time.Duration
}

func clusterUsage(w io.Writer) {
	fmt.Fprintln(w, `  jetstream  publish N events to JetStream while wtb serve --nats instances record
             them in PostgreSQL; events/s with 1 instance, then with --instances
  xlatency   ingest at --rate on instance A; live latency from A's acknowledgement
             to delivery on SSE clients of A (same instance) and of B (other instance)
  (both need --wtb, a wtb binary: go build -o /tmp/wtb ./cmd/wtb)`)
}

func runCluster(ctx context.Context, args []string, out io.Writer) error {
	cfg := clusterConfig{mode: args[0]}
	fs := flag.NewFlagSet("wtbload "+cfg.mode, flag.ContinueOnError)
	fs.StringVar(&cfg.wtb, "wtb", "", "the wtb binary to run as instances (required)")
	fs.StringVar(&cfg.store, "store", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (loopback); a fresh schema per run, dropped after")
	switch cfg.mode {
	case "jetstream":
		fs.StringVar(&cfg.nats, "nats", "nats://127.0.0.1:4222", "NATS JetStream server (loopback); a fresh stream per run, deleted after")
		fs.IntVar(&cfg.instances, "instances", 3, "instances of the second run (the first has 1)")
		fs.IntVar(&cfg.events, "events", 300_000, "events published per run")
		fs.IntVar(&cfg.publishers, "publishers", 4, "concurrent publishers")
		fs.IntVar(&cfg.batch, "batch", 2000, "events per PublishBatch call")
	case "xlatency":
		fs.Float64Var(&cfg.rate, "rate", 10000, "ingest rate on instance A, events/s")
		fs.IntVar(&cfg.batch, "batch", 100, "events per ingest request")
		fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to ingest (at most 5m)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case cfg.wtb == "":
		return errors.New("--wtb is required: go build -o /tmp/wtb ./cmd/wtb")
	case cfg.mode == "jetstream" && (cfg.instances < 1 || cfg.instances > 8 || cfg.events < 1 || cfg.events > maxEvents ||
		cfg.publishers < 1 || cfg.publishers > 64 || cfg.batch < 1 || cfg.batch > 100_000):
		return errors.New("--instances in [1, 8], --events in [1, 10M], --publishers in [1, 64], --batch in [1, 100000]")
	case cfg.mode == "xlatency" && (cfg.rate <= 0 || cfg.rate > 200_000 || cfg.batch < 1 || cfg.batch > maxBatch ||
		cfg.duration <= 0 || cfg.duration > maxDuration):
		return errors.New("--rate in (0, 200000], --batch in [1, 10000], --duration in (0, 5m]")
	}
	for _, u := range []string{cfg.store, cfg.nats} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil {
			return err
		}
		if h := pu.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return fmt.Errorf("%s: only loopback servers may be loaded", u)
		}
	}
	if cfg.mode == "jetstream" {
		return runJetStream(ctx, cfg, out)
	}
	return runXLatency(ctx, cfg, out)
}

// quiet discards the connection logs of the load generator's own clients.
var quiet = slog.New(slog.DiscardHandler)

// instance is one `wtb serve` child process.
type instance struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	lines  chan string
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

func startInstance(bin string, args ...string) (*instance, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--request-log", "off"}, args...)...)
	cmd.Env = append(os.Environ(), "WTB_DB=", "WTB_STORE=", "WTB_NATS=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in := &instance{cmd: cmd, stderr: &bytes.Buffer{}, lines: make(chan string, 16)}
	cmd.Stderr = in.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case in.lines <- sc.Text():
			default:
			}
		}
		close(in.lines)
	}()
	select {
	case line, ok := <-in.lines:
		m := listenRE.FindStringSubmatch(line)
		if !ok || m == nil {
			in.stop()
			return nil, fmt.Errorf("wtb serve did not start: %q %s", line, in.stderr)
		}
		in.url = m[1]
	case <-time.After(30 * time.Second):
		in.stop()
		return nil, errors.New("wtb serve did not start within 30s")
	}
	return in, nil
}

// stop stops the instance gracefully (SIGTERM), or kills it after 30s.
func (in *instance) stop() {
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withSchema adds schema=NAME to a PostgreSQL URL.
func withSchema(dsn, schema string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		_, _ = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		c.Close(ctx)
	}
}

// loadEvents returns n node events across executions of 10, ids unique to
// the run.
func loadEvents(seed string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		ev := event.New[event.NodeCompleted]()
		ev.ID = seed + "-" + strconv.Itoa(i)
		ev.ExecutionID = seed + "-exec-" + strconv.Itoa(i/10)
		ev.NodeID, ev.NodeName = "node-"+strconv.Itoa(i%10), "node"
		ev.DurationMS = 12.5
		evs[i] = ev
	}
	return evs
}

func runJetStream(ctx context.Context, cfg clusterConfig, out io.Writer) error {
	fmt.Fprintf(out, "jetstream: %d events, %d publishers, batches of %d; NATS %s, PostgreSQL %s\n",
		cfg.events, cfg.publishers, cfg.batch, cfg.nats, cfg.store)
	fmt.Fprintf(out, "load average before: %s", loadavg())
	fmt.Fprintf(out, "%-10s %14s %14s %12s\n", "instances", "published/s", "recorded/s", "seconds")
	counts := []int{1}
	if cfg.instances != 1 {
		counts = append(counts, cfg.instances)
	}
	for _, n := range counts {
		pub, rec, secs, err := jetstreamRun(ctx, cfg, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-10d %14.0f %14.0f %12.2f   %s\n", n, pub, rec, secs, cpuLine)
	}
	return nil
}

// jetstreamRun publishes cfg.events while n instances record them, and
// returns the acknowledged publish rate, the recorded rate (from the first
// publish to the last commit) and the seconds the whole took.
func jetstreamRun(ctx context.Context, cfg clusterConfig, n int) (pubRate, recRate, secs float64, err error) {
	id := randomID()
	schema, stream := "wtbload_"+id, "WTBLOAD_"+strings.ToUpper(id)
	scfg := jetstream.StreamConfig{Name: stream, SubjectPrefix: "wtbload." + id, MaxAge: time.Hour}
	defer dropSchema(cfg.store, schema)
	nc, err := jetstream.Connect(cfg.nats, "wtbload", false, quiet)
	if err != nil {
		return 0, 0, 0, err
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	if _, err := jetstream.EnsureStream(ctx, js, scfg); err != nil {
		return 0, 0, 0, err
	}
	defer func() { _ = js.DeleteStream(context.Background(), stream) }()

	var insts []*instance
	defer func() {
		for _, in := range insts {
			in.stop()
		}
	}()
	appName := "wtbload_" + id
	natsPids := pidsNamed("nats-server")
	natsBefore := time.Duration(0)
	for _, p := range natsPids {
		natsBefore += procCPU(p)
	}
	for range n {
		in, err := startInstance(cfg.wtb, "--store", withParam(withSchema(cfg.store, schema), "application_name", appName), "--nats", cfg.nats,
			"--nats-stream", stream, "--nats-subjects", scfg.SubjectPrefix, "--nats-max-age", "1h")
		if err != nil {
			return 0, 0, 0, err
		}
		insts = append(insts, in)
	}
	pool, err := pgxpool.New(ctx, cfg.store)
	if err != nil {
		return 0, 0, 0, err
	}
	defer pool.Close()
	countQ := "SELECT n FROM " + pgx.Identifier{schema, "entry_count"}.Sanitize()

	evs := loadEvents("js"+id, cfg.events)
	for _, ev := range evs { // encode once before the clock starts, as producers do
		_ = ev.EventID()
	}
	var wtbBefore time.Duration
	for _, in := range insts {
		wtbBefore += procCPU(in.cmd.Process.Pid)
	}
	selfBefore := selfCPU()
	pubs := make([]*jetstream.Publisher, cfg.publishers)
	for i := range pubs {
		pc, err := jetstream.Connect(cfg.nats, "wtbload", false, quiet)
		if err != nil {
			return 0, 0, 0, err
		}
		defer pc.Close()
		if pubs[i], err = jetstream.NewPublisher(pc, jetstream.PublisherOptions{SubjectPrefix: scfg.SubjectPrefix}); err != nil {
			return 0, 0, 0, err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, cfg.publishers)
	start := time.Now()
	for _, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(int64(cfg.batch))) - cfg.batch
				if i >= len(evs) {
					return
				}
				if _, err := p.PublishBatch(ctx, evs[i:min(i+cfg.batch, len(evs))]); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	pubDone := time.Since(start)
	select {
	case err := <-errc:
		return 0, 0, 0, err
	default:
	}
	deadline := time.Now().Add(maxDuration)
	for {
		var got int64
		if err := pool.QueryRow(ctx, countQ).Scan(&got); err == nil && got >= int64(len(evs)) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, 0, 0, fmt.Errorf("only %d of %d events recorded after %s", got, len(evs), maxDuration)
		}
		time.Sleep(10 * time.Millisecond)
	}
	all := time.Since(start)
	// CPU spent per event by each party, read before the instances stop.
	var wtbCPU, pgCPU, natsCPU time.Duration
	for _, in := range insts {
		wtbCPU += procCPU(in.cmd.Process.Pid)
	}
	wtbCPU -= wtbBefore
	rows, err := pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", appName)
	if err == nil {
		for rows.Next() {
			var pid int
			if rows.Scan(&pid) == nil {
				pgCPU += procCPU(pid)
			}
		}
		rows.Close()
	}
	for _, p := range natsPids {
		natsCPU += procCPU(p)
	}
	natsCPU -= natsBefore
	pubCPU := selfCPU() - selfBefore
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.1f", float64(d.Microseconds())/float64(len(evs)))
	}
	cpuLine = fmt.Sprintf("CPU µs/event: publisher %s, nats-server %s, wtb instances %s, PostgreSQL backends %s",
		per(pubCPU), per(natsCPU), per(wtbCPU), per(pgCPU))
	return float64(len(evs)) / pubDone.Seconds(), float64(len(evs)) / all.Seconds(), all.Seconds(), nil
}

// cpuLine is the CPU account of the last jetstream run.
var cpuLine string

// withParam sets a query parameter of a URL.
func withParam(dsn, k, v string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// latencies collects the live delivery latencies of one SSE client.
type latencies struct {
	mu  sync.Mutex
	d   []time.Duration
	got int
}

func runXLatency(ctx context.Context, cfg clusterConfig, out io.Writer) error {
	id := randomID()
	schema := "wtbload_" + id
	defer dropSchema(cfg.store, schema)
	store := withSchema(cfg.store, schema)
	a, err := startInstance(cfg.wtb, "--store", store)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := startInstance(cfg.wtb, "--store", store)
	if err != nil {
		return err
	}
	defer b.stop()

	nBatches := int(cfg.rate * cfg.duration.Seconds() / float64(cfg.batch))
	acked := make([]atomic.Int64, nBatches) // unix nanos of A's answer
	seed := "xl" + id
	lat := map[string]*latencies{"A (same instance)": {}, "B (other instance)": {}}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cwg sync.WaitGroup
	for name, in := range map[string]*instance{"A (same instance)": a, "B (other instance)": b} {
		l := lat[name]
		ready := make(chan error, 1)
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			followLatency(cctx, in.url, seed, acked, l, ready)
		}()
		if err := <-ready; err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "xlatency: %.0f events/s on instance A for %s (batches of %d), SSE clients on A and B; PostgreSQL %s\n",
		cfg.rate, cfg.duration, cfg.batch, cfg.store)
	client := &http.Client{Timeout: requestTimeout}
	interval := time.Duration(float64(time.Second) * float64(cfg.batch) / cfg.rate)
	work := make(chan int, 1024)
	var swg sync.WaitGroup
	var sendErr atomic.Value
	for range 8 {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for bi := range work {
				var buf bytes.Buffer
				for k := range cfg.batch {
					ev := event.New[event.NodeCompleted]()
					ev.ID = seed + "-" + strconv.Itoa(bi) + "-" + strconv.Itoa(k)
					ev.ExecutionID = seed + "-exec-" + strconv.Itoa(bi%100)
					ev.NodeID, ev.NodeName = "n", "n"
					js, _ := event.Encode(ev)
					buf.Write(js)
					buf.WriteByte('\n')
				}
				res, err := client.Post(a.url+"/v1/events", "application/x-ndjson", &buf)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					sendErr.Store(err)
					continue
				}
				acked[bi].Store(time.Now().UnixNano())
			}
		}()
	}
	tick := time.NewTicker(interval)
	for bi := range nBatches {
		<-tick.C
		work <- bi
	}
	tick.Stop()
	close(work)
	swg.Wait()
	if err, ok := sendErr.Load().(error); ok {
		return fmt.Errorf("ingest on A: %w", err)
	}
	want := nBatches * cfg.batch
	deadline := time.Now().Add(30 * time.Second)
	for {
		done := true
		for _, l := range lat {
			l.mu.Lock()
			if l.got < want {
				done = false
			}
			l.mu.Unlock()
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	cwg.Wait()
	fmt.Fprintf(out, "%-20s %10s %10s %10s %10s\n", "client", "entries", "p50", "p99", "max")
	for _, name := range []string{"A (same instance)", "B (other instance)"} {
		l := lat[name]
		slices.Sort(l.d)
		q := func(p float64) time.Duration {
			if len(l.d) == 0 {
				return 0
			}
			return l.d[min(len(l.d)-1, int(p*float64(len(l.d))))]
		}
		fmt.Fprintf(out, "%-20s %10d %10s %10s %10s\n", name, l.got, q(0.5).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), q(1).Round(100*time.Microsecond))
		if l.got != want {
			return fmt.Errorf("%s received %d entries, want %d", name, l.got, want)
		}
	}
	return nil
}

// followLatency reads base's live stream and records, for every entry of
// the run, the time from A's acknowledgement of its batch to its delivery
// (0 when it arrived before the acknowledgement reached the load
// generator).
func followLatency(ctx context.Context, base, seed string, acked []atomic.Int64, l *latencies, ready chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/stream?topic=audit:*", nil)
	res, err := (&http.Client{Timeout: maxDuration + time.Minute}).Do(req)
	if err != nil {
		ready <- err
		return
	}
	defer res.Body.Close()
	br := bufio.NewReaderSize(res.Body, 1<<20)
	prefix := []byte(`"event_id":"` + seed + "-")
	signalled := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if !signalled {
				ready <- err
			}
			return
		}
		if !signalled && bytes.HasPrefix(line, []byte(": connected")) {
			signalled = true
			ready <- nil
			continue
		}
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		now := time.Now().UnixNano()
		i := bytes.Index(line, prefix)
		if i < 0 {
			continue
		}
		rest := line[i+len(prefix):]
		j := bytes.IndexByte(rest, '-')
		if j < 0 {
			continue
		}
		bi, err := strconv.Atoi(string(rest[:j]))
		if err != nil || bi >= len(acked) {
			continue
		}
		// The answer may reach the load generator after the entry: wait
		// for it (briefly) so that the latency is measured from it.
		at := acked[bi].Load()
		for spin := 0; at == 0 && spin < 1000; spin++ {
			time.Sleep(100 * time.Microsecond)
			at = acked[bi].Load()
		}
		d := time.Duration(max(0, now-at))
		l.mu.Lock()
		l.d = append(l.d, d)
		l.got++
		l.mu.Unlock()
	}
}

// loadavg is the first line of /proc/loadavg.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b)
}

// clockTicks is the kernel's USER_HZ: /proc CPU times are in these.
const clockTicks = 100

// procCPU returns the CPU time (user + system) a process has used, from
// /proc/PID/stat; 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) start after ") ".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// pidsNamed returns the processes whose command is name.
func pidsNamed(name string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(b)) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// selfCPU is the CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
