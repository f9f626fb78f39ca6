// Package progress shows how far a long job (import, harvest, reindex) has
// got: a bar redrawn in place on a terminal, plain lines at intervals when
// the output is a file or a pipe (logs, CI).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar reports the progress of one job. Its methods are safe for
// concurrent use. The zero value is not usable; call New.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	total    int64 // 0 when unknown
	done     int64
	items    int64
	unit     string // what items count: "records" unless SetUnit
	start    time.Time
	last     time.Time
	interval time.Duration
	width    int // of the last line drawn, to clear it
}

// New returns a bar writing to w. total is the amount of work in the unit
// Add counts (bytes of input, say), or 0 when unknown. A bar writing to a
// terminal redraws itself at most every 100 ms; otherwise it prints a line
// every 5 seconds.
func New(w io.Writer, label string, total int64) *Bar {
	now := time.Now()
	// Plain output: the first line after one interval, not at once, so a
	// short job prints only its final line.
	b := &Bar{w: w, label: label, total: total, unit: "records", start: now, last: now, interval: 5 * time.Second}
	if IsTerminal(w) {
		b.tty = true
		b.interval = 100 * time.Millisecond
		b.last = time.Time{}
	}
	return b
}

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Set records that done units of work and items records are complete.
func (b *Bar) Set(done, items int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.items = done, items
	if now := time.Now(); now.Sub(b.last) >= b.interval {
		b.last = now
		b.draw(false)
	}
}

// SetUnit names what the items of Set count ("records" by default).
func (b *Bar) SetUnit(unit string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unit = unit
}

// SetTotal sets the amount of work, once it becomes known (a harvest
// learns it from the server's first page).
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = total
}

// Clear erases the bar from a terminal, so that a line printed next
// starts clean; the next Set draws it again.
func (b *Bar) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty && b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
		b.width = 0
		b.last = time.Time{}
	}
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
}

func (b *Bar) draw(final bool) {
	elapsed := time.Since(b.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(b.items) / s
	}
	var line string
	if b.total > 0 {
		frac := float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
		const cells = 30
		n := int(frac * cells)
		line = fmt.Sprintf("%s [%s%s] %5.1f%% %d %s, %.0f/s, %s",
			b.label, strings.Repeat("=", n), strings.Repeat(" ", cells-n), frac*100,
			b.items, b.unit, rate, elapsed.Round(100*time.Millisecond))
	} else {
		line = fmt.Sprintf("%s %d %s, %.0f/s, %s", b.label, b.items, b.unit, rate, elapsed.Round(100*time.Millisecond))
	}
	if b.tty {
		pad := ""
		if b.width > len(line) {
			pad = strings.Repeat(" ", b.width-len(line))
		}
		b.width = len(line)
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(b.w, "\r%s%s%s", line, pad, end)
		return
	}
	fmt.Fprintln(b.w, line)
}
