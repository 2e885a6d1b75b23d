package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/wtbdev/wtb/internal/spangen"
)

// otlpIngest posts OTLP protobuf batches of cfg.batch spans from
// cfg.clients clients until cfg.events spans were sent or cfg.duration
// passed. events counts the spans acknowledged (the answer's rejected
// spans left out).
func otlpIngest(ctx context.Context, cfg config, base, run string) ingestResult {
	client := newHTTPClient(cfg.clients)
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(cfg.duration)
	var (
		budget = int64(cfg.events)
		sent   atomic.Int64
		mu     sync.Mutex
		res    ingestResult
		wg     sync.WaitGroup
	)
	start := time.Now()
	for c := range cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := spangen.New(run, c, cfg.batch, cfg.traceDur)
			var lat []time.Duration
			var spans, reqs, fails int
			var firstErr error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if sent.Add(int64(cfg.batch)) > budget {
					break
				}
				body, err := g.Body()
				if err == nil {
					t0 := time.Now()
					var n int
					n, err = postOTLP(ctx, client, base, body, cfg.batch)
					if err == nil {
						lat = append(lat, time.Since(t0))
						reqs++
						spans += n
						continue
					}
				}
				if ctx.Err() != nil {
					break
				}
				fails++
				if firstErr == nil {
					firstErr = err
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.events += spans
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

// postOTLP sends one export request and returns the spans accepted.
func postOTLP(ctx context.Context, client *http.Client, base string, body []byte, spans int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %q", res.StatusCode, b)
	}
	resp := ptraceotlp.NewExportResponse()
	if err := resp.UnmarshalProto(b); err != nil {
		return 0, err
	}
	if r := resp.PartialSuccess().RejectedSpans(); r > 0 {
		return spans - int(r), fmt.Errorf("%d spans rejected: %s", r, resp.PartialSuccess().ErrorMessage())
	}
	return spans, nil
}

// serverCPU reads process_cpu_seconds_total from the server's /metrics:
// the CPU time of a separate wtb serve process (--url).
func serverCPU(ctx context.Context, base string) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		return 0, false
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("process_cpu_seconds_total ")); ok {
			var f float64
			if _, err := fmt.Sscan(string(v), &f); err == nil {
				return f, true
			}
		}
	}
	return 0, false
}

// runOTLPMode measures JSON event ingest and OTLP span ingest against the
// same server, one after the other. With --url it also reports the server
// process's CPU time per event and per span.
func runOTLPMode(ctx context.Context, cfg config, base string, out io.Writer) error {
	cpuOf := func(phase func()) (float64, bool) {
		if cfg.url == "" {
			phase()
			return 0, false
		}
		c0, ok0 := serverCPU(ctx, base)
		phase()
		c1, ok1 := serverCPU(ctx, base)
		return c1 - c0, ok0 && ok1
	}
	jsonCfg := cfg
	jsonCfg.mode, jsonCfg.batch = "ingest", cfg.jsonBatch
	warm := jsonCfg
	warm.events, warm.duration = min(cfg.events, 20*jsonCfg.batch*cfg.clients), 5*time.Second
	ingest(ctx, warm, base, runID())
	var j ingestResult
	jcpu, jok := cpuOf(func() { j = ingest(ctx, jsonCfg, base, runID()) })
	report(out, "ingest (JSON events)", jsonCfg, j)
	if jok && j.events > 0 {
		fmt.Fprintf(out, "ingest (JSON events): server CPU %.1f us per event\n", jcpu*1e6/float64(j.events))
	}

	warm = cfg
	warm.events, warm.duration = min(cfg.events, 20*cfg.batch*cfg.clients), 5*time.Second
	otlpIngest(ctx, warm, base, runID())
	var o ingestResult
	ocpu, ook := cpuOf(func() { o = otlpIngest(ctx, cfg, base, runID()) })
	fmt.Fprintf(out, "otlp (protobuf spans): %d clients x %d spans/request, traces of %s: %d spans (%d traces, %d events) acknowledged durable in %.2fs = %.0f spans/s; latency p50 %s, p99 %s, max %s; %d failed requests\n",
		cfg.clients, cfg.batch, cfg.traceDur, o.events, o.events/spangen.SpansPerTrace, o.events*spangen.EventsPerTrace/spangen.SpansPerTrace, o.elapsed.Seconds(), o.rate(),
		ms(o.quantile(0.50)), ms(o.quantile(0.99)), ms(o.quantile(1)), o.failures)
	if ook && o.events > 0 {
		fmt.Fprintf(out, "otlp (protobuf spans): server CPU %.1f us per span (%.1f per event)\n", ocpu*1e6/float64(o.events), ocpu*1e6/float64(o.events*spangen.EventsPerTrace/spangen.SpansPerTrace))
	}
	if o.firstErr != nil {
		fmt.Fprintf(out, "otlp: first failure: %v\n", o.firstErr)
	}
	if o.requests == 0 || j.requests == 0 {
		return fmt.Errorf("no request succeeded: %v %v", j.firstErr, o.firstErr)
	}
	return nil
}
