package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// catchUpTimeout bounds how long the SSE clients may take, after ingest
// ends, to receive the last entry.
const catchUpTimeout = 2 * time.Minute

// follower is one SSE client following audit:*. It checks that seqs
// strictly increase and keeps their count and an order-sensitive hash.
type follower struct {
	count int64
	seq   int64        // the last seq received, owned by follow
	last  atomic.Int64 // seq, published after every read
	hash  uint64
	err   error
	done  chan struct{}
}

// hashSeq folds seq into an order-sensitive hash of the sequence: FNV-1a
// over the seqs taken as 64-bit words.
func hashSeq(h uint64, seq int64) uint64 {
	const prime = 1099511628211
	return (h ^ uint64(seq)) * prime
}

const fnvOffset = 14695981039346656037

// follow reads the stream over a plain TCP connection, with a large read
// buffer, and hands what it read to scan, so that the client side of the
// benchmark costs little next to the server it measures.
func (f *follower) follow(ctx context.Context, addr string, after int64, until *atomic.Int64, connected func()) {
	defer close(f.done)
	f.hash = fnvOffset
	f.seq = after
	f.last.Store(after)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		connected()
		f.err = err
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_, err = fmt.Fprintf(conn, "GET /v1/stream?topic=audit:*&after=%d HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", after, addr)
	buf := make([]byte, 256<<10)
	n := 0
	// The response header.
	for err == nil {
		var m int
		m, err = conn.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			if !bytes.HasPrefix(buf, []byte("HTTP/1.1 200")) {
				err = fmt.Errorf("answer %q", bytes.SplitN(buf[:n], []byte("\r\n"), 2)[0])
				break
			}
			if bytes.Contains(bytes.ToLower(buf[:i]), []byte("transfer-encoding: chunked")) {
				err = errors.New("chunked stream: this client reads only the raw stream of wtb serve")
				break
			}
			n = copy(buf, buf[i+4:n])
			break
		}
		if n == len(buf) {
			err = errors.New("response header too long")
		}
	}
	connected()
	if err != nil {
		f.err = err
		return
	}
	for {
		used, reached, err := f.scan(buf[:n], until.Load())
		f.last.Store(f.seq)
		if err != nil || reached {
			f.err = err
			return
		}
		n = copy(buf, buf[used:n])
		if n == len(buf) {
			f.err = errors.New("frame longer than the read buffer")
			return
		}
		m, err := conn.Read(buf[n:])
		if err != nil {
			if ctx.Err() == nil {
				f.err = fmt.Errorf("after seq %d: %w", f.seq, err)
			}
			return
		}
		n += m
	}
}

// entryLines follow the id line in an entry frame of wtb serve.
var entryLines = []byte("event: entry\ndata: ")

// maxSeqDigits bounds the digits of an id line (an int64 without overflow).
const maxSeqDigits = 18

// scan reads the complete SSE frames at the start of b and returns the
// number of bytes they take. Every "id: SEQ" frame must carry a seq
// greater than the previous one; it is counted and hashed. An "event:
// error" frame ends the stream with an error; other frames (the hello,
// heartbeats) are skipped. reached reports a seq >= until (when until >
// 0): the follower stops there.
//
// An entry frame is read as its id line, the fixed "event: entry" line and
// one search for the end of its data line (JSON holds no raw newline); any
// other shape falls back to a search for the blank line ending the frame.
func (f *follower) scan(b []byte, until int64) (used int, reached bool, err error) {
	for {
		rest := b[used:]
		if len(rest) > 4 && string(rest[:4]) == "id: " {
			i, seq := 4, int64(0)
			for i < len(rest) && i-4 < maxSeqDigits && rest[i] >= '0' && rest[i] <= '9' {
				seq = seq*10 + int64(rest[i]-'0')
				i++
			}
			if i == len(rest) {
				return used, false, nil // incomplete
			}
			if i == 4 || rest[i] != '\n' || seq <= f.seq {
				line := rest
				if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
					line = line[:nl]
				}
				return used, false, fmt.Errorf("seq %q after %d: out of order or unreadable", line, f.seq)
			}
			i++
			end := -1
			if d := rest[i:]; len(d) >= len(entryLines) && bytes.Equal(d[:len(entryLines)], entryLines) {
				nl := bytes.IndexByte(d[len(entryLines):], '\n')
				if nl < 0 {
					return used, false, nil // incomplete
				}
				k := i + len(entryLines) + nl + 1
				if k == len(rest) {
					return used, false, nil // incomplete
				}
				if rest[k] == '\n' {
					end = k + 1
				}
			}
			if end < 0 {
				e := bytes.Index(rest[i-1:], []byte("\n\n"))
				if e < 0 {
					return used, false, nil // incomplete
				}
				end = i - 1 + e + 2
			}
			used += end
			f.count++
			f.hash = hashSeq(f.hash, seq)
			f.seq = seq
			if until > 0 && seq >= until {
				return used, true, nil
			}
			continue
		}
		e := bytes.Index(rest, []byte("\n\n"))
		if e < 0 {
			return used, false, nil // incomplete
		}
		if bytes.HasPrefix(rest, []byte("event: error")) {
			return used, false, fmt.Errorf("server ended the stream: %s", rest[:e])
		}
		used += e + 2
	}
}

