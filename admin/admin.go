// Package admin is unicat's administration API under /admin: trigger a
// harvest, upload an export file for a file source, read a source's status
// and last errors, pause and resume a source's schedule, stream a hot
// backup of the store or an export of its records, and explain a cluster.
// The last three are what `unicat backup`, `unicat export` and `unicat
// dedup --explain` ask while the service holds the store.
//
// Every request needs "Authorization: Bearer <token>" with the token of
// the configuration (admin.token) or of UNICAT_ADMIN_TOKEN; without a
// configured token the API refuses everything. The token is compared in
// constant time. Request bodies are capped (uploads by their own, larger
// cap) and every request has a deadline.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Scheduler is what the API needs of the harvest scheduler
// (*harvester.Scheduler).
type Scheduler interface {
	Trigger(id string, jitter bool) bool
	Status() ([]harvester.SourceStatus, error)
	Pause(id string) bool
	Resume(id string) bool
	Paused(id string) bool
}

// Defaults for Options.
const (
	DefaultMaxBody   = 1 << 20
	DefaultMaxUpload = 1 << 30
	DefaultTimeout   = 30 * time.Second
	// Uploads and backups move whole files: they get longer.
	DefaultLongTimeout = time.Hour
)

// Options configure the API.
type Options struct {
	Token string // "" refuses every request
	// Catalog is what the API reads, imports uploads into and backs up.
	Catalog *catalog.Catalog
	// Config returns the current configuration (it may be reloaded).
	Config func() *config.Config
	// Scheduler, when nil, makes harvest, pause and resume answer 503.
	Scheduler Scheduler
	// UploadDir receives uploads before they are imported;
	// "" means data_dir/uploads.
	UploadDir   string
	MaxBody     int64         // request bodies but uploads; 0 means DefaultMaxBody
	MaxUpload   int64         // upload bodies; 0 means DefaultMaxUpload
	Timeout     time.Duration // 0 means DefaultTimeout
	LongTimeout time.Duration // uploads and backups; 0 means DefaultLongTimeout
	Log         *slog.Logger
}

// API serves /admin.
type API struct {
	opts    Options
	token   [32]byte
	uploads atomic.Int64 // sequence for upload file names
}

// New returns the API.
func New(opts Options) *API {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = DefaultMaxUpload
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.LongTimeout <= 0 {
		opts.LongTimeout = DefaultLongTimeout
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{opts: opts, token: sha256.Sum256([]byte(opts.Token))}
	a.removeStaleUploads()
	return a
}

// uploadDir is where uploads are kept while they are imported.
func (a *API) uploadDir() string {
	if a.opts.UploadDir != "" {
		return a.opts.UploadDir
	}
	if a.opts.Config == nil {
		return ""
	}
	cfg := a.opts.Config()
	if cfg == nil {
		return ""
	}
	return filepath.Join(cfg.Resolve(cfg.DataDir), "uploads")
}

// removeStaleUploads deletes the upload files a process that ended
// mid-import (killed, crashed) left: an upload is removed once imported
// or refused, the store has what counts of it, and only one service
// holds the store, so no upload of another is under way.
func (a *API) removeStaleUploads() {
	dir := a.uploadDir()
	if dir == "" {
		return
	}
	stale, _ := filepath.Glob(filepath.Join(dir, "*.upload"))
	for _, f := range stale {
		if err := os.Remove(f); err == nil {
			a.opts.Log.Warn("admin: removed an upload a stopped process left", "file", f)
		}
	}
}

// Mount adds the API's routes to r under /admin.
func (a *API) Mount(r gin.IRouter) {
	g := r.Group("/admin", a.auth)
	short := a.limits(a.opts.MaxBody, a.opts.Timeout)
	long := a.limits(a.opts.MaxUpload, a.opts.LongTimeout)
	g.POST("/harvest/:source", short, a.harvest)
	g.POST("/upload/:source", long, a.upload)
	g.GET("/sources/:source", short, a.source)
	g.POST("/sources/:source/pause", short, a.pause)
	g.POST("/sources/:source/resume", short, a.resume)
	g.POST("/backup", a.limits(a.opts.MaxBody, a.opts.LongTimeout), a.backup)
	g.POST("/export", a.limits(a.opts.MaxBody, a.opts.LongTimeout), a.exportRecords)
	g.GET("/explain", short, a.explain)
}

// auth refuses requests without the token. Both sides are hashed first, so
// that the comparison takes the same time whatever the lengths.
func (a *API) auth(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if a.opts.Token == "" || !ok || subtle.ConstantTimeCompare(got[:], a.token[:]) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="unicat admin"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "a valid bearer token is required"})
		return
	}
	c.Next()
}

