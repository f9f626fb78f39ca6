package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// An incremental harvest into the loaded catalog: batches of 1,000
// records from the provincial library, as a daily harvest brings them.

// The make-up of a batch.
const (
	batchUpdates   = 500 // its own records, corrected (a quarter re-catalogued); after the first, 100 of them those the batch before deleted
	batchNew       = 400 // books other libraries hold (half the same editions, half look-alikes)
	batchDeletions = 100 // its own records, withdrawn
	batches        = 5   // the first (after opening the catalog), then the steady state
)

// batchTimes is how long a batch took: Prepare and Commit together, and
// Commit (the write transaction) alone; and the CPU time this process
// spent meanwhile, which a busy machine disturbs less than the wall time.
type batchTimes struct {
	total, commit, cpu time.Duration
	res                store.Result
}

func (t batchTimes) String() string {
	return fmt.Sprintf("%v (commit %v, CPU %v; %d added, %d updated, %d deleted)", t.total.Round(time.Millisecond),
		t.commit.Round(time.Millisecond), t.cpu.Round(time.Millisecond), t.res.Added, t.res.Updated, t.res.Deleted)
}

func id(d time.Duration) time.Duration { return d }

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// batchRows applies the batches to the catalog of config, in this
// process, and adds their rows: the first batch after opening, which
// pays for what the catalog builds on its first write, and the median of
// the others.
func (b *bench) batchRows(config string, libs []corpus.Library, files []string) error {
	round, err := nextRound(filepath.Join(filepath.Dir(config), "batch-rounds"))
	if err != nil {
		return err
	}
	bs, err := makeBatches(libs, files, round)
	if errors.Is(err, errSmallCorpus) {
		b.notes = append(b.notes, "No incremental batches: "+err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	times, err := applyBatches(config, bs)
	if err != nil {
		return err
	}
	b.logf("incremental batches of 1,000 records: %v", times)
	rest := times[1:]
	total, commit := make([]time.Duration, len(rest)), make([]time.Duration, len(rest))
	for i, t := range rest {
		total[i], commit[i] = t.total, t.commit
	}
	what := fmt.Sprintf("Incremental batch of 1,000 records (%d updated, %d new, %d deleted), prepare+commit", batchUpdates, batchNew, batchDeletions)
	b.rows = append(b.rows,
		row{what: what + ", the first after opening the catalog", unit: "ms", us: ms(times[0].total), lowerBetter: true, peerNA: "no peer"},
		row{what: fmt.Sprintf("%s, median of the next %d", what, len(rest)), unit: "ms", us: ms(median(total, id)), lowerBetter: true, peerNA: "no peer"},
		row{what: fmt.Sprintf("Incremental batch of 1,000 records, its write transaction (commit), median of %d", len(rest)), unit: "ms", us: ms(median(commit, id)), lowerBetter: true, peerNA: "no peer"})
	return nil
}

// applyBatches opens the catalog configured in path and applies bs,
// timing each.
func applyBatches(path string, bs []store.Batch) ([]batchTimes, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	opts := catalog.OptionsFromConfig(cfg)
	// Read through once, as a catalog in service is: the batches' times
	// are the work they do, not reads from disk.
	if err := readThrough(opts.Path); err != nil {
		return nil, err
	}
	cat, err := catalog.Open(opts)
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	var out []batchTimes
	for _, bt := range bs {
		t0, c0 := time.Now(), cpuTime()
		p, err := cat.Store().Prepare(bt)
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		res, err := cat.Store().Commit(p)
		if err != nil {
			return nil, err
		}
		if len(res.Rejected) > 0 {
			return nil, fmt.Errorf("incremental batch: %+v", res)
		}
		out = append(out, batchTimes{total: time.Since(t0), commit: time.Since(t1), cpu: cpuTime() - c0, res: res})
	}
	return out, nil
}

// nextRound counts the runs of batchRows on one store in the file path
// and returns how many ran before: each run (-reuse runs on one store)
// deletes other records and adds new ones under other ids, so that every
// record of its batches changes something.
func nextRound(path string) (int, error) {
	round := 0
	if b, err := os.ReadFile(path); err == nil {
		round, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return round, os.WriteFile(path, []byte(strconv.Itoa(round+1)+"\n"), 0o644)
}

// readThrough reads a file, which leaves it in the page cache if it fits.
func readThrough(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// makeBatches makes the batches of a round from the corpus files: the
// provincial library's records (libs[0], files[0]) updated and deleted,
// and other libraries' records turned into new ones of its own.
func makeBatches(libs []corpus.Library, files []string, round int) ([]store.Batch, error) {
	const mine = batchUpdates + batchDeletions
	own, err := readSpread(files[0], 4*batches*mine)
	if err != nil {
		return nil, err
	}
	var others []*marc.Record
	for _, f := range files[1:] {
		recs, err := readFirst(f, batches*batchNew/(len(files)-1)+1)
		if err != nil {
			return nil, err
		}
		others = append(others, recs...)
	}
	if len(own) < mine || len(others) < batches*batchNew {
		return nil, errSmallCorpus
	}
	rng := rand.New(rand.NewPCG(uint64(round), 0x6261746368))
	lib := libs[0]
	out := make([]store.Batch, batches)
	for k := range out {
		bt := &out[k]
		bt.Source = lib.ID
		// Batch g of the store takes the records from g×500 on (round
		// after round, in turn): it updates 500 and deletes the 100
		// after them, which batch g+1 brings back as its first updates.
		// So no deletion is of a record deleted already.
		g := round*batches + k
		for i := range mine {
			r := own[(g*batchUpdates+i)%len(own)]
			if i >= batchUpdates {
				bt.Deletions = append(bt.Deletions, store.Deletion{LocalID: ingest.LocalID(r)})
				continue
			}
			bt.Records = append(bt.Records, store.Incoming{LocalID: ingest.LocalID(r), Record: updated(r, g, i, rng)})
		}
		for i, r := range others[k*batchNew : (k+1)*batchNew] {
			id := fmt.Sprintf("BENCH%d-%d-%d", round, k, i)
			bt.Records = append(bt.Records, store.Incoming{LocalID: id, Record: adopted(r, lib, id, i, rng)})
		}
	}
	return out, nil
}

// errSmallCorpus: the corpus has too few records for the batches.
var errSmallCorpus = errors.New("too few records in the corpus for batches of 1,000 (some 20,000 records are needed)")

// updated is a library's correction of its record r, which it leaves
// as it is: one time in four catalogued again (corpus.Variant, its
// holdings kept), and a note added (one of each batch, so that every
// batch changes the record).
func updated(r *marc.Record, batch, i int, rng *rand.Rand) *marc.Record {
	v := &marc.Record{Leader: r.Leader, Fields: slices.Clone(r.Fields)}
	if i%4 == 0 {
		v, _ = corpus.Variant(r, rng)
		for _, f := range r.FieldsByTag("852") {
			v.Fields = append(v.Fields, *f)
		}
	}
	note := fmt.Sprintf("Bản bổ sung %d.%d.", batch, i)
	v.Fields = append(v.Fields, marc.Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: note}}})
	return v
}

// adopted is another library's record r as lib's new record id: the same
// edition catalogued again (corpus.Variant) or, every other time, a
// look-alike (another edition, volume, author or reprint), with lib's
// control number and holdings.
func adopted(r *marc.Record, lib corpus.Library, id string, i int, rng *rand.Rand) *marc.Record {
	var v *marc.Record
	if i%2 == 0 {
		v, _ = corpus.Variant(r, rng)
	} else {
		v, _ = corpus.MakeLookAlike(r, corpus.LookAlikeKind(rng.IntN(4)), rng, func() string { return "" })
	}
	var fields []marc.Field
	for _, f := range v.Fields {
		if f.Tag != "001" && f.Tag != "003" {
			fields = append(fields, f)
		}
	}
	v.Fields = append([]marc.Field{{Tag: "001", Value: id}, {Tag: "003", Value: lib.Org}}, fields...)
	v.Fields = append(v.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: lib.Code}, {Code: 'b', Value: "Kho mượn"}}})
	return v
}

// readSpread reads n records spread evenly over an ISO 2709 file, or all
// of them if it has fewer.
func readSpread(path string, n int) ([]*marc.Record, error) {
	total := 0
	if err := eachRecord(path, func(*marc.Record) bool { total++; return true }); err != nil {
		return nil, err
	}
	n = min(n, total)
	if n == 0 {
		return nil, nil
	}
	var out []*marc.Record
	i := 0
	err := eachRecord(path, func(r *marc.Record) bool {
		if i%(total/n) == 0 && len(out) < n {
			out = append(out, r)
		}
		i++
		return len(out) < n
	})
	return out, err
}

// readFirst reads the first n records of an ISO 2709 file.
func readFirst(path string, n int) ([]*marc.Record, error) {
	var out []*marc.Record
	err := eachRecord(path, func(r *marc.Record) bool {
		out = append(out, r)
		return len(out) < n
	})
	return out, err
}

// eachRecord calls fn with the records of an ISO 2709 file until it
// returns false.
func eachRecord(path string, fn func(*marc.Record) bool) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	rd := marc.NewReader(fh, marc.FormatISO2709, marc.ReaderOptions{Source: filepath.Base(path)})
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
}
