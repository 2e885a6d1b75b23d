// Command wtbload is the load generator of the wtb service. It measures
// what the issue asks of `wtb serve`: acknowledged-durable ingest throughput
// and latency, single-event request rate, and live SSE fan-out under load.
//
// Usage:
//
//	wtbload ingest [--clients 16] [--batch 100] [--events 500000] [--duration 30s]
//	wtbload single [--clients 64] [--events 100000] [--duration 20s]
//	wtbload sse    [--sse-clients 1000] [--rate 10000] [--duration 10s]
//	wtbload otlp   [--clients 16] [--batch 500] [--json-batch 100] [--trace-duration 100ms] [--events 1000000] [--duration 30s]
//
// By default it starts the service in-process on a loopback port with a
// fresh SQLite file in a temporary directory (--db to choose the file);
// --url targets a running `wtb serve` instead. Every run is bounded in
// events and time, and only loopback addresses are accepted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/httpapi"
	"github.com/wtbdev/wtb/internal/spangen"
	"github.com/wtbdev/wtb/sqlite"
)

// Bounds of every run.
const (
	maxDuration    = 5 * time.Minute
	maxEvents      = 10_000_000
	maxClients     = 1000
	maxSSEClients  = 5000
	maxBatch       = 10000
	requestTimeout = 30 * time.Second
)

type config struct {
	mode       string
	cpuProfile string
	linger     time.Duration
	recBatch   int
	delay      time.Duration
	url        string
	db         string
	sync       string
	clients    int
	batch      int
	events     int
	duration   time.Duration
	rate       float64
	sseClients int
	jsonBatch  int
	traceDur   time.Duration
}

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as wtb serve does
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wtbload:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: wtbload ingest|single|sse|otlp|jetstream|xlatency [flags]

  ingest  N clients post batches of B events; events/s acknowledged durable, p50/p99
  single  N clients post one event per request; requests/s, p50/p99
  sse     K SSE clients follow audit:* while events are ingested at --rate;
          checks every client got every entry in order; throughput drop vs no clients
  otlp    JSON event ingest, then N clients post OTLP protobuf batches of B spans
          (whole GenAI workflow traces) to /v1/traces; spans/s acknowledged durable
  attack  S sockets ask to replay the whole log and never read; the server's
          memory (VmRSS, VmHWM) and /healthz and ingest latency before and during
`)
	clusterUsage(w)
	fmt.Fprintln(w, `
