package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wtbdev/wtb/audit"
)

// Environment variables of audit tail, read when the matching flag is not
// given.
const (
	envServer    = "WTB_SERVER"
	envToken     = "WTB_TOKEN"
	envTokenFile = "WTB_TOKEN_FILE"
)

// Limits of audit tail.
const (
	// tailDefaultLines is how many recorded entries tail prints before
	// following, unless --lines or --after says otherwise.
	tailDefaultLines = 10
	// tailMaxLines bounds --lines: the entries are held in memory.
	tailMaxLines = audit.MaxLimit
	// tailPage is the number of entries read per query or API call.
	tailPage = 1000
	// tailDefaultPoll is how often --follow reads a database for new
	// entries; tailMinPoll and tailMaxPoll bound --poll.
	tailDefaultPoll = 250 * time.Millisecond
	tailMinPoll     = 10 * time.Millisecond
	tailMaxPoll     = time.Minute
	// tailRetryMax bounds the wait between attempts to reach a server or a
	// database again while following.
	tailRetryMax = 5 * time.Second
	// tailRequestTimeout bounds one API call, and the wait for the headers
	// of a stream.
	tailRequestTimeout = 30 * time.Second
	// tailIdleTimeout is how long a stream may stay silent (the server sends
	// a heartbeat every 15 s by default) before tail reconnects.
	tailIdleTimeout = 60 * time.Second
	// tailMaxTokenFile bounds the size of --token-file.
	tailMaxTokenFile = 64 << 10
	// tailMaxFrame bounds one line of a stream (an entry's JSON).
	tailMaxFrame = 4 << 20
)

// auditTailFlags are the flags of audit tail.
var auditTailFlags struct {
	execution string
	follow    bool
	lines     int
	after     int64
	json      bool
	server    string
	tokenFile string
	poll      time.Duration
}

var auditTailCmd = &cobra.Command{
	Use:   "tail [--execution ID] [--follow] [--server URL | --db PATH | --store URL]",
	Short: "Print the last entries and, with --follow, every entry as it is recorded",
	Long: `Print the last 10 entries (--lines N) of the audit trail, or of one execution
with --execution, oldest first; with --follow (-f), keep printing entries as
they are recorded, in seq order, each once, until interrupted (Ctrl-C).
--after SEQ prints every entry after that seq instead of the last ones (a
script that saved the last seq it saw resumes there).

Each entry is one line: its seq, its time (UTC, or the local zone with
--local), its execution (without --execution), then as in the timeline an
icon, the message, the node and the duration, and the error on a second
line; --json prints the entries as audit export does, one JSON object per
line.

Entries come from a database (--db PATH or --store URL, as for the other
commands; read only) or from a running wtb serve (--server URL, env
` + envServer + `). Following a database reads it by seq every --poll (default
250ms; a PostgreSQL store also wakes tail on every commit). Following a
server reads its live stream (GET /v1/stream); when the connection is lost or
the server restarts, tail reconnects (waiting up to 5s between attempts) and
resumes after the last seq it printed, so no entry is missed or printed
twice; notices about the connection go to standard error.

A server that requires tokens gets the token from the file --token-file
(env ` + envTokenFile + `) or from the environment variable ` + envToken + `: never on
the command line, where other users see it, and never printed.

Limits: --lines at most ` + strconv.Itoa(tailMaxLines) + `; --poll from 10ms to 1m; a stream silent for 60s
is reconnected; API calls time out after 30s.`,
	Args: argsExactly(0, ""),
	RunE: runAuditTail,
}

