package admin

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/export"
	"github.com/unicat/unicat/marc"
)

// Trailers of POST /admin/export. A response without ExportBytesTrailer
// was cut short; ExportSkippedTrailer is repeated once per record left
// out (at most MaxExportSkipped times), with the reason.
const (
	ExportBytesTrailer   = "X-Unicat-Export-Bytes"
	ExportRecordsTrailer = "X-Unicat-Export-Records"
	ExportSkippedTrailer = "X-Unicat-Export-Skipped"
	ExportSkippedCount   = "X-Unicat-Export-Skipped-Count"
)

// MaxExportSkipped bounds the skipped records an export response names.
const MaxExportSkipped = 1000

// exportRecords streams the records `unicat export` writes, from one read
// transaction while the service keeps running: ?source=ID, or ?union=1,
// and ?format=iso2709 (default) or marcxml.
func (a *API) exportRecords(c *gin.Context) {
	opts := export.Options{Source: c.Query("source"), Union: c.Query("union") == "1",
		Format: marc.Format(c.DefaultQuery("format", string(marc.FormatISO2709)))}
	if err := opts.Check(); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	if opts.Source != "" {
		if _, ok := a.opts.Config().Source(opts.Source); !ok {
			c.JSON(http.StatusNotFound, gin.H{"error": fmt.Sprintf("no source %q", opts.Source)})
			return
		}
	}
	c.Header("Content-Type", "application/marc")
	if opts.Format == marc.FormatMARCXML {
		c.Header("Content-Type", "application/marcxml+xml")
	}
	// As for a backup, the status goes out before the export is known to
	// be whole: the trailers, sent after it, say it is.
	c.Header("Trailer", strings.Join([]string{ExportBytesTrailer, ExportRecordsTrailer, ExportSkippedTrailer,
		ExportSkippedCount}, ", "))
	c.Status(http.StatusOK)
	start := time.Now()
	cw := &countingWriter{w: c.Writer}
	var skipped []string
	skips := 0
	n, err := export.Write(c.Request.Context(), a.opts.Catalog, opts, cw, func(reason string) {
		skips++
		if len(skipped) < MaxExportSkipped {
			// A header value holds one line.
			skipped = append(skipped, strings.Join(strings.Fields(reason), " "))
		}
	})
	if err != nil {
		a.opts.Log.Error("admin: export failed", "source", opts.Source, "union", opts.Union, "records", n, "err", err)
		return
	}
	h := c.Writer.Header()
	h.Set(ExportBytesTrailer, strconv.FormatInt(cw.n, 10))
	h.Set(ExportRecordsTrailer, strconv.Itoa(n))
	h.Set(ExportSkippedCount, strconv.Itoa(skips))
	for _, s := range skipped {
		h.Add(ExportSkippedTrailer, s)
	}
	a.opts.Log.Info("admin: export streamed", "source", opts.Source, "union", opts.Union, "format", opts.Format,
		"records", n, "skipped", skips, "bytes", cw.n, "duration", time.Since(start))
}

// explain answers what `unicat dedup --explain ID` prints: the cluster of
// a union id or of a member record (?id=source:localid), as text.
func (a *API) explain(c *gin.Context) {
	id := c.Query("id")
	if id == "" {
		c.JSON(http.StatusBadRequest, gin.H{"error": "id is required: a union id or source:localid"})
		return
	}
	var text strings.Builder
	var found bool
	err := a.opts.Catalog.View(c.Request.Context(), func(snap catalog.Snapshot) error {
		ex, err := snap.Explain(id)
		if err != nil || ex == nil {
			return err
		}
		found = true
		return ex.Write(&text)
	})
	switch {
	case err != nil:
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
	case !found:
		c.JSON(http.StatusNotFound, gin.H{"error": fmt.Sprintf("no union record or member record %q", id)})
	default:
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(text.String()))
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	return n, err
}
