package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/ledger"
)

// Exit statuses of wtb audit verify.
const (
	verifyOK       = 0 // verified
	verifyTampered = 1 // tampering found
	verifyCannot   = 2 // could not verify
)

// exitStatusError ends a command with a status of its own; msg, when not
// empty, is printed as the usual one line on standard error.
type exitStatusError struct {
	code int
	err  error
}

func (e *exitStatusError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitStatusError) Unwrap() error { return e.err }

var keygenOpts struct {
	name, out string
	force     bool
}

var keygenCmd = &cobra.Command{
	Use:   "keygen",
	Short: "Make an Ed25519 key pair that signs the log's checkpoints",
	Long: `Make an Ed25519 key pair for signing checkpoints (C2SP signed notes):
PREFIX.key, the signing key (mode 0600; keep it out of the database and
away from those who can write it), and PREFIX.pub, the public key that
wtb audit verify --pubkey checks signatures with. --name is the log's
origin, the first line of every checkpoint.

Recording commands sign with --signing-key FILE (or WTB_SIGNING_KEY); a
SQLite database without one gets DB.key and DB.pub beside it.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		name := keygenOpts.name
		if name == "" {
			name = defaultOrigin("")
		}
		if strings.ContainsAny(name, " +\t\n") {
			return usagef("--name %q: no spaces or '+'", name)
		}
		key, pub := keygenOpts.out+".key", keygenOpts.out+".pub"
		if err := writeKeyPair(key, pub, name, keygenOpts.force); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%w (--force replaces it)", err)
			}
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (signing key, keep it secret) and %s (public key) for origin %s\n", key, pub, name)
		return nil
	},
}

var verifyOpts struct {
	execution, pubkey, bundle, witness string
	asJSON, quiet                      bool
}

var auditVerifyCmd = &cobra.Command{
	Use:   "verify",
	Short: "Verify the log: every entry, root, checkpoint signature and seal",
	Long: `Verify the audit log against its Merkle tree and signed checkpoints: every
entry's leaf is recomputed from the entry, every root of the tree from the
leaves, every checkpoint's signature is checked with --pubkey (default, for
SQLite: DB.pub beside the database) and its root compared, successive
checkpoints must only grow, the witness's checkpoints (--witness FILE, as
--witness wrote it) must agree with the log, and redactions and prunes
must be recorded in the log. The first bad seq is named with the kind of
tampering: changed, deleted, inserted, duplicated, reordered, truncated,
forged checkpoint or rolled-back checkpoint.

--execution ID also checks the run against its seal: its entries up to the
seal are exactly those the seal counts and hashes, and lists the entries
that came after the seal (late). --bundle FILE verifies a file written by
wtb audit export --bundle, offline, with --pubkey alone.

A progress line is printed on standard error on long runs.

Exit status: 0 verified; 1 tampering found; 2 could not verify (no public
key, an unreadable store or bundle, a usage error).`,
	Args: argsExactly(0, ""),
	RunE: runVerify,
}

var auditRedactOpts struct {
	seq    int64
	reason string
}

var auditRedactCmd = &cobra.Command{
	Use:   "redact",
	Short: "Remove an entry's payload (message, details, error), keeping the proof",
	Long: `Remove the payload of entry --seq (its message, details and error), keep its
SHA-256 digest so that the entry's leaf and every proof stay valid, and
record the redaction, with --reason, as an entry of the log (entry_redacted),
in one transaction. wtb audit verify then lists the redacted seqs.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		if auditRedactOpts.seq <= 0 {
			return usagef("--seq is needed: the seq of the entry to redact")
		}
		if strings.TrimSpace(auditRedactOpts.reason) == "" {
			return usagef("--reason is needed: why the payload goes")
		}
		ls, closeStore, err := openLedgerStore(cmd.Context())
		if err != nil {
			return err
		}
		defer closeStore()
		rec, err := ls.Redact(cmd.Context(), auditRedactOpts.seq, auditRedactOpts.reason)
		if err != nil {
			return fmt.Errorf("redact seq %d: %w", auditRedactOpts.seq, err)
		}
		var d ledger.RedactionRecord
		_ = json.Unmarshal(rec.Details, &d)
		fmt.Fprintf(cmd.OutOrStdout(), "redacted seq %d (payload sha256 %s); recorded as seq %d\n", auditRedactOpts.seq, d.PayloadSHA256, rec.Seq)
		return closeStore()
	},
}

var auditPruneBefore string