func init() {
	f := auditTailCmd.Flags()
	f.StringVar(&auditTailFlags.execution, "execution", "", "only this execution's entries")
	f.BoolVarP(&auditTailFlags.follow, "follow", "f", false, "keep printing entries as they are recorded, until interrupted")
	f.IntVarP(&auditTailFlags.lines, "lines", "n", tailDefaultLines, "print this many of the last recorded entries first (0: none)")
	f.Int64Var(&auditTailFlags.after, "after", 0, "print every entry after this seq instead of the last --lines")
	f.BoolVar(&auditTailFlags.json, "json", false, "print entries as JSON lines (as audit export does)")
	f.StringVar(&auditTailFlags.server, "server", "", "read from this wtb serve, http://HOST:PORT (env "+envServer+")")
	f.StringVar(&auditTailFlags.tokenFile, "token-file", "", "file holding the server's bearer token (env "+envTokenFile+"; or the token itself in "+envToken+")")
	f.DurationVar(&auditTailFlags.poll, "poll", tailDefaultPoll, "with --follow on a database, how often to read new entries")
	auditCmd.AddCommand(auditTailCmd)
}

// tailSource is where tail reads entries: a store or a server.
type tailSource interface {
	// read returns up to limit entries after seq after, in seq order, of
	// the execution (all entries when it is "").
	read(ctx context.Context, execution string, after int64, limit int) ([]audit.Entry, error)
	// lastOf returns the last seq of an execution and whether it has
	// entries.
	lastOf(ctx context.Context, execution string) (int64, bool, error)
	// follow gives out every entry of the execution after seq after, in
	// seq order, as they are recorded, until ctx ends or out fails.
	follow(ctx context.Context, execution string, after int64, out tailSink) error
}

// tailSink takes the entries a source follows.
type tailSink interface {
	// emit takes an entry; one at or before the last seq taken is dropped.
	emit(audit.Entry) error
	// flush writes out what emit took.
	flush() error
}

func runAuditTail(cmd *cobra.Command, _ []string) error {
	fl := &auditTailFlags
	f := cmd.Flags()
	if !f.Changed("server") {
		fl.server = os.Getenv(envServer)
	}
	afterGiven := f.Changed("after")
	switch {
	case fl.lines < 0 || fl.lines > tailMaxLines:
		return usagef("--lines %d: want 0 to %d", fl.lines, tailMaxLines)
	case fl.after < 0:
		return usagef("--after %d: want a seq (0 or more)", fl.after)
	case afterGiven && f.Changed("lines"):
		return usagef("--after and --lines both given; use one")
	case fl.poll < tailMinPoll || fl.poll > tailMaxPoll:
		return usagef("--poll %s: want %s to %s", fl.poll, tailMinPoll, tailMaxPoll)
	}
	serverFlag := f.Changed("server")
	storeFlag := globalStore.changed("db") || globalStore.changed("store")
	if serverFlag && storeFlag {
		return usagef("--server and --db/--store both given; use one")
	}
	var src tailSource
	if fl.server != "" && !storeFlag {
		s, err := newTailServer(fl.server, f.Changed("token-file"), fl.tokenFile)
		if err != nil {
			return err
		}
		s.stderr = cmd.ErrOrStderr()
		src = s
	} else {
		if f.Changed("token-file") {
			return usagef("--token-file applies to --server only")
		}
		st, err := openStoreForReading(cmd.Context(), globalStore)
		if err != nil {
			return err
		}
		defer st.Close()
		src = &tailStore{st: st, poll: fl.poll, stderr: cmd.ErrOrStderr()}
	}
	w := bufio.NewWriter(cmd.OutOrStdout())
	p := &tailPrinter{w: w, json: fl.json, execution: fl.execution, loc: displayLocation()}
	return tail(cmd.Context(), src, p, fl.execution, fl.lines, afterGiven, fl.after, fl.follow)
}

// tail prints the entries tail was asked for (see auditTailCmd).
func tail(ctx context.Context, src tailSource, p *tailPrinter, execution string, lines int, afterGiven bool, after int64, follow bool) error {
	if !afterGiven {
		last, ok, err := src.lastOf(ctx, execution)
		if err != nil {
			return err
		}
		if !ok && execution != "" && !follow {
			return fmt.Errorf("execution %q not found", execution)
		}
		entries, err := lastEntries(ctx, src, execution, last, lines)
		if err != nil {
			return err
		}
		for i := range entries {
			if err := p.print(entries[i]); err != nil {
				return err
			}
		}
		if err := p.flush(); err != nil {
			return err
		}
		after = last
	} else if !follow {
		// Everything after the seq, up to the end as it is now.
		for {
			page, err := src.read(ctx, execution, after, tailPage)
			if err != nil {
				return err
			}
			for i := range page {
				if err := p.print(page[i]); err != nil {
					return err
				}
			}
			if err := p.flush(); err != nil {
				return err
			}
			if len(page) < tailPage {
				return nil
			}
			after = page[len(page)-1].Seq
		}
	}
	if !follow {
		return nil
	}
	p.last = after
	return src.follow(ctx, execution, after, p)
}

