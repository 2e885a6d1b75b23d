package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// Environment variables of the ledger's flags.
const (
	envSigningKey         = "WTB_SIGNING_KEY"
	envCheckpointEvery    = "WTB_CHECKPOINT_EVERY"
	envCheckpointInterval = "WTB_CHECKPOINT_INTERVAL"
	envWitness            = "WTB_WITNESS"
)

// ledgerOptions are the flags of the Merkle tree's checkpoints, persistent
// flags of rootCmd: every command that records takes them.
type ledgerOptions struct {
	SigningKey string
	Every      int
	Interval   time.Duration
	Witnesses  []string
	flags      *pflag.FlagSet
}

var globalLedger = &ledgerOptions{}

// ledgerCloseTimeout bounds the last seals and checkpoint when a store
// closes.
const ledgerCloseTimeout = 30 * time.Second

// ledgerCatchUpTimeout bounds the sealing of runs left unsealed when a
// store opens (ledger.Sealer.CatchUp); what is left is sealed by the next
// recording command.
const ledgerCatchUpTimeout = time.Minute

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&globalLedger.SigningKey, "signing-key", "",
		"Ed25519 key (wtb keygen) that signs the log's checkpoints (env "+envSigningKey+"; default for SQLite: DB.key beside the database, created if missing)")
	pf.IntVar(&globalLedger.Every, "checkpoint-every", ledger.DefaultCheckpointEvery,
		"make a signed checkpoint after this many new entries (env "+envCheckpointEvery+")")
	pf.DurationVar(&globalLedger.Interval, "checkpoint-interval", ledger.DefaultCheckpointInterval,
		"make a signed checkpoint of new entries at least this often (env "+envCheckpointInterval+")")
	pf.StringSliceVar(&globalLedger.Witnesses, "witness", nil,
		"hand every checkpoint to a witness outside the database: a file (appended to), an http(s):// URL (POST) or nats://HOST:PORT/SUBJECT (JetStream); repeatable (env "+envWitness+", comma-separated)")
	globalLedger.flags = pf
}

// resolve applies the environment to the flags not given.
func (o *ledgerOptions) resolve() error {
	changed := func(n string) bool { f := o.flags.Lookup(n); return f != nil && f.Changed }
	if !changed("signing-key") {
		o.SigningKey = os.Getenv(envSigningKey)
	}
	if v := os.Getenv(envCheckpointEvery); v != "" && !changed("checkpoint-every") {
		if err := o.flags.Set("checkpoint-every", v); err != nil {
			return envError(envCheckpointEvery, v, "want a whole number such as 100000")
		}
	}
	if v := os.Getenv(envCheckpointInterval); v != "" && !changed("checkpoint-interval") {
		d, err := time.ParseDuration(v)
		if err != nil {
			return envError(envCheckpointInterval, v, "want a duration such as 10s")
		}
		o.Interval = d
	}
	if v := os.Getenv(envWitness); v != "" && !changed("witness") {
		o.Witnesses = strings.Split(v, ",")
	}
	if o.Every <= 0 {
		return usagef("--checkpoint-every %d: want a positive number", o.Every)
	}
	if o.Interval <= 0 {
		return usagef("--checkpoint-interval %s: want a positive duration", o.Interval)
	}
	return nil
}

// defaultKeyFile is the signing key beside a SQLite database.
func defaultKeyFile(t storeTarget) string {
	if t.kind != "sqlite" {
		return ""
	}
	return t.path + ".key"
}

// defaultPubFile is the public key beside a SQLite database.
func defaultPubFile(t storeTarget) string {
	if t.kind != "sqlite" {
		return ""
	}
	return t.path + ".pub"
}

// loadSigner reads the signing key of t: --signing-key, else the one
// beside a SQLite database, made on first use. Without one (PostgreSQL with
// no --signing-key) it returns nil: the tree is kept, nothing is signed.
func loadSigner(t storeTarget) (*ledger.Signer, error) {
	if globalLedger.SigningKey != "" {
		return ledger.ReadSignerFile(globalLedger.SigningKey)
	}
	file := defaultKeyFile(t)
	if file == "" {
		return nil, nil
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := writeKeyPair(file, defaultPubFile(t), defaultOrigin(filepath.Base(t.path)), false); err != nil {
			return nil, nil // a directory we cannot write: record unsigned
		}
	}
	return ledger.ReadSignerFile(file)
}

// defaultOrigin names a log made on this machine.
func defaultOrigin(suffix string) string {
	host, _ := os.Hostname()
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r <= ' ' || r == '+' || r == 0x7f {
				return '-'
			}
			return r
		}, s)
	}
	if host == "" {
		host = "localhost"
	}
	o := "wtb/" + clean(host)
	if suffix != "" {
		o += "/" + clean(suffix)
	}
	return o
}

