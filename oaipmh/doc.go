// Package oaipmh is unicat's OAI-PMH 2.0 data provider: it serves the union
// catalog, deletions included, to harvesters (the national union catalog,
// partner libraries, Koha, VuFind/RecordManager, validators) at /oai.
//
// # Protocol
//
// All six verbs, over GET and POST (application/x-www-form-urlencoded).
// Records are named oai:<domain>:<union id>. Formats: oai_dc (marc.ToDC),
// marc21 (MARCXML) and marcxml, another name for marc21 that Koha-style
// harvesters ask for. Datestamps have second granularity; from and until
// are accepted at either granularity, inclusive (a day until means its
// last second). Deleted records are persistent. Errors follow the
// specification, with the request element's attributes left out for
// badVerb and badArgument. Every response is streamed, one record at a
// time, gzip-compressed when the client accepts it.
//
// # Sets
//
// library:<code> for each holding library (characters a set spec cannot
// hold are written ~XX), level:province, level:district and
// level:commune, and the parents "library" and "level", each of which is
// every record. A record that leaves a set (its last copy in a library is
// withdrawn, or it is merged away) is a deleted record in that set's
// lists from then on, so selective harvesters see the removal.
//
// # The index
//
// The lists are read from oaiindex, which keeps every union record's
// position in the list of all records and in each set: a list is a key
// range there, and a resumption token only needs the last position
// served, so page 10,000 costs what page 1 costs.
//
// # Lists during writes
//
// A list is cut at its first request: its snapshot is the second before
// that request's responseDate, and it holds the entries current at that
// second (datestamp ≤ snapshot, and not moved, or moved after it). Later
// pages read the same snapshot from the index's history, so a record
// changed or deleted while a harvest runs is served exactly once in the
// list, at its old position but with its present content (or as deleted),
// and a record added during the harvest is not in it at all. All of those
// carry datestamps at or after the first responseDate, so the harvester's
// next incremental harvest (from = that responseDate) brings them. That
// holds because (1) before cutting a list the server waits for the write
// transaction in flight, if any, to commit, and (2) oaiindex positions a
// change at the present second when the Deduper's datestamp is earlier
// (the Deduper stamps a batch with the time it was prepared, which can
// precede its commit by the wait for the write lock). Old positions are
// kept for ListLifetime (30 days), which is therefore how long a list may
// take; its tokens carry that expirationDate.
//
// Tokens are stateless (verb, format, set, from, snapshot, position,
// cursor, completeListSize, first request time, index epoch, checksum,
// base64url), so they survive restarts and work on any process over the
// same file. A rebuilt index (oaiindex found it disagreeing with the
// union catalog, at start or in the check after it) has a new epoch and
// refuses older tokens with badResumptionToken.
//
// The server reads the catalog through catalog.Reader and nothing else.
package oaipmh
