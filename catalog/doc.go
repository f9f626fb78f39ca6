// Package catalog is the union catalog's engine, and the one thing the
// protocol front ends (sru, z3950, oaipmh, web, admin) and the metrics
// read it through.
//
// A Catalog owns one bbolt file and what is kept in it:
//
//   - store: the records every member sent, as received, with the
//     registry of sources and libraries, harvest checkpoints and runs;
//   - dedup: the clusters of records that describe one work and the union
//     record served for each, with its holdings;
//   - search: the index the front ends search and scan;
//   - oaiindex: every union record's place in the OAI-PMH lists and sets.
//
// # Writing
//
// A batch (one source's new, changed and deleted records, with the
// checkpoint they bring the source to) is applied in one bbolt write
// transaction, in the order pipeline.go states: the records, then
// deduplication, then the search index, then the OAI-PMH index. A crash
// loses the whole batch or nothing, and the derived data never lags the
// records. Writers (the harvester, imports, admin uploads) apply batches
// through Store: the pipeline is the store's one Hook, so there is no
// other way in.
//
// # Reading
//
// Reader is the read contract: View gives fn a Snapshot, one consistent
// state of the catalog (a bbolt read transaction), as the last committed
// batch left it; nobody reads half a batch and readers never wait for the
// writer. The Snapshot, and everything read through it, lives until fn
// returns. Searches and walks take a context, so a client that goes away
// stops costing reads.
package catalog