var auditPruneCmd = &cobra.Command{
	Use:   "prune",
	Short: "Remove old entries, keeping what verification needs",
	Long: `Remove the longest run of entries at the start of the log whose timestamps
are all before --before (an RFC 3339 time or a date, YYYY-MM-DD, UTC), never
the last entry, keeping their leaf hashes so that the log still verifies,
and record the prune as an entry of the log (log_pruned), in one
transaction. wtb audit verify then reports the pruned range.`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		if auditPruneBefore == "" {
			return usagef("--before is needed: an RFC 3339 time or a date (YYYY-MM-DD)")
		}
		before, err := parseDate(auditPruneBefore)
		if err != nil {
			return usagef("--before %q: want an RFC 3339 time or a date (YYYY-MM-DD)", auditPruneBefore)
		}
		ls, closeStore, err := openLedgerStore(cmd.Context())
		if err != nil {
			return err
		}
		defer closeStore()
		pr, rec, err := ls.Prune(cmd.Context(), before)
		if errors.Is(err, ledger.ErrNothingToPrune) {
			fmt.Fprintf(cmd.OutOrStdout(), "nothing to prune: the first entry is not before %s\n", before.Format(time.RFC3339))
			return closeStore()
		}
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "pruned %d entries (seq %d to %d); %d leaf hashes kept; recorded as seq %d\n",
			pr.Removed, pr.FirstSeq, pr.LastSeq, pr.Leaves, rec.Seq)
		return closeStore()
	},
}

var exportBundle string

func init() {
	keygenCmd.Flags().StringVar(&keygenOpts.name, "name", "", "the log's origin: the key's name and the first line of its checkpoints (default wtb/HOSTNAME)")
	keygenCmd.Flags().StringVar(&keygenOpts.out, "out", "wtb", "write PREFIX.key and PREFIX.pub")
	keygenCmd.Flags().BoolVar(&keygenOpts.force, "force", false, "replace existing files")
	rootCmd.AddCommand(keygenCmd)

	vf := auditVerifyCmd.Flags()
	vf.StringVar(&verifyOpts.execution, "execution", "", "also check this run against its seal and list its late entries")
	vf.StringVar(&verifyOpts.pubkey, "pubkey", "", "public key file(s) (wtb keygen's PREFIX.pub; one key per line) that checkpoints must be signed by (default for SQLite: DB.pub)")
	vf.StringVar(&verifyOpts.bundle, "bundle", "", "verify this bundle (wtb audit export --bundle) offline instead of the store")
	vf.StringVar(&verifyOpts.witness, "witness", "", "a witness file (--witness of the recording commands): its checkpoints must agree with the log")
	vf.BoolVar(&verifyOpts.asJSON, "json", false, "print the report as JSON")
	vf.BoolVar(&verifyOpts.quiet, "quiet", false, "no progress line")
	auditRedactCmd.Flags().Int64Var(&auditRedactOpts.seq, "seq", 0, "the entry whose payload goes")
	auditRedactCmd.Flags().StringVar(&auditRedactOpts.reason, "reason", "", "why (recorded in the log)")
	auditPruneCmd.Flags().StringVar(&auditPruneBefore, "before", "", "remove entries older than this (RFC 3339 time or YYYY-MM-DD)")
	auditCmd.AddCommand(auditVerifyCmd, auditRedactCmd, auditPruneCmd)

	auditExportCmd.Flags().StringVar(&exportBundle, "bundle", "", "write a bundle (entries, leaf hashes, checkpoints, proofs) to FILE, verifiable offline with wtb audit verify --bundle FILE --pubkey KEY")
	exportRun := auditExportCmd.RunE
	auditExportCmd.RunE = func(cmd *cobra.Command, args []string) error {
		if exportBundle == "" {
			return exportRun(cmd, args)
		}
		return runExportBundle(cmd)
	}
}

// parseDate reads an RFC 3339 time or a date (UTC midnight).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// openLedgerStore opens the store for writing, as a ledger.Store. The
// returned close function may be called more than once.
func openLedgerStore(ctx context.Context) (ledger.Store, func() error, error) {
	st, err := openStore(ctx, globalStore)
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	var cerr error
	closeStore := func() error {
		once.Do(func() { cerr = st.Close() })
		return cerr
	}
	ls, ok := st.(ledger.Store)
	if !ok {
		closeStore()
		return nil, nil, errors.New("this store keeps no Merkle tree")
	}
	return ls, closeStore, nil
}

// verifyKeys reads the trusted public keys: --pubkey, else DB.pub beside a
// SQLite database. nil when there are none.
func verifyKeys(t *storeTarget) (*ledger.Verifier, error) {
	file := verifyOpts.pubkey
	if file == "" && t != nil {
		file = defaultPubFile(*t)
		if _, err := os.Stat(file); err != nil {
			return nil, nil
		}
	}
	if file == "" {
		return nil, nil
	}
	return ledger.ReadVerifierFile(file)
}

