// Package harvester pulls member libraries' records into the store, on a
// schedule and incrementally, through whatever each library exposes:
// OAI-PMH (driver "oai"), SRU ("sru") or exported files dropped in a
// directory ("file"). A Z39.50 driver plugs in through Register.
//
// # Never losing or doubling a record
//
// A driver commits each page it receives in store.Batches of the usual
// size (ingest.BatchFull), the last carrying the source's new checkpoint
// (the OAI-PMH resumption token, the SRU start position, the hashes of the
// files imported), so the store holds either the page and the checkpoint
// after it or the checkpoint before it, which the next run asks for
// again (its records then unchanged). A harvest killed at any point restarts from the last
// committed page; re-applying a record that is already stored is
// "unchanged", never a second copy, because records are keyed by source
// and local id. (A page holding two records with one local id stores the
// later and counts the other as a "duplicate".)
//
// The OAI-PMH driver remembers the server's responseDate from Identify,
// taken before the first page is requested, and makes it the next harvest's
// from only when the whole list has been committed: a record changed while
// the list was being walked is picked up by the next run.
//
// # Misbehaving servers
//
// Real servers loop on resumption tokens, expire them, send empty pages,
// answer 503 with Retry-After, cut gzip streams short and put control
// characters or broken UTF-8 into records. Each case is handled and
// counted (see Metrics, and the run's Notes in the store):
//
//   - a token seen before in the same list stops the run with an error;
//   - max_empty_pages pages in a row without a new record (none at all, or
//     only identifiers the list gave already, under new tokens) stop the
//     run with an error (pageVerdict);
//   - noRecordsMatch, with or without a token, is a successful empty run;
//   - badResumptionToken for a token restarts the list once from the
//     window's from;
//   - HTTP 503 and 429 wait for Retry-After; other 5xx, network errors,
//     timeouts, truncated or unparseable responses are retried with
//     exponential backoff and jitter, up to max_retries;
//   - gzip and deflate responses are decoded;
//   - characters XML forbids, broken UTF-8 (read as Windows-1258), bare
//     ampersands and unknown entities are repaired, with the record named
//     in the run's notes; a record still unreadable, larger than the
//     source's max_record_bytes or with an identifier the store cannot
//     keep is rejected, named with its page, number and offset, and the
//     rest of its page kept;
//   - a full listing that comes back empty while records are stored does
//     not delete them all.
//
// # What a page costs
//
// A response is spooled as it arrives: its first 4 MiB in memory, the
// rest (up to MaxResponseBytes) in a temporary file removed as soon as it
// is made. An OAI-PMH or SRU page is then read twice (xmlPage): a first
// pass cuts it into its envelope (kept whole, at most 8 MiB) and its
// records, only counted; a second hands the records over one at a time,
// each read on its own (an item of at most 32 times max_record_bytes of
// XML; a larger one is rejected unread). So a page of any size costs one
// batch, one record and the spool's memory: 54 MB of heap at the peak
// for a 120 MB page of 26,000 records, 47 MB for a 30 MB one
// (TestOAIPageMemoryFollowsTheBatchNotThePage), where a 273 MB page took
// 8 GB. Both passes are linear in the page (TestOAIParserLinear).
//
// Scheduler runs every enabled source on its cron schedule, one run per
// source at a time, at most harvest.max_concurrent at once, each after a
// random delay of up to harvest.jitter. Scheduler.Reload swaps the
// configuration while it runs (unicat serve on SIGHUP): sources added,
// removed, rescheduled or changed take effect for the runs that start
// from then on; a run in flight is not interrupted and finishes with the
// configuration it started with, so it commits whole pages only, as ever.
//
// Package harvesttest has the misbehaving OAI-PMH and SRU servers the
// tests use; the round trip against unicat's own OAI-PMH provider is
// tested in package oaipmh.
package harvester
