package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
)

// Limits of import.
const (
	// importGroup is the number of entries submitted to the recorder as one
	// atomic group.
	importGroup = 1000
	// importWindow is the number of groups in flight (submitted, not yet
	// durable) at once; it bounds import's memory.
	importWindow = 16
	// importBatch is the largest Append the recorder makes (several groups).
	importBatch = 4 * importGroup
	// importCloseTimeout bounds draining the recorder at the end (or after
	// an interruption).
	importCloseTimeout = 5 * time.Minute
	// progressEvery is the interval between progress updates on a terminal.
	progressEvery = 250 * time.Millisecond
)

var importSkipInvalid bool

var importCmd = &cobra.Command{
	Use:   "import [--skip-invalid] [--langgraph [options]] FILE.jsonl|-",
	Short: "Import events from a JSON lines file (or - for standard input)",
	Long: `Import events, one JSON object per line in the wire format, from FILE or from
standard input (-). Blank lines are ignored.

The whole input is validated first (standard input is spooled to a temporary
file meanwhile); if any line is invalid, every invalid line is reported with
its number and reason and nothing is imported. With --skip-invalid the valid
lines are imported and the invalid ones reported.

Import is idempotent: an event already recorded (same event_id) is counted as
a duplicate and not recorded again, so importing a file twice records nothing
new, and an import that was interrupted can simply be run again.

With --langgraph the lines are LangGraph event stream records
(astream_events / streamEvents v2, as POST /v1/langgraph/events takes them),
turned into execution, node and LangGraph audit events; their ids derive from
the records' run ids, so importing the same stream twice records it once.
Records are at most 8 MiB. A record without a "timestamp" key is stamped with
the time it is read, so durations are real only for streams written with
timestamps.`,
	Args: argsExactly(1, "a file name or - for standard input"),
	RunE: func(cmd *cobra.Command, args []string) error {
		lg, err := langGraphOptions()
		if err != nil {
			return err
		}
		t, err := globalStore.resolve()
		if err != nil {
			return err
		}
		if importLG.enabled {
			return runImportLangGraph(cmd.Context(), t, args[0], lg, importSkipInvalid, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		}
		return runImport(cmd.Context(), t, args[0], importSkipInvalid, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
	},
}

func init() {
	importCmd.Flags().BoolVar(&importSkipInvalid, "skip-invalid", false, "import the valid lines and report the invalid ones")
	rootCmd.AddCommand(importCmd)
}

// importStats are the counts of one import.
type importStats struct {
	lines      int // non-blank lines read
	invalid    int
	imported   int
	duplicates int
}

// parseLine decodes one line into its audit entry, or says why it cannot be
// imported.
func parseLine(line []byte) (audit.Entry, error) {
	ev, err := event.Decode(line)
	if err != nil {
		return audit.Entry{}, err
	}
	e := audit.FromEvent(ev)
	if err := e.Validate(); err != nil {
		return audit.Entry{}, err
	}
	return e, nil
}

// reportInvalid writes one invalid line's number and reason.
func reportInvalid(w io.Writer, name string, num int, err error) {
	fmt.Fprintf(w, "%s: %s\n", lineRef(name, num), userMessage(err))
}

// runImport imports the events of the file name ("-": stdin) into the store t.
func runImport(ctx context.Context, t storeTarget, name string, skipInvalid bool, stdin io.Reader, out, errOut io.Writer) error {
	display := name
	var in io.Reader
	var size int64 = -1
	var seeker io.ReadSeeker // to read the input a second time
	if name == "-" {
		display = "stdin"
		in = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
			seeker = f
		}
		in = f
	}

	st, err := openTarget(ctx, t)
	if err != nil {
		return err
	}
	defer st.Close()

	prog := newProgress(errOut, display, size)
	var stats importStats
	if !skipInvalid {
		// Validation pass. A non-seekable input is spooled meanwhile.
		src := in
		if seeker == nil {
			spool, err := os.CreateTemp("", "wtb-import-*.jsonl")
			if err != nil {
				return fmt.Errorf("import: spooling %s: %w", display, err)
			}
			defer func() {
				spool.Close()
				os.Remove(spool.Name())
			}()
			src = io.TeeReader(in, spool)
			seeker = spool
		}
		src, isArray, err := importInputCtx(ctx, src)
		if err != nil {
			return fmt.Errorf("reading %s: %w", display, err)
		}
		label := display
		if isArray {
			label += arrayElement
		}
		prog.phase = "validating"
		lines, invalid, err := validate(ctx, src, label, errOut, prog)
		prog.done()
		if err != nil {
			return err
		}
		if invalid > 0 {
			unit := "lines"
			if isArray {
				unit = "elements of the JSON array"
			}
			return fmt.Errorf("%s: %d of %d %s invalid (reported above); nothing imported (--skip-invalid imports the %d valid ones)",
				display, invalid, lines, unit, lines-invalid)
		}
		if _, err := seeker.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("import: rereading %s: %w", display, err)
		}
		in = seeker
	}

	in, isArray, err := importInputCtx(ctx, in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", display, err)
	}
	label := display
	if isArray {
		label += arrayElement
	}
	prog.phase = "importing"
	err = load(ctx, st, in, label, errOut, prog, &stats)
	prog.done()
	summary := fmt.Sprintf("imported %d, duplicates %d", stats.imported, stats.duplicates)
	if stats.invalid > 0 {
		summary += fmt.Sprintf(", invalid lines skipped %d", stats.invalid)
	}
	if err != nil {
		var ae *arrayError
		if errors.As(err, &ae) {
			err = ae
		}
		return fmt.Errorf("%s: %s before failing: %w; running the import again records only what is missing", display, summary, err)
	}
	if stats.imported == 0 && stats.duplicates > 0 {
		summary += " (nothing new: every event was already recorded)"
	}
	_, err = fmt.Fprintln(out, summary)
	return err
}

