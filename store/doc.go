// Package store is unicat's record store: one bbolt file holding every
// record harvested from every member library, with the harvesters'
// checkpoints, per-source counters and run history beside them.
//
// # What it holds
//
// A record is kept as its source sent it, in UTF-8 NFC, keyed by source id
// and the source's own local id: control numbers collide across
// libraries, so the source id is part of every key. Each stored
// SourceRecord carries the encoded record, a SHA-256 of it (so a re-import
// of an unchanged record is recognised without decoding), the source's
// datestamp and when unicat first and last wrote it. Deletions are kept as
// tombstones so that they can be served over OAI-PMH and explained.
//
// When a record's text had to be converted (a legacy encoding, NFD,
// mojibake, bytes replaced: see marc.Origin), the record as received is
// kept beside it, byte for byte, with the encoding it was read as and the
// one it claimed, so that a wrong guess can be undone and a later detector
// can derive the record again without harvesting it again. A record that
// arrived in UTF-8 NFC is its own received form and costs nothing more;
// one that only needed normalising (NFD) keeps only that fact (its
// characters are the stored ones).
//
// # Transactions
//
// Writes arrive as a Batch (typically one OAI-PMH page or one chunk of an
// import file) and Apply commits a batch in a single bbolt transaction:
// the records, the per-source counters, the source's checkpoint and
// whatever the registered Hooks (deduplication, search index) derive from
// the changes. An error anywhere, including in a hook, rolls everything
// back, and a crash leaves either the whole batch or none of it, so a
// harvester restarting from its checkpoint never loses or repeats work.
//
// bbolt allows one writer and any number of readers. Readers use View and
// see a consistent snapshot; they never block the writer and the writer
// never blocks them. (bbolt's one exception, a writer growing the file past
// the memory map while a read transaction is open, is avoided by mapping
// Options.MmapSize bytes up front.)
//
// # Layout
//
// Bucket names and key formats, schema version 2:
//
//	meta         "schema" → uint32 big-endian schema version
//	sources      source id → SourceInfo (binary, version byte first)
//	libraries    library code → LibraryInfo (binary, version byte first)
//	records      source id 0x00 local id → SourceRecord (binary, version byte first:
//	             1 for a record stored as received, 2 with what it was received as;
//	             see encodeSourceRecord)
//	checkpoints  source id → opaque bytes owned by the source's harvester
//	stats        source id → live, deleted as two uint64 big-endian
//	encodings    source id 0x00 encoding → uint64 big-endian: live records whose
//	             text was converted, by what they were received in
//	runs         source id → nested bucket: uint64 big-endian sequence → Run
//
// A file of another schema version is refused when opened: there has been
// no release, so no file of an older version needs upgrading.
//
// Source ids and local ids must not contain 0x00, so keys of one source
// sort together and in local-id order; a local id is at most
// MaxLocalIDLen bytes (CheckLocalID). A batch leaves out, and reports,
// a record it cannot keep rather than failing whole. Packages deriving data from the
// records (through Hooks) create and own their own buckets; they must not
// write to the buckets above.
//
// Opening a file written by a newer unicat (a higher schema version) is an
// error rather than a silent misreading.
package store
