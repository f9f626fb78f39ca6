package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
)

// The start of `unicat serve` on a catalog that needs a build first: the
// HTTP server answers from the moment it listens, with the starting
// router (health, readiness, metrics, SRU's diagnostic 2, and 503 for
// everything else) until the build is done, and then with the full one;
// the Z39.50 server answers every connection with a Close saying why
// (buildingReason). The harvests and reloads start after the build: they
// would write to the store it is writing.

// httpFront is the service's HTTP server: listening from the start, it
// serves with the handler set last (swapHandler).
type httpFront struct {
	srv     *http.Server
	ln      net.Listener
	handler swapHandler
	observe gin.HandlerFunc // httpMetrics, for every router it serves
	errc    chan error      // what Serve returned, once it has
	serving bool
	log     *slog.Logger
	down    sync.Once // shutdown
	downErr error
}

// listenHTTP listens on cfg.HTTP.Addr; nothing is served before serve.
func listenHTTP(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*httpFront, error) {
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	f := &httpFront{ln: ln, observe: httpMetrics(reg), errc: make(chan error, 1), log: log}
	f.srv = &http.Server{Handler: limitBodies(&f.handler, cfg.HTTP.MaxBodyBytes), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: cfg.HTTP.ReadTimeout, WriteTimeout: cfg.HTTP.WriteTimeout}
	return f, nil
}

// serve answers with h from now on, starting the server if it was not
// running.
func (f *httpFront) serve(h http.Handler, store string, sources int) {
	f.handler.set(h)
	if f.serving {
		return
	}
	f.serving = true
	go func() { f.errc <- f.srv.Serve(f.ln) }()
	f.log.Info("unicat serving", "http", "http://"+f.ln.Addr().String(), "store", store, "sources", sources)
}

// wait waits until ctx is done or the server ends, then lets the requests
// in flight finish, for at most 15 seconds.
func (f *httpFront) wait(ctx context.Context) error {
	select {
	case err := <-f.errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	f.log.Info("shutting down")
	return f.shutdown()
}

// shutdown lets the requests in flight finish, for at most 15 seconds,
// and closes the server (and the listener, served or not). Only the first
// call does anything.
func (f *httpFront) shutdown() error {
	f.down.Do(func() {
		defer f.ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.downErr = fmt.Errorf("http shutdown: %w", err)
		}
	})
	return f.downErr
}

// swapHandler serves HTTP with the handler set last.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// buildRetryAfter is what the starting router's 503 answers ask clients
// to wait, in seconds (an OAI-PMH harvester reads it, as the protocol
// says).
const buildRetryAfter = 30

// startingRouter is newRouter serving SRU that says the catalog is being
// built (diagnostic 2: an SRU client reads diagnostics, not HTTP errors),
// and answering every other path with 503 and a Retry-After.
func startingRouter(cat *catalog.Catalog, cfg *config.Config, reg *prometheus.Registry, observe gin.HandlerFunc, log *slog.Logger) *gin.Engine {
	// Not ready until the service's router replaces this one, the build
	// done or not.
	starting := func() (string, bool) { phase, _ := cat.Building(); return buildPhaseName(phase), true }
	r := newRouter(cat, starting, reg, observe, log)
	mountSRU(r, sruHandler(cat, cfg, buildingReason(cat), log))
	r.NoRoute(func(c *gin.Context) {
		c.Header("Retry-After", fmt.Sprint(buildRetryAfter))
		phase, _ := cat.Building()
		c.String(http.StatusServiceUnavailable, "%s\n", buildingMessage(phase))
	})
	return r
}

// buildingReason is why the Z39.50 server serves nobody and SRU searches
// nothing: while the catalog is built, buildingMessage; else "".
func buildingReason(cat *catalog.Catalog) func() string {
	return func() string {
		if phase, building := cat.Building(); building {
			return buildingMessage(phase)
		}
		return ""
	}
}

// buildingMessage tells a client the catalog is being built.
func buildingMessage(phase string) string {
	return "unicat is building the union catalog (" + buildPhaseName(phase) + "): try again later"
}

func buildPhaseName(phase string) string {
	if phase == "" {
		return "starting"
	}
	return phase
}

// buildingGauge is 1 while the catalog's derived data are being built.
func buildingGauge(cat *catalog.Catalog) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "unicat_catalog_building",
		Help: "1 while the union catalog is being built from the stored records (a bulk load, or at the start), else 0."},
		func() float64 {
			if _, building := cat.Building(); building {
				return 1
			}
			return 0
		})
}

// finishOpen runs the builds the catalog's Open left (catalog.FinishOpen),
// with each step's share done in the metric unicat_catalog_build_done_ratio
// and in the log every 10 seconds.
func finishOpen(ctx context.Context, cat *catalog.Catalog, reg prometheus.Registerer, log *slog.Logger) error {
	if _, building := cat.Building(); !building {
		return nil
	}
	done := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "unicat_catalog_build_done_ratio",
		Help: "The share done of each step of the union catalog's build at the start."}, []string{"step"})
	if err := reg.Register(done); err != nil {
		return err
	}
	log.Warn("building the union catalog from the stored records before serving it (/readyz says when it is done)")
	start, logged := time.Now(), time.Now()
	var mu sync.Mutex // for logged: a build may report from more than one goroutine
	err := cat.FinishOpen(ctx, func(step string, n, total int) {
		if total > 0 {
			done.WithLabelValues(step).Set(float64(n) / float64(total))
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(logged) >= 10*time.Second {
			logged = time.Now()
			log.Info("building the union catalog", "step", step, "done", n, "of", total)
		}
	})
	if err != nil {
		return startBuildError(ctx, err)
	}
	log.Info("built the union catalog", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
