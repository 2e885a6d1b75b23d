package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/wtbdev/wtb/audit"
	"github.com/wtbdev/wtb/event"
	"github.com/wtbdev/wtb/langgraph"
)

// importLG holds the flags of `wtb import --langgraph`.
var importLG struct {
	enabled        bool
	executionID    string
	workflowID     string
	includeInputs  bool
	excludeOutputs bool
	keepInternal   bool
	nodes          []string
	excludeNodes   []string
}

func init() {
	f := importCmd.Flags()
	f.BoolVar(&importLG.enabled, "langgraph", false, "the input is a LangGraph event stream (astream_events / streamEvents v2 records, one per line)")
	f.StringVar(&importLG.executionID, "execution-id", "", "with --langgraph: the execution the records belong to (default: each record's thread_id)")
	f.StringVar(&importLG.workflowID, "workflow-id", "", "with --langgraph: workflow_id of the execution events (default: the graph's name)")
	f.BoolVar(&importLG.includeInputs, "include-inputs", false, "with --langgraph: copy the records' inputs into the events")
	f.BoolVar(&importLG.excludeOutputs, "exclude-outputs", false, "with --langgraph: leave the records' outputs out of the events")
	f.BoolVar(&importLG.keepInternal, "keep-internal", false, "with --langgraph: record runs whose name starts with __ (such as __start__)")
	f.StringArrayVar(&importLG.nodes, "node", nil, "with --langgraph: record only this graph node and what runs in it (repeatable)")
	f.StringArrayVar(&importLG.excludeNodes, "exclude-node", nil, "with --langgraph: leave this graph node and what runs in it out (repeatable)")
}

// langGraphOptions returns the translation options of the flags, or a
// usage error when a LangGraph flag is given without --langgraph.
func langGraphOptions() (langgraph.Options, error) {
	o := langgraph.Options{
		ExecutionID: importLG.executionID, WorkflowID: importLG.workflowID,
		IncludeInputs: importLG.includeInputs, OmitOutputs: importLG.excludeOutputs,
		KeepInternal: importLG.keepInternal, Nodes: importLG.nodes, ExcludeNodes: importLG.excludeNodes,
	}
	if !importLG.enabled && (o.ExecutionID != "" || o.WorkflowID != "" || o.IncludeInputs || o.OmitOutputs ||
		o.KeepInternal || len(o.Nodes) > 0 || len(o.ExcludeNodes) > 0) {
		return o, usagef("--execution-id, --workflow-id, --include-inputs, --exclude-outputs, --keep-internal, --node and --exclude-node need --langgraph")
	}
	if len(o.ExecutionID) > audit.MaxIDSize {
		return o, usagef("--execution-id is longer than %d bytes", audit.MaxIDSize)
	}
	return o, nil
}

// lgStats are the counts of a LangGraph import.
type lgStats struct {
	records, invalid, filtered, folded int
	events, imported, duplicates       int
}