// lastEntries returns the last n entries of the execution (of all entries
// when it is "") whose seq is at most last. It reads windows of seqs before
// last, each four times wider than the one before, until one holds n
// entries or reaches the start: one query when entries are dense.
func lastEntries(ctx context.Context, src tailSource, execution string, last int64, n int) ([]audit.Entry, error) {
	if n == 0 || last == 0 {
		return nil, nil
	}
	for width := int64(n); ; width *= 4 {
		from := max(last-width, 0)
		var ring []audit.Entry
		after := from
	window:
		for {
			page, err := src.read(ctx, execution, after, tailPage)
			if err != nil {
				return nil, err
			}
			for _, e := range page {
				if e.Seq > last {
					break window
				}
				ring = append(ring, e)
				if len(ring) > 2*n {
					ring = append(ring[:0], ring[len(ring)-n:]...)
				}
			}
			if len(page) < tailPage {
				break
			}
			after = page[len(page)-1].Seq
		}
		if len(ring) >= n || from == 0 || width > last {
			return ring[max(len(ring)-n, 0):], nil
		}
	}
}

// lastSeqBySearch finds the last seq of the execution (of all entries when
// it is "") with reads of one entry: doubling steps past the first entry,
// then a binary search (about two reads per bit of the seq).
func lastSeqBySearch(ctx context.Context, src tailSource, execution string) (int64, bool, error) {
	first := func(after int64) (int64, bool, error) {
		page, err := src.read(ctx, execution, after, 1)
		if err != nil || len(page) == 0 {
			return 0, false, err
		}
		return page[0].Seq, true, nil
	}
	lo, ok, err := first(0)
	if err != nil || !ok {
		return 0, false, err
	}
	// lo is a seq that exists; no entry lies after hi.
	var hi int64
	for step := int64(1024); ; step *= 2 {
		s, ok, err := first(lo + step)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			hi = lo + step
			break
		}
		lo = s
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		s, ok, err := first(mid)
		if err != nil {
			return 0, false, err
		}
		if ok {
			lo = s
		} else {
			hi = mid
		}
	}
	return lo, true, nil
}

// tailPrinter writes entries as text or JSON lines.
type tailPrinter struct {
	w         *bufio.Writer
	json      bool
	execution string // tail of one execution: no execution column
	last      int64  // the last seq printed while following
	loc       *time.Location
	buf       []byte
}

// appendTailLine appends the text line of an entry: seq, time with its
// date and zone, execution (when withExec), then the timeline's icon,
// message, node and duration, and the error on a second line.
func appendTailLine(b []byte, e *audit.Entry, withExec bool, loc *time.Location) []byte {
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, ' ')
	b = e.Timestamp.In(loc).AppendFormat(b, "2006-01-02 15:04:05.000Z07:00")
	if withExec {
		b = append(b, ' ')
		b = append(b, dash(e.ExecutionID)...)
	}
	b = append(b, ' ')
	b = append(b, e.Severity.Icon()...)
	b = append(b, ' ')
	b = append(b, e.Message...)
	if e.NodeID != "" {
		b = append(b, " (node: "...)
		b = append(b, e.NodeID...)
		b = append(b, ')')
	}
	if e.DurationMS != nil && *e.DurationMS != 0 {
		b = append(b, " ["...)
		b = strconv.AppendFloat(b, *e.DurationMS, 'f', 1, 64)
		b = append(b, "ms]"...)
	}
	if e.Error != "" {
		b = append(b, "\n    Error: "...)
		b = append(b, e.Error...)
	}
	return b
}

