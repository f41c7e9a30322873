package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the dialer's gauges, counters and histograms. Its methods are
// safe for concurrent use; it satisfies dialer.Observer.
type Metrics struct {
	reg         *prometheus.Registry
	queueDepth  prometheus.Gauge
	activeCalls prometheus.Gauge
	freeSlots   prometheus.Gauge
	calls       *prometheus.CounterVec
	steps       *prometheus.HistogramVec
}

// New builds the metrics on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "dialflow", Name: "queue_depth", Help: "Destinations waiting to be dialed.",
		}),
		activeCalls: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "dialflow", Name: "active_calls", Help: "Calls in flight, dialing included.",
		}),
		freeSlots: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "dialflow", Name: "free_slots", Help: "Trunk slots free: capacity - externalBusy - active.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dialflow", Name: "calls_total", Help: "Call attempts that ended, by call_status.",
		}, []string{"outcome"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dialflow", Name: "step_duration_seconds", Help: "Duration of flow steps, by step name.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300},
		}, []string{"step"}),
	}
	m.reg.MustRegister(m.queueDepth, m.activeCalls, m.freeSlots, m.calls, m.steps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for other packages' collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Trunk sets the queue depth, active calls and free slots.
func (m *Metrics) Trunk(queued, active, free int) {
	m.queueDepth.Set(float64(queued))
	m.activeCalls.Set(float64(active))
	m.freeSlots.Set(float64(free))
}

// CallEnded counts one ended attempt by its call_status word.
func (m *Metrics) CallEnded(outcome string) { m.calls.WithLabelValues(outcome).Inc() }

// StepDone observes one flow step's duration.
func (m *Metrics) StepDone(step string, d time.Duration) {
	m.steps.WithLabelValues(step).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
