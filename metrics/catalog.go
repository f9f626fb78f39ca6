// Package metrics exposes unicat's state to Prometheus. Counts that live in
// the catalog (records per source, last runs, union records per library)
// are read at scrape time from one snapshot, so they are right even when
// another process (such as `unicat import`) wrote them, and scraping
// never blocks the writer.
package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/unicat/unicat/catalog"
)

// Catalog is what a CatalogCollector reads; *catalog.Catalog is one.
type Catalog interface {
	catalog.Reader
	Size() (int64, error) // the store file's
}

// CatalogCollector reports per-source record counts and the last run of
// each source, the union records each holding library holds, and the
// store file's size.
type CatalogCollector struct {
	cat Catalog

	records     *prometheus.Desc
	holdings    *prometheus.Desc
	received    *prometheus.Desc
	lastRun     *prometheus.Desc
	lastRunTime *prometheus.Desc
	storeBytes  *prometheus.Desc
}

// NewCatalogCollector returns a collector over cat.
func NewCatalogCollector(cat Catalog) *CatalogCollector {
	return &CatalogCollector{
		cat: cat,
		records: prometheus.NewDesc("unicat_source_records",
			"Source records held in the store, by source and state (live or deleted tombstones).",
			[]string{"source", "state"}, nil),
		holdings: prometheus.NewDesc("unicat_library_union_records",
			"Live union records held by each holding library, by library code and level (\"unknown\" for a code "+
				"a source of many libraries reports that the configuration does not describe).",
			[]string{"library", "level"}, nil),
		received: prometheus.NewDesc("unicat_source_records_received",
			"Live source records by the encoding they arrived in (utf-8: stored as received; the others were converted to UTF-8 NFC).",
			[]string{"source", "encoding"}, nil),
		lastRun: prometheus.NewDesc("unicat_source_last_run_records",
			"Records of the last import or harvest run of a source, by outcome.",
			[]string{"source", "outcome"}, nil),
		lastRunTime: prometheus.NewDesc("unicat_source_last_run_end_timestamp_seconds",
			"When the last import or harvest run of a source ended.",
			[]string{"source"}, nil),
		storeBytes: prometheus.NewDesc("unicat_store_size_bytes",
			"Size of the bbolt store file.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *CatalogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.records
	ch <- c.holdings
	ch <- c.received
	ch <- c.lastRun
	ch <- c.lastRunTime
	ch <- c.storeBytes
}

// Collect implements prometheus.Collector.
func (c *CatalogCollector) Collect(ch chan<- prometheus.Metric) {
	_ = c.cat.View(context.Background(), func(snap catalog.Snapshot) error {
		sources, err := snap.Sources()
		if err != nil {
			return err
		}
		for _, src := range sources {
			s, err := snap.SourceStats(src.ID)
			if err != nil {
				return err
			}
			ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(s.Live), src.ID, "live")
			ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(s.Deleted), src.ID, "deleted")
			enc, err := snap.Encodings(src.ID)
			if err != nil {
				return err
			}
			for _, e := range enc {
				ch <- prometheus.MustNewConstMetric(c.received, prometheus.GaugeValue, float64(e.Records), src.ID, e.Encoding)
			}
			runs, err := snap.Runs(src.ID, 1)
			if err != nil || len(runs) == 0 {
				continue
			}
			r := runs[0]
			for _, o := range []struct {
				name string
				n    int
			}{{"added", r.Added}, {"updated", r.Updated}, {"unchanged", r.Unchanged}, {"deleted", r.Deleted},
				{"rejected", r.Rejected}, {"duplicate", r.Duplicates}} {
				ch <- prometheus.MustNewConstMetric(c.lastRun, prometheus.GaugeValue, float64(o.n), src.ID, o.name)
			}
			ch <- prometheus.MustNewConstMetric(c.lastRunTime, prometheus.GaugeValue, float64(r.End.UnixNano())/1e9, src.ID)
		}
		return c.collectLibraries(snap, ch)
	})
	if n, err := c.cat.Size(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.storeBytes, prometheus.GaugeValue, float64(n))
	}
}

// collectLibraries reports the union records each holding library holds.
func (c *CatalogCollector) collectLibraries(snap catalog.Snapshot, ch chan<- prometheus.Metric) error {
	counts, err := snap.LibraryCounts()
	if err != nil {
		return err
	}
	libs, err := snap.Libraries()
	if err != nil {
		return err
	}
	level := map[string]string{}
	for _, l := range libs {
		level[l.Code] = l.Level
	}
	for code, n := range counts {
		lv, ok := level[code]
		if !ok {
			lv = "unknown"
		}
		ch <- prometheus.MustNewConstMetric(c.holdings, prometheus.GaugeValue, float64(n.Union), code, lv)
	}
	return nil
}