// validate reads every line of r and reports each invalid one. It returns
// the number of non-blank lines and of invalid ones.
func validate(ctx context.Context, r io.Reader, name string, errOut io.Writer, prog *progress) (lines, invalid int, err error) {
	err = parseStream(ctx, r, false, func(c *chunk) error {
		for _, b := range c.bad {
			reportInvalid(errOut, name, b.num, b.err)
		}
		lines += c.lines
		invalid += len(c.bad)
		prog.update(lines, c.bytes)
		return nil
	})
	if err != nil {
		var ae *arrayError
		if errors.As(err, &ae) {
			return lines, invalid, fmt.Errorf("%s: %w; nothing imported", strings.TrimSuffix(name, arrayElement), ae)
		}
		return lines, invalid, fmt.Errorf("validating %s: %w; nothing imported", name, err)
	}
	return lines, invalid, nil
}

// load reads r and records every valid line through a recorder into st:
// the valid lines of each chunk (at most importGroup) as one atomic group,
// with at most importWindow groups in flight. Invalid lines are reported
// and counted in stats.
func load(ctx context.Context, st audit.Store, r io.Reader, name string, errOut io.Writer, prog *progress, stats *importStats) (err error) {
	rec := audit.NewRecorder(st, audit.RecorderOptions{
		QueueSize: importGroup * importWindow,
		MaxBatch:  importBatch,
		Logger:    slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	pending := make([]*audit.Receipt, 0, importWindow)
	collect := func(rc *audit.Receipt, wctx context.Context) error {
		res, err := rc.Wait(wctx)
		if err != nil {
			return err
		}
		stats.imported += res.Appended
		stats.duplicates += len(res.Duplicates)
		return nil
	}
	defer func() {
		// Drain what is queued even when interrupted: groups are atomic,
		// so the store holds whole groups only.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importCloseTimeout)
		defer cancel()
		cerr := rec.Close(cctx)
		for _, rc := range pending {
			if werr := collect(rc, cctx); werr != nil && err == nil {
				err = werr
			}
		}
		if cerr != nil && err == nil {
			err = cerr
		}
	}()

	return parseStream(ctx, r, true, func(c *chunk) error {
		for _, b := range c.bad {
			reportInvalid(errOut, name, b.num, b.err)
		}
		stats.lines += c.lines
		stats.invalid += len(c.bad)
		if len(c.entries) > 0 {
			if len(pending) == importWindow {
				if err := collect(pending[0], ctx); err != nil {
					return err
				}
				pending = append(pending[:0], pending[1:]...)
			}
			rc, err := rec.Submit(ctx, c.entries)
			if err != nil {
				return err
			}
			pending = append(pending, rc)
		}
		prog.update(stats.lines, c.bytes)
		return nil
	})
}

// progress shows a one-line progress report on a terminal, and nothing
// otherwise.
type progress struct {
	w     io.Writer // nil: not a terminal
	name  string
	size  int64 // -1: unknown
	phase string
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, name string, size int64) *progress {
	p := &progress{name: name, size: size}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.w = w
	}
	return p
}

// update shows the lines and bytes read so far, at most every progressEvery.
func (p *progress) update(lines int, bytes int64) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	var b strings.Builder
	b.WriteString("\r" + p.phase + " " + p.name + ": " + groupDigits(lines) + " lines")
	if p.size > 0 {
		b.WriteString(fmt.Sprintf(" (%d%%)", bytes*100/p.size))
	}
	b.WriteString("\x1b[K")
	io.WriteString(p.w, b.String())
	p.shown = true
}

// done ends the progress line.
func (p *progress) done() {
	if p.w != nil && p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// groupDigits writes n with thousands separators.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
