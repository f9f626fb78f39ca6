package harvester

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/store"
)

// Source states reported by unicat_harvest_state.
const (
	stateIdle    = "idle"    // not running; the last run succeeded (or none yet)
	stateWaiting = "waiting" // fired, waiting for its jitter delay or a free slot
	stateRunning = "running"
	stateFailed  = "failed" // not running; the last run failed
)

var states = []string{stateIdle, stateWaiting, stateRunning, stateFailed}

// Metrics are the harvester's Prometheus metrics, per source. A nil
// *Metrics records nothing.
type Metrics struct {
	recs        *prometheus.CounterVec
	rejects     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	state       *prometheus.GaugeVec
	retries     *prometheus.CounterVec
	httpErrors  *prometheus.CounterVec
	guards      *prometheus.CounterVec
	pages       *prometheus.CounterVec
	bytes       *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	src := []string{"source"}
	m := &Metrics{
		recs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_records_total",
			Help: "Records harvested, by source and outcome (added, updated, unchanged, deleted, duplicate)."},
			[]string{"source", "outcome"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_rejects_total",
			Help: "Records received but not stored, by source and reason."},
			[]string{"source", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "unicat_harvest_duration_seconds",
			Help:    "Duration of harvest runs, by source and result (ok, failed).",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600}},
			[]string{"source", "result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "unicat_harvest_last_success_timestamp_seconds",
			Help: "When the last successful harvest of a source ended."}, src),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "unicat_harvest_state",
			Help: "1 for the state each source is in: idle, waiting, running or failed (idle after a failed run)."},
			[]string{"source", "state"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_retries_total",
			Help: "Requests retried after a network error, HTTP 5xx/429 or a broken response."}, src),
		httpErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_http_errors_total",
			Help: "Failed harvesting requests, by source and code: the HTTP status, or network, timeout, truncated, unparseable."},
			[]string{"source", "code"}),
		guards: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_guard_trips_total",
			Help: "Protections against misbehaving servers that tripped, by source and guard."},
			[]string{"source", "guard"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_pages_total",
			Help: "Pages (responses or files) harvested."}, src),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "unicat_harvest_bytes_total",
			Help: "Bytes harvested (after decompression)."}, src),
	}
	for _, c := range []prometheus.Collector{m.recs, m.rejects, m.duration, m.lastSuccess, m.state, m.retries, m.httpErrors, m.guards, m.pages, m.bytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("harvester: register metrics: %w", err)
		}
	}
	return m, nil
}

// initSource shows a source in the state metric before its first run, and
// its last success as found in the store.
func (m *Metrics) initSource(id string, lastSuccess time.Time, failed bool) {
	if m == nil {
		return
	}
	if failed {
		m.setState(id, stateFailed)
	} else {
		m.setState(id, stateIdle)
	}
	if !lastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(id).Set(float64(lastSuccess.UnixNano()) / 1e9)
	}
}

// forget removes the state and last-success series of a source that left
// the configuration; its counters stay.
func (m *Metrics) forget(id string) {
	if m == nil {
		return
	}
	m.state.DeletePartialMatch(prometheus.Labels{"source": id})
	m.lastSuccess.DeleteLabelValues(id)
}

func (m *Metrics) setState(id, state string) {
	if m == nil {
		return
	}
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(id, s).Set(v)
	}
}

func (m *Metrics) records(id string, r store.Result) {
	if m == nil {
		return
	}
	for _, o := range []struct {
		name string
		n    int
	}{{"added", r.Added}, {"updated", r.Updated}, {"unchanged", r.Unchanged}, {"deleted", r.Deleted}, {"duplicate", r.Duplicates}} {
		if o.n > 0 {
			m.recs.WithLabelValues(id, o.name).Add(float64(o.n))
		}
	}
}

func (m *Metrics) reject(id, reason string) {
	if m != nil {
		m.rejects.WithLabelValues(id, reason).Inc()
	}
}

func (m *Metrics) guard(id, guard string) {
	if m != nil {
		m.guards.WithLabelValues(id, guard).Inc()
	}
}

func (m *Metrics) retry(id string) {
	if m != nil {
		m.retries.WithLabelValues(id).Inc()
	}
}

func (m *Metrics) httpError(id, code string) {
	if m != nil {
		m.httpErrors.WithLabelValues(id, code).Inc()
	}
}

func (m *Metrics) httpStatus(id string, status int) { m.httpError(id, strconv.Itoa(status)) }

func (m *Metrics) page(id string, n int64) {
	if m == nil {
		return
	}
	m.pages.WithLabelValues(id).Inc()
	m.bytes.WithLabelValues(id).Add(float64(n))
}

func (m *Metrics) observeRun(id string, r store.Run, ok bool) {
	if m == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.duration.WithLabelValues(id, result).Observe(r.End.Sub(r.Start).Seconds())
	if ok {
		m.lastSuccess.WithLabelValues(id).Set(float64(r.End.UnixNano()) / 1e9)
		m.setState(id, stateIdle)
	} else {
		m.setState(id, stateFailed)
	}
}
