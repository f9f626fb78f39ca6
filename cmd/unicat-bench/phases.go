package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
)

// The phases of a run, in order: generate the corpus, read it, ingest it,
// score deduplication, serve it. Each adds its rows to the table.

// corpusFiles is the generated corpus: one export file per library in
// each serialisation, and every record in one ISO 2709 file for Zebra.
type corpusFiles struct {
	isoDir   string
	libs     []corpus.Library
	iso, xml []string
	all      string
}

// generate writes the corpus in the given serialisations (iso2709,
// marcxml), and Zebra's single file.
func (b *bench) generate(unicat, work string, formats ...string) (corpusFiles, error) {
	o := b.opts
	c := corpusFiles{isoDir: filepath.Join(work, "iso")}
	xmlDir := filepath.Join(work, "xml")
	for _, format := range formats {
		dir := c.isoDir
		if format == "marcxml" {
			dir = xmlDir
		}
		out, err := exec.Command(unicat, "gen", "-o", dir, "-n", strconv.Itoa(o.n), "-libraries", strconv.Itoa(o.libs), "-seed", "1", "-format", format).CombinedOutput()
		if err != nil {
			return c, fmt.Errorf("unicat gen: %v: %s", err, out)
		}
		b.logf("%s", bytes.TrimSpace(out))
	}
	c.libs = corpus.Libraries(o.libs)
	c.iso, c.xml = make([]string, len(c.libs)), make([]string, len(c.libs))
	for i, l := range c.libs {
		c.iso[i] = filepath.Join(c.isoDir, corpus.FileName(l, marc.FormatISO2709))
		c.xml[i] = filepath.Join(xmlDir, corpus.FileName(l, marc.FormatMARCXML))
	}
	c.all = filepath.Join(work, "all.mrc")
	return c, concat(c.all, c.iso)
}

