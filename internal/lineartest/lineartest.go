// Package lineartest holds a reader to linear time in tests: on inputs
// built to be hard (many attributes, deep nesting, long names, many tiny
// fields, broken records), a byte may cost at most a few times what it
// costs in an ordinary input. A reader quadratic in anything goes far past
// that at the megabyte sizes the tests use (the MARCXML attribute check
// that made the tests cost 187 times an ordinary byte).
//
// The times are ratios measured side by side, so the bound holds on a
// slow machine as on a fast one; a shape over the bound is measured again,
// with the ordinary input beside it, before it fails, so a busy moment on
// a shared machine does not fail a reader that is linear.
package lineartest

import (
	"bytes"
	"testing"
	"time"
)

// Shape is one hard input.
type Shape struct {
	Name  string
	Input []byte
	// MinResults is the fewest records (or record errors) reading Input
	// must give, to show it was read through; 0 means 1.
	MinResults int
}

// Fill repeats unit between head and tail until the whole is at least n
// bytes.
func Fill(head, unit, tail string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for b.Len() < n {
		b.WriteString(unit)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// tries is how many times a shape is measured before it fails.
const tries = 3

// Check reads ordinary and then every shape with read, which returns the
// results it got, and fails a shape that costs more than maxSlowdown times
// ordinary's time per byte in each of tries measurements. what names the
// ordinary input in the log ("a catalogue", "an ordinary page").
func Check(t *testing.T, what string, maxSlowdown float64, ordinary []byte, minOrdinary int, shapes []Shape, read func([]byte) int) {
	t.Helper()
	normal, n := nsPerByte(ordinary, read)
	if n < minOrdinary {
		t.Fatalf("%s gave %d results, want at least %d", what, n, minOrdinary)
	}
	for _, s := range shapes {
		ns, n := nsPerByte(s.Input, read)
		for try := 1; try < tries && ns > maxSlowdown*normal; try++ {
			normal, _ = nsPerByte(ordinary, read)
			ns, _ = nsPerByte(s.Input, read)
		}
		t.Logf("%-28s %6.1f ns/byte, %5.1f× %s's %.1f (%d results)", s.Name, ns, ns/normal, what, normal, n)
		if n < max(s.MinResults, 1) {
			t.Errorf("%s: %d results: the input was not read through", s.Name, n)
		}
		if ns > maxSlowdown*normal {
			t.Errorf("%s: %.1f ns/byte, %.0f× %s's %.1f (at most %.0f×, in %d measurements)", s.Name, ns, ns/normal, what, normal, maxSlowdown, tries)
		}
	}
}

// nsPerByte reads data with read, the fastest of three rounds, and returns
// the time per byte and the results of the last round.
func nsPerByte(data []byte, read func([]byte) int) (float64, int) {
	best, n := time.Duration(1<<62), 0
	for range 3 {
		start := time.Now()
		n = read(data)
		best = min(best, time.Since(start))
	}
	return float64(best.Nanoseconds()) / float64(len(data)), n
}