// runImportLangGraph imports a LangGraph event stream from name ("-":
// stdin). Records without a "timestamp" key are stamped with the time they
// are read.
func runImportLangGraph(ctx context.Context, t storeTarget, name string, opts langgraph.Options, skipInvalid bool, stdin io.Reader, out, errOut io.Writer) error {
	display := name
	var in io.Reader
	var seeker io.ReadSeeker
	if name == "-" {
		display, in = "stdin", stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			seeker = f
		}
		in = f
	}
	st, err := openTarget(ctx, t)
	if err != nil {
		return err
	}
	defer st.Close()

	if !skipInvalid {
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
		var vs lgStats
		if err := translateStream(ctx, src, display, &opts, errOut, &vs, nil); err != nil {
			return fmt.Errorf("validating %s: %w; nothing imported", display, err)
		}
		if vs.invalid > 0 {
			return fmt.Errorf("%s: %d of %d records invalid (reported above); nothing imported (--skip-invalid imports the %d valid ones)",
				display, vs.invalid, vs.records, vs.records-vs.invalid)
		}
		if _, err := seeker.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("import: rereading %s: %w", display, err)
		}
		in = seeker
	}

	var stats lgStats
	rec := audit.NewRecorder(st, audit.RecorderOptions{
		QueueSize: importGroup * importWindow,
		MaxBatch:  importBatch,
		Logger:    slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	var pending []*audit.Receipt
	collect := func(rc *audit.Receipt, wctx context.Context) error {
		res, err := rc.Wait(wctx)
		if err != nil {
			return err
		}
		stats.imported += res.Appended
		stats.duplicates += len(res.Duplicates)
		return nil
	}
	submit := func(evs []event.Event) error {
		entries := make([]audit.Entry, len(evs))
		for i, ev := range evs {
			entries[i] = audit.FromEvent(ev)
		}
		if len(pending) == importWindow {
			if err := collect(pending[0], ctx); err != nil {
				return err
			}
			pending = pending[1:]
		}
		rc, err := rec.Submit(ctx, entries)
		if err != nil {
			return err
		}
		pending = append(pending, rc)
		return nil
	}
	err = translateStream(ctx, in, display, &opts, errOut, &stats, submit)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importCloseTimeout)
	defer cancel()
	if cerr := rec.Close(cctx); cerr != nil && err == nil {
		err = cerr
	}
	for _, rc := range pending {
		if werr := collect(rc, cctx); werr != nil && err == nil {
			err = werr
		}
	}
	summary := fmt.Sprintf("imported %d, duplicates %d (%d events from %d records; %d filtered, %d folded)",
		stats.imported, stats.duplicates, stats.events, stats.records, stats.filtered, stats.folded)
	if stats.invalid > 0 {
		summary += fmt.Sprintf(", invalid records skipped %d", stats.invalid)
	}
	if err != nil {
		return fmt.Errorf("%s: %s before failing: %w; running the import again records only what is missing", display, summary, err)
	}
	_, err = fmt.Fprintln(out, summary)
	return err
}

// translateStream reads the records of r, reports the invalid ones and
// hands the events of the valid ones to submit in groups of at most
// importGroup (submit nil: validation only).
func translateStream(ctx context.Context, r io.Reader, name string, opts *langgraph.Options, errOut io.Writer, stats *lgStats, submit func([]event.Event) error) error {
	tr := langgraph.NewTranslator(langgraph.Limits{})
	br := bufio.NewReaderSize(r, 64<<10)
	var evs []event.Event
	var line []byte
	for num := 1; ; num++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rerr error
		line, rerr = readRecordLine(br, line[:0])
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, errRecordTooLong) {
			return fmt.Errorf("reading line %d: %w", num, rerr)
		}
		bad := func(err error) {
			stats.invalid++
			reportInvalid(errOut, name, num, err)
		}
		switch t := bytes.TrimSpace(line); {
		case errors.Is(rerr, errRecordTooLong):
			stats.records++
			bad(fmt.Errorf("record longer than %d bytes", langgraph.MaxRecordSize))
		case len(t) > 0:
			stats.records++
			rec, err := langgraph.ParseRecord(t)
			if err != nil {
				bad(err)
				break
			}
			n := len(evs)
			var out langgraph.Outcome
			evs, out, err = tr.Translate(evs, &rec, time.Now(), opts)
			if err != nil {
				bad(fmt.Errorf("no execution id: pass --execution-id, or run the graph with a thread_id in its configurable"))
				break
			}
			for _, ev := range evs[n:] {
				if err := audit.FromEvent(ev).Validate(); err != nil {
					evs = evs[:n]
					bad(err)
					break
				}
			}
			stats.events += len(evs) - n
			switch out {
			case langgraph.Filtered:
				stats.filtered++
			case langgraph.Folded:
				stats.folded++
			}
		}
		if submit != nil && (len(evs) >= importGroup || errors.Is(rerr, io.EOF)) && len(evs) > 0 {
			if err := submit(evs); err != nil {
				return err
			}
			evs = nil
		}
		if submit == nil {
			evs = evs[:0]
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
	}
}

var errRecordTooLong = errors.New("record too long")

// readRecordLine appends the next line of br to buf, without its line
// ending. A line over langgraph.MaxRecordSize is consumed and reported as
// errRecordTooLong. At the end it returns the last line and io.EOF.
func readRecordLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong && len(buf)+len(chunk) > langgraph.MaxRecordSize+2 {
			tooLong, buf = true, buf[:0]
		}
		if !tooLong {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			// The next call returns io.EOF at the end of the input.
			return buf, errRecordTooLong
		}
		if err == nil {
			return bytes.TrimSuffix(buf[:len(buf)-1], []byte{'\r'}), nil
		}
		return buf, err
	}
}
