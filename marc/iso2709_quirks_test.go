package marc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// Broken ISO 2709: the faults of real exports the reader repairs, and
// going on after a record it cannot read.

// TestISO2709Quirks covers real-world deviations the reader tolerates.
func TestISO2709Quirks(t *testing.T) {
	good := rwSampleRecord("Q1")
	cases := []struct {
		name  string
		data  []byte
		check func(t *testing.T, recs []*Record, warns [][]Warning)
	}{
		{"trailing newlines and blanks", append(append(append([]byte("\r\n"), good...), "\r\n  \n"...), append(good, '\n')...),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				if len(recs) != 2 || len(warns[0])+len(warns[1]) != 0 {
					t.Errorf("%d records, %v", len(recs), warns)
				}
			}},
		{"missing final field terminator", func() []byte {
			b := bytes.Clone(good)
			return append(b[:len(b)-2], recordTerminator) // drop the last 0x1E; lengths now off by one
		}(), func(t *testing.T, recs []*Record, warns [][]Warning) {
			if len(recs) != 1 || recs[0].First("260").Sub('c') != "2024." {
				t.Errorf("%+v", recs)
			}
		}},
		{"zero-length and empty fields", rwBuildISO("00000nam a2200000 a 4500",
			rwRawField{"001", ""}, rwRawField{"500", ""}, rwRawField{"245", "10"}),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				if len(recs) != 1 || len(recs[0].Fields) != 3 || recs[0].Fields[2].Ind1 != '1' || len(recs[0].Fields[2].Subfields) != 0 {
					t.Errorf("%+v %v", recs, warns)
				}
			}},
		{"empty subfields", rwBuildISO("00000nam a2200000 a 4500", rwRawField{"245", "10\x1fa\x1fbx\x1f"}),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				f := recs[0].First("245")
				if len(f.Subfields) != 2 || f.Sub('a') != "" || f.Sub('b') != "x" || !rwHasWarning(warns[0], "empty subfield delimiter") {
					t.Errorf("%+v %v", f, warns)
				}
			}},
		{"no subfield delimiters", rwBuildISO("00000nam a2200000 a 4500", rwRawField{"245", "10Title only"}),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				f := recs[0].First("245")
				if f.Sub('a') != "Title only" || f.Ind1 != '1' || !rwHasWarning(warns[0], "before the first subfield") {
					t.Errorf("%+v %v", f, warns)
				}
			}},
		{"stray delimiter", rwBuildISO("00000nam a2200000 a 4500", rwRawField{"260", "  \x1fbHulbert\x1f c1878"}),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				f := recs[0].First("260")
				if len(f.Subfields) != 1 || f.Sub('b') != "Hulbert c1878" {
					t.Errorf("%+v %v", f, warns)
				}
			}},
		{"no fields", rwBuildISO("00000nam a2200000 a 4500"),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				if len(recs) != 1 || len(recs[0].Fields) != 0 {
					t.Errorf("%+v", recs)
				}
			}},
		{"entry map blank, indicator count blank", func() []byte {
			b := rwSampleRecord("Q2")
			copy(b[20:], "    ")
			b[10], b[11] = ' ', ' '
			return b
		}(), func(t *testing.T, recs []*Record, warns [][]Warning) {
			if len(recs) != 1 || recs[0].First("245").Sub('a') != "Truyện Kiều /" {
				t.Errorf("%+v", recs)
			}
		}},
		{"directory in other order", func() []byte {
			b := rwSampleRecord("Q3")
			// Swap the 100 and 245 directory entries: fields are found by
			// their starting positions, not their order in the data.
			e100, e245 := LeaderLen+2*12, LeaderLen+3*12
			x := bytes.Clone(b[e100 : e100+12])
			copy(b[e100:], b[e245:e245+12])
			copy(b[e245:], x)
			return b
		}(), func(t *testing.T, recs []*Record, warns [][]Warning) {
			if len(recs) != 1 || recs[0].Fields[2].Tag != "245" || recs[0].Fields[2].Sub('a') != "Truyện Kiều /" || len(warns[0]) != 0 {
				t.Errorf("%+v %v", recs, warns)
			}
		}},
		{"lengths counted in characters", func() []byte {
			b := rwSampleRecord("Q4")
			// Rewrite the 100 entry's length as if counted in characters.
			e := LeaderLen + 2*12
			copy(b[e+3:], fmt.Sprintf("%04d", len([]rune("1 \x1faNguyễn Du,\x1fd1765-1820."))+1))
			return b
		}(), func(t *testing.T, recs []*Record, warns [][]Warning) {
			if len(recs) != 1 || recs[0].First("100").Sub('d') != "1765-1820." || !rwHasWarning(warns[0], "fields taken in order") {
				t.Errorf("%+v %v", recs, warns)
			}
		}},
		{"danish 00X with subfields", rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "00\x1fa123\x1fbx"}),
			func(t *testing.T, recs []*Record, warns [][]Warning) {
				f := recs[0].First("001")
				if f.Value != "" || f.Sub('a') != "123" || f.Sub('b') != "x" {
					t.Errorf("%+v", f)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, warns, errs := rwReadBytes(t, c.data)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(recs) == 0 {
				t.Fatal("no record")
			}
			for _, r := range recs {
				if len(r.Leader) != LeaderLen || r.Leader[9] != 'a' {
					t.Errorf("leader %q", r.Leader)
				}
			}
			c.check(t, recs, warns)
		})
	}
}

