// Command vntestdata builds the constructed Vietnamese test records in
// testdata/vietnamese from their hand-written sources, src/*.mrk (MarcEdit
// mnemonic text in NFC). Each library source becomes one library's export
// in the encoding that library is meant to use:
//
//	src/na-tinh.mrk      -> na-tinh.xml       MARCXML, UTF-8 NFC
//	src/vinh.mrk         -> vinh.mrc          ISO 2709, UTF-8 NFD, leader/09 'a'
//	src/dien-chau.mrk    -> dien-chau.mrc     ISO 2709, MARC-8, leader/09 blank
//	src/xa-nghi-loc.mrk  -> xa-nghi-loc.mrc   ISO 2709, Windows-1258, leader/09 'a'
//	                                          (mislabelled on purpose)
//	src/xa-kim-lien.mrk  -> xa-kim-lien.mrc   ISO 2709, TCVN3, leader/09 'a' (mislabelled)
//	src/xa-quynh-doi.mrk -> xa-quynh-doi.mrc  ISO 2709, VNI, leader/09 blank (claims MARC-8)
//
// and, for the ISO 2709 files, src/<name>.xml: the same records as
// MARCXML in NFC, the text the decoders must produce. The labelled test
// set, encodings/<form>.mrc, holds every record of na-tinh, vinh,
// dien-chau, xa-nghi-loc and labelled in each form of vnforms.Forms, and
// encodings/mixed.mrc mixes them (see mixed).
//
// TCVN3, VNI, Windows-1258 and double-encoded UTF-8 come from the
// oracles (vietnamese-conversion under node, glibc iconv), never from
// unicat's decoders: run .ci/run once, or npm install --prefix .ci/node
// vietnamese-conversion@2.0.0. Usage, from the repository root:
//
//	go run ./marc/internal/gen/vntestdata -dir testdata/vietnamese
//
// It checks what it can while writing: NFC sources, 40-character 008s, ISBN
// check digits, and every character encodable in the target charset.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc/internal/vnforms"
)

func main() {
	dir := flag.String("dir", "testdata/vietnamese", "directory holding src/*.mrk")
	flag.Parse()
	load := func(name string) []vnforms.Record {
		p := filepath.Join(*dir, "src", name+".mrk")
		text, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		recs, err := vnforms.ParseMRK(p, string(text))
		if err != nil {
			log.Fatal(err)
		}
		return recs
	}
	write := func(name string, data []byte, err error) {
		if err != nil {
			log.Fatalf("vntestdata: %s: %v", name, err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(*dir, name)), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d bytes\n", name, len(data))
	}
	vc, err := testpeer.FindVNConv()
	if err != nil {
		log.Fatal(err)
	}
	or, err := vnforms.NewOracles(vc)
	if err != nil {
		log.Fatal(err)
	}
	x, err := vnforms.MARCXML(load("na-tinh"))
	write("na-tinh.xml", x, err)
	for _, out := range []struct {
		name   string
		form   string
		coding byte
	}{
		{"vinh", "nfd", 'a'},
		{"dien-chau", "marc-8", ' '},
		{"xa-nghi-loc", "", 'a'},
		{"xa-kim-lien", "tcvn3-utf8", 'a'},
		{"xa-quynh-doi", "vni", ' '},
	} {
		recs := load(out.name)
		enc := vnforms.Encoder(vnforms.CP1258) // the file as first written
		if out.form != "" {
			if enc, err = or.Encoder(out.form, recs); err != nil {
				log.Fatal(err)
			}
		}
		iso, err := vnforms.ISO2709(recs, enc, out.coding)
		write(out.name+".mrc", iso, err)
		x, err := vnforms.MARCXML(recs)
		write(filepath.Join("src", out.name+".xml"), x, err)
	}
	var set []vnforms.Record
	for _, name := range []string{"na-tinh", "vinh", "dien-chau", "xa-nghi-loc", "labelled"} {
		set = append(set, load(name)...)
	}
	for _, f := range vnforms.Forms {
		data, err := vnforms.Build(or, f.Name, set)
		write(filepath.Join("encodings", f.Name+".mrc"), data, err)
	}
	data, err := vnforms.Mixed(or, set)
	write(filepath.Join("encodings", "mixed.mrc"), data, err)
}
