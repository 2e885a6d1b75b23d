package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wtbdev/wtb/audit"
)

// Output flags of the audit commands: the zone of the times shown, and JSON
// instead of text.
var auditOut struct {
	local                                    bool
	listJSON, showJSON, summaryJSON          bool
	exportExecutionID, exportNode            string
	exportTypes                              []string
	exportSeverity, exportSince, exportUntil string
	exportAfter                              int64
	exportLimit                              int
}

func init() {
	auditCmd.PersistentFlags().BoolVar(&auditOut.local, "local", false, "show times in the local time zone (with their offset) instead of UTC (Z)")
	auditListCmd.Flags().BoolVar(&auditOut.listJSON, "json", false, "write one JSON summary per line instead of the table")
	auditShowCmd.Flags().BoolVar(&auditOut.showJSON, "json", false, `write {"summary": ..., "entries": [...]} as JSON instead of the text timeline (--all and --debug apply)`)
	auditSummaryCmd.Flags().BoolVar(&auditOut.summaryJSON, "json", false, "write the summary as JSON instead of text")

	// export takes the filters of GET /v1/audit.
	ef := auditExportCmd.Flags()
	ef.StringVar(&auditOut.exportExecutionID, "execution-id", "", "only this execution's entries (the same as --execution)")
	ef.StringVar(&auditOut.exportNode, "node-id", "", "only this node's entries")
	ef.StringSliceVar(&auditOut.exportTypes, "event-type", nil, "only entries of these audit event types (repeat it or separate with commas)")
	ef.StringVar(&auditOut.exportSeverity, "min-severity", "", "only entries at least this severe: debug, info, success, warning or error")
	ef.StringVar(&auditOut.exportSince, "since", "", "only entries at or after this time (RFC 3339, or a duration ago: 2h)")
	ef.StringVar(&auditOut.exportUntil, "until", "", "only entries before this time (RFC 3339, or a duration ago)")
	ef.Int64Var(&auditOut.exportAfter, "after", 0, "only entries with a seq above this one (resume an export)")
	ef.IntVar(&auditOut.exportLimit, "limit", 0, "write at most this many entries (0: all)")
}

// localZone is the zone --local shows times in. Tests set it instead of
// time.Local, which other goroutines of the process read.
var localZone = time.Local

// displayLocation is the zone of the times the audit commands show: UTC,
// or the local zone with --local.
func displayLocation() *time.Location {
	if auditOut.local {
		return localZone
	}
	return time.UTC
}

// formatTime writes t in the display zone with its date and zone:
// "2026-03-14 09:26:53Z", "2026-03-14 10:26:53+01:00".
func formatTime(t time.Time) string {
	return t.In(displayLocation()).Format("2006-01-02 15:04:05Z07:00")
}

// exportFilter builds the entry filter of audit export from its flags, as
// GET /v1/audit does from its query parameters.
func exportFilter(now time.Time) (f audit.Filter, limit int, err error) {
	switch e, id := auditExportExecution, auditOut.exportExecutionID; {
	case e != "" && id != "" && e != id:
		return f, 0, usagef("--execution %q and --execution-id %q differ; give one", e, id)
	case id != "":
		f.ExecutionID = id
	default:
		f.ExecutionID = e
	}
	f.NodeID = auditOut.exportNode
	for _, v := range auditOut.exportTypes {
		for _, t := range strings.Split(v, ",") {
			if !audit.Type(t).Known() {
				return f, 0, usagef("--event-type %q: not an audit event type (execution_started, node_failed, ...)", t)
			}
			f.Types = append(f.Types, audit.Type(t))
		}
	}
	if v := auditOut.exportSeverity; v != "" {
		if audit.Severity(v).Rank() < 0 {
			return f, 0, usagef("--min-severity %q: want debug, info, success, warning or error", v)
		}
		f.MinSeverity = audit.Severity(v)
	}
	if f.Since, err = parseWhen("--since", auditOut.exportSince, now); err != nil {
		return f, 0, err
	}
	if f.Until, err = parseWhen("--until", auditOut.exportUntil, now); err != nil {
		return f, 0, err
	}
	if auditOut.exportAfter < 0 {
		return f, 0, usagef("--after must not be negative")
	}
	f.After = auditOut.exportAfter
	if auditOut.exportLimit < 0 {
		return f, 0, usagef("--limit must not be negative")
	}
	return f, auditOut.exportLimit, nil
}

// writeSummaryText writes a summary as aligned "Key: value" lines.
func writeSummaryText(out io.Writer, s audit.Summary) error {
	tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Execution", s.ExecutionID)
	row("Workflow", dash(s.WorkflowID))
	row("Status", s.Status)
	row("Started", timeOrDash(s.StartedAt))
	row("Ended", timeOrDash(s.EndedAt))
	row("Duration", formatDuration(s.DurationMS))
	row("Entries", fmt.Sprintf("%d (seq %d to %d)", s.TotalEntries, s.FirstSeq, s.LastSeq))
	row("Nodes", fmt.Sprintf("%d completed, %d failed", s.NodesExecuted, s.NodesFailed))
	row("Checkpoints", fmt.Sprint(s.CheckpointsCreated))
	row("Rollbacks", fmt.Sprint(s.Rollbacks))
	row("Errors", fmt.Sprint(s.Errors))
	return tw.Flush()
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return formatTime(*t)
}

// writeTimelineJSON writes an execution's summary and entries (as audit
// show selects them) as one JSON object.
func writeTimelineJSON(ctx context.Context, st audit.Store, id string, opts audit.FormatOptions, out io.Writer) error {
	s, err := summary(ctx, st, id)
	if err != nil {
		return err
	}
	f := audit.Filter{ExecutionID: id}
	if !opts.Debug {
		f.MinSeverity = audit.SeverityInfo
	}
	entries := []audit.Entry{}
	err = forEachEntry(ctx, st, f, func(page []audit.Entry) error {
		entries = append(entries, page...)
		return nil
	})
	if err != nil {
		return err
	}
	if !opts.All && len(entries) > audit.TimelineLimit {
		entries = entries[len(entries)-audit.TimelineLimit:]
	}
	w := bufio.NewWriter(out)
	sb, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	w.WriteString(`{"summary":`)
	w.Write(sb)
	w.WriteString(`,"entries":[`)
	for i := range entries {
		if i > 0 {
			w.WriteByte(',')
		}
		b, err := entries[i].MarshalJSON()
		if err != nil {
			return fmt.Errorf("encoding entry %d: %w", entries[i].Seq, err)
		}
		w.Write(b)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// writeSummaryLine writes one summary as a JSON line.
func writeSummaryLine(w io.Writer, s audit.Summary) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
