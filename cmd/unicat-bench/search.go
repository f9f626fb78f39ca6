package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/z3950"
)

// Searching under load: SRU and Z39.50, unicat and Zebra alike.

// queries is the fixed mixed query list, made from the vocabulary the
// corpus is generated from and from the first records of one library's
// file (an ISBN, an author): title words, a phrase, author, ISBN,
// subject, booleans, truncation, a year range and a sort.
func (b *bench) queries(file string) []string {
	var isbns, authors []string
	if fh, err := os.Open(file); err == nil {
		rd := marc.NewISO2709Reader(fh, marc.ReaderOptions{})
		for i := 0; i < 200; i++ {
			r, err := rd.Next()
			if err != nil {
				break
			}
			if v, _ := r.ISBNs(); len(v) > 0 && len(isbns) < 3 {
				isbns = append(isbns, v[0])
			}
			if f := r.First("100"); f != nil && len(authors) < 3 && !strings.Contains(f.Sub('a'), ",") {
				authors = append(authors, strings.TrimRight(f.Sub('a'), " ,."))
			}
		}
		fh.Close()
	}
	qs := []string{
		`dc.title = "lịch sử"`,
		`dc.title = "nghệ an"`,
		`dc.title = "giáo trình"`,
		`dc.title = "thủy sản"`,
		`dc.title = "introduction"`,
		`cql.serverChoice = "truyện"`,
		`dc.title = "ca dao tục ngữ"`,
		`dc.subject = "nông nghiệp"`,
		`dc.subject = "văn hóa"`,
		`dc.title = "kỹ*"`,
		`dc.title = "phong*"`,
		`dc.title = "văn hóa" and dc.title = "xứ nghệ"`,
		`dc.title = "sông lam" or dc.title = "núi hồng"`,
		`dc.title = "kinh tế" not dc.title = "nông thôn"`,
		`dc.title = "giáo dục" and dc.date > 2010`,
		`dc.language = vie and dc.title = "tiếng việt"`,
		`dc.title = "làng nghề" sortBy dc.date/sort.descending`,
	}
	for _, a := range authors {
		qs = append(qs, `dc.creator = "`+a+`"`)
	}
	for _, i := range isbns {
		qs = append(qs, "bath.isbn = "+i)
	}
	return qs
}

type loadResult struct {
	qps, p50, p99 float64
	queries       int
	errors        int
	err           string
}

var countRe = regexp.MustCompile(`numberOfRecords>(\d+)<`)

// loadSRU sends the queries (ten MARCXML records each) from the clients
// until the time or the request budget is used up.
func loadSRU(client *http.Client, base string, queries []string, o options) loadResult {
	return load(queries, o, func() (func(q string) error, func()) {
		return func(q string) error {
			params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {q}, "maximumRecords": {"10"}}
			resp, err := client.Get(base + "?" + params.Encode())
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || !countRe.Match(body) {
				return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
			}
			return nil
		}, func() {}
	})
}

// toPQF turns the CQL list into Bib-1 PQF, each index to its first Bib-1
// use attribute in search's index table (as the Zebra comparison's
// cql2pqf.properties, generated from the same table, maps it).
func toPQF(cql []string) []string {
	use := func(index string) string {
		if d, ok := search.LookupIndex(index); ok && len(d.Bib1) > 0 {
			return strconv.Itoa(d.Bib1[0])
		}
		return "1016" // any field: the benchmark's queries name known indexes
	}
	term := func(s string) string {
		idx, rest, _ := strings.Cut(s, " ")
		op, val, _ := strings.Cut(rest, " ")
		val = strings.TrimSpace(val)
		if i := strings.Index(val, " sortBy"); i >= 0 {
			val = val[:i]
		}
		attrs := "@attr 1=" + use(idx)
		switch op {
		case ">":
			attrs += " @attr 2=5"
		case "<":
			attrs += " @attr 2=1"
		}
		if strings.HasSuffix(strings.Trim(val, `"`), "*") {
			val = `"` + strings.TrimSuffix(strings.Trim(val, `"`), "*") + `"`
			attrs += " @attr 5=1"
		}
		return attrs + " " + val
	}
	var out []string
	for _, q := range cql {
		if i := strings.Index(q, " sortBy"); i >= 0 {
			q = q[:i]
		}
		for _, op := range []string{" and ", " or ", " not "} {
			if l, r, ok := strings.Cut(q, op); ok {
				q = "@" + strings.TrimSpace(op) + " " + term(l) + " " + term(r)
				goto done
			}
		}
		q = term(q)
	done:
		out = append(out, q)
	}
	return out
}

// loadZ3950 runs search + present (ten USMARC records) per query, one
// association per client.
func loadZ3950(target string, pqfs []string, o options) loadResult {
	ctx := context.Background()
	probe, err := z3950.Dial(ctx, target, z3950.ClientOptions{Charset: "utf-8", Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", target, err)
		return loadResult{err: "no Z39.50 listener", queries: len(pqfs)}
	}
	probe.Close()
	return load(pqfs, o, func() (func(q string) error, func()) {
		c, err := z3950.Dial(ctx, target, z3950.ClientOptions{Charset: "utf-8", Timeout: 30 * time.Second})
		if err != nil {
			return func(string) error { return err }, func() {}
		}
		return func(q string) error {
			n, err := c.Search(ctx, q, "default")
			if err != nil {
				return err
			}
			if n > 0 {
				_, _, err = c.Present(ctx, "default", 1, min(n, 10), z3950.OIDUSMARC, "F")
			}
			return err
		}, func() { c.Close() }
	})
}

// load runs do from o.clients workers, each with its own session, until
// o.seconds pass or o.maxRequests were sent.
func load(queries []string, o options, session func() (do func(string) error, end func())) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var firstErr error
	stop := time.Now().Add(o.seconds)
	budget := o.maxRequests
	var wg sync.WaitGroup
	t0 := time.Now()
	for k := 0; k < o.clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			do, end := session()
			defer end()
			var mine []time.Duration
			bad := 0
			for i := k; time.Now().Before(stop); i++ {
				mu.Lock()
				if budget == 0 {
					mu.Unlock()
					break
				}
				budget--
				mu.Unlock()
				q := queries[(i*7+k)%len(queries)]
				t := time.Now()
				if err := do(q); err != nil {
					bad++
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", q, err)
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	el := time.Since(t0)
	slices.Sort(lat)
	res := loadResult{errors: errs, qps: float64(len(lat)) / el.Seconds(), queries: len(queries)}
	if len(lat) > 0 {
		res.p50 = ms(lat[len(lat)/2])
		res.p99 = ms(lat[len(lat)*99/100])
	} else if firstErr != nil {
		res.err = "every request failed: " + tail(firstErr.Error(), 120)
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "bench: first failure: %v\n", firstErr)
	}
	return res
}
