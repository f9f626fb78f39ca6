package z3950

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
)

// startZtest runs yaz-ztest, YAZ's test target (any query finds generated
// USMARC records), on a free loopback port.
func startZtest(t testing.TB) string {
	t.Helper()
	bin := testpeer.Need(t, "yaz-ztest")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-l", filepath.Join(t.TempDir(), "ztest.log"), "tcp:"+addr)
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("yaz-ztest did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClientZtest pages through a result set of yaz-ztest, as the
// harvester does with a member library's target.
func TestClientZtest(t *testing.T) {
	addr := startZtest(t)
	ctx := context.Background()
	cl, err := Dial(ctx, "tcp:"+addr+"/Default", ClientOptions{Charset: "utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if id, name, _ := cl.Target(); name == "" || id == "" {
		t.Errorf("target %q %q", id, name)
	}
	n, err := cl.Search(ctx, "@attr 1=4 computer", "")
	if err != nil || n <= 10 {
		t.Fatalf("search: %d %v", n, err)
	}
	total := min(n, 23)
	var got int
	err = cl.Retrieve(ctx, "", 1, total, 5, OIDUSMARC, "F", func(r Record) error {
		if r.Position != got+1 {
			t.Errorf("record %d at position %d", got+1, r.Position)
		}
		got++
		m, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			return err
		}
		if m.Title() == "" {
			t.Errorf("record %d: no title", r.Position)
		}
		return nil
	})
	if err != nil || got != total {
		t.Fatalf("retrieve: %d of %d, %v", got, total, err)
	}
	// XML from the same target (yaz-ztest knows no element set F for it).
	recs, _, err := cl.Present(ctx, "", 1, 1, OIDXML, "")
	if err != nil || len(recs) != 1 || !strings.Contains(string(recs[0].Data), "<record") {
		t.Errorf("XML present: %v %v", recs, err)
	}
	if m, err := recs[0].MARC(marc.CharsetAuto); err != nil || m.Title() == "" {
		t.Errorf("XML record: %v %v", m, err)
	}
}

// TestClientZebra harvests Zebra: the same records come back, and MARC-8
// records a target serves are converted to NFC text.
func TestClientZebra(t *testing.T) {
	recs := testRecords(t)
	zeb := startZebra(t, recs)
	ctx := context.Background()
	cl, err := Dial(ctx, zeb.Addr+"/Default", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n, err := cl.Search(ctx, "@attr 1=1044 NA-TINH", "tinh")
	if err != nil || n == 0 {
		t.Fatalf("search: %d %v", n, err)
	}
	want := countRecords(recs, func(r *marc.Record) bool { return hasSub(r, "852", 'a', "NA-TINH") })
	if n != want {
		t.Errorf("Zebra finds %d NA-TINH records, want %d", n, want)
	}
	var titles []string
	err = cl.Retrieve(ctx, "tinh", 1, n, 4, OIDUSMARC, "F", func(r Record) error {
		m, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			return err
		}
		titles = append(titles, m.Title())
		return nil
	})
	if err != nil || len(titles) != n {
		t.Fatalf("retrieve: %d of %d, %v", len(titles), n, err)
	}
	entries, _, err := cl.Scan(ctx, "@attr 1=4 computer", 3, 1)
	if err != nil || len(entries) != 3 || string(entries[0].Term.Bytes) != "computer" {
		t.Errorf("scan: %v %v", entries, err)
	}
	if _, _, err := cl.Present(ctx, "nosuch", 1, 1, OIDUSMARC, "F"); !isDiag(err, DiagResultSetMissing) {
		t.Errorf("unknown set: %v", err)
	}

	// A MARC-8 target: Zebra serving the Diễn Châu library's export as
	// it is (leader/09 blank, ANSEL diacritics).
	dc := readMARCFile(t, "../testdata/vietnamese/dien-chau.mrc", marc.CharsetAuto)
	nfc := readMARCFile(t, "../testdata/vietnamese/src/dien-chau.xml", marc.CharsetAuto)
	dir := t.TempDir()
	z8, err := zebrapeer.Start(zebrapeer.Options{ConfigDir: "../testdata/peers/zebra", WorkDir: dir,
		Records: "../testdata/vietnamese/dien-chau.mrc"})
	if err != nil {
		t.Fatal(err)
	}
	defer z8.Stop()
	c8, err := Dial(ctx, z8.Addr+"/Default", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c8.Close()
	n, err = c8.Search(ctx, "@attr 1=1044 NA-DIENCHAU", "")
	if err != nil || n != len(dc) {
		t.Fatalf("MARC-8 target: %d hits of %d records, %v", n, len(dc), err)
	}
	byID := map[string]*marc.Record{}
	for _, r := range nfc {
		byID[r.ControlNumber()] = r
	}
	err = c8.Retrieve(ctx, "", 1, n, 10, OIDUSMARC, "F", func(r Record) error {
		if r.Data[9] != ' ' {
			t.Errorf("record %d: leader/09 %q, want MARC-8's blank", r.Position, r.Data[9])
		}
		m, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			return err
		}
		w := byID[m.ControlNumber()]
		if w == nil {
			t.Errorf("record %q not in the NFC twin", m.ControlNumber())
			return nil
		}
		if m.Title() != w.Title() || !slicesEqualNames(m.Creators(), w.Creators()) {
			t.Errorf("%s: title %q, want %q", m.ControlNumber(), m.Title(), w.Title())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func slicesEqualNames(a, b []marc.Name) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"lib.example.vn:210/books":           "lib.example.vn:210 books",
		"tcp:127.0.0.1:2100/unicat":          "127.0.0.1:2100 unicat",
		"z3950://z3950.loc.gov:7090/Voyager": "z3950.loc.gov:7090 Voyager",
		"lib.example.vn":                     "lib.example.vn:210 Default",
	} {
		addr, db, err := ParseTarget(in)
		if err != nil || addr+" "+db != want {
			t.Errorf("%s: %s %s %v", in, addr, db, err)
		}
	}
	if _, _, err := ParseTarget("/db"); err == nil {
		t.Error("no host: no error")
	}
}

// TestClientAgainstClosedPort and a target that closes on us: errors,
// not hangs.
func TestClientErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := EncodePDU(&Close{Reason: CloseResources, Diagnostic: "busy"})
			c.Write(b)
			c.Close()
		}
	}()
	defer ln.Close()
	_, err = Dial(context.Background(), addr+"/x", ClientOptions{Timeout: 5 * time.Second})
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Reason != CloseResources || ce.Info != "busy" {
		t.Errorf("closing target: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		c, err := silent.Accept()
		if err == nil {
			time.Sleep(2 * time.Second)
			c.Close()
		}
	}()
	start := time.Now()
	if _, err := Dial(ctx, silent.Addr().String(), ClientOptions{}); err == nil || time.Since(start) > time.Second {
		t.Errorf("silent target: %v after %v", err, time.Since(start))
	}
}
