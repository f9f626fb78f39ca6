package z3950

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	connections *prometheus.GaugeVec   // state: open
	accepted    *prometheus.CounterVec // outcome: accepted, refused, displaced, unavailable
	pdus        *prometheus.CounterVec // direction, type
	searchTime  prometheus.Histogram
	diagnostics *prometheus.CounterVec // code
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "unicat_z3950_connections",
			Help: "Z39.50 connections open now.",
		}, []string{"state"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unicat_z3950_connections_total",
			Help: "Z39.50 connections by outcome: accepted; refused (too many open); displaced (a connection that never sent its Init, for a new one); unavailable (the service was building its catalog).",
		}, []string{"outcome"}),
		pdus: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unicat_z3950_pdus_total",
			Help: "Z39.50 PDUs received (in) and sent (out), by PDU type.",
		}, []string{"direction", "type"}),
		searchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "unicat_z3950_search_duration_seconds",
			Help:    "Time to answer a Z39.50 search request, piggybacked records included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		diagnostics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unicat_z3950_diagnostics_total",
			Help: "Bib-1 diagnostics sent, by condition code.",
		}, []string{"code"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.connections, m.accepted, m.pdus, m.searchTime, m.diagnostics} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	m.connections.WithLabelValues("open").Set(0)
	return m, nil
}

func (m *metrics) pdu(dir string, t PDUTag) { m.pdus.WithLabelValues(dir, t.String()).Inc() }

func (m *metrics) diagnostic(code int) {
	m.diagnostics.WithLabelValues(strconv.Itoa(code)).Inc()
}
