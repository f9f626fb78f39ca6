package ingest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// RederiveOptions configure Rederive.
type RederiveOptions struct {
	Source  string       // store source id
	Charset marc.Charset // the source's charset setting now
	// BatchSize is how many changed records go into one store batch;
	// 0 means DefaultBatchSize.
	BatchSize int
	// Progress, when set, is called after every record read with the
	// number read so far.
	Progress func(read int64)
	// Changed, when set, is called for every record whose text or origin
	// changed, with what it was and what it is now derived as.
	Changed func(localID string, was, now string)
}

// RederiveSummary counts what Rederive did.
type RederiveSummary struct {
	Read      int // live records read
	Updated   int // records whose stored text or origin changed
	Failed    int // records whose received bytes no longer decode (kept as they are)
	Failures  []string
	Converted map[string]int // records now converted, by encoding
}

// Rederive derives every live record of a source again from what the
// source sent (the received bytes kept beside converted text, or the
// stored text of a record stored as received), with the source's charset
// setting now and the detector of this build, without harvesting again.
// Records whose text or origin comes out different are applied to the
// store as updates in ordinary batches, so deduplication, the search index
// and OAI-PMH datestamps follow.
func Rederive(ctx context.Context, st *store.Store, opts RederiveOptions) (RederiveSummary, error) {
	var sum RederiveSummary
	size := opts.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	from := ""
	for {
		var batch []store.Incoming
		next, done := "", true
		err := st.View(func(tx *store.Tx) error {
			return tx.ForEachRecordFrom(opts.Source, from, func(sr *store.SourceRecord) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if len(batch) >= size {
					next, done = sr.LocalID, false
					return errStop
				}
				if sr.Deleted {
					return nil
				}
				sum.Read++
				if opts.Progress != nil {
					opts.Progress(int64(sum.Read))
				}
				in, err := rederive(sr, opts.Charset)
				if err != nil {
					sum.Failed++
					if len(sum.Failures) < MaxRejects {
						sum.Failures = append(sum.Failures, fmt.Sprintf("%s: %v", sr.LocalID, err))
					}
					return nil
				}
				if in.Record.Origin != nil {
					if sum.Converted == nil {
						sum.Converted = map[string]int{}
					}
					sum.Converted[in.Record.Origin.Encoding()]++
				}
				if in.changed {
					if opts.Changed != nil {
						opts.Changed(sr.LocalID, sr.ReceivedEncoding(), in.Record.Origin.Encoding())
					}
					batch = append(batch, in.Incoming)
				}
				return nil
			})
		})
		if err != nil && err != errStop {
			return sum, fmt.Errorf("ingest: re-derive %s: %w", opts.Source, err)
		}
		if len(batch) > 0 {
			res, err := st.Apply(store.Batch{Source: opts.Source, Records: batch})
			if err != nil {
				return sum, fmt.Errorf("ingest: re-derive %s: %w", opts.Source, err)
			}
			sum.Updated += res.Updated
			for _, r := range res.Rejected {
				sum.Failed++
				if len(sum.Failures) < MaxRejects {
					sum.Failures = append(sum.Failures, fmt.Sprintf("%s: %v", r.LocalID, r.Err))
				}
			}
		}
		if done {
			return sum, nil
		}
		from = next
	}
}

type errStopT struct{}

func (errStopT) Error() string { return "stop" }

var errStop error = errStopT{}

type derived struct {
	store.Incoming
	changed bool
}

// rederive decodes what sr's source sent and says whether the result
// differs from what is stored.
func rederive(sr *store.SourceRecord, cs marc.Charset) (derived, error) {
	received, format := sr.Received, sr.ReceivedFormat
	if received == nil {
		received, format = sr.Raw, sr.Format
	}
	var rec *marc.Record
	var err error
	if format == marc.FormatMARCXML && sr.Received == nil {
		// Stored as received in MARCXML (too long for ISO 2709).
		// No size limit: the record was accepted when it came in.
		rec, err = marc.DecodeMARCXML(received, marc.ReaderOptions{Charset: cs, MaxRecordBytes: -1})
	} else {
		rec, err = marc.DecodeReceived(received, format, marc.ReaderOptions{Charset: cs, MaxRecordBytes: -1})
	}
	if err != nil {
		return derived{}, err
	}
	if sr.Received == nil && rec.Origin != nil {
		rec.Origin.ReceivedFormat = sr.Format
	}
	in := store.Incoming{LocalID: sr.LocalID, Record: rec, Datestamp: sr.Datestamp}
	raw, err := marc.AppendISO2709(nil, rec)
	if err != nil {
		raw, _ = marc.AppendMARCXML(nil, rec, true)
	}
	enc := ""
	if rec.Origin != nil {
		enc = rec.Origin.Encoding()
	}
	changed := !bytes.Equal(raw, sr.Raw) || enc != sr.Encoding
	return derived{Incoming: in, changed: changed}, nil
}