func (p *tailPrinter) print(e audit.Entry) error {
	if p.json {
		b, err := e.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encoding entry %d: %w", e.Seq, err)
		}
		p.w.Write(b)
	} else {
		p.buf = appendTailLine(p.buf[:0], &e, p.execution == "", p.loc)
		p.w.Write(p.buf)
	}
	if err := p.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// emit prints an entry after the last one printed; an entry at or before
// it (a repeat after a resume) is dropped.
func (p *tailPrinter) emit(e audit.Entry) error {
	if e.Seq <= p.last {
		return nil
	}
	if err := p.print(e); err != nil {
		return err
	}
	p.last = e.Seq
	return nil
}

func (p *tailPrinter) flush() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// tailStore reads a store; following polls it by seq.
type tailStore struct {
	st     audit.Store
	poll   time.Duration
	stderr io.Writer
}

func (s *tailStore) read(ctx context.Context, execution string, after int64, limit int) ([]audit.Entry, error) {
	page, err := s.st.Query(ctx, audit.Filter{ExecutionID: execution, After: after, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("reading entries: %w", err)
	}
	return page, nil
}

func (s *tailStore) lastOf(ctx context.Context, execution string) (int64, bool, error) {
	if execution != "" {
		sum, err := s.st.Summary(ctx, execution)
		if errors.Is(err, audit.ErrNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("reading summary of %q: %w", execution, err)
		}
		return sum.LastSeq, true, nil
	}
	if w, ok := s.st.(audit.Watcher); ok {
		last, err := w.LastSeq(ctx)
		if err != nil {
			return 0, false, fmt.Errorf("reading the last seq: %w", err)
		}
		return last, last > 0, nil
	}
	return lastSeqBySearch(ctx, s, "")
}

// follow reads the entries after the last one it emitted every poll
// interval, and at once when a watching store reports a commit. A failed
// read is reported on stderr and retried.
func (s *tailStore) follow(ctx context.Context, execution string, after int64, out tailSink) error {
	wake := make(chan struct{}, 1)
	if w, ok := s.st.(audit.Watcher); ok {
		go watchStore(ctx, w, wake)
	}
	tick := time.NewTimer(0)
	defer tick.Stop()
	var failing error
	retry := tailMinPoll
	for {
		page, err := s.read(ctx, execution, after, tailPage)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if failing == nil || failing.Error() != err.Error() {
				fmt.Fprintf(s.stderr, "wtb: %s; retrying\n", userMessage(err))
			}
			failing = err
			retry = min(max(2*retry, s.poll), tailRetryMax)
			if !sleepCtx(ctx, retry) {
				return ctx.Err()
			}
			continue
		case failing != nil:
			fmt.Fprintf(s.stderr, "wtb: reading again after seq %d\n", after)
			failing, retry = nil, tailMinPoll
		}
		for i := range page {
			if err := out.emit(page[i]); err != nil {
				return err
			}
		}
		if len(page) > 0 {
			after = page[len(page)-1].Seq
		}
		if err := out.flush(); err != nil {
			return err
		}
		if len(page) == tailPage {
			continue
		}
		tick.Reset(s.poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-wake:
		}
	}
}

