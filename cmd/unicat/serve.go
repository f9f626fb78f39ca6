package main

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/metrics"
	"github.com/unicat/unicat/oaipmh"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// SIGHUP reloads the configuration. Caught from the start: its default
	// action would end the process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	defer signal.Stop(sig)

	fs, cfgPath := newFlags("serve", stderr)
	addr := fs.String("http", "", "HTTP listen address (overrides http.addr)")
	zaddr := fs.String("z3950", "", "Z39.50 listen address (overrides z3950.addr)")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fileCfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	override := overrideAddrs(*addr, *zaddr)
	cfg := override(fileCfg)
	log := newLogger(stderr, *logJSON)

	// The builds a start may need (a bulk load cut short, new matching
	// rules, a search index to rebuild: a minute or more at a million
	// records) run once the service answers: /healthz at once, /readyz
	// and every other path 503 and Z39.50 a Close until they are done.
	opts := catalog.OptionsFromConfig(cfg)
	opts.BuildLater = true
	cat, err := openCatalogWith(ctx, opts)
	if err != nil {
		return err
	}
	defer cat.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildingGauge(cat))
	front, err := listenHTTP(cfg, reg, log)
	if err != nil {
		return err
	}
	defer front.shutdown() // on an error; wait has shut it down otherwise
	stopZ3950, err := startZ3950(cat, cfg, reg, buildingReason(cat), log)
	if err != nil {
		return err
	}
	defer stopZ3950() // before the store closes
	if _, building := cat.Building(); building {
		front.serve(startingRouter(cat, cfg, reg, front.observe, log), cat.Path(), len(cfg.Sources))
		if err := finishOpen(ctx, cat, reg, log); err != nil {
			return err
		}
	}

	reg.MustRegister(metrics.NewCatalogCollector(cat))
	sched, stopHarvests, err := startHarvesting(cat.Store(), cfg, reg, log)
	if err != nil {
		return err
	}
	defer stopHarvests() // before the store closes
	rl, err := newReloader(*cfgPath, fileCfg, override, reg, log)
	if err != nil {
		return err
	}
	rl.st, rl.dd, rl.sched = cat.Store(), cat.Deduper(), sched
	router, err := serviceRouter(cat, cfg, reg, front.observe, sched, rl, log)
	if err != nil {
		return err
	}
	front.serve(router, cat.Path(), len(cfg.Sources))

	// Reloads run one at a time (a SIGHUP during one is kept, more are
	// dropped: the next reload reads the file as it is then), and end
	// before the scheduler and the store do (defers run last first).
	reloadCtx, stopReloads := context.WithCancel(ctx)
	reloadsDone := make(chan struct{})
	go func() { defer close(reloadsDone); rl.run(reloadCtx, sig) }()
	defer func() { stopReloads(); <-reloadsDone }()

	return front.wait(ctx)
}

// serviceRouter is the router of the service once its catalog is built:
// newRouter with SRU, OAI-PMH, the harvest status and the web and admin
// pages mounted.
func serviceRouter(cat *catalog.Catalog, cfg *config.Config, reg *prometheus.Registry, observe gin.HandlerFunc,
	sched *harvester.Scheduler, rl *reloader, log *slog.Logger) (*gin.Engine, error) {
	oai, err := oaiHandler(cat, cfg, log)
	if err != nil {
		return nil, err
	}
	router := newRouter(cat, cat.Building, reg, observe, log)
	mountSRU(router, sruHandler(cat, cfg, nil, log))
	mountOAI(router, oai)
	mountHarvestStatus(router, sched)
	if rl.web, err = mountWebAdmin(router, cat, rl.config, sched, log); err != nil {
		return nil, err
	}
	return router, nil
}

// overrideAddrs returns a configuration with the listen addresses of the
// command line, where given (they hold across reloads too).
func overrideAddrs(httpAddr, z3950Addr string) func(*config.Config) *config.Config {
	return func(c *config.Config) *config.Config {
		o := *c
		if httpAddr != "" {
			o.HTTP.Addr = httpAddr
		}
		if z3950Addr != "" {
			o.Z3950.Addr = z3950Addr
		}
		return &o
	}
}

// newRouter mounts the service's health, readiness and metrics
// endpoints, with observe (httpMetrics) counting every request. building
// says whether the catalog's derived data are being built (a bulk load,
// the start), when they are not ready to be served as complete.
func newRouter(cat catalog.Reader, building func() (string, bool), reg *prometheus.Registry, observe gin.HandlerFunc, log *slog.Logger) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), requestLog(log), observe)
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", func(c *gin.Context) {
		// Ready once the catalog answers a read, and not while a bulk
		// load's build makes its indexes incomplete.
		if phase, ok := building(); ok {
			c.String(http.StatusServiceUnavailable, "building the union catalog (%s)\n", cmp.Or(phase, "storing records"))
			return
		}
		if err := cat.View(c.Request.Context(), func(catalog.Snapshot) error { return nil }); err != nil {
			c.String(http.StatusServiceUnavailable, "store: %v\n", err)
			return
		}
		c.String(http.StatusOK, "ready\n")
	})
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	return r
}

// requestLog logs one line per request, with the route pattern (e.g.
// /record/:id, "unmatched" when no route matched, as in the metrics) and
// the raw path, so log lines can be grouped by endpoint.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		log.Info("http", "method", c.Request.Method, "route", route, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "bytes", c.Writer.Size(), "duration", time.Since(start))
	}
}

// oaiHandler is the OAI-PMH data provider over the union records.
func oaiHandler(cat catalog.Reader, cfg *config.Config, log *slog.Logger) (*oaipmh.Server, error) {
	return oaipmh.NewServer(cat, oaipmh.Options{
		RepositoryName: cfg.OAI.RepositoryName,
		Domain:         cfg.OAI.Domain,
		AdminEmail:     cfg.OAI.AdminEmail,
		BaseURL:        cfg.OAI.BaseURL,
		PageSize:       cfg.OAI.PageSize,
		Logger:         log,
	})
}

// mountOAI serves s at /oai (GET, HEAD and POST).
func mountOAI(r *gin.Engine, s *oaipmh.Server) {
	r.GET("/oai", gin.WrapH(s))
	r.HEAD("/oai", gin.WrapH(s))
	r.POST("/oai", gin.WrapH(s))
}
