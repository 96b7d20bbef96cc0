// Package metrics holds the portal's Prometheus metrics: request latency
// and partner API calls by action and outcome.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry and the portal's collectors in it.
type Metrics struct {
	registry    *prometheus.Registry
	httpLatency *prometheus.HistogramVec
	apiCalls    *prometheus.CounterVec
	apiLatency  *prometheus.HistogramVec
}

// New returns a registry with the Go runtime, process and portal collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_partner_api_calls_total",
			Help: "Partner API call attempts, by action and outcome (ok, an error code, transport, unknown, cancelled).",
		}, []string{"action", "outcome"}),
		apiLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_partner_api_call_duration_seconds",
			Help:    "Time of partner API call attempts, after waiting for the rate limiter, by action.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"action"}),
	}
	m.registry.MustRegister(m.httpLatency, m.apiCalls, m.apiLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveHTTP records one answered request.
func (m *Metrics) ObserveHTTP(route, method string, status int, took time.Duration) {
	m.httpLatency.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// ObserveAPI records one partner API attempt; it fits partnerapi.Config.Observe.
func (m *Metrics) ObserveAPI(action, outcome string, took time.Duration) {
	m.apiCalls.WithLabelValues(action, outcome).Inc()
	if outcome != "cancelled" {
		m.apiLatency.WithLabelValues(action).Observe(took.Seconds())
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