// watchStore turns a watching store's wake-ups into sends on wake, and
// watches again after a failure.
func watchStore(ctx context.Context, w audit.Watcher, wake chan<- struct{}) {
	kick := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		_ = w.Watch(ctx, kick)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

// sleepCtx waits d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tailServer reads a wtb serve through its HTTP API.
type tailServer struct {
	base   *url.URL
	token  string
	client *http.Client // API calls, with a timeout
	stream *http.Client // streams: no overall timeout
	stderr io.Writer
}

// newTailServer checks the server URL and reads the token.
func newTailServer(raw string, tokenFileGiven bool, tokenFile string) (*tailServer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("--server %q: want http://HOST:PORT or https://HOST:PORT (the address wtb serve prints)", raw)
	}
	if u.User != nil {
		return nil, usagef("--server: a URL with credentials; give the token with --token-file or %s", envToken)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	envTok := strings.TrimSpace(os.Getenv(envToken))
	if !tokenFileGiven {
		tokenFile = os.Getenv(envTokenFile)
		if tokenFile != "" && envTok != "" {
			return nil, usagef("%s and %s are both set; unset one", envToken, envTokenFile)
		}
	}
	token := envTok
	if tokenFile != "" {
		if token, err = readTokenFile(tokenFile); err != nil {
			return nil, err
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: tailRequestTimeout,
		MaxIdleConnsPerHost:   2,
	}
	return &tailServer{
		base:   u,
		token:  token,
		client: &http.Client{Transport: transport, Timeout: tailRequestTimeout},
		stream: &http.Client{Transport: transport},
	}, nil
}

// readTokenFile reads a bearer token from a file: its first line, trimmed.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, tailMaxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	if len(b) > tailMaxTokenFile {
		return "", fmt.Errorf("token file %s: larger than %d bytes", path, tailMaxTokenFile)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("token file %s: empty", path)
	}
	return line, nil
}

// endpoint is the URL of an API path with a query.
func (s *tailServer) endpoint(path string, q url.Values) string {
	u := *s.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *tailServer) request(ctx context.Context, target string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	return req, nil
}

// tailAPIError is an error answer of the server.
type tailAPIError struct {
	status  int
	code    string
	message string
	retry   time.Duration // Retry-After, when given
}

func (e *tailAPIError) Error() string {
	msg := e.message
	if msg == "" {
		msg = http.StatusText(e.status)
	}
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("the server refused the request (%d): %s (the token comes from --token-file, %s or %s)", e.status, msg, envTokenFile, envToken)
	}
	return fmt.Sprintf("the server answered %d: %s", e.status, msg)
}

// permanent reports whether asking again cannot help.
func (e *tailAPIError) permanent() bool {
	return e.status != http.StatusTooManyRequests && e.status < 500
}

// answerError reads an error answer.
func answerError(res *http.Response) *tailAPIError {
	e := &tailAPIError{status: res.StatusCode}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10)); err == nil && json.Unmarshal(b, &body) == nil {
		e.code, e.message = body.Error.Code, body.Error.Message
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		e.retry = time.Duration(s) * time.Second
	}
	return e
}

// get calls an API path and decodes its JSON answer into out.
func (s *tailServer) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := s.request(ctx, s.endpoint(path, q))
	if err != nil {
		return err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("reaching %s: %w", s.base.Redacted(), unwrapURLError(err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return answerError(res)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", path, err)
	}
	return nil
}

// unwrapURLError drops the method and URL net/http puts in front of a
// transport error: the message names the server once.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (s *tailServer) read(ctx context.Context, execution string, after int64, limit int) ([]audit.Entry, error) {
	q := url.Values{"cursor": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(limit)}}
	if execution != "" {
		q.Set("execution_id", execution)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if err := s.get(ctx, "/v1/audit", q, &page); err != nil {
		return nil, err
	}
	return page.Entries, nil
}

func (s *tailServer) lastOf(ctx context.Context, execution string) (int64, bool, error) {
	if execution == "" {
		return lastSeqBySearch(ctx, s, "")
	}
	var sum audit.Summary
	err := s.get(ctx, "/v1/executions/"+url.PathEscape(execution)+"/summary", nil, &sum)
	var ae *tailAPIError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return sum.LastSeq, true, nil
}

