package audit

import (
	"strconv"
	"strings"
	"time"
)

// TimelineLimit is the number of entries the text timeline shows unless
// FormatOptions.All is set: the last TimelineLimit.
const TimelineLimit = 30

// FormatOptions chooses what the text timeline shows.
type FormatOptions struct {
	// All shows every entry instead of the last TimelineLimit.
	All bool
	// Debug shows debug entries, which are hidden otherwise.
	Debug bool
	// Location is the time zone of the times shown; nil means UTC. Every
	// time says its zone: "Z" for UTC, else its offset ("+01:00").
	Location *time.Location
}

const (
	rule60   = "============================================================"
	dashes60 = "------------------------------------------------------------"
)

// FormatTimeline renders the reference's text display of an execution from
// its summary and its entries (all of them, oldest first): a header, the
// summary block (execution, workflow, start with its date and zone,
// duration, nodes, checkpoints, errors), then the timeline, each time of day
// followed by its zone (UTC "Z" unless opts.Location) and a line with the
// date where it changes. Debug entries are hidden unless opts.Debug; of the rest
// only the last TimelineLimit are shown unless opts.All, after a line
// "(Showing last 30 of N entries)". Without entries the text is "No audit
// entries recorded.". The text has no trailing newline.
func FormatTimeline(s Summary, entries []Entry, opts FormatOptions) string {
	if len(entries) == 0 {
		return "No audit entries recorded."
	}
	var b strings.Builder
	b.Grow(600 + 100*min(len(entries), TimelineLimit))
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	line(rule60)
	line("                   WTB AUDIT TRAIL")
	line(rule60)
	line()
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	line("Execution: ", orNA(s.ExecutionID))
	line("Workflow:  ", orNA(s.WorkflowID))
	start := entries[0].Timestamp
	if s.StartedAt != nil {
		start = *s.StartedAt
	}
	line("Started:   ", formatWhen(start, loc))
	if s.DurationMS != nil && *s.DurationMS != 0 {
		line("Duration:  ", strconv.FormatFloat(*s.DurationMS, 'f', 0, 64), "ms")
	}
	line()
	b.WriteString("Nodes: [+] ")
	b.WriteString(strconv.Itoa(s.NodesExecuted))
	b.WriteString(" completed")
	if s.NodesFailed > 0 {
		b.WriteString(" | [X] ")
		b.WriteString(strconv.Itoa(s.NodesFailed))
		b.WriteString(" failed")
	}
	line()
	b.WriteString("Checkpoints: ")
	b.WriteString(strconv.Itoa(s.CheckpointsCreated))
	if s.Rollbacks > 0 {
		b.WriteString(" | ")
		b.WriteString(strconv.Itoa(s.Rollbacks))
		b.WriteString(" rollbacks")
	}
	line()
	if s.Errors > 0 {
		line("[!] Errors: ", strconv.Itoa(s.Errors))
	}
	line()
	line(dashes60)
	line("                      TIMELINE")
	line(dashes60)
	line()

	shown := entries
	if !opts.Debug {
		shown = make([]Entry, 0, len(entries))
		for i := range entries {
			if entries[i].Severity != SeverityDebug {
				shown = append(shown, entries[i])
			}
		}
	}
	if !opts.All && len(shown) > TimelineLimit {
		line("(Showing last ", strconv.Itoa(TimelineLimit), " of ", strconv.Itoa(len(shown)), " entries)")
		line()
		shown = shown[len(shown)-TimelineLimit:]
	}
	// Lines carry the time of day; a line gives the date where it
	// changes from the start's.
	day := start.In(loc).Format(time.DateOnly)
	var buf []byte
	for i := range shown {
		if d := shown[i].Timestamp.In(loc).Format(time.DateOnly); d != day {
			line("--- ", d, " ---")
			day = d
		}
		buf = shown[i].appendFormat(buf[:0], loc)
		b.Write(buf)
		b.WriteByte('\n')
	}
	line()
	b.WriteString(rule60)
	return b.String()
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

// formatWhen writes t in loc with the date, milliseconds and zone:
// "2026-03-14 09:26:53.589Z", "2026-03-14 10:26:53.589+01:00".
func formatWhen(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05.000Z07:00")
}