// limits caps the request body and sets the request's deadline, for the
// handler's context and for the connection's reads and writes.
func (a *API) limits(maxBody int64, timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > maxBody {
			c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": fmt.Sprintf("request body over %d bytes", maxBody)})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
		deadline := time.Now().Add(timeout)
		rc := http.NewResponseController(c.Writer)
		// Not every ResponseWriter supports deadlines (httptest's does not).
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		ctx, cancel := context.WithDeadline(c.Request.Context(), deadline)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// lookup finds the configured source of the :source parameter, answering
// 404 itself when there is none.
func (a *API) lookup(c *gin.Context) *config.Source {
	id := c.Param("source")
	if src, ok := a.opts.Config().Source(id); ok {
		return src
	}
	c.JSON(http.StatusNotFound, gin.H{"error": fmt.Sprintf("no source %q", id)})
	return nil
}

func (a *API) needScheduler(c *gin.Context) bool {
	if a.opts.Scheduler == nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "the harvest scheduler is not running"})
		return false
	}
	return true
}

func (a *API) harvest(c *gin.Context) {
	src := a.lookup(c)
	if src == nil || !a.needScheduler(c) {
		return
	}
	if !a.opts.Scheduler.Trigger(src.ID, false) {
		c.JSON(http.StatusConflict, gin.H{"source": src.ID, "error": "a harvest of this source is already waiting or running"})
		return
	}
	a.opts.Log.Info("admin: harvest triggered", "source", src.ID, "remote", c.ClientIP())
	c.JSON(http.StatusAccepted, gin.H{"source": src.ID, "started": true})
}

func (a *API) pause(c *gin.Context)  { a.setPaused(c, true) }
func (a *API) resume(c *gin.Context) { a.setPaused(c, false) }

func (a *API) setPaused(c *gin.Context, pause bool) {
	src := a.lookup(c)
	if src == nil || !a.needScheduler(c) {
		return
	}
	ok := false
	if pause {
		ok = a.opts.Scheduler.Pause(src.ID)
	} else {
		ok = a.opts.Scheduler.Resume(src.ID)
	}
	if !ok {
		c.JSON(http.StatusConflict, gin.H{"source": src.ID, "error": "the source is not scheduled (no schedule, disabled, or no driver)"})
		return
	}
	a.opts.Log.Info("admin: source schedule changed", "source", src.ID, "paused", pause)
	c.JSON(http.StatusOK, gin.H{"source": src.ID, "paused": a.opts.Scheduler.Paused(src.ID)})
}

// sourceStatus is GET /admin/sources/{source}.
type sourceStatus struct {
	harvester.SourceStatus
	Paused bool        `json:"paused"`
	Runs   []store.Run `json:"runs"`   // newest first
	Errors []string    `json:"errors"` // the errors among them
}

func (a *API) source(c *gin.Context) {
	src := a.lookup(c)
	if src == nil {
		return
	}
	var (
		all []harvester.SourceStatus
		err error
	)
	if a.opts.Scheduler != nil {
		all, err = a.opts.Scheduler.Status()
	} else {
		all, err = harvester.ReadStatus(a.opts.Catalog.Store(), a.opts.Config())
	}
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	out := sourceStatus{Runs: []store.Run{}, Errors: []string{}}
	for _, s := range all {
		if s.ID == src.ID {
			out.SourceStatus = s
		}
	}
	if a.opts.Scheduler != nil {
		out.Paused = a.opts.Scheduler.Paused(src.ID)
	}
	err = a.opts.Catalog.View(c.Request.Context(), func(snap catalog.Snapshot) error {
		out.Runs, err = snap.Runs(src.ID, 10)
		return err
	})
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	if out.Runs == nil {
		out.Runs = []store.Run{} // "runs": [], never null
	}
	for _, r := range out.Runs {
		if r.Err != "" {
			out.Errors = append(out.Errors, r.End.UTC().Format(time.RFC3339)+": "+r.Err)
		}
	}
	c.JSON(http.StatusOK, out)
}