// TestISO2709Resync damages one record of a file of good ones in several
// ways: the reader must report it with its index and offset and deliver
// every other record.
func TestISO2709Resync(t *testing.T) {
	const n = 6
	var good [][]byte
	for i := 0; i < n; i++ {
		good = append(good, rwSampleRecord(fmt.Sprintf("R%d", i+1)))
	}
	const bad = 3 // 0-based index of the damaged record
	cases := []struct {
		name     string
		damage   func(b []byte) []byte
		loseBad  bool // the damaged record is lost (else delivered with a warning)
		errCount int
	}{
		{"bad length digits", func(b []byte) []byte { b[2] = 'x'; return b }, false, 0},
		{"length too long", func(b []byte) []byte { copy(b, "00900"); return b }, false, 0},
		{"length too short", func(b []byte) []byte { copy(b, "00050"); return b }, false, 0},
		{"directory points outside, fields intact", func(b []byte) []byte {
			copy(b[LeaderLen+3*12+7:], "90000") // 245 starts far outside
			copy(b[LeaderLen+1*12+3:], "0999")  // and 008 is too long
			return b
		}, false, 0},
		{"directory points outside, fields merged", func(b []byte) []byte {
			copy(b[LeaderLen+3*12+7:], "90000")
			base := bytes.IndexByte(b, fieldTerminator) + 1
			i := base + bytes.IndexByte(b[base:], fieldTerminator)
			b[i] = ' ' // 001 and 008 run together
			return b
		}, true, 1},
		{"directory digits garbled", func(b []byte) []byte { b[LeaderLen+4] = 'Z'; return b }, true, 1},
		{"no directory terminator", func(b []byte) []byte {
			return bytes.ReplaceAll(b, []byte{fieldTerminator}, []byte{'|'})
		}, true, 1},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, true, 1},
		{"truncated in the leader", func(b []byte) []byte { return b[:10] }, true, 1},
		{"garbage before", func(b []byte) []byte { return append([]byte("garbage 12345 \x1e junk"), b...) }, false, 1},
		{"garbage after", func(b []byte) []byte { return append(b, "<html>oops</html>"...) }, false, 1},
		{"record terminator lost", func(b []byte) []byte { return b[:len(b)-1] }, false, 0},
		{"record terminator and last field lost", func(b []byte) []byte { return b[:len(b)-12] }, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var file []byte
			var badOff int
			for i, g := range good {
				if i == bad {
					badOff = len(file)
					file = append(file, c.damage(bytes.Clone(g))...)
					continue
				}
				file = append(file, g...)
			}
			r := NewISO2709Reader(bytes.NewReader(file), ReaderOptions{Source: "damaged.mrc"})
			var ids []string
			var errs []*RecordError
			var badWarned bool
			for i := 0; i < 100; i++ {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				var re *RecordError
				if errors.As(err, &re) {
					errs = append(errs, re)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, rec.ControlNumber())
				if rec.ControlNumber() == fmt.Sprintf("R%d", bad+1) && len(r.Warnings()) > 0 {
					badWarned = true
				}
			}
			want := n
			if c.loseBad {
				want--
			}
			if len(ids) != want {
				t.Fatalf("records %v, errors %v; want %d records", ids, errs, want)
			}
			for i := 0; i < n; i++ {
				id := fmt.Sprintf("R%d", i+1)
				found := false
				for _, x := range ids {
					found = found || x == id
				}
				if !found && !(i == bad && c.loseBad) {
					t.Errorf("record %s lost; got %v", id, ids)
				}
			}
			if len(errs) != c.errCount {
				t.Fatalf("errors %v, want %d", errs, c.errCount)
			}
			if !c.loseBad && c.errCount == 0 && !badWarned {
				t.Errorf("damaged record delivered without a warning")
			}
			for _, e := range errs {
				if e.Source != "damaged.mrc" || e.Index < bad+1 || e.Index > bad+2 || e.Offset < int64(badOff) || e.Offset > int64(badOff+len(good[bad])+30) {
					t.Errorf("error %+v: want index about %d, offset about %d", e, bad+1, badOff)
				}
				if !strings.Contains(e.Error(), "damaged.mrc: record ") {
					t.Errorf("message %q", e.Error())
				}
			}
			if c.loseBad && errs[0].Offset != int64(badOff) && c.name != "garbage before" {
				t.Errorf("error offset %d, want %d", errs[0].Offset, badOff)
			}
		})
	}
}
