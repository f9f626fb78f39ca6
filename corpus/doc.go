// Package corpus generates realistic union-catalog test corpora: N MARC 21
// records spread over M member libraries of a provincial network, with a
// controlled share of the same work catalogued again by another library
// (the variation real copy cataloguing shows: hyphenated or missing
// ISBNs, re-typed titles, NFD text, old tone placement, abbreviated
// publishers, other call numbers) and a share of look-alikes that must
// not be merged (another edition, another volume, the same title by
// another author, a later reprint). It also yields the truth, which
// records are the same work, so deduplication precision and recall can be
// measured at any size.
//
// Generation is deterministic for a seed and streaming: memory stays flat
// in N (only a bounded window of recent works is kept for re-cataloguing).
// Vocabulary comes from built-in Vietnamese and foreign word lists, which
// FromRecords extends with the titles, names, publishers and subjects of
// real records (the repository's testdata).
//
// Variant and MakeLookAlike are exported so other packages' tests (the
// deduplication labelled set) can re-catalogue their own seed records the
// same way.
package corpus
