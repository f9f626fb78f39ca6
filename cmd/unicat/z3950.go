package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/z3950"
)

// startZ3950 serves the union catalog over Z39.50 on z3950.addr (nothing
// when it is empty); while unavailable gives a reason, connections get a
// Close with it instead. The returned stop sends open associations a
// Close and waits for them, at most 10 seconds.
func startZ3950(cat catalog.Reader, cfg *config.Config, reg prometheus.Registerer, unavailable func() string, log *slog.Logger) (stop func(), err error) {
	if cfg.Z3950.Addr == "" {
		return func() {}, nil
	}
	srv, err := z3950.NewServer(z3950.Config{
		Catalog:        cat,
		Database:       cfg.Z3950.Database,
		MaxConnections: cfg.Z3950.MaxConnections,
		MaxPerClient:   cfg.Z3950.MaxPerClient,
		InitTimeout:    cfg.Z3950.InitTimeout,
		IdleTimeout:    cfg.Z3950.IdleTimeout,
		Unavailable:    unavailable,
		Version:        version,
		Registerer:     reg,
		Log:            log,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Z3950.Addr)
	if err != nil {
		return nil, fmt.Errorf("z3950: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, z3950.ErrServerClosed) {
			log.Error("z3950 server stopped", "err", err)
		}
	}()
	log.Info("z3950 serving", "addr", ln.Addr().String(), "database", cfg.Z3950.Database)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("z3950 shutdown", "err", err)
		}
		<-done
	}, nil
}
