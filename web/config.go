package web

import (
	"sync/atomic"

	"github.com/unicat/unicat/config"
)

// atomicConfig holds the configuration a reload may replace.
type atomicConfig struct{ p atomic.Pointer[config.Config] }

func (a *atomicConfig) Store(c *config.Config) { a.p.Store(c) }
func (a *atomicConfig) Load() *config.Config   { return a.p.Load() }