// marker ingests one event of its own execution and returns its seq.
func marker(ctx context.Context, base, run, name string) (int64, error) {
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	g := &gen{run: run + "-" + name}
	if _, _, err := post(ctx, client, base, "application/json", g.batch(1)); err != nil {
		return 0, err
	}
	res, err := client.Get(base + "/v1/audit?execution_id=" + url.QueryEscape("load-"+run+"-"+name+"-0"))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var page struct {
		Entries []struct {
			Seq int64 `json:"seq"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || len(page.Entries) != 1 {
		return 0, fmt.Errorf("marker %s: %d entries, %v", name, len(page.Entries), err)
	}
	return page.Entries[0].Seq, nil
}

// expected reads the seqs after `after` up to `until` from the store and
// returns their count and hash.
func expected(ctx context.Context, base string, after, until int64) (int64, uint64, error) {
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	count, h := int64(0), uint64(fnvOffset)
	cursor := after
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/audit?limit=10000&cursor="+strconv.FormatInt(cursor, 10), nil)
		res, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		var page struct {
			Entries []struct {
				Seq int64 `json:"seq"`
			} `json:"entries"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		for _, e := range page.Entries {
			if e.Seq > until {
				return count, h, nil
			}
			count++
			h = hashSeq(h, e.Seq)
			cursor = e.Seq
		}
		if len(page.Entries) < 10000 {
			return count, h, nil
		}
	}
}

func runSSE(ctx context.Context, cfg config, base string, out io.Writer) error {
	run := runID()
	// Warm-up, then the baseline: ingest at the target rate without clients.
	warm := cfg
	warm.duration = min(cfg.duration, 3*time.Second)
	ingest(ctx, warm, base, runID())
	baseline := ingest(ctx, cfg, base, runID())
	report(out, "without SSE clients", cfg, baseline)

	s0, err := marker(ctx, base, run, "start")
	if err != nil {
		return err
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr := strings.TrimPrefix(base, "http://")
	var until atomic.Int64
	var connected sync.WaitGroup
	followers := make([]*follower, cfg.sseClients)
	sem := make(chan struct{}, 64)
	for i := range followers {
		f := &follower{done: make(chan struct{})}
		followers[i] = f
		connected.Add(1)
		sem <- struct{}{}
		go f.follow(fctx, addr, s0, &until, func() {
			connected.Done()
			<-sem
		})
	}
	connected.Wait()
	fmt.Fprintf(out, "%d SSE clients connected, following audit:* from seq %d\n", cfg.sseClients, s0)

	loaded := ingest(ctx, cfg, base, runID())
	report(out, fmt.Sprintf("with %d SSE clients", cfg.sseClients), cfg, loaded)
	s1, err := marker(ctx, base, run, "end")
	if err != nil {
		return err
	}
	until.Store(s1)
	ingestEnd := time.Now()
	// Wait for every client to reach the end marker (or give up).
	deadline := ingestEnd.Add(catchUpTimeout)
	var slowest time.Duration
	for _, f := range followers {
		for f.last.Load() < s1 && time.Now().Before(deadline) {
			select {
			case <-f.done:
			case <-time.After(time.Millisecond):
			}
			if isDone(f.done) {
				break
			}
		}
		if f.last.Load() >= s1 {
			slowest = max(slowest, time.Since(ingestEnd))
		}
	}
	cancel()
	for _, f := range followers {
		<-f.done
	}
	wantN, wantH, err := expected(ctx, base, s0, s1)
	if err != nil {
		return err
	}
	complete, failed := 0, 0
	var firstErr error
	for _, f := range followers {
		switch {
		case f.last.Load() >= s1 && f.count == wantN && f.hash == wantH:
			complete++
		default:
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("client got %d entries up to seq %d (want %d up to %d), hash match %v, error %v",
					f.count, f.last.Load(), wantN, s1, f.hash == wantH, f.err)
			}
		}
	}
	drop := 100 * (baseline.rate() - loaded.rate()) / baseline.rate()
	fmt.Fprintf(out, "sse: %d of %d clients received all %d entries (seq %d..%d) in order; %d incomplete; last client caught up %s after ingest ended\n",
		complete, cfg.sseClients, wantN, s0+1, s1, failed, ms(slowest))
	fmt.Fprintf(out, "sse: ingest throughput %.0f events/s without clients, %.0f with %d clients: drop %.1f%%; p99 %s -> %s\n",
		baseline.rate(), loaded.rate(), cfg.sseClients, drop, ms(baseline.quantile(0.99)), ms(loaded.quantile(0.99)))
	if failed > 0 {
		return fmt.Errorf("%d SSE clients incomplete: %v", failed, firstErr)
	}
	return nil
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
