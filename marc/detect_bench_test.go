package marc

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDetectForms reads each form of the labelled set with no
// charset setting, the detector deciding every record: the part of
// ingest's BenchmarkDetect a profile can look into (go test -bench
// DetectForms/vni -cpuprofile).
func BenchmarkDetectForms(b *testing.B) {
	for _, name := range []string{"nfc", "nfd", "tcvn3-utf8", "tcvn3-marc8", "vni", "windows-1258", "utf-8-double", "marc-8", "mixed"} {
		data, err := os.ReadFile(filepath.Join(labelledDir(), name+".mrc"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				rd := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{})
				for {
					_, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/rec")
		})
	}
}
