package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	ingested      *prometheus.CounterVec
	duplicates    prometheus.Counter
	rejected      *prometheus.CounterVec
	commitLatency prometheus.Histogram
	liveClients   *prometheus.GaugeVec
	disconnects   *prometheus.CounterVec
	failures      *prometheus.CounterVec
	requests      *prometheus.HistogramVec
	inFlight      *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	m := &metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_events_ingested_total",
			Help: "Events recorded through the ingest routes (/v1/events, /v1/langgraph/events, /v1/traces), by wire name (duplicates excluded).",
		}, []string{"event_type"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wtb_events_duplicate_total",
			Help: "Events received through the ingest routes that were already recorded.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_http_requests_rejected_total",
			Help: "Requests answered with an error, by error code.",
		}, []string{"code"}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wtb_recorder_commit_latency_seconds",
			Help:    "Time from queueing the oldest entry of a batch to its commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		liveClients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wtb_live_clients",
			Help: "Connected live stream clients, by transport (sse, ws).",
		}, []string{"transport"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_live_disconnects_total",
			Help: "Live stream clients disconnected by the server, by reason.",
		}, []string{"reason"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wtb_http_handler_failures_total",
			Help: "Handler failures (panics and internal errors), by route.",
		}, []string{"route"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wtb_http_request_duration_seconds",
			Help:    "Duration of non-streaming requests, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wtb_http_requests_in_flight",
		Help: "Non-streaming requests being served, by route.",
	}, []string{"route"})
	reg.MustRegister(m.inFlight, m.ingested, m.duplicates, m.rejected, m.commitLatency,
		m.liveClients, m.disconnects, m.failures, m.requests,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wtb_recorder_queue_depth",
			Help: "Entries queued in the recorder or being written.",
		}, func() float64 { return float64(s.rec.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wtb_recorder_committed_total",
			Help: "Entries committed by the recorder.",
		}, func() float64 { return float64(s.rec.Stats().Committed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "wtb_recorder_failed_total",
			Help: "Entries whose append failed after every retry.",
		}, func() float64 { return float64(s.rec.Stats().Failed) }),
	)
	for _, t := range []string{"sse", "ws"} {
		m.liveClients.WithLabelValues(t)
	}
	return m
}