// writeKeyPair makes a key pair for origin: the signing key in keyFile
// (mode 0600), the public key in pubFile.
func writeKeyPair(keyFile, pubFile, origin string, force bool) error {
	skey, vkey, err := ledger.GenerateKey(origin)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range []struct {
		name, text string
		mode       os.FileMode
	}{{keyFile, skey, 0o600}, {pubFile, vkey, 0o644}} {
		fh, err := os.OpenFile(f.name, flags, f.mode)
		if err != nil {
			return err
		}
		_, werr := fh.WriteString(f.text + "\n")
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

// ledgerStore is a store that keeps its ledger going while a command
// records: a checkpoint at most every --checkpoint-every entries or
// --checkpoint-interval, handed to the witnesses, and runs sealed as they
// end. Close seals what ended and makes a last checkpoint before closing
// the store.
type ledgerStore struct {
	ledger.Store
	cp     *ledger.Checkpointer
	sealer *ledger.Sealer
	rec    atomic.Pointer[audit.Recorder] // set by recordThrough
	once   sync.Once
	err    error
}

// watchingLedgerStore is a ledgerStore whose store also follows its own
// commits (PostgreSQL): the live streams of several instances need it.
type watchingLedgerStore struct {
	*ledgerStore
	audit.Watcher
}

// withLedger starts the ledger of st, opened for writing as t. A store
// without a ledger, or without a signing key, is returned as it is.
func withLedger(st audit.Store, t storeTarget) (audit.Store, error) {
	ls, ok := st.(ledger.Store)
	if !ok {
		return st, nil
	}
	if err := globalLedger.resolve(); err != nil {
		return nil, err
	}
	signer, err := loadSigner(t)
	if err != nil {
		return nil, err
	}
	if signer == nil {
		return st, nil
	}
	var witnesses []ledger.Witness
	for _, spec := range globalLedger.Witnesses {
		w, err := parseWitness(strings.TrimSpace(spec))
		if err != nil {
			return nil, err
		}
		witnesses = append(witnesses, w)
	}
	log := slog.Default()
	cp := ledger.NewCheckpointer(ls, signer, ledger.CheckpointerOptions{
		Every: globalLedger.Every, Interval: globalLedger.Interval, Witnesses: witnesses, Logger: log})
	cp.Start()
	l := &ledgerStore{Store: ls, cp: cp}
	l.sealer = ledger.NewSealer(ls, cp, ledger.SealerOptions{Logger: log, Append: l.appendSeals})
	// Runs whose end was recorded by a process that stopped before sealing
	// them are sealed now, before anything else is recorded.
	ctx, cancel := context.WithTimeout(context.Background(), ledgerCatchUpTimeout)
	n, err := l.sealer.CatchUp(ctx)
	cancel()
	if err != nil {
		log.Warn("ledger: sealing the runs left unsealed failed; the next recording command tries again", "sealed", n, "error", err)
	} else if n > 0 {
		log.Info("ledger: sealed runs left unsealed (their process stopped before sealing them)", "sealed", n)
	}
	l.sealer.Start()
	if w, ok := st.(audit.Watcher); ok {
		return &watchingLedgerStore{ledgerStore: l, Watcher: w}, nil
	}
	return l, nil
}

// Append records entries, then tells the checkpointer and the sealer
// (with the leaves the store computed, when it hands them out).
func (l *ledgerStore) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	var (
		res    audit.AppendResult
		leaves []ledger.Hash
		err    error
	)
	if la, ok := l.Store.(ledger.LeafAppender); ok {
		res, leaves, err = la.AppendLeaves(ctx, entries)
	} else {
		res, err = l.Store.Append(ctx, entries)
	}
	if err == nil && res.Appended > 0 {
		l.cp.Committed(res.Appended)
		l.sealer.CommittedLeaves(entries, leaves)
	}
	return res, err
}

// recordThrough makes the seals go through rec, the recorder of a service
// whose live streams must carry them like every other entry (commit,
// OnCommit, hub). The service calls drain before it closes rec.
func (l *ledgerStore) recordThrough(rec *audit.Recorder) {
	l.rec.Store(rec)
}

// drain seals, through the recorder, the runs that ended: a service calls
// it once its recorder is drained and before the recorder closes
// (httpapi.Options.OnDrain). What ends afterwards is sealed by Close.
func (l *ledgerStore) drain(ctx context.Context) error {
	return l.sealer.Close(ctx)
}

// appendSeals records seal entries: through the recorder when the command
// serves (recordThrough), else, or once the recorder is closed, straight
// to the store (through Append, so that the checkpointer counts them).
// The recorder's writer calls Append, which calls Sealer.Committed, which
// never waits: the sealer waiting here for the recorder cannot deadlock.
func (l *ledgerStore) appendSeals(ctx context.Context, seals []audit.Entry) error {
	if rec := l.rec.Load(); rec != nil {
		rc, err := rec.Submit(ctx, seals)
		if err == nil {
			_, err = rc.Wait(ctx)
			return err
		}
		if !errors.Is(err, audit.ErrRecorderClosed) {
			return err
		}
	}
	_, err := l.Append(ctx, seals)
	return err
}

// ledgerOf returns the ledgerStore of st, or nil when st keeps no ledger
// going (read-only, no signing key, a store without a tree).
func ledgerOf(st audit.Store) *ledgerStore {
	switch l := st.(type) {
	case *ledgerStore:
		return l
	case *watchingLedgerStore:
		return l.ledgerStore
	}
	return nil
}

// Close seals the runs that ended, makes a last checkpoint and closes the
// store.
func (l *ledgerStore) Close() error {
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ledgerCloseTimeout)
		defer cancel()
		serr := l.sealer.Close(ctx)
		cerr := l.cp.Close(ctx)
		l.err = errors.Join(serr, cerr, l.Store.Close())
		if l.err != nil {
			l.err = fmt.Errorf("closing the ledger: %w", l.err)
		}
	})
	return l.err
}

