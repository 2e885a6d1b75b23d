package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// gen writes events in the wire format from a template, with ids unique to
// the run, the client and the event.
type gen struct {
	run    string
	client int
	n      int64
	buf    bytes.Buffer
}

// batch renders n NodeCompletedEvents: a JSON object for n == 1, an array
// otherwise.
func (g *gen) batch(n int) []byte {
	g.buf.Reset()
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	if n > 1 {
		g.buf.WriteByte('[')
	}
	var num [20]byte
	for i := range n {
		if i > 0 {
			g.buf.WriteByte(',')
		}
		g.n++
		g.buf.WriteString(`{"event_type":"NodeCompletedEvent","event_id":"`)
		g.buf.WriteString(g.run)
		g.buf.WriteByte('-')
		g.buf.Write(strconv.AppendInt(num[:0], int64(g.client), 10))
		g.buf.WriteByte('-')
		g.buf.Write(strconv.AppendInt(num[:0], g.n, 10))
		g.buf.WriteString(`","timestamp":"`)
		g.buf.WriteString(ts)
		g.buf.WriteString(`","execution_id":"load-`)
		g.buf.WriteString(g.run)
		g.buf.WriteByte('-')
		g.buf.Write(strconv.AppendInt(num[:0], int64(g.client), 10))
		g.buf.WriteString(`","node_id":"node-`)
		g.buf.Write(strconv.AppendInt(num[:0], g.n%8, 10))
		g.buf.WriteString(`","node_name":"generate","duration_ms":12.5,"tool_invocations":1}`)
	}
	if n > 1 {
		g.buf.WriteByte(']')
	}
	return g.buf.Bytes()
}

// runID is unique per run, so that runs into one database never collide.
func runID() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36)
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns + 16,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// ingestResult is what one ingest phase achieved.
type ingestResult struct {
	events, duplicates, requests, failures int
	elapsed                                time.Duration
	latencies                              []time.Duration
	firstErr                               error
}

func (r ingestResult) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

func (r ingestResult) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
}

// ingest posts batches from cfg.clients clients until cfg.events events
// were sent or cfg.duration passed, at cfg.rate events/s in total (0: as
// fast as answered).
func ingest(ctx context.Context, cfg config, base, run string) ingestResult {
	client := newHTTPClient(cfg.clients)
	defer client.CloseIdleConnections()
	// New requests stop at the deadline; those in flight finish.
	deadline := time.Now().Add(cfg.duration)
	var (
		budget = int64(cfg.events)
		sent   atomic.Int64
		mu     sync.Mutex
		res    ingestResult
		wg     sync.WaitGroup
	)
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.batch) * float64(cfg.clients) / cfg.rate)
	}
	contentType := "application/json"
	start := time.Now()
	for c := range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &gen{run: run, client: c}
			var lat []time.Duration
			var events, dups, reqs, fails int
			var firstErr error
			// Stagger paced clients over one interval.
			next := start.Add(interval * time.Duration(c) / time.Duration(cfg.clients))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := int64(cfg.batch)
				if sent.Add(n) > budget {
					break
				}
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						if next.After(deadline) {
							break
						}
						select {
						case <-time.After(d):
						case <-ctx.Done():
						}
						if ctx.Err() != nil {
							break
						}
					}
					next = next.Add(interval)
				}
				body := g.batch(cfg.batch)
				t0 := time.Now()
				acc, dup, err := post(ctx, client, base, contentType, body)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					fails++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
				reqs++
				events += acc
				dups += dup
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.events += events
			res.duplicates += dups
			res.requests += reqs
			res.failures += fails
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func post(ctx context.Context, client *http.Client, base, contentType string, body []byte) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", contentType)
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode != 200 {
		return 0, 0, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	var out struct{ Accepted, Duplicates int }
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, 0, err
	}
	return out.Accepted, out.Duplicates, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 1, 64) + " ms" }

func report(out io.Writer, label string, cfg config, r ingestResult) {
	unit := "events"
	if cfg.batch == 1 {
		unit = "requests"
	}
	n := r.events
	if cfg.batch == 1 {
		n = r.requests
	}
	fmt.Fprintf(out, "%s: %d clients x %d events/request: %d %s acknowledged durable in %.2fs = %.0f %s/s; latency p50 %s, p99 %s, max %s; %d duplicates, %d failed requests\n",
		label, cfg.clients, cfg.batch, n, unit, r.elapsed.Seconds(), float64(n)/r.elapsed.Seconds(), unit,
		ms(r.quantile(0.50)), ms(r.quantile(0.99)), ms(r.quantile(1)), r.duplicates, r.failures)
	if r.firstErr != nil {
		fmt.Fprintf(out, "%s: first failure: %v\n", label, r.firstErr)
	}
}

func runIngestMode(ctx context.Context, cfg config, base string, out io.Writer) error {
	// A short warm-up: connections, SQLite pages, the Go runtime.
	warm := cfg
	warm.events, warm.duration = min(cfg.events, 20*cfg.batch*cfg.clients), 5*time.Second
	ingest(ctx, warm, base, runID())
	r := ingest(ctx, cfg, base, runID())
	report(out, cfg.mode, cfg, r)
	if r.requests == 0 {
		return fmt.Errorf("no request succeeded: %v", r.firstErr)
	}
	return nil
}