// readMARC: 1. Reading MARC, unicat's codec against yaz-marcdump, which
// parses each record into memory it reuses for the next: the codec
// reusing records too (marc.ReaderOptions.ReuseRecords), and making a new
// record each as an import does; then `unicat check` over the ISO 2709
// files, process against process. Each is timed readRounds times,
// alternating with yaz-marcdump, and its best rate kept: on a shared
// machine one yaz-marcdump run took from 1.3 to 2.2 s over the same
// files minutes apart.
func (b *bench) readMARC(unicat string, cf corpusFiles, haveYaz bool) error {
	for _, c := range []struct {
		name  string
		f     marc.Format
		files []string
		yaz   []string
	}{{"ISO 2709", marc.FormatISO2709, cf.iso, []string{"-n"}}, {"MARCXML", marc.FormatMARCXML, cf.xml, []string{"-n", "-i", "marcxml"}}} {
		// A first file read and not timed: the runtime's heap and the
		// reader's pooled buffers are not the first timed reading's to pay.
		if _, _, err := readAll(c.files[:1], c.f, false); err != nil {
			return err
		}
		var reused, fresh float64
		peer, peerNA, err := b.bestOf(c.yaz, c.files, haveYaz, func() error {
			for _, reuse := range []bool{true, false} {
				n, d, err := readAll(c.files, c.f, reuse)
				if err != nil {
					return err
				}
				if n != b.opts.n {
					return fmt.Errorf("MARC read, %s: read %d records, generated %d", c.name, n, b.opts.n)
				}
				best := &fresh
				if reuse {
					best = &reused
				}
				*best = max(*best, float64(n)/d.Seconds())
			}
			return nil
		})
		if err != nil {
			return err
		}
		b.addReadRow(fmt.Sprintf("MARC read, %s (%.0f MB), records reused", c.name, float64(filesSize(c.files))/1e6), reused, peer, peerNA)
		b.addReadRow(fmt.Sprintf("MARC read, %s, a new record each (as an import reads)", c.name), fresh, peer, peerNA)
	}
	var check float64
	peer, peerNA, err := b.bestOf([]string{"-n"}, cf.iso, haveYaz, func() error {
		t0 := time.Now()
		out, err := exec.Command(unicat, append([]string{"check", "--format", "iso2709"}, cf.iso...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("unicat check: %v: %.300s", err, tail(string(out), 300))
		}
		check = max(check, float64(b.opts.n)/time.Since(t0).Seconds())
		return nil
	})
	if err != nil {
		return err
	}
	b.addReadRow("`unicat check` of the ISO 2709 files (a process)", check, peer, peerNA)
	return nil
}

// readRounds is how many times each reading is timed.
const readRounds = 3

// bestOf runs yaz-marcdump with args over files and then ours,
// readRounds times, and returns yaz-marcdump's best rate in records/s,
// or says why it has none.
func (b *bench) bestOf(args, files []string, haveYaz bool, ours func() error) (float64, string, error) {
	best := 0.0
	for range readRounds {
		if haveYaz {
			t0 := time.Now()
			out, err := exec.Command("yaz-marcdump", append(args, files...)...).CombinedOutput()
			if err != nil {
				return 0, "", fmt.Errorf("yaz-marcdump: %v: %.300s", err, out)
			}
			best = max(best, float64(b.opts.n)/time.Since(t0).Seconds())
		}
		if err := ours(); err != nil {
			return 0, "", err
		}
	}
	if !haveYaz {
		return 0, "yaz not installed", nil
	}
	return best, "", nil
}

func (b *bench) addReadRow(what string, us, peer float64, peerNA string) {
	what += fmt.Sprintf(", best of %d", readRounds)
	r := row{what: what, unit: "records/s", us: us, peer: peer, hasPeer: peerNA == "", peerNA: peerNA, peerName: "yaz-marcdump -n"}
	b.rows = append(b.rows, r)
	b.logf("%s: unicat %.0f records/s, yaz %.0f", what, us, peer)
}

// ingested is what the ingest phase leaves for the next ones: unicat's
// configuration and addresses, and Zebra serving its own index of the
// corpus (nil without Zebra; the caller stops it).
type ingested struct {
	config, httpAddr, z3950Addr string
	zebra                       *zebrapeer.Server
}

// storeOnly generates the corpus in ISO 2709 and imports it into work,
// leaving the configuration (unicat.yaml) and the store there for later
// runs to measure against.
func (b *bench) storeOnly(unicat, work string) error {
	c, err := b.generate(unicat, work, "iso2709")
	if err != nil {
		return err
	}
	config, _, _, err := writeConfig(work, c.libs, c.iso)
	if err != nil {
		return err
	}
	took, _, anon, err := importAll(unicat, config)
	if err != nil {
		return err
	}
	b.logf("unicat import: %v (%.0f records/s), peak anonymous %.0f MB; store in %s", took.Round(time.Millisecond),
		float64(b.opts.n)/took.Seconds(), anon/1e6, filepath.Join(work, "data"))
	return nil
}

// reuseStore measures `unicat serve`'s start and incremental batches on
// the store a storeOnly run left in work.
func (b *bench) reuseStore(unicat, work string) error {
	libs := corpus.Libraries(b.opts.libs)
	files := make([]string, len(libs))
	for i, l := range libs {
		files[i] = filepath.Join(work, "iso", corpus.FileName(l, marc.FormatISO2709))
	}
	// Written again for free ports.
	config, httpAddr, _, err := writeConfig(work, libs, files)
	if err != nil {
		return err
	}
	if err := b.batchRows(config, libs, files); err != nil {
		return err
	}
	srv, err := b.startRows(unicat, config, "http://"+httpAddr, nil)
	if err != nil {
		return err
	}
	srv.stop()
	return nil
}

// ingest: 2. unicat import (parse, store, dedup, index), then unicat
// compact, against zebraidx.
func (b *bench) ingest(unicat, work string, c corpusFiles, haveZebra bool) (ingested, error) {
	o := b.opts
	var in ingested
	var err error
	in.config, in.httpAddr, in.z3950Addr, err = writeConfig(work, c.libs, c.iso)
	if err != nil {
		return in, err
	}
	impTime, impRSS, impAnon, err := importAll(unicat, in.config)
	if err != nil {
		return in, err
	}
	dataBytes := dirBytes(filepath.Join(work, "data"))
	b.logf("unicat import: %v, peak RSS %.0f MB (anonymous %.0f MB), %.1f MB on disk", impTime.Round(time.Millisecond), impRSS/1e6, impAnon/1e6, float64(dataBytes)/1e6)
	ingest := row{what: "Full ingest (parse+store+dedup+index)", unit: "records/s", us: float64(o.n) / impTime.Seconds(), peerName: "zebraidx init+update+commit"}
	disk := row{what: "Bytes on disk per record, after the import", unit: "bytes", us: float64(dataBytes) / float64(o.n), lowerBetter: true, peerName: "Zebra register"}
	// A bbolt file keeps the pages its commits freed: `unicat compact`
	// rewrites it without them.
	t0 := time.Now()
	if out, err := exec.Command(unicat, "compact", "--config", in.config).CombinedOutput(); err != nil {
		return in, fmt.Errorf("unicat compact: %v: %s", err, tail(string(out), 2000))
	}
	compactTime := time.Since(t0)
	compacted := dirBytes(filepath.Join(work, "data"))
	b.logf("unicat compact: %v, %.1f MB on disk", compactTime.Round(time.Millisecond), float64(compacted)/1e6)
	diskCompact := row{what: fmt.Sprintf("Bytes on disk per record, after `unicat compact` (%s)", compactTime.Round(time.Second)),
		unit: "bytes", us: float64(compacted) / float64(o.n), lowerBetter: true, peerName: "Zebra register"}
	if haveZebra {
		zwork := filepath.Join(work, "zebra")
		var zlog bytes.Buffer
		t0 := time.Now()
		in.zebra, err = zebrapeer.Start(zebrapeer.Options{ConfigDir: o.zebraConf, WorkDir: zwork, Records: c.all, IndexLog: &zlog})
		if err != nil {
			return in, fmt.Errorf("%v: %s", err, tail(zlog.String(), 2000))
		}
		ingest.peer, ingest.hasPeer = float64(o.n)/time.Since(t0).Seconds(), true
		disk.peer, disk.hasPeer = float64(dirBytes(filepath.Join(zwork, "reg"))+dirBytes(filepath.Join(zwork, "shadow")))/float64(o.n), true
		diskCompact.peer, diskCompact.hasPeer = disk.peer, true
		b.logf("zebraidx: %v", time.Since(t0).Round(time.Millisecond))
	} else {
		ingest.peerNA, disk.peerNA, diskCompact.peerNA = "Zebra not installed", "Zebra not installed", "Zebra not installed"
	}
	b.rows = append(b.rows, ingest, disk, diskCompact, memRow("`unicat import`", impAnon, impRSS))
	return in, nil
}

// importAll runs unicat import --all, returning how long it took, its peak
// resident set and its peak anonymous memory.
func importAll(unicat, config string) (took time.Duration, rss, anon float64, err error) {
	t0 := time.Now()
	imp := exec.Command(unicat, "import", "--config", config, "--all")
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := imp.Start(); err != nil {
		return 0, 0, 0, fmt.Errorf("unicat import: %w", err)
	}
	impWatch := watchAnon(imp.Process.Pid)
	if err := imp.Wait(); err != nil {
		impWatch.peak()
		return 0, 0, 0, fmt.Errorf("unicat import: %v: %s", err, tail(impOut.String(), 2000))
	}
	anon = impWatch.peak()
	took = time.Since(t0)
	return took, maxRSS(imp.ProcessState), anon, nil
}

// dedup: 3. Deduplication quality against the truth.
func (b *bench) dedup(work string, cf corpusFiles) error {
	c, err := dedupQuality(filepath.Join(work, "data", "unicat.db"), filepath.Join(cf.isoDir, corpus.TruthFile))
	if err != nil {
		return err
	}
	b.logf("dedup: %s", c)
	for _, q := range []struct {
		name string
		v    float64
	}{{"precision", c.Precision()}, {"recall", c.Recall()}, {"F1", c.F1()}} {
		b.rows = append(b.rows, row{what: "Dedup " + q.name + fmt.Sprintf(" (pairs: %d true, %d found)", c.TP+c.FN, c.TP+c.FP), unit: "", us: q.v, peerNA: "truth"})
	}
	return nil
}

// serve: 4. Serving: the time `unicat serve` takes to answer, started on
// a store out of the page cache and then in it; then SRU, Z39.50, OAI-PMH,
// with the server's peak RSS per phase. It returns how to stop the server
// (nil if it did not start), which the caller does once the table is
// printed.
func (b *bench) serve(unicat string, in ingested, c corpusFiles) (stop func(), err error) {
	base := "http://" + in.httpAddr
	srv, err := b.startRows(unicat, in.config, base, in.zebra)
	if err != nil {
		return nil, err
	}
	pid := srv.cmd.Process.Pid
	b.rows = append(b.rows, memRow("`unicat serve`, start-up", procStatus(pid, "RssAnon:"), vmHWM(pid)))

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.searchLoad(client, pid, base, in, c)
	b.harvestAll(client, pid, base)
	return srv.stop, nil
}

// searchLoad puts unicat serve and zebrasrv under the same search load,
// SRU then Z39.50.
func (b *bench) searchLoad(client *http.Client, pid int, base string, in ingested, c corpusFiles) {
	o, zs := b.opts, in.zebra
	queries := b.queries(c.iso[0])
	resetHWM(pid)
	watch := watchAnon(pid)
	us := loadSRU(client, base+"/sru", queries, o)
	srvAnon, srvRSS := watch.peak(), vmHWM(pid)
	var zr loadResult
	if zs != nil {
		zr = loadSRU(client, zs.URL, queries, o)
	}
	b.searchRows("SRU searchRetrieve", us, zr, zs != nil, "zebrasrv SRU")
	b.rows = append(b.rows, memRow("`unicat serve`, SRU load", srvAnon, srvRSS))

	pqfs := toPQF(queries)
	resetHWM(pid)
	watch = watchAnon(pid)
	uz := loadZ3950("tcp:"+in.z3950Addr+"/unicat", pqfs, o)
	zAnon, zRSS := watch.peak(), vmHWM(pid)
	var zz loadResult
	if zs != nil {
		zz = loadZ3950("tcp:"+zs.Addr+"/Default", pqfs, o)
	}
	b.searchRows("Z39.50 search+present", uz, zz, zs != nil, "zebrasrv Z39.50")
	b.rows = append(b.rows, memRow("`unicat serve`, Z39.50 load", zAnon, zRSS))
}

// harvestAll harvests the whole union catalog from unicat serve over
// OAI-PMH.
func (b *bench) harvestAll(client *http.Client, pid int, base string) {
	resetHWM(pid)
	watch := watchAnon(pid)
	h, err := harvest(client, base+"/oai", b.opts.n*2, 10*time.Minute)
	oaiAnon, oaiRSS := watch.peak(), vmHWM(pid)
	if err != nil {
		b.rows = append(b.rows, row{what: "OAI-PMH ListRecords harvest", usNA: err.Error(), peerNA: "no peer"})
	} else {
		b.rows = append(b.rows,
			row{what: fmt.Sprintf("OAI-PMH ListRecords full harvest (%d records, %d pages)", h.records, h.pages), unit: "records/s", us: float64(h.records) / h.total.Seconds(), peerNA: "no peer"},
			row{what: "OAI-PMH first page latency", unit: "ms", us: ms(h.first), lowerBetter: true, peerNA: "no peer"},
			row{what: "OAI-PMH last page latency", unit: "ms", us: ms(h.last), lowerBetter: true, peerNA: "no peer"},
		)
	}
	b.rows = append(b.rows, memRow("`unicat serve`, OAI-PMH harvest", oaiAnon, oaiRSS))
}