// parseWitness reads a --witness value.
func parseWitness(spec string) (ledger.Witness, error) {
	switch {
	case spec == "":
		return nil, usagef("--witness needs a file, a URL or nats://HOST:PORT/SUBJECT")
	case strings.HasPrefix(spec, "http://"), strings.HasPrefix(spec, "https://"):
		return &ledger.URLWitness{URL: spec}, nil
	case strings.HasPrefix(spec, "nats://"):
		return newNATSWitness(spec)
	case strings.HasPrefix(spec, "file:"):
		return &ledger.FileWitness{Path: strings.TrimPrefix(spec, "file:")}, nil
	}
	return &ledger.FileWitness{Path: spec}, nil
}

// registerMetrics exposes the checkpointer's and the sealer's counters on
// reg (a service's /metrics).
func (l *ledgerStore) registerMetrics(reg prometheus.Registerer) {
	cp := func(name, help string, v func(ledger.CheckpointerStats) uint64) prometheus.Collector {
		return counterOf(name, help, func() uint64 { return v(l.cp.Stats()) })
	}
	seal := func(name, help string, v func(ledger.SealerStats) uint64) prometheus.Collector {
		return counterOf(name, help, func() uint64 { return v(l.sealer.Stats()) })
	}
	reg.MustRegister(
		cp("wtb_ledger_checkpoints_total", "Checkpoints signed and stored.",
			func(s ledger.CheckpointerStats) uint64 { return s.Made }),
		cp("wtb_ledger_checkpoint_failures_total", "Checkpoints that could not be made.",
			func(s ledger.CheckpointerStats) uint64 { return s.Failed }),
		cp("wtb_ledger_witness_failures_total", "Checkpoints a witness did not take.",
			func(s ledger.CheckpointerStats) uint64 { return s.WitnessFailures }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wtb_ledger_checkpoint_size",
			Help: "Tree size (entries) of the last checkpoint made."},
			func() float64 { return float64(l.cp.Stats().Size) }),
		seal("wtb_ledger_runs_sealed_total", "Runs sealed.",
			func(s ledger.SealerStats) uint64 { return s.Sealed }),
		seal("wtb_ledger_seals_from_memory_total", "Runs sealed from the leaves kept as they were committed, without reading them back.",
			func(s ledger.SealerStats) uint64 { return s.FromMemory }),
		seal("wtb_ledger_seal_failures_total", "Runs whose sealing failed (tried again with the next ones).",
			func(s ledger.SealerStats) uint64 { return s.Failed }),
		seal("wtb_ledger_late_entries_total", "Entries recorded for a run after its seal.",
			func(s ledger.SealerStats) uint64 { return s.Late }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wtb_ledger_sealer_kept_bytes",
			Help: "Memory the leaves kept for sealing take (bounded by the sealer's MaxTrackedBytes)."},
			func() float64 { return float64(l.sealer.Stats().TrackedBytes) }),
	)
}

// counterOf is a counter read from v when scraped.
func counterOf(name, help string, v func() uint64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
}
