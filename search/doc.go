// Package search is unicat's search core: the one query tree that CQL
// (SRU) and Type-1/RPN (Z39.50) queries are translated into, and the
// inverted index of the union records that answers it.
//
// # Query tree
//
// A Query is a tree of *Bool (and, or, not), *Prox and *Term nodes (and
// AllRecords) plus sort keys. A Term names an index from the index table
// (Indexes), a Relation (=, <, <=, >=, >, <>), a Match mode (phrase,
// all words, any word, whole field), a value with masking ('*', '?'),
// first-in-field anchoring and whether accents count. The Bib-1
// attributes map onto it one to one: use → Index (LookupBib1), relation →
// Relation, position 1 → FirstInField, structure and completeness →
// Match, truncation → '*' in Value.
//
// # Index
//
// The index lives in the store's bbolt file, in buckets of its own, and
// is updated in the transaction that changes the union records (Index
// implements dedup.Listener), so a search never sees a record without
// its postings. Layout, version 4:
//
//	search.meta   "version" → layout and table version; "next" → next
//	              document number (uint32 BE); "state" → "ready" or
//	              "building" (during a rebuild)
//	search.ids    union id → document number (uint32 BE)
//	search.docs   document number → union id, year, title and creator
//	              collation keys, and a checksum of the indexed field
//	              values; when the record changes or goes, its old keys
//	              are extracted again from its previous version
//	              (dedup.UnionRecord.Previous) and checked against it
//	search.terms  index id, kind, chunk (uint16 BE), term → postings
//	search.sort   't'|'c'|'d', escaped sort key (first 24 bytes), 0x00 0x00, document
//	              number → nothing
//
// Documents get compact uint32 numbers; postings are roaring bitmaps
// (short lists as plain arrays) split into chunks of 65536 document
// numbers, each its own key with the chunk before the term, so that new
// records only rewrite the last chunk's keys. Term kinds per index:
//
//	w  folded word (lower case, no diacritics, đ → d)
//	x  folded word 0x01 exact word (NFC, lower case, tone marks placed
//	   the new way), only for documents having a form with accents
//	b  two adjacent folded words, for phrases and proximity
//	p  folded whole value: phrase of a text index, or a code/identifier
//	q  folded phrase 0x01 exact phrase, like x
//	n  number (year) as four digits
//
// Keys sort by term, so scan and right truncation seek to a prefix
// instead of walking the index. Title and creator sort keys are
// Vietnamese collation keys (golang.org/x/text/collate), computed when a
// record is indexed.
package search
