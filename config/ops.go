package config

import (
	"os"
	"time"
)

// AdminConfig configures the administration API at /admin.
type AdminConfig struct {
	// Token is the bearer token the API requires. Empty (and no
	// UNICAT_ADMIN_TOKEN in the environment) refuses every request.
	// At least 16 characters.
	Token string `yaml:"token"`
	// MaxUploadBytes caps an uploaded export file (default 1 GiB).
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
}

// ImportConfig configures `unicat import` and `unicat dedup --rebuild`.
type ImportConfig struct {
	// MemoryMB is the memory (MiB) an import or rebuild aims to stay
	// under: the Go runtime's soft memory limit while it runs
	// (runtime/debug.SetMemoryLimit), which makes the collector work
	// harder as the heap nears it rather than letting it grow to twice
	// what is live (and, the heap being bounded, less often further from
	// it: GOGC=300 unless the environment sets GOGC). Default 900; -1
	// sets no limit.
	MemoryMB int `yaml:"memory_mb"`
}

// DefaultImportMemoryMB is import.memory_mb's default: a 1M-record bulk
// load holds up to 590 MB live and 1.8 GB anonymous without a limit, 942
// MB with this one (bench/RESULTS.md), under the 1 GiB a modest server
// gives it.
const DefaultImportMemoryMB = 900

// AdminTokenEnv names the environment variable that overrides admin.token,
// so that the token need not be written in the configuration file.
const AdminTokenEnv = "UNICAT_ADMIN_TOKEN"

// HTTP and admin defaults.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultReadTimeout    = 30 * time.Second
	DefaultWriteTimeout   = 2 * time.Minute
	DefaultMaxUploadBytes = 1 << 30
	minAdminToken         = 16
)

// AdminToken returns the admin API's token: UNICAT_ADMIN_TOKEN when set,
// else admin.token.
func (c *Config) AdminToken() string {
	if t := os.Getenv(AdminTokenEnv); t != "" {
		return t
	}
	return c.Admin.Token
}

func (c *Config) applyOpsDefaults() {
	if c.HTTP.MaxBodyBytes == 0 {
		c.HTTP.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.HTTP.ReadTimeout == 0 {
		c.HTTP.ReadTimeout = DefaultReadTimeout
	}
	if c.HTTP.WriteTimeout == 0 {
		c.HTTP.WriteTimeout = DefaultWriteTimeout
	}
	if c.Admin.MaxUploadBytes == 0 {
		c.Admin.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.Import.MemoryMB == 0 {
		c.Import.MemoryMB = DefaultImportMemoryMB
	}
}

func (v *validator) validateOps(c *Config) {
	if c.HTTP.MaxBodyBytes < 1024 {
		v.add([]any{"http", "max_body_bytes"}, "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}
	if c.HTTP.ReadTimeout < time.Second || c.HTTP.ReadTimeout > time.Hour {
		v.add([]any{"http", "read_timeout"}, "must be between 1s and 1h, got %v", c.HTTP.ReadTimeout)
	}
	if c.HTTP.WriteTimeout < time.Second || c.HTTP.WriteTimeout > time.Hour {
		v.add([]any{"http", "write_timeout"}, "must be between 1s and 1h, got %v", c.HTTP.WriteTimeout)
	}
	if c.Admin.MaxUploadBytes < 1024 {
		v.add([]any{"admin", "max_upload_bytes"}, "must be at least 1024, got %d", c.Admin.MaxUploadBytes)
	}
	if m := c.Import.MemoryMB; m != -1 && (m < 64 || m > 1<<20) {
		v.add([]any{"import", "memory_mb"}, "must be between 64 and 1048576, or -1 for no limit, got %d", m)
	}
	if t := c.Admin.Token; t != "" && len(t) < minAdminToken {
		// The message must not repeat the token: errors get logged.
		v.add([]any{"admin", "token"}, "must be at least %d characters, got %d", minAdminToken, len(t))
	}
}

func (v *validator) validateZ3950Limits(z *Z3950Config) {
	at := func(f string) []any { return []any{"z3950", f} }
	if z.MaxConnections < 0 || z.MaxConnections > 100000 {
		v.add(at("max_connections"), "must be between 1 and 100000 (0: 500), got %d", z.MaxConnections)
	}
	if z.MaxPerClient < 0 || z.MaxConnections > 0 && z.MaxPerClient > z.MaxConnections {
		v.add(at("max_per_client"), "must be between 1 and max_connections (0: 20), got %d", z.MaxPerClient)
	}
	if z.InitTimeout != 0 && (z.InitTimeout < 100*time.Millisecond || z.InitTimeout > time.Hour) {
		v.add(at("init_timeout"), "must be between 100ms and 1h, got %v", z.InitTimeout)
	}
	if z.IdleTimeout != 0 && (z.IdleTimeout < time.Second || z.IdleTimeout > 24*time.Hour) {
		v.add(at("idle_timeout"), "must be between 1s and 24h, got %v", z.IdleTimeout)
	}
}
