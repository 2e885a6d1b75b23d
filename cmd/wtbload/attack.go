package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wtbdev/wtb/event"
)

// attackConfig is the configuration of the attack mode.
type attackConfig struct {
	wtb     string
	url     string
	pid     int
	sockets int
	hold    time.Duration
	prefill int
	probes  int
	args    string
}

// runAttack opens many streams that replay the whole log and never read
// (GET /v1/stream?topic=audit:*&after=0 on sockets with a small receive
// buffer), holds them, and reports the server's resident memory (VmRSS,
// peak VmHWM, from /proc) and the latency of /healthz and of ingest before
// and during the attack.
func runAttack(ctx context.Context, args []string, out io.Writer) error {
	var cfg attackConfig
	fs := flag.NewFlagSet("wtbload attack", flag.ContinueOnError)
	fs.StringVar(&cfg.wtb, "wtb", "", "the wtb binary: start `wtb serve` on a fresh SQLite file and measure it")
	fs.StringVar(&cfg.args, "serve-args", "", "more arguments for wtb serve (with --wtb), space-separated")
	fs.StringVar(&cfg.url, "url", "", "base URL of a running wtb serve (loopback only), with --pid")
	fs.IntVar(&cfg.pid, "pid", 0, "process id of the wtb serve at --url, for its memory")
	fs.IntVar(&cfg.sockets, "sockets", 3000, "attacking connections")
	fs.DurationVar(&cfg.hold, "hold", 20*time.Second, "how long the attack lasts (at most 5m)")
	fs.IntVar(&cfg.prefill, "prefill", 50_000, "events recorded before the attack, which every attacking stream asks to replay")
	fs.IntVar(&cfg.probes, "probes", 200, "healthz and ingest requests measured before and during the attack")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.hold <= 0 || cfg.hold > maxDuration || cfg.sockets <= 0 || cfg.sockets > 100_000 || cfg.prefill < 0 || cfg.prefill > maxEvents {
		return fmt.Errorf("attack: --hold up to %s, --sockets 1..100000, --prefill up to %d", maxDuration, maxEvents)
	}
	raiseFileLimit(cfg.sockets + 1000)
	if cfg.wtb != "" {
		base, pid, stop, err := startWTB(cfg)
		if err != nil {
			return err
		}
		defer stop()
		cfg.url, cfg.pid = base, pid
	}
	if cfg.url == "" || cfg.pid == 0 {
		return fmt.Errorf("attack: give --wtb PATH, or --url and --pid of a running wtb serve")
	}
	if err := checkLoopback(cfg.url); err != nil {
		return err
	}
	u, err := url.Parse(cfg.url)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: requestTimeout}
	fmt.Fprintf(out, "attack: prefilling %d events\n", cfg.prefill)
	for n := 0; n < cfg.prefill; n += 1000 {
		if _, err := postEvents(client, cfg.url, min(1000, cfg.prefill-n)); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
	}
	rss0, _ := procMem(cfg.pid)
	h0, i0, err := probe(client, cfg.url, cfg.probes)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "before: VmRSS %s; healthz %s; ingest (100 events) %s\n", mb(rss0.rss), h0, i0)

	// The attack: connections that ask for the whole log and never read.
	conns := make([]net.Conn, 0, cfg.sockets)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var peak memInfo
	var mu sync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := procMem(cfg.pid); err == nil {
				mu.Lock()
				peak.rss = max(peak.rss, m.rss)
				peak.hwm = max(peak.hwm, m.hwm)
				mu.Unlock()
			}
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
		}
	}()
	start := time.Now()
	req := []byte("GET /v1/stream?topic=audit:*&after=0 HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")
	failed := 0
	for range cfg.sockets {
		c, err := dialSmall(u.Host)
		if err == nil {
			_, err = c.Write(req)
		}
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
	}
	fmt.Fprintf(out, "attack: %d connections open (%d failed) in %s; holding %s\n", len(conns), failed, time.Since(start).Round(time.Millisecond), cfg.hold)
	h1, i1, err := probe(client, cfg.url, cfg.probes)
	if err != nil {
		return fmt.Errorf("during the attack: %w", err)
	}
	select {
	case <-time.After(time.Until(start.Add(cfg.hold))):
	case <-ctx.Done():
	}
	close(stopSampling)
	<-sampled
	refused := metricValue(client, cfg.url, `wtb_http_requests_rejected_total{code="too_many_streams"}`)
	fmt.Fprintf(out, "during: healthz %s; ingest (100 events) %s\n", h1, i1)
	fmt.Fprintf(out, "attack: %d sockets x replay of %d entries: server VmRSS %s before, peak %s (VmHWM %s); streams refused with too_many_streams: %s\n",
		cfg.sockets, cfg.prefill, mb(rss0.rss), mb(peak.rss), mb(peak.hwm), refused)
	return nil
}