// follow reads the server's live stream of the execution (every entry when
// it is ""), resuming after the last entry taken whenever the stream ends:
// a lost connection, a restarted server, a stream the server closed.
func (s *tailServer) follow(ctx context.Context, execution string, after int64, out tailSink) error {
	topic := "audit:*"
	if execution != "" {
		topic = "execution:" + execution
	}
	target := s.endpoint("/v1/stream", url.Values{"topic": {topic}})
	last := after
	wait := time.Duration(0)
	var lost error // the reason of the current outage, nil while connected
	for {
		if wait > 0 && !sleepCtx(ctx, wait) {
			return ctx.Err()
		}
		connected, err := s.streamOnce(ctx, target, &last, out, func() {
			if lost != nil {
				fmt.Fprintf(s.stderr, "wtb: reconnected to %s; resuming after seq %d\n", s.base.Redacted(), last)
				lost = nil
			}
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var oe *outputError
		if errors.As(err, &oe) {
			return oe.err
		}
		var ae *tailAPIError
		if errors.As(err, &ae) && ae.permanent() {
			return err
		}
		if connected {
			wait = 0
		}
		wait = min(max(2*wait, 100*time.Millisecond), tailRetryMax)
		if ae != nil && ae.retry > 0 {
			wait = max(wait, ae.retry)
		}
		if lost == nil {
			lost = err
			fmt.Fprintf(s.stderr, "wtb: stream of %s ended (%s); reconnecting after seq %d\n", s.base.Redacted(), userMessage(err), last)
		}
	}
}

// outputError is a failure to write the output: following stops.
type outputError struct{ err error }

func (e *outputError) Error() string { return e.err.Error() }

// streamOnce reads one connection of the live stream, after *last, giving
// entries to out and advancing *last; connected is called once the server
// has answered, and the first result reports whether it did. It returns
// the reason the stream ended.
func (s *tailServer) streamOnce(ctx context.Context, target string, last *int64, out tailSink, connected func()) (bool, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := s.request(sctx, target)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(*last, 10))
	res, err := s.stream.Do(req)
	if err != nil {
		return false, fmt.Errorf("reaching %s: %w", s.base.Redacted(), unwrapURLError(err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, answerError(res)
	}
	connected()
	// A silent stream (no entry, no heartbeat) is dropped and resumed.
	idle := time.AfterFunc(tailIdleTimeout, cancel)
	defer idle.Stop()
	br := bufio.NewReaderSize(res.Body, 64<<10)
	var kind string
	var data []byte
	for {
		line, err := readLine(br, tailMaxFrame)
		if err != nil {
			if ferr := out.flush(); ferr != nil {
				return true, &outputError{ferr}
			}
			switch {
			case sctx.Err() != nil && ctx.Err() == nil:
				return true, fmt.Errorf("no data for %s", tailIdleTimeout)
			case errors.Is(err, io.EOF):
				return true, errors.New("the server closed the stream")
			}
			return true, fmt.Errorf("reading the stream: %w", err)
		}
		idle.Reset(tailIdleTimeout)
		switch {
		case len(line) == 0:
			err := s.dispatch(kind, data, last, out)
			kind, data = "", data[:0]
			if err != nil {
				return true, err
			}
			// Write out at the end of each burst.
			if br.Buffered() == 0 {
				if err := out.flush(); err != nil {
					return true, &outputError{err}
				}
			}
		case line[0] == ':':
			// A comment: the greeting or a heartbeat.
		case strings.HasPrefix(string(line), "event:"):
			kind = strings.TrimSpace(string(line[len("event:"):]))
		case strings.HasPrefix(string(line), "data:"):
			v := line[len("data:"):]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, v...)
		}
	}
}

// readLine reads one line of a stream without its line ending; a line
// longer than limit is an error.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long)+len(chunk) > limit {
				return nil, fmt.Errorf("a line of the stream is longer than %d bytes", limit)
			}
			long = append(long, chunk...)
			continue
		}
		if err != nil {
			return nil, err
		}
		if long != nil {
			chunk = append(long, chunk...)
		}
		chunk = chunk[:len(chunk)-1]
		if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
			chunk = chunk[:n-1]
		}
		return chunk, nil
	}
}

// dispatch handles one event of the stream.
func (s *tailServer) dispatch(kind string, data []byte, last *int64, out tailSink) error {
	switch kind {
	case "entry", "":
		if len(data) == 0 {
			return nil
		}
		var e audit.Entry
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("an entry of the stream: %w", err)
		}
		if err := out.emit(e); err != nil {
			return &outputError{err}
		}
		*last = max(*last, e.Seq)
		return nil
	case "error":
		var end struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &end)
		return fmt.Errorf("the server ended the stream: %s", strings.TrimSpace(end.Code+" "+end.Message))
	}
	return nil
}
