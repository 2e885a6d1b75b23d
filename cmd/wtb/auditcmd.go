package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/audit"
)

// Paging limits of the audit commands (variables so tests can page small).
var (
	// queryPage is the number of entries read per store query.
	queryPage = audit.MaxLimit
	// listPage is the number of executions read per store call.
	listPage = 1000
)

var auditCmd = commandGroup(&cobra.Command{
	Use:   "audit",
	Short: "Show, list, summarise and export the audit trail",
})

var auditShowOpts audit.FormatOptions

var auditShowCmd = &cobra.Command{
	Use:   "show EXECUTION_ID",
	Short: "Print an execution's audit timeline",
	Long: `Print an execution's audit timeline: a header, the summary block and the
last 30 entries (--all for every entry), debug entries hidden unless --debug.`,
	Args: argsExactly(1, "an execution id"),
	RunE: func(cmd *cobra.Command, args []string) error {
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		opts := auditShowOpts
		opts.Location = displayLocation()
		if auditOut.showJSON {
			return writeTimelineJSON(cmd.Context(), st, args[0], opts, cmd.OutOrStdout())
		}
		text, err := timeline(cmd.Context(), st, args[0], opts)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), text)
		return err
	},
}

// auditListFlags are the filters of audit list.
var auditListFlags struct {
	statuses     []string
	workflow     string
	search       string
	since, until string
	limit        int
}

var auditListCmd = &cobra.Command{
	Use:   "list [--status S] [--workflow ID] [--search TEXT] [--since T] [--until T] [--limit N]",
	Short: "List executions, newest first, with their counts",
	Long: `List executions newest first (by start time) with their status, counts,
start time and duration. The filters are those of GET /v1/executions:
--status (running, paused, completed, failed, cancelled; repeat it or
separate with commas), --workflow (exact id), --search (text in the
execution or workflow id, ASCII letters without case), --since and --until
(start time: RFC 3339, or a duration such as 2h meaning that long ago).
--limit N stops after N executions (0: all).`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		p, err := listPageFlags(time.Now())
		if err != nil {
			return err
		}
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		return listExecutions(cmd.Context(), st, p, auditListFlags.limit, auditOut.listJSON, cmd.OutOrStdout())
	},
}

// listPageFlags turns the flags of audit list into a page filter.
func listPageFlags(now time.Time) (audit.Page, error) {
	f := &auditListFlags
	var p audit.Page
	for _, v := range f.statuses {
		for _, st := range strings.Split(v, ",") {
			if !audit.ValidStatus(st) {
				return p, usagef("--status %q: want running, paused, completed, failed or cancelled", st)
			}
			p.Statuses = append(p.Statuses, st)
		}
	}
	p.WorkflowID, p.Text = f.workflow, f.search
	var err error
	if p.Since, err = parseWhen("--since", f.since, now); err != nil {
		return p, err
	}
	if p.Until, err = parseWhen("--until", f.until, now); err != nil {
		return p, err
	}
	if f.limit < 0 {
		return p, usagef("--limit must not be negative")
	}
	return p, nil
}

// parseWhen reads a time flag: RFC 3339, or a duration meaning that long
// before now; "" is the zero time.
func parseWhen(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("%s %q: want an RFC 3339 time (2026-03-14T09:00:00Z) or a duration ago (90m, 2h)", flag, v)
}

var auditSummaryCmd = &cobra.Command{
	Use:   "summary EXECUTION_ID",
	Short: "Print an execution's summary (--json for JSON)",
	Args:  argsExactly(1, "an execution id"),
	RunE: func(cmd *cobra.Command, args []string) error {
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		s, err := summary(cmd.Context(), st, args[0])
		if err != nil {
			return err
		}
		if !auditOut.summaryJSON {
			return writeSummaryText(cmd.OutOrStdout(), s)
		}
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding summary: %w", err)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
		return err
	},
}

var auditExportExecution string

var auditExportCmd = &cobra.Command{
	Use:   "export",
	Short: "Write audit entries as JSON lines, in seq order",
	Long: `Write audit entries as JSON lines in seq order: every entry, or those the
filters of GET /v1/audit select: --execution-id (or --execution), --node-id,
--event-type, --min-severity, --since, --until; --after SEQ resumes after an
entry and --limit N stops after N. Each line has seq, event_id, source_type
and the reference's keys (timestamp in RFC 3339 UTC, event_type, severity,
message, execution_id, node_id, details, error, duration_ms).`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		f, limit, err := exportFilter(time.Now())
		if err != nil {
			return err
		}
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		if f.ExecutionID != "" {
			if _, err := summary(cmd.Context(), st, f.ExecutionID); err != nil {
				return err
			}
		}
		_, err = exportEntries(cmd.Context(), st, f, limit, cmd.OutOrStdout())
		return err
	},
}

func init() {
	auditShowCmd.Flags().BoolVar(&auditShowOpts.All, "all", false, "show every entry, not only the last 30")
	auditShowCmd.Flags().BoolVar(&auditShowOpts.Debug, "debug", false, "show debug entries")
	auditExportCmd.Flags().StringVar(&auditExportExecution, "execution", "", "export only this execution's entries")
	lf := auditListCmd.Flags()
	lf.StringSliceVar(&auditListFlags.statuses, "status", nil, "only executions in these statuses: running, paused, completed, failed, cancelled")
	lf.StringVar(&auditListFlags.workflow, "workflow", "", "only executions of this workflow id")
	lf.StringVar(&auditListFlags.search, "search", "", "only executions whose id or workflow id contains this text (ASCII letters without case)")
	lf.StringVar(&auditListFlags.since, "since", "", "only executions started at or after this time (RFC 3339, or a duration ago: 2h)")
	lf.StringVar(&auditListFlags.until, "until", "", "only executions started before this time (RFC 3339, or a duration ago)")
	lf.IntVar(&auditListFlags.limit, "limit", 0, "list at most this many executions (0: all)")
	auditCmd.AddCommand(auditShowCmd, auditListCmd, auditSummaryCmd, auditExportCmd)
	rootCmd.AddCommand(auditCmd)
}

