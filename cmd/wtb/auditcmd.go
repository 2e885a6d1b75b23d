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
		st, err := openStore(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		text, err := timeline(cmd.Context(), st, args[0], auditShowOpts)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), text)
		return err
	},
}

var auditListCmd = &cobra.Command{
	Use:   "list",
	Short: "List executions with their entry counts",
	Args:  argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		return listExecutions(cmd.Context(), st, cmd.OutOrStdout())
	},
}

var auditSummaryCmd = &cobra.Command{
	Use:   "summary EXECUTION_ID",
	Short: "Print an execution's summary as JSON",
	Args:  argsExactly(1, "an execution id"),
	RunE: func(cmd *cobra.Command, args []string) error {
		st, err := openStore(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		s, err := summary(cmd.Context(), st, args[0])
		if err != nil {
			return err
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
	Long: `Write audit entries as JSON lines in seq order: every entry, or those of one
execution with --execution. Each line has seq, event_id, source_type and the
reference's keys (timestamp in RFC 3339 UTC, event_type, severity, message,
execution_id, node_id, details, error, duration_ms).`,
	Args: argsExactly(0, ""),
	RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := openStore(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		if auditExportExecution != "" {
			if _, err := summary(cmd.Context(), st, auditExportExecution); err != nil {
				return err
			}
		}
		_, err = exportEntries(cmd.Context(), st, audit.Filter{ExecutionID: auditExportExecution}, cmd.OutOrStdout())
		return err
	},
}

func init() {
	auditShowCmd.Flags().BoolVar(&auditShowOpts.All, "all", false, "show every entry, not only the last 30")
	auditShowCmd.Flags().BoolVar(&auditShowOpts.Debug, "debug", false, "show debug entries")
	auditExportCmd.Flags().StringVar(&auditExportExecution, "execution", "", "export only this execution's entries")
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
func exportEntries(ctx context.Context, st audit.Store, f audit.Filter, out io.Writer) (int, error) {
	w := bufio.NewWriterSize(out, 64<<10)
	n := 0
	err := forEachEntry(ctx, st, f, func(page []audit.Entry) error {
		for i := range page {
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
	if err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("writing: %w", err)
	}
	return n, nil
}

// listExecutions writes the executions as a table, page by page.
func listExecutions(ctx context.Context, st audit.Store, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXECUTION\tWORKFLOW\tSTATUS\tENTRIES\tNODES\tFAILED\tCHECKPOINTS\tROLLBACKS\tERRORS\tSTARTED\tDURATION")
	p := audit.Page{Limit: listPage}
	total := 0
	for {
		page, err := st.Executions(ctx, p)
		if err != nil {
			return fmt.Errorf("listing executions: %w", err)
		}
		for _, s := range page {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n",
				s.ExecutionID, dash(s.WorkflowID), s.Status, s.TotalEntries, s.NodesExecuted, s.NodesFailed,
				s.CheckpointsCreated, s.Rollbacks, s.Errors, formatStarted(s.StartedAt), formatDuration(s.DurationMS))
		}
		total += len(page)
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		if len(page) < p.EffectiveLimit() {
			break
		}
		p.After = page[len(page)-1].ExecutionID
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
	return t.UTC().Format("2006-01-02 15:04:05")
}

func formatDuration(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return strconv.FormatFloat(*ms/1000, 'f', 3, 64) + "s"
}
