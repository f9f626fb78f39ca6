package harvester

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// fileDriver imports the export files dropped at a source's path (a file
// or a directory of files) that are new or changed since the last run.
type fileDriver struct{}

// fileCheckpoint maps each imported file, by its name relative to the
// source's path, to the SHA-256 of the content imported.
type fileCheckpoint struct {
	Files map[string]string `json:"files"`
}

func (c fileCheckpoint) bytes() []byte {
	b, _ := json.Marshal(c)
	return b
}

func (fileDriver) Harvest(ctx context.Context, j *Job) error {
	src := j.Source
	root := j.Config.Resolve(src.Path)
	files, err := ingest.Files([]string{root})
	if err != nil {
		return err
	}
	cp := fileCheckpoint{Files: map[string]string{}}
	if raw, err := j.Checkpoint(); err != nil {
		return err
	} else if raw != nil {
		if err := json.Unmarshal(raw, &cp); err != nil || cp.Files == nil {
			j.Note("checkpoint %q not understood: importing every file", raw)
			cp.Files = map[string]string{}
		}
	}
	rel := func(f string) string {
		if r, err := filepath.Rel(root, f); err == nil && r != "." {
			return filepath.ToSlash(r)
		}
		return filepath.Base(f)
	}
	// Forget files that were removed, so that one put back is imported.
	present := map[string]bool{}
	for _, f := range files {
		present[rel(f)] = true
	}
	forgot := false
	for name := range cp.Files {
		if !present[name] {
			delete(cp.Files, name)
			forgot = true
		}
	}
	type todo struct {
		path, name string
		size       int64
	}
	var work []todo
	var total int64
	for _, f := range files {
		sum, size, err := hashFile(f)
		if err != nil {
			return err
		}
		if cp.Files[rel(f)] == sum {
			continue
		}
		work = append(work, todo{f, rel(f), size})
		total += size
	}
	var errs []error
	var done int64
	for _, w := range work {
		if err := ctx.Err(); err != nil {
			return err
		}
		sum, err := importFile(ctx, j, w.path, &cp, w.name, done, total)
		done += w.size
		if err != nil {
			// The file is retried next run; the others go on.
			errs = append(errs, err)
			continue
		}
		cp.Files[w.name] = sum
		forgot = false
	}
	if forgot {
		if _, err := j.Commit(store.Batch{Checkpoint: cp.bytes()}); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// importFile imports one file and commits its hash in the checkpoint
// (with the deletions of a full export). It returns the hash of exactly
// the bytes imported, which may differ from the one computed before if
// the file was being rewritten.
func importFile(ctx context.Context, j *Job, path string, cp *fileCheckpoint, name string, base, total int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	var seen map[string]bool
	if j.Source.FullExport {
		seen = map[string]bool{}
	}
	recBase := j.prog.Records
	sum, err := ingest.ImportReader(ctx, j.Store, io.TeeReader(f, h), path, fileImportOptions(j, seen, base, total))
	reportImport(j, name, sum)
	j.prog.Records = recBase // Page counts the file's records
	j.Page(sum.Bytes, sum.Read)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	// The rest of the file, should the reader have stopped early.
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if err := commitFile(ctx, j, cp, name, digest, seen, sum.Rejected); err != nil {
		return "", err
	}
	return digest, nil
}

// fileImportOptions are the import's options for the source: its
// charset, format and limits, the job's progress from base bytes of
// total, and seen (nil but for a full export) filled with the ids read.
func fileImportOptions(j *Job, seen map[string]bool, base, total int64) ingest.Options {
	src := j.Source
	recBase := j.prog.Records
	opts := ingest.Options{
		Source:         src.ID,
		Charset:        marc.Charset(src.Charset),
		MaxRecordBytes: src.MaxRecordBytes,
		Now:            j.Now,
		Progress: func(bytes, records int64) {
			j.SetProgress(base+bytes, total)
			j.prog.Records = recBase + records
			j.report()
		},
	}
	if src.Format != "" && src.Format != "auto" {
		opts.Format = marc.Format(src.Format)
	}
	if seen != nil {
		opts.Seen = func(id string) { seen[id] = true }
	}
	opts.Converted = func(_ string, _ int, id string, o *marc.Origin) { j.Converted(id, o) }
	return opts
}

// reportImport counts a file's import in the job and puts its rejected
// and duplicate records and its warnings in the run's notes.
func reportImport(j *Job, name string, sum ingest.Summary) {
	j.count(store.Result{Added: sum.Added, Updated: sum.Updated, Unchanged: sum.Unchanged, Deleted: sum.Deleted,
		Duplicates: sum.Duplicates})
	for _, r := range sum.Rejects {
		label := fmt.Sprintf("%s record %d", name, r.Index)
		if r.Offset >= 0 {
			label += fmt.Sprintf(" at byte %d", r.Offset)
		}
		j.Reject(label, importRejectReason(r.Reason), r.Reason)
	}
	if extra := sum.Rejected - len(sum.Rejects); extra > 0 {
		j.run.Rejected += extra
		j.Note("%s: %d more records rejected", name, extra)
	}
	for _, r := range sum.DuplicateRecords {
		j.Note("duplicate %s record %d: %s", name, r.Index, r.Reason)
	}
	if extra := sum.Duplicates - len(sum.DuplicateRecords); extra > 0 {
		j.Note("%s: %d more duplicates", name, extra)
	}
	for _, w := range sum.Warnings {
		j.Note("%s", w)
	}
}

// importRejectReason is the metrics label of the reason ingest gave for
// rejecting a record.
func importRejectReason(reason string) string {
	switch {
	case strings.Contains(reason, "no control number"):
		return "no-id"
	case strings.Contains(reason, marc.ErrRecordTooLarge.Error()):
		return "too-large"
	case strings.Contains(reason, "local id"):
		return "bad-id"
	}
	return "marc"
}

// commitFile commits the checkpoint with the file's digest and, for a
// full export (seen not nil) none of whose records was rejected, the
// deletions of the records it lacks.
func commitFile(ctx context.Context, j *Job, cp *fileCheckpoint, name, digest string, seen map[string]bool, rejected int) error {
	next := fileCheckpoint{Files: map[string]string{}}
	for k, v := range cp.Files {
		next.Files[k] = v
	}
	next.Files[name] = digest
	b := store.Batch{Checkpoint: next.bytes()}
	var err error
	switch {
	case seen == nil:
		_, err = j.Commit(b)
	case rejected > 0:
		// A rejected record's id is unknown: deleting what the file
		// "lacks" could delete it.
		j.Note("%s: full export with %d rejected records: no deletions applied", name, rejected)
		_, err = j.Commit(b)
	default:
		err = j.commitWithDeletions(ctx, b, seen)
	}
	return err
}
