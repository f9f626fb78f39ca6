package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/admin"
	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/web"
)

// mountWebAdmin adds the web pages (at /) and the admin API (at /admin)
// to the router. sched may be nil: the pages then read the harvest status
// from the store, and the admin API's harvest, pause and resume answer 503.
// cfgNow returns the configuration in force (it changes on reload).
func mountWebAdmin(r *gin.Engine, cat *catalog.Catalog, cfgNow func() *config.Config, sched *harvester.Scheduler, log *slog.Logger) (*web.Server, error) {
	cfg := cfgNow()
	wopts := web.Options{Catalog: cat, Config: cfg, Log: log, LibrarySetURL: func(code string) string {
		return "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=" + url.QueryEscape(oaiindex.LibrarySet(code))
	}}
	wopts.Status = func() ([]harvester.SourceStatus, error) { return harvester.ReadStatus(cat.Store(), cfgNow()) }
	aopts := admin.Options{Token: cfg.AdminToken(), Catalog: cat, Config: cfgNow, Log: log,
		MaxBody: cfg.HTTP.MaxBodyBytes, MaxUpload: cfg.Admin.MaxUploadBytes}
	if sched != nil {
		wopts.Status, wopts.Paused = sched.Status, sched.Paused
		aopts.Scheduler = sched
	}
	ws, err := web.New(wopts)
	if err != nil {
		return nil, err
	}
	ws.Mount(r)
	admin.New(aopts).Mount(r)
	if aopts.Token == "" {
		log.Warn("admin API disabled: set admin.token or " + config.AdminTokenEnv)
	}
	return ws, nil
}

// limitBodies caps every request body at n bytes, but admin uploads,
// which the admin API caps itself.
func limitBodies(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/upload/") {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		h.ServeHTTP(w, r)
	})
}

// httpMetrics counts requests and their latency by route pattern (never
// the raw path, whose ids would make a series per record), method and
// status.
func httpMetrics(reg prometheus.Registerer) gin.HandlerFunc {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "unicat_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "unicat_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern and method.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "unicat_http_requests_in_flight",
		Help: "HTTP requests being answered.",
	})
	reg.MustRegister(requests, latency, inflight)
	return func(c *gin.Context) {
		start := time.Now()
		inflight.Inc()
		defer inflight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// newLogger logs text lines, or JSON lines with --log-json (for a log
// collector).
func newLogger(w io.Writer, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
