package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// spansPerTrace is the size of one generated workflow trace: the workflow,
// four agents (nodes), three model calls and two tool calls.
const spansPerTrace = 10

// spanGen builds OTLP export requests of whole workflow traces under the
// GenAI semantic conventions, with trace ids unique to the run, the client
// and the trace.
type spanGen struct {
	run    uint64
	client int
	n      uint64
	td     ptrace.Traces
	spans  ptrace.SpanSlice
	t0     time.Time // the time the spans' timestamps are relative to
}

func newSpanGen(run string, client, spans int) *spanGen {
	var h uint64
	for _, c := range run {
		h = h*131 + uint64(c)
	}
	g := &spanGen{run: h, client: client, td: ptrace.NewTraces()}
	rs := g.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "wtbload")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("wtbload")
	g.spans = ss.Spans()
	t0 := time.Now().Add(-time.Duration(spans/spansPerTrace) * 100 * time.Millisecond)
	g.t0 = t0
	ts := func(ms int) pcommon.Timestamp {
		return pcommon.NewTimestampFromTime(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	op := func(sp ptrace.Span, name string) { sp.Attributes().PutStr("gen_ai.operation.name", name) }
	for i := 0; i < spans; i++ {
		k := i % spansPerTrace
		sp := g.spans.AppendEmpty()
		sp.SetSpanID(pcommon.SpanID{byte(k + 1), 1, 2, 3, 4, 5, 6, 7})
		base := (i / spansPerTrace) * 100
		switch {
		case k == spansPerTrace-1: // the workflow ends last
			sp.SetName("invoke_workflow load")
			op(sp, "invoke_workflow")
			sp.Attributes().PutStr("gen_ai.workflow.name", "load")
			sp.SetStartTimestamp(ts(base))
			sp.SetEndTimestamp(ts(base + 90))
		case k%3 == 0: // agents 0, 3, 6 and 8 below
			fallthrough
		case k == 8:
			sp.SetName("invoke_agent agent")
			op(sp, "invoke_agent")
			sp.Attributes().PutStr("gen_ai.agent.name", fmt.Sprintf("agent-%d", k))
			sp.SetParentSpanID(pcommon.SpanID{spansPerTrace, 1, 2, 3, 4, 5, 6, 7})
			sp.SetStartTimestamp(ts(base + k*10))
			sp.SetEndTimestamp(ts(base + k*10 + 9))
		case k == 1 || k == 4 || k == 7:
			sp.SetName("chat gpt-4o")
			op(sp, "chat")
			sp.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
			sp.Attributes().PutInt("gen_ai.usage.input_tokens", 512)
			sp.Attributes().PutInt("gen_ai.usage.output_tokens", 64)
			sp.SetParentSpanID(pcommon.SpanID{byte(k), 1, 2, 3, 4, 5, 6, 7})
			sp.SetStartTimestamp(ts(base + k*10 - 9))
			sp.SetEndTimestamp(ts(base + k*10 - 5))
		default:
			sp.SetName("execute_tool search")
			op(sp, "execute_tool")
			sp.Attributes().PutStr("gen_ai.tool.name", "search")
			sp.SetParentSpanID(pcommon.SpanID{byte(k - 1), 1, 2, 3, 4, 5, 6, 7})
			sp.SetStartTimestamp(ts(base + k*10 - 4))
			sp.SetEndTimestamp(ts(base + k*10 - 1))
		}
		sp.Status().SetCode(ptrace.StatusCodeOk)
	}
	return g
}

// body gives the request's spans fresh trace ids and times (the traces
// of a request end now, as an exporter's batch does) and returns the
// encoded ExportTraceServiceRequest.
func (g *spanGen) body() ([]byte, error) {
	var tid pcommon.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.run)
	shift := time.Since(g.t0)
	g.t0 = g.t0.Add(shift)
	for i := 0; i < g.spans.Len(); i++ {
		if i%spansPerTrace == 0 {
			g.n++
			binary.BigEndian.PutUint32(tid[8:12], uint32(g.client))
			binary.BigEndian.PutUint32(tid[12:], uint32(g.n))
		}
		sp := g.spans.At(i)
		sp.SetTraceID(tid)
		sp.SetStartTimestamp(sp.StartTimestamp() + pcommon.Timestamp(shift))
		sp.SetEndTimestamp(sp.EndTimestamp() + pcommon.Timestamp(shift))
	}
	return ptraceotlp.NewExportRequestFromTraces(g.td).MarshalProto()
}

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
			g := newSpanGen(run, c, cfg.batch)
			var lat []time.Duration
			var spans, reqs, fails int
			var firstErr error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if sent.Add(int64(cfg.batch)) > budget {
					break
				}
				body, err := g.body()
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

// runOTLPMode measures JSON event ingest and OTLP span ingest against the
// same server, one after the other.
func runOTLPMode(ctx context.Context, cfg config, base string, out io.Writer) error {
	jsonCfg := cfg
	jsonCfg.mode, jsonCfg.batch = "ingest", cfg.jsonBatch
	warm := jsonCfg
	warm.events, warm.duration = min(cfg.events, 20*jsonCfg.batch*cfg.clients), 5*time.Second
	ingest(ctx, warm, base, runID())
	j := ingest(ctx, jsonCfg, base, runID())
	report(out, "ingest (JSON events)", jsonCfg, j)

	warm = cfg
	warm.events, warm.duration = min(cfg.events, 20*cfg.batch*cfg.clients), 5*time.Second
	otlpIngest(ctx, warm, base, runID())
	o := otlpIngest(ctx, cfg, base, runID())
	fmt.Fprintf(out, "otlp (protobuf spans): %d clients x %d spans/request: %d spans (%d traces, about %d events) acknowledged durable in %.2fs = %.0f spans/s; latency p50 %s, p99 %s, max %s; %d failed requests\n",
		cfg.clients, cfg.batch, o.events, o.events/spansPerTrace, o.events*3/2, o.elapsed.Seconds(), o.rate(),
		ms(o.quantile(0.50)), ms(o.quantile(0.99)), ms(o.quantile(1)), o.failures)
	if o.firstErr != nil {
		fmt.Fprintf(out, "otlp: first failure: %v\n", o.firstErr)
	}
	if o.requests == 0 || j.requests == 0 {
		return fmt.Errorf("no request succeeded: %v %v", j.firstErr, o.firstErr)
	}
	return nil
}
