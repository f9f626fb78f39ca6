package harvester

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/store"
)

// SourceStatus is what `unicat status` shows of one source.
type SourceStatus struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Disabled bool   `json:"disabled,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	// State is idle, waiting, running or failed when a scheduler reports
	// it, "" when read from the store alone.
	State string `json:"state,omitempty"`
	// Next is the next scheduled run, zero if none; NextEstimated says it
	// was computed from the schedule, not taken from a running scheduler.
	Next          time.Time  `json:"next,omitzero"`
	NextEstimated bool       `json:"next_estimated,omitempty"`
	Live          int        `json:"live"`
	Deleted       int        `json:"deleted"`
	Last          *store.Run `json:"last,omitempty"`
	LastSuccess   time.Time  `json:"last_success,omitzero"`
	// Received counts the live records by the encoding they arrived in,
	// when some had to be converted (utf-8: stored as received).
	Received []store.EncodingCount `json:"received,omitempty"`
}

// ReadStatus reads the status of every configured source from the store.
// Next is estimated from the schedule: after the last run for "@every",
// from now for cron expressions.
func ReadStatus(st *store.Store, cfg *config.Config) ([]SourceStatus, error) {
	now := time.Now()
	out := make([]SourceStatus, 0, len(cfg.Sources))
	err := st.View(func(tx *store.Tx) error {
		for _, src := range cfg.Sources {
			s := SourceStatus{ID: src.ID, Name: src.Name, Kind: src.Kind, Disabled: src.Disabled, Schedule: src.Schedule}
			if stats, err := tx.Stats(src.ID); err == nil {
				s.Live, s.Deleted = stats.Live, stats.Deleted
			}
			enc, err := tx.Encodings(src.ID)
			if err != nil {
				return err
			}
			if len(enc) > 1 || len(enc) == 1 && enc[0].Encoding != "utf-8" {
				s.Received = enc
			}
			runs, err := tx.Runs(src.ID, 0)
			if err != nil {
				return err
			}
			if len(runs) > 0 {
				s.Last = &runs[0]
			}
			for _, r := range runs {
				if r.Err == "" && !r.Unfinished() {
					s.LastSuccess = r.End
					break
				}
			}
			if !src.Disabled && src.Schedule != "" {
				if sched, err := config.ParseSchedule(src.Schedule); err == nil {
					base := now
					if s.Last != nil && strings.HasPrefix(src.Schedule, "@every") {
						base = s.Last.Start
					}
					next := sched.Next(base)
					if next.Before(now) {
						next = sched.Next(now)
					}
					s.Next, s.NextEstimated = next, true
				}
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// WriteStatus prints the statuses as a table, times relative to now.
func WriteStatus(w io.Writer, ss []SourceStatus, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tSTATE\tLAST RUN\tTOOK\tADDED\tUPDATED\tDELETED\tREJECTED\tDUPLICATE\tPAGES\tLIVE\tLAST SUCCESS\tNEXT\tERROR")
	for _, s := range ss {
		r := lastRunColumns(s.Last, now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
			s.ID, s.Kind, statusState(s), r.last, r.took, r.added, r.updated, r.deleted, r.rejected, r.dups, r.pages,
			s.Live, lastSuccess(s, now), nextRun(s, now), r.errText)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// What the records arrived in, errors and notes of the last runs
	// below the table: they do not fit in it.
	for _, s := range ss {
		writeReceived(w, s)
		writeLastRun(w, s)
	}
	return nil
}

// statusState is the STATE column: the scheduler's state, but for a
// disabled source, an interrupted run or, read from the store alone, a
// failed one.
func statusState(s SourceStatus) string {
	switch {
	case s.Disabled:
		return "disabled"
	case s.State != "running" && s.Last != nil && s.Last.Unfinished():
		return "interrupted"
	case s.State == "" && s.Last != nil && s.Last.Err != "":
		return "failed"
	case s.State == "":
		return "-"
	}
	return s.State
}

// runColumns are the table's columns about the last run.
type runColumns struct {
	last, took, added, updated, deleted, rejected, dups, pages, errText string
}

// lastRunColumns fills the columns of the last run r, if any.
func lastRunColumns(r *store.Run, now time.Time) runColumns {
	if r == nil {
		return runColumns{"never", "-", "-", "-", "-", "-", "-", "-", ""}
	}
	c := runColumns{last: ago(now, r.Start), took: "-"}
	if !r.Unfinished() {
		c.took = r.End.Sub(r.Start).Round(100 * time.Millisecond).String()
	}
	c.added, c.updated, c.deleted = fmt.Sprint(r.Added), fmt.Sprint(r.Updated), fmt.Sprint(r.Deleted)
	c.rejected, c.dups, c.pages = fmt.Sprint(r.Rejected), fmt.Sprint(r.Duplicates), fmt.Sprint(r.Pages)
	c.errText = oneLine(r.Err, 60)
	return c
}

// lastSuccess is the LAST SUCCESS column.
func lastSuccess(s SourceStatus, now time.Time) string {
	if s.LastSuccess.IsZero() {
		return "never"
	}
	return ago(now, s.LastSuccess)
}

// nextRun is the NEXT column, "~" marking an estimate.
func nextRun(s SourceStatus, now time.Time) string {
	if s.Next.IsZero() {
		return "-"
	}
	next := "in " + s.Next.Sub(now).Round(time.Second).String()
	if s.NextEstimated {
		next = "~" + next
	}
	return next
}

// writeReceived writes the encodings the source's records arrived in,
// when some had to be converted.
func writeReceived(w io.Writer, s SourceStatus) {
	if len(s.Received) == 0 {
		return
	}
	parts := make([]string, len(s.Received))
	for i, e := range s.Received {
		parts[i] = fmt.Sprintf("%d %s", e.Records, e.Encoding)
	}
	fmt.Fprintf(w, "\n%s, live records by the encoding they arrived in (all stored as UTF-8 NFC): %s\n", s.ID, strings.Join(parts, ", "))
}

// writeLastRun writes the error and the first ten lines of notes of the
// source's last run, if it has any.
func writeLastRun(w io.Writer, s SourceStatus) {
	if s.Last == nil || s.Last.Notes == "" && s.Last.Err == "" {
		return
	}
	fmt.Fprintf(w, "\n%s, last run:\n", s.ID)
	if s.Last.Err != "" {
		fmt.Fprintf(w, "  error: %s\n", s.Last.Err)
	}
	if s.Last.Notes == "" {
		return
	}
	lines := strings.Split(s.Last.Notes, "\n")
	for i, l := range lines {
		if i == 10 {
			fmt.Fprintf(w, "  ... %d more lines\n", len(lines)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", oneLine(l, 160))
	}
}

func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return t.Format(time.DateTime)
	}
	return d.Round(time.Second).String() + " ago"
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