// argsExactly accepts exactly n positional arguments, naming what is
// expected in the error.
func argsExactly(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		name := strings.TrimPrefix(cmd.CommandPath(), rootCmd.Name()+" ")
		if n == 0 {
			return usagef("%s takes no arguments, got %q", name, args)
		}
		return usagef("%s needs %s (usage: %s)", name, what, cmd.UseLine())
	}
}

// summary returns the store's summary of an execution, with a clear error
// for an unknown one.
func summary(ctx context.Context, st audit.Store, id string) (audit.Summary, error) {
	s, err := st.Summary(ctx, id)
	if errors.Is(err, audit.ErrNotFound) {
		return audit.Summary{}, fmt.Errorf("execution %q not found", id)
	}
	if err != nil {
		return audit.Summary{}, fmt.Errorf("reading summary of %q: %w", id, err)
	}
	return s, nil
}

// forEachEntry calls fn with the entries matching f, in seq order, paging
// by seq cursor (f.After and f.Limit are the paging state).
func forEachEntry(ctx context.Context, st audit.Store, f audit.Filter, fn func([]audit.Entry) error) error {
	f.Limit = queryPage
	for {
		page, err := st.Query(ctx, f)
		if err != nil {
			return fmt.Errorf("reading entries: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page) < f.EffectiveLimit() {
			return nil
		}
		f.After = page[len(page)-1].Seq
	}
}

// timeline renders an execution's text timeline from the store: its summary
// and all its entries.
func timeline(ctx context.Context, st audit.Store, id string, opts audit.FormatOptions) (string, error) {
	s, err := summary(ctx, st, id)
	if err != nil {
		return "", err
	}
	// Debug entries are hidden unless asked for: do not read them.
	f := audit.Filter{ExecutionID: id}
	if !opts.Debug {
		f.MinSeverity = audit.SeverityInfo
	}
	var entries []audit.Entry
	err = forEachEntry(ctx, st, f, func(page []audit.Entry) error {
		entries = append(entries, page...)
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		// Only debug entries: the timeline shows the summary and no entry
		// (FormatTimeline hides the debug entry it is given).
		if entries, err = st.Query(ctx, audit.Filter{ExecutionID: id, Limit: 1}); err != nil {
			return "", fmt.Errorf("reading entries: %w", err)
		}
	}
	return audit.FormatTimeline(s, entries, opts), nil
}

// exportEntries writes the entries matching f as JSON lines in seq order
// and returns how many it wrote.
func exportEntries(ctx context.Context, st audit.Store, f audit.Filter, limit int, out io.Writer) (int, error) {
	w := bufio.NewWriterSize(out, 64<<10)
	n := 0
	err := forEachEntry(ctx, st, f, func(page []audit.Entry) error {
		for i := range page {
			if limit > 0 && n == limit {
				return errLimitReached
			}
			b, err := page[i].MarshalJSON()
			if err != nil {
				return fmt.Errorf("encoding entry %d: %w", page[i].Seq, err)
			}
			w.Write(b)
			if err := w.WriteByte('\n'); err != nil {
				return fmt.Errorf("writing: %w", err)
			}
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimitReached) {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("writing: %w", err)
	}
	return n, nil
}

// errLimitReached stops an export at its --limit.
var errLimitReached = errors.New("limit reached")

// listExecutions writes the executions p selects as a table, newest
// first, page by page; limit > 0 stops after that many.
func listExecutions(ctx context.Context, st audit.Store, p audit.Page, limit int, asJSON bool, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "EXECUTION\tWORKFLOW\tSTATUS\tENTRIES\tNODES\tFAILED\tCHECKPOINTS\tROLLBACKS\tERRORS\tSTARTED\tDURATION")
	}
	p.Limit = listPage
	total := 0
	for {
		if limit > 0 {
			p.Limit = min(listPage, limit-total)
		}
		page, err := st.Executions(ctx, p)
		if err != nil {
			return fmt.Errorf("listing executions: %w", err)
		}
		for _, s := range page {
			if asJSON {
				if err := writeSummaryLine(tw, s); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n",
				s.ExecutionID, dash(s.WorkflowID), s.Status, s.TotalEntries, s.NodesExecuted, s.NodesFailed,
				s.CheckpointsCreated, s.Rollbacks, s.Errors, formatStarted(s.StartedAt), formatDuration(s.DurationMS))
		}
		total += len(page)
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		if len(page) < p.EffectiveLimit() || limit > 0 && total >= limit {
			break
		}
		p.After = page[len(page)-1].Cursor()
	}
	if asJSON {
		return nil
	}
	_, err := fmt.Fprintln(out, plural(total, "execution"))
	return err
}

// plural writes n and word, in the plural unless n is 1.
func plural[N int | uint64](n N, word string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("%d %s", n, word)
	case strings.HasSuffix(word, "ch"):
		return fmt.Sprintf("%d %ses", n, word)
	default:
		return fmt.Sprintf("%d %ss", n, word)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatStarted(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return formatTime(*t)
}

func formatDuration(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return strconv.FormatFloat(*ms/1000, 'f', 3, 64) + "s"
}