func runVerify(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	cannot := func(err error) error { return &exitStatusError{code: verifyCannot, err: err} }
	opts := ledger.VerifyOptions{}
	if !verifyOpts.quiet {
		opts.Progress = progressLine(cmd.ErrOrStderr())
		opts.ProgressEvery = 1 << 18
	}
	if verifyOpts.witness != "" {
		notes, err := ledger.ReadWitnessFile(verifyOpts.witness)
		if err != nil {
			return cannot(err)
		}
		opts.Witnessed = notes
	}
	if verifyOpts.bundle != "" {
		if verifyOpts.pubkey == "" {
			return cannot(usagef("--bundle needs --pubkey: the public key the bundle's checkpoints are signed with"))
		}
		keys, err := verifyKeys(nil)
		if err != nil {
			return cannot(err)
		}
		rep, err := ledger.VerifyBundle(ctx, verifyOpts.bundle, keys, opts)
		if err != nil {
			return cannot(err)
		}
		return finishVerify(out, rep.Log, rep.Run, rep)
	}
	t, err := globalStore.resolve()
	if err != nil {
		return cannot(err)
	}
	keys, err := verifyKeys(&t)
	if err != nil {
		return cannot(err)
	}
	t.readOnly = true
	st, err := openTarget(ctx, t)
	if err != nil {
		return cannot(err)
	}
	defer st.Close()
	ls, ok := st.(ledger.Store)
	if !ok {
		return cannot(errors.New("this store keeps no Merkle tree"))
	}
	snap, err := ls.LedgerSnapshot(ctx)
	if err != nil {
		return cannot(err)
	}
	defer snap.Close()
	if keys == nil {
		n := 0
		_ = snap.Checkpoints(ctx, 0, func([]byte) error { n++; return nil })
		if n > 0 {
			return cannot(fmt.Errorf("no public key to check the %d checkpoints' signatures with: pass --pubkey FILE (wtb keygen writes one)", n))
		}
		return cannot(errors.New("no signed checkpoint to verify against (record with --signing-key, or wait for --checkpoint-interval)"))
	}
	opts.Keys = keys
	rep, err := ledger.Verify(ctx, snap, opts)
	if err != nil {
		return cannot(err)
	}
	var run *ledger.RunReport
	if verifyOpts.execution != "" {
		if run, err = ledger.VerifyRun(ctx, ls, verifyOpts.execution); err != nil {
			return cannot(err)
		}
	}
	return finishVerify(out, rep, run, nil)
}

