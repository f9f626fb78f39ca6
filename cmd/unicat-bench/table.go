package main

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// The result table.

// row is one line of the result table.
type row struct {
	what, unit  string
	us, peer    float64
	hasPeer     bool
	usNA        string // why unicat's figure is missing
	peerNA      string // why the peer's figure is missing
	lowerBetter bool
	peerName    string
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// memRow reports a process's peak anonymous memory, with its peak
// resident set (which adds the store file's mapped pages) beside it.
func memRow(who string, anon, rss float64) row {
	return row{what: fmt.Sprintf("Peak memory of %s: anonymous (resident with the mapped store: %.0f MB)", who, rss/1e6),
		unit: "MB", us: anon / 1e6, lowerBetter: true, peerNA: "—"}
}

func (b *bench) searchRows(name string, us, peer loadResult, hasPeer bool, peerName string) {
	mk := func(what, unit string, u, p float64, lower bool) row {
		r := row{what: what, unit: unit, us: u, peer: p, hasPeer: hasPeer, lowerBetter: lower, peerName: peerName}
		if us.err != "" {
			r.usNA = us.err
		}
		if !hasPeer {
			r.peerNA = "Zebra not installed"
		} else if peer.err != "" {
			r.peerNA, r.hasPeer = peer.err, false
		}
		return r
	}
	cl := fmt.Sprintf("%d clients, %d queries", b.opts.clients, us.queries)
	b.rows = append(b.rows,
		mk(fmt.Sprintf("%s throughput (%s)", name, cl), "queries/s", us.qps, peer.qps, false),
		mk(name+" latency p50", "ms", us.p50, peer.p50, true),
		mk(name+" latency p99", "ms", us.p99, peer.p99, true),
	)
	if us.errors > 0 || peer.errors > 0 {
		b.notes = append(b.notes, fmt.Sprintf("%s: failed requests: unicat %d, %s %d (not counted in the latencies)", name, us.errors, peerName, peer.errors))
	}
	b.logf("%s: unicat %+v; peer %+v", name, us, peer)
}

func (b *bench) print(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "| measure | unit | unicat | peer | peer figure | unicat ÷ peer |\n|---|---|---:|---|---:|---:|\n")
	for _, r := range b.rows {
		us := fmtNum(r.us)
		if r.usNA != "" {
			us = "n/a (" + r.usNA + ")"
		}
		peer, ratio := "n/a", "—"
		if r.peerNA != "" {
			peer = r.peerNA
			if r.peerNA == "—" || r.peerNA == "truth" || r.peerNA == "no peer" {
				peer = "—"
			}
		}
		if r.hasPeer {
			peer = fmtNum(r.peer)
			if r.peer > 0 && r.usNA == "" {
				ratio = fmt.Sprintf("%.2f×", r.us/r.peer)
				if r.lowerBetter {
					ratio += " (lower is better)"
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.what, r.unit, us, r.peerName, peer, ratio)
	}
	fmt.Fprintf(w, "\nN = %d records over %d libraries, %d search clients, %s of load per server; the whole run took %s.\n",
		b.opts.n, b.opts.libs, b.opts.clients, b.opts.seconds, took.Round(time.Second))
	for _, n := range b.notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.4f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