// upload streams the body (an ISO 2709 or MARCXML export) to a file under
// the upload directory, then imports it into the source like a file drop,
// recording the run.
func (a *API) upload(c *gin.Context) {
	src := a.lookup(c)
	if src == nil {
		return
	}
	if src.Kind != config.KindFile {
		c.JSON(http.StatusConflict, gin.H{"error": fmt.Sprintf("source %q is of kind %s, not file", src.ID, src.Kind)})
		return
	}
	dir := a.uploadDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.upload", src.ID, time.Now().UTC().Format("20060102T150405"), a.uploads.Add(1)))
	n, err := saveBody(name, c.Request.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		c.JSON(http.StatusRequestEntityTooLarge, gin.H{"error": fmt.Sprintf("upload over %d bytes", tooBig.Limit)})
		return
	case err != nil:
		c.JSON(http.StatusBadRequest, gin.H{"error": "reading the upload: " + err.Error()})
		return
	case n == 0:
		c.JSON(http.StatusBadRequest, gin.H{"error": "empty upload"})
		return
	}
	defer os.Remove(name) // imported or refused: the store has what counts
	format := marc.Format("")
	if f := c.Query("format"); f != "" && f != "auto" {
		format = marc.Format(f)
	} else if src.Format != "" && src.Format != "auto" {
		format = marc.Format(src.Format)
	}
	start := time.Now()
	sum, err := ingest.Import(c.Request.Context(), a.opts.Catalog.Store(), []string{name},
		ingest.Options{Source: src.ID, Format: format, Charset: marc.Charset(src.Charset), MaxRecordBytes: src.MaxRecordBytes})
	run := sum.Run(start, time.Now())
	run.Pages, run.Notes = 1, "uploaded through the admin API"
	if err != nil {
		run.Err = err.Error()
	}
	if perr := a.opts.Catalog.Store().PutRun(src.ID, run); perr != nil && err == nil {
		err = perr
	}
	a.opts.Log.Info("admin: upload imported", "source", src.ID, "bytes", n, "added", sum.Added,
		"updated", sum.Updated, "unchanged", sum.Unchanged, "rejected", sum.Rejected, "duplicates", sum.Duplicates, "err", err)
	body := gin.H{"source": src.ID, "bytes": n, "read": sum.Read, "added": sum.Added, "updated": sum.Updated,
		"unchanged": sum.Unchanged, "deleted": sum.Deleted, "rejected": sum.Rejected, "duplicates": sum.Duplicates}
	if err != nil {
		body["error"] = err.Error()
		c.JSON(http.StatusUnprocessableEntity, body)
		return
	}
	if sum.Added+sum.Updated+sum.Unchanged == 0 {
		body["error"] = "no record could be read from the upload"
		c.JSON(http.StatusUnprocessableEntity, body)
		return
	}
	c.JSON(http.StatusOK, body)
}

func saveBody(name string, body io.Reader) (int64, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return n, err
}

// BackupTrailer is the HTTP trailer of POST /admin/backup holding the
// number of bytes of a complete backup; a response without it was cut
// short.
const BackupTrailer = "X-Unicat-Backup-Bytes"

// backup streams a consistent copy of the store (bbolt's Tx.WriteTo) while
// the service keeps running; `unicat backup` calls it when the service
// holds the file lock.
func (a *API) backup(c *gin.Context) {
	size, err := a.opts.Catalog.Size()
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.Header("Content-Type", "application/octet-stream")
	c.Header("Content-Disposition", `attachment; filename="unicat-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
	c.Header("X-Unicat-Store-Size", fmt.Sprint(size))
	// The status goes out before the copy is known to be whole: the
	// trailer, sent only after a complete copy, is what says it is.
	c.Header("Trailer", BackupTrailer)
	c.Status(http.StatusOK)
	start := time.Now()
	n, err := a.opts.Catalog.Backup(c.Writer)
	if err != nil {
		a.opts.Log.Error("admin: backup failed", "bytes", n, "err", err)
		return
	}
	c.Writer.Header().Set(BackupTrailer, fmt.Sprint(n))
	a.opts.Log.Info("admin: backup streamed", "bytes", n, "duration", time.Since(start))
}
