// Package dedup is the heart of the union catalog: it finds the records of
// member libraries that describe the same manifestation, keeps them in
// clusters with stable union ids, and serves one union record per cluster
// (the most complete member's description, its identifiers kept, the 852s
// of every holding library as its members sent them, every member's links
// to digital copies, one 035 per member record: assemble.go, holdings.go).
//
// # Matching
//
// Every source record gets a profile (see profile.go): folded title and
// title proper (NFD without marks, đ→d, lower case, punctuation and
// leading articles dropped, part designators such as "Tập 2" taken out),
// the main-entry name with its words sorted (so "Nguyễn, Du" and "Nguyễn
// Du" agree), year, pages, edition number, part numbers, ISBN-13s,
// ISSNs and other identifiers. Candidates come only from key indexes:
// ISBN-13, other identifiers (ISSN, LCCN, 015/016/024, 035 with its
// prefix, 003+001), title key + author key, and two capped fallbacks for
// re-typed titles (author + year; initials of the title proper + year).
// A pair then goes through the rules in order, the first that decides
// winning: vetoes (material type, year, pages ±10, edition, parts, title
// numbers, disjoint ISSNs), a shared ISBN with agreeing titles, another
// shared identifier with agreeing titles, and the fuzzy title+author
// comparison (optimal string alignment distance, thresholds in match.go,
// tuned on the labelled set of quality_test.go). Two records of one
// source match only on an identifier. Known-bad ISBNs (Options.BadISBNs)
// are ignored.
//
// # Clusters and union ids
//
// Matches are stored as edges (record A ~ record B, rule, time). A
// cluster is what union-find makes of the edges, strongest rules first,
// refusing any merge that would put two records with a veto, or two
// records of one source without a shared identifier, in one cluster. A
// batch re-evaluates only the clusters its records touch: their old
// members and everything reachable over edges. The clusters do not
// depend on the order records arrived in: where a batch's merge is
// refused, the component is made again from all its edges, as a rebuild
// makes it (TestArrivalOrderIndependent). Union ids ("u" + eight
// base-36 digits, allocated in order) are stable: a cluster keeps its id;
// when clusters merge the oldest id survives and the others become
// deleted union records with AliasOf set; when a cluster splits, the part
// holding the old master keeps the id (the part with most old members if
// the master itself is gone). A union record's datestamp changes exactly
// when what it serves changes, holdings included, and every commit
// stamps strictly later than the one before.
//
// Everything runs in the store's write transaction of each batch (the
// Deduper is a store.Hook), so the union catalog never lags the source
// records and a crash loses both or neither. Listeners (search index,
// OAI-PMH) are told of every changed union record in the same
// transaction.
//
// # Files
//
// The package has four parts, each testable on its own, and an engine
// that runs them in each batch's transaction:
//
//   - Matching: profile.go makes a record's profile (with normalize.go,
//     pages.go and holdings.go), match.go and similarity.go compare two
//     profiles, candidates.go finds whom a record is compared with (its
//     match keys and the in-memory index).
//   - Clustering: cluster.go decides which records form a cluster and
//     which union id each cluster keeps, from profiles and edges it reads
//     through an interface, with no storage of its own (cluster_test.go
//     runs it on maps); recluster.go runs it on the batch's transaction
//     and writes what it decides.
//   - Union records: build.go makes a batch's union records again,
//     assemble.go says what a union record holds, publish.go writes them
//     with their datestamps and tells the listeners, union.go serves them
//     (Get, GetISO2709, ForEachUnion, ForEachHeaderSince, Count), explain.go
//     explains a cluster, libraries.go counts what each library holds.
//   - Storage: layout.go (the buckets, their keys, the layout version),
//     codec.go, unioncodec.go, profilecodec.go and edges.go (the values).
//   - The engine: dedup.go (options, Deduper), state.go (a transaction's
//     state), apply.go (Prepare, ApplyChanges), link.go (comparing a
//     batch's records with their candidates on every core), cache.go
//     (profiles kept between batches), rebuild.go and prints.go (Init:
//     rebuild every cluster, or derive again the records of the sources
//     whose description changed).
//
// # Layout
//
// Buckets, all values compact binary with a version byte where they may
// change:
//
//	dedup.meta      "seq" last union sequence; "counts" live, deleted;
//	                "lastdate" last datestamp; "gen" batches applied;
//	                "ord" next record ordinal; "config" fingerprint of
//	                the options all clusters depend on; "source ID" the
//	                description a source's records were derived with
//	                ("mixed" when more than one); "libraries" the live
//	                union records each holding library holds, and
//	                holds alone (libraries.go); "version"
//	dedup.unions    union id → flags, datestamp, alias, libraries,
//	                levels, the cluster (master key, member keys), the
//	                members' sources' organization codes, and the
//	                served record: its master's hash and the 852s and
//	                856s it adds, put together with an 035 per member from the
//	                stored master when served; or, when the master is
//	                not canonical ISO 2709, the record whole (unioncodec.go)
//	dedup.bydate    datestamp (uint64 BE ns) + union id → nothing
//	dedup.members   record key → sequence of its cluster (the union id's
//	                number)
//	dedup.profiles  record key → ordinal, match key hashes, profile,
//	                its holdings (holder and 852 per holdings field) and
//	                links (856s with $u) (profilecodec.go)
//	dedup.edges     ordinal A, ordinal B (uint32 BE each) → under the
//	                lower ordinal first varint Unix ns, rule; under
//	                the other the rule's strength (one byte)
//
// The candidate index (match key → records) is kept in memory and
// rebuilt from the profiles' ordinals and key hashes when a Deduper
// starts or a batch failed to commit (candidates.go): hashed keys on disk
// made every commit rewrite pages all over their B+tree.
//
// Record keys are the store's (source 0x00 local id). The clusters can
// always be recomputed from the stored records: Init does so when the
// options or the matching rules changed (the layout version among them),
// and `unicat dedup --rebuild` on demand, keeping ids where the clusters
// allow. Layouts before 6, written by development builds before the
// first release, are refused rather than upgraded (layout.go).
package dedup
