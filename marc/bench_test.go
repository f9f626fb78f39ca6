package marc

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// benchRecords is how many records the benchmark files hold.
const benchRecords = 50000

// rwBenchCorpus reads every real ISO 2709 test file once: the records the
// benchmark files repeat. Records our reader rejects are left out so that
// both readers see the same records.
func rwBenchCorpus(b *testing.B) []*Record {
	b.Helper()
	var recs []*Record
	for _, path := range rwISOFiles(b) {
		r, _, _ := rwReadFile(b, path, FormatISO2709)
		recs = append(recs, r...)
	}
	return recs
}

// rwBenchFile writes benchRecords records, the corpus repeated, in the
// given format to a file in dir and returns its path and size.
func rwBenchFile(b *testing.B, dir string, f Format) (string, int64) {
	b.Helper()
	corpus := rwBenchCorpus(b)
	path := filepath.Join(dir, "bench."+string(f))
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	var iso *ISO2709Writer
	var xw *XMLWriter
	if f == FormatISO2709 {
		iso = NewISO2709Writer(out)
	} else {
		xw = NewXMLWriter(out)
	}
	for i := 0; i < benchRecords; i++ {
		rec := corpus[i%len(corpus)]
		if iso != nil {
			err = iso.Write(rec)
		} else {
			err = xw.Write(rec)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if iso != nil {
		err = iso.Flush()
	} else {
		err = xw.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	st, err := out.Stat()
	if err != nil {
		b.Fatal(err)
	}
	out.Close()
	return path, st.Size()
}

// rwYazTime times one yaz-marcdump run parsing the file without output
// (-n); 0 when yaz is not installed.
func rwYazTime(b *testing.B, args ...string) time.Duration {
	b.Helper()
	if _, err := exec.LookPath("yaz-marcdump"); err != nil {
		return 0
	}
	start := time.Now()
	cmd := exec.Command("yaz-marcdump", args...)
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	if err := cmd.Run(); err != nil {
		b.Fatalf("yaz-marcdump %v: %v", args, err)
	}
	return time.Since(start)
}

// rwBenchRead reads the file b.N times, running yaz-marcdump on it between
// iterations (outside the timer) so that both see the same machine load,
// and reports the best rate of each and their ratio. The machine is shared,
// so best-of is steadier than the mean.
func rwBenchRead(b *testing.B, f Format, yazArgs ...string) {
	path, size := rwBenchFile(b, b.TempDir(), f)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	yazArgs = append(yazArgs, path)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	best, yazBest := time.Duration(1<<62), time.Duration(1<<62)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if y := rwYazTime(b, yazArgs...); y > 0 {
			yazBest = min(yazBest, y)
		}
		b.StartTimer()
		start := time.Now()
		n := 0
		r := NewReader(bytes.NewReader(data), f, ReaderOptions{})
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		best = min(best, time.Since(start))
		if n != benchRecords {
			b.Fatalf("read %d records, want %d", n, benchRecords)
		}
	}
	b.StopTimer()
	rate := benchRecords / best.Seconds()
	b.ReportMetric(rate, "records/s")
	if yazBest < 1<<62 {
		yaz := benchRecords / yazBest.Seconds()
		b.ReportMetric(yaz, "yaz_records/s")
		b.ReportMetric(rate/yaz, "x_yaz")
	}
}

// BenchmarkISO2709Read reads 50,000 real records in ISO 2709 and compares
// with yaz-marcdump -n on the same file. Target: x_yaz >= 1.
func BenchmarkISO2709Read(b *testing.B) {
	rwBenchRead(b, FormatISO2709, "-n")
}

// BenchmarkMARCXMLRead reads the same records as a MARCXML collection and
// compares with yaz-marcdump -i marcxml -n. Target: x_yaz >= 0.5.
func BenchmarkMARCXMLRead(b *testing.B) {
	rwBenchRead(b, FormatMARCXML, "-i", "marcxml", "-n")
}

func rwBenchWrite(b *testing.B, f Format) {
	corpus := rwBenchCorpus(b)
	var size int64
	for _, rec := range corpus {
		var out []byte
		if f == FormatISO2709 {
			out, _ = AppendISO2709(nil, rec)
		} else {
			out, _ = AppendMARCXML(nil, rec, false)
		}
		size += int64(len(out))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var buf []byte
	for i := 0; i < b.N; i++ {
		for _, rec := range corpus {
			var err error
			if f == FormatISO2709 {
				buf, err = AppendISO2709(buf[:0], rec)
			} else {
				buf, _ = AppendMARCXML(buf[:0], rec, false)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(corpus)*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkISO2709Write(b *testing.B) { rwBenchWrite(b, FormatISO2709) }
func BenchmarkMARCXMLWrite(b *testing.B) { rwBenchWrite(b, FormatMARCXML) }