// finishVerify prints the reports and returns the exit status.
func finishVerify(out io.Writer, rep *ledger.Report, run *ledger.RunReport, bundle *ledger.BundleReport) error {
	if verifyOpts.asJSON {
		v := any(bundle)
		if bundle == nil {
			v = struct {
				Log *ledger.Report    `json:"log"`
				Run *ledger.RunReport `json:"run,omitempty"`
			}{rep, run}
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		if rep != nil {
			printReport(out, rep)
		}
		if run != nil {
			printRun(out, run, bundle)
		}
	}
	bad := (rep != nil && !rep.OK()) || (run != nil && len(run.Findings) > 0)
	if bad {
		return &exitStatusError{code: verifyTampered}
	}
	if run != nil && !run.Sealed && verifyOpts.execution != "" {
		return &exitStatusError{code: verifyCannot, err: fmt.Errorf("run %q has no seal: nothing proves it complete (it has not ended, or ended before sealing)", run.ExecutionID)}
	}
	return nil
}

func printReport(out io.Writer, r *ledger.Report) {
	if r.OK() {
		fmt.Fprintf(out, "verified: %d entries (%d leaves) up to seq %d, root %s\n", r.Entries, r.Size, r.LastSeq, r.Root)
	} else {
		f := r.First()
		fmt.Fprintf(out, "TAMPERED: first bad seq %d (leaf %d): %s: %s\n", f.Seq, f.Index, f.Kind, f.Detail)
		for _, g := range r.Findings[1:] {
			fmt.Fprintf(out, "  also seq %d (leaf %d): %s: %s\n", g.Seq, g.Index, g.Kind, g.Detail)
		}
		if r.More > 0 {
			fmt.Fprintf(out, "  and %d more findings\n", r.More)
		}
	}
	if r.Latest != nil {
		fmt.Fprintf(out, "checkpoints: %d stored", r.Checkpoints)
		if r.Witnessed > 0 {
			fmt.Fprintf(out, ", %d witnessed", r.Witnessed)
		}
		fmt.Fprintf(out, "; the latest that matches covers %d leaves\n", r.Latest.Size)
	} else {
		fmt.Fprintf(out, "checkpoints: %d stored, none matches the log\n", r.Checkpoints)
	}
	if len(r.Redacted) > 0 {
		fmt.Fprintf(out, "redacted: seq %s\n", joinSeqs(r.Redacted))
	}
	if r.Pruned.Leaves > 0 {
		fmt.Fprintf(out, "pruned: the first %d entries, up to seq %d (their leaf hashes verified against the checkpoints)\n", r.Pruned.Leaves, r.Pruned.LastSeq)
	}
}

func printRun(out io.Writer, r *ledger.RunReport, b *ledger.BundleReport) {
	if b != nil && b.Checkpoint != nil {
		fmt.Fprintf(out, "bundle of run %s: %d entries proven in the checkpoint of %d leaves\n", r.ExecutionID, b.Proven, b.Checkpoint.Size)
	}
	if !r.Sealed {
		fmt.Fprintf(out, "run %s: not sealed\n", r.ExecutionID)
		return
	}
	rec := r.Record
	if len(r.Findings) == 0 && rec != nil {
		fmt.Fprintf(out, "run %s: complete: %d entries (seq %d to %d) as sealed at seq %d, checkpoint of %d leaves\n",
			r.ExecutionID, rec.Entries, rec.FirstSeq, rec.LastSeq, r.SealSeq, rec.CheckpointSize)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(out, "run %s: TAMPERED: seq %d: %s: %s\n", r.ExecutionID, f.Seq, f.Kind, f.Detail)
	}
	if len(r.Late) > 0 {
		fmt.Fprintf(out, "run %s: late (recorded after the seal): seq %s\n", r.ExecutionID, joinSeqs(r.Late))
	}
}

func joinSeqs(seqs []int64) string {
	var b strings.Builder
	for i, s := range seqs {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 50 {
			fmt.Fprintf(&b, "... (%d in all)", len(seqs))
			break
		}
		fmt.Fprint(&b, s)
	}
	return b.String()
}

// progressLine reports verification progress on w: rewritten in place on
// a terminal, a line every 10 seconds otherwise.
func progressLine(w io.Writer) func(ledger.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	var last time.Time
	return func(p ledger.Progress) {
		every := 10 * time.Second
		if tty {
			every = 200 * time.Millisecond
		}
		if time.Since(last) < every {
			return
		}
		last = time.Now()
		pct := ""
		if p.Total > 0 {
			pct = fmt.Sprintf(" (%d%%)", p.Entries*100/p.Total)
		}
		rate := float64(p.Entries) / max(p.Elapsed.Seconds(), 1e-9)
		line := fmt.Sprintf("verify: %d of %d entries%s, %.0f entries/s", p.Entries, p.Total, pct, rate)
		if tty {
			fmt.Fprintf(w, "\r%s\x1b[K", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}

func runExportBundle(cmd *cobra.Command) error {
	ctx := cmd.Context()
	st, err := openStoreForReading(ctx, globalStore)
	if err != nil {
		return err
	}
	defer st.Close()
	ls, ok := st.(ledger.Store)
	if !ok {
		return errors.New("this store keeps no Merkle tree")
	}
	snap, err := ls.LedgerSnapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	f, err := os.Create(exportBundle)
	if err != nil {
		return err
	}
	if err := ledger.WriteBundle(ctx, f, snap, auditExportExecution); err != nil {
		f.Close()
		return fmt.Errorf("bundle %s: %w", exportBundle, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	what := "the log"
	if auditExportExecution != "" {
		what = "run " + auditExportExecution
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote the bundle of %s to %s\n", what, exportBundle)
	return nil
}

// natsWitness publishes every checkpoint to a JetStream subject, creating a
// stream for it when none takes it.
type natsWitness struct {
	url, subject string
	mu           sync.Mutex
	nc           *nats.Conn
	js           jetstream.JetStream
}

func newNATSWitness(spec string) (ledger.Witness, error) {
	u, err := url.Parse(spec)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, usagef("--witness %q: want nats://HOST:PORT/SUBJECT", spec)
	}
	return &natsWitness{url: "nats://" + u.Host, subject: strings.Trim(u.Path, "/")}, nil
}

func (w *natsWitness) String() string { return w.url + "/" + w.subject }

func (w *natsWitness) Witness(ctx context.Context, note []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.nc == nil {
		nc, err := nats.Connect(w.url, nats.Name("wtb checkpoint witness"))
		if err != nil {
			return err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return err
		}
		w.nc, w.js = nc, js
	}
	_, err := w.js.Publish(ctx, w.subject, note)
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		sum := sha256.Sum256([]byte(w.subject))
		_, cerr := w.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "WTB_WITNESS_" + strings.ToUpper(hex.EncodeToString(sum[:6])), Subjects: []string{w.subject},
			Storage: jetstream.FileStorage,
		})
		if cerr != nil {
			return fmt.Errorf("%w (creating a stream for it: %v)", err, cerr)
		}
		_, err = w.js.Publish(ctx, w.subject, note)
	}
	return err
}

// ledgerSummary prints how a recorded store's checkpoints are signed, for
// commands that report where they record.
var _ = audit.TypeRunSealed
