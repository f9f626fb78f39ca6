package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"time"
)

// An OAI-PMH full harvest of unicat serve.

type harvestResult struct {
	records, pages int
	first, last    time.Duration
	total          time.Duration
}

var (
	tokenRe  = regexp.MustCompile(`<resumptionToken[^>]*>([^<]+)</resumptionToken>`)
	recordRe = regexp.MustCompile(`<record>`)
	errorRe  = regexp.MustCompile(`<error code="([^"]+)"`)
)

// harvest runs a full ListRecords (marc21) harvest, following resumption
// tokens, bounded in pages and time.
func harvest(client *http.Client, base string, maxPages int, limit time.Duration) (harvestResult, error) {
	var h harvestResult
	t0 := time.Now()
	q := url.Values{"verb": {"ListRecords"}, "metadataPrefix": {"marc21"}}
	for h.pages < maxPages {
		if time.Since(t0) > limit {
			return h, fmt.Errorf("harvest not done after %s (%d records)", limit, h.records)
		}
		t := time.Now()
		resp, err := client.Get(base + "?" + q.Encode())
		if err != nil {
			return h, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return h, err
		}
		d := time.Since(t)
		if resp.StatusCode != 200 {
			return h, fmt.Errorf("OAI-PMH: HTTP %d", resp.StatusCode)
		}
		if m := errorRe.FindSubmatch(body); m != nil {
			return h, fmt.Errorf("OAI-PMH error %s", m[1])
		}
		h.pages++
		h.records += len(recordRe.FindAllIndex(body, -1))
		if h.pages == 1 {
			h.first = d
		}
		h.last = d
		m := tokenRe.FindSubmatch(body)
		if m == nil {
			break
		}
		q = url.Values{"verb": {"ListRecords"}, "resumptionToken": {string(m[1])}}
	}
	h.total = time.Since(t0)
	runtime.KeepAlive(client)
	return h, nil
}