// reqLatencies summarises request reqLatencies.
type reqLatencies []time.Duration

func (l reqLatencies) String() string {
	if len(l) == 0 {
		return "no requests"
	}
	s := slices.Clone(l)
	slices.Sort(s)
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return fmt.Sprintf("p50 %s, p99 %s, max %s", p(0.5).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond))
}

// probe measures n /healthz requests and n ingest requests of 100 events.
func probe(client *http.Client, base string, n int) (health, ingest reqLatencies, err error) {
	for range n {
		t := time.Now()
		res, err := client.Get(base + "/healthz")
		if err != nil {
			return nil, nil, fmt.Errorf("healthz: %w", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return nil, nil, fmt.Errorf("healthz: status %d", res.StatusCode)
		}
		health = append(health, time.Since(t))
		t = time.Now()
		if _, err := postEvents(client, base, 100); err != nil {
			return nil, nil, fmt.Errorf("ingest: %w", err)
		}
		ingest = append(ingest, time.Since(t))
	}
	return health, ingest, nil
}

// postEvents posts n NodeCompleted events as one JSON array.
func postEvents(client *http.Client, base string, n int) (int, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		ev := event.New[event.NodeCompleted]()
		ev.ExecutionID, ev.NodeID, ev.NodeName = "attack-"+strconv.Itoa(i%20), "n", "n"
		b, err := event.Encode(ev)
		if err != nil {
			return 0, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	res, err := client.Post(base+"/v1/events", "application/json", &buf)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	return n, nil
}

// dialSmall connects with a 4 KiB receive buffer.
func dialSmall(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	return d.Dial("tcp", addr)
}

type memInfo struct{ rss, hwm int64 } // bytes

// procMem reads VmRSS and VmHWM of a process from /proc.
func procMem(pid int) (memInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memInfo{}, err
	}
	var m memInfo
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "VmHWM:":
			m.hwm = kb << 10
		}
	}
	return m, nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// metricValue reads one sample of the server's /metrics, or "?".
func metricValue(client *http.Client, base, name string) string {
	res, err := client.Get(base + "/metrics")
	if err != nil {
		return "?"
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return "0"
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// startWTB starts `wtb serve` on a free port with a fresh SQLite file.
func startWTB(cfg attackConfig) (base string, pid int, stop func(), err error) {
	dir, err := os.MkdirTemp("", "wtbload-attack-")
	if err != nil {
		return "", 0, nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "wtb.db"), "--request-log", "off"}
	args = append(args, strings.Fields(cfg.args)...)
	cmd := exec.Command(cfg.wtb, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	m := listeningRE.FindStringSubmatch(line)
	if err != nil || m == nil {
		stop()
		return "", 0, nil, fmt.Errorf("wtb serve did not say where it listens: %q %v", line, err)
	}
	go io.Copy(io.Discard, br)
	return m[1], cmd.Process.Pid, stop, nil
}

// raiseFileLimit raises the soft limit of open files to at least n.
func raiseFileLimit(n int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil || l.Cur >= uint64(n) {
		return
	}
	l.Cur = min(max(uint64(n), l.Cur), l.Max)
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}

// checkLoopback refuses a URL that is not http:// on a loopback address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--url %q: want http://HOST:PORT", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--url %q: only loopback addresses may be loaded", raw)
	}
	return nil
}