Run "wtbload MODE -h" for the flags of a mode.`)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage(out)
		return nil
	}
	if args[0] == "jetstream" || args[0] == "xlatency" {
		return runCluster(ctx, args, out)
	}
	if args[0] == "attack" {
		return runAttack(ctx, args[1:], out)
	}
	cfg := config{mode: args[0]}
	fs := flag.NewFlagSet("wtbload "+cfg.mode, flag.ContinueOnError)
	fs.StringVar(&cfg.url, "url", "", "base URL of a running wtb serve (loopback only); default: serve in-process")
	fs.StringVar(&cfg.db, "db", "", "SQLite file of the in-process server (default: a fresh file in a temporary directory)")
	fs.StringVar(&cfg.sync, "sync", "normal", "SQLite durability of the in-process server: normal or full")
	fs.DurationVar(&cfg.duration, "duration", 0, "run at most this long (at most 5m)")
	fs.DurationVar(&cfg.linger, "linger", 0, "recorder linger of the in-process server (0: the default)")
	fs.IntVar(&cfg.recBatch, "append-batch", 0, "largest Append of the in-process server's recorder (0: the default)")
	fs.DurationVar(&cfg.delay, "stream-delay", 0, "live stream batching delay of the in-process server (0: the default)")
	fs.IntVar(&cfg.events, "events", 0, "send at most this many events")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (client and in-process server) to this file")
	switch cfg.mode {
	case "ingest":
		fs.IntVar(&cfg.clients, "clients", 16, "concurrent clients")
		fs.IntVar(&cfg.batch, "batch", 100, "events per request")
		fs.Float64Var(&cfg.rate, "rate", 0, "target events/s (0: as fast as acknowledged)")
		cfg.events, cfg.duration = 500_000, 30*time.Second
	case "single":
		fs.IntVar(&cfg.clients, "clients", 64, "concurrent clients")
		fs.Float64Var(&cfg.rate, "rate", 0, "target requests/s (0: as fast as acknowledged)")
		cfg.batch, cfg.events, cfg.duration = 1, 100_000, 20*time.Second
	case "sse":
		fs.IntVar(&cfg.sseClients, "sse-clients", 1000, "SSE clients following audit:*")
		fs.Float64Var(&cfg.rate, "rate", 10000, "target ingest rate, events/s")
		fs.IntVar(&cfg.clients, "clients", 8, "concurrent ingest clients")
		fs.IntVar(&cfg.batch, "batch", 100, "events per ingest request")
		cfg.events, cfg.duration = maxEvents, 10*time.Second
	case "otlp":
		fs.IntVar(&cfg.clients, "clients", 16, "concurrent clients (both phases)")
		fs.IntVar(&cfg.batch, "batch", 500, "spans per OTLP request (a multiple of 10: whole traces)")
		fs.IntVar(&cfg.jsonBatch, "json-batch", 100, "events per request of the JSON ingest phase")
		fs.DurationVar(&cfg.traceDur, "trace-duration", 100*time.Millisecond, "how long each generated trace lasts (its spans' starts go this far back)")
		cfg.events, cfg.duration = 1_000_000, 30*time.Second
	default:
		usage(os.Stderr)
		return fmt.Errorf("unknown mode %q", cfg.mode)
	}
	fs.Lookup("events").DefValue = fmt.Sprint(cfg.events)
	fs.Lookup("duration").DefValue = cfg.duration.String()
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case cfg.duration <= 0 || cfg.duration > maxDuration:
		return fmt.Errorf("--duration must be in (0, %s]", maxDuration)
	case cfg.events <= 0 || cfg.events > maxEvents:
		return fmt.Errorf("--events must be in [1, %d]", maxEvents)
	case cfg.clients <= 0 || cfg.clients > maxClients:
		return fmt.Errorf("--clients must be in [1, %d]", maxClients)
	case cfg.batch <= 0 || cfg.batch > maxBatch:
		return fmt.Errorf("--batch must be in [1, %d]", maxBatch)
	case cfg.rate < 0:
		return errors.New("--rate must not be negative")
	case cfg.mode == "sse" && (cfg.sseClients < 0 || cfg.sseClients > maxSSEClients):
		return fmt.Errorf("--sse-clients must be in [0, %d]", maxSSEClients)
	case cfg.mode == "sse" && cfg.rate == 0:
		return errors.New("sse mode needs a --rate")
	case cfg.mode == "otlp" && (cfg.batch%spangen.SpansPerTrace != 0 || cfg.jsonBatch <= 0 || cfg.jsonBatch > maxBatch ||
		cfg.traceDur < 100*time.Microsecond || cfg.traceDur > time.Hour):
		return fmt.Errorf("--batch must be a multiple of %d, --json-batch in [1, %d], --trace-duration in [100µs, 1h]", spangen.SpansPerTrace, maxBatch)
	}

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	base, stopServer, err := target(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer stopServer()
	switch cfg.mode {
	case "sse":
		return runSSE(ctx, cfg, base, out)
	case "otlp":
		return runOTLPMode(ctx, cfg, base, out)
	default:
		return runIngestMode(ctx, cfg, base, out)
	}
}

// target returns the base URL to load: --url (loopback only) or an
// in-process server on a fresh SQLite file.
func target(ctx context.Context, cfg config, out io.Writer) (string, func(), error) {
	if cfg.url != "" {
		u, err := url.Parse(cfg.url)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return "", nil, fmt.Errorf("--url %q: want http://HOST:PORT", cfg.url)
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", nil, fmt.Errorf("--url %q: only loopback addresses may be loaded", cfg.url)
		}
		return "http://" + u.Host, func() {}, nil
	}
	sync, err := sqlite.ParseSync(cfg.sync)
	if err != nil {
		return "", nil, err
	}
	db, cleanup := cfg.db, func() {}
	if db == "" {
		dir, err := os.MkdirTemp("", "wtbload-")
		if err != nil {
			return "", nil, err
		}
		db, cleanup = filepath.Join(dir, "wtb.db"), func() { os.RemoveAll(dir) }
	}
	st, err := sqlite.Open(ctx, db, sqlite.Options{Sync: sync})
	if err != nil {
		cleanup()
		return "", nil, err
	}
	srv, err := httpapi.New(st, httpapi.Options{
		Recorder:    audit.RecorderOptions{Linger: cfg.linger, MaxBatch: cfg.recBatch},
		StreamDelay: cfg.delay,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		st.Close()
		cleanup()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close(context.Background())
		st.Close()
		cleanup()
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	fmt.Fprintf(out, "in-process server on http://%s, SQLite %s (sync %s)\n", ln.Addr(), db, sync)
	return "http://" + ln.Addr().String(), func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintln(os.Stderr, "wtbload: server:", err)
		}
		st.Close()
		cleanup()
	}, nil
}
