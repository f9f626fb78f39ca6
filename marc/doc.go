// Package marc is unicat's MARC 21 codec: the record model, ISO 2709 and
// MARCXML readers and writers, MARC-8 and legacy Vietnamese character sets
// to Unicode NFC, and the field accessors that deduplication, indexing and
// the crosswalks use.
//
// It is written in-house. The design first named github.com/miku/marc21, but
// its only published version cannot read MARCXML, cannot write ISO 2709,
// ignores the directory's offsets, panics on a zero-length field and cannot
// skip a broken record (and it is GPL-3). No other Go MARC library reads a
// broken export the way a union catalog must: report the record's position
// and go on with the next one.
//
// Every record this package hands out holds UTF-8 text in Unicode NFC with
// leader/09 = 'a'. Without a charset setting the readers detect each
// record's encoding (UTF-8 NFC or NFD, MARC-8, Windows-1258, TCVN3, VNI,
// UTF-8 encoded twice), field by field where a record mixes them, using
// package vnortho to tell a Vietnamese reading from mojibake (detect.go);
// Record.Origin keeps the record as received whenever its text changed.
// Readers never panic on bad input; they return a *RecordError naming the
// record number, byte offset and what is wrong, and the next call to Next
// continues with the following record.
//
// # Files
//
//   - The record model: record.go (Record, Field, Subfield, their generic
//     lookups, RecordError and Warning), origin.go (what a converted record
//     was received as), reader.go (the Reader interface, the charset and
//     format settings, Sniff, NewReader).
//   - Field accessors: accessors.go (their types and ISBD cleaning),
//     accessors_title.go (title, names, identifiers), accessors_describe.go
//     (dates, imprint, extent, languages, type, subjects, classification),
//     isbn.go (ISBN and ISSN normalisation).
//   - ISO 2709: iso2709.go (the reader: framing, leader, directory),
//     iso2709_build.go (a Record from a parsed record), iso2709_resync.go
//     (finding the next record after a broken one), iso2709_ahead.go
//     (parsing ahead on every core), iso2709_write.go (the
//     writer), iso2709_raw.go (records kept as bytes: RawField, the
//     canonical form), decode.go (one record held whole).
//   - MARCXML: marcxml.go (XMLReader), marcxml_scan.go, marcxml_elems.go,
//     marcxml_text.go and marcxml_input.go (its scanner: tokens, elements,
//     character data, input and its encodings), marcxml_resync.go (going
//     on after a broken record), marcxml_build.go (a Record from what the
//     scanner met), marcxml_ahead.go (records finished on another core
//     while the scan goes on), marcxml_write.go (the writer).
//   - Character sets: charset.go (a record's charset, ASCII checks),
//     textcheck.go (7-bit and UTF-8 NFC checks), textdec.go (a field's
//     bytes to NFC), nfc.go (composing decoded text), marc8.go and
//     marc8_tables.go (MARC-8), legacyvn.go (TCVN3, Windows-1258), vni.go
//     (VNI), mojibake.go (UTF-8 encoded twice).
//   - Detection: detect.go (deciding a record's encodings), detect_sample.go
//     (how a group of fields is decided), detect_texts.go (the decoded
//     readings kept for the reader), detect_readers.go (how the readers
//     hand their fields to it).
//   - Crosswalks: dc.go (Dublin Core).
package marc
