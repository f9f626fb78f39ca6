// Package oaiindex keeps what an OAI-PMH data provider needs beyond the
// union records themselves: every union record's position in the list of
// all records and in the list of each set it belongs to or has left,
// kept as a history so that a list in progress sees the catalog as it
// was when the list began. It is part of the catalog (catalog.Open keeps
// it up to date in every batch's transaction); oaipmh reads it.
//
// A position is the record's datestamp in whole seconds, then its union
// id, so a list is a key range.
//
//	oaipmh.entries  spec 0x00 datestamp(8) id → state(1) movedAt(8)
//	oaipmh.moved    movedAt(8) entry key → (nothing)
//	oaipmh.items    id → datestamp, deleted, and per set its entry's datestamp and state
//	oaipmh.sets     spec (0x00 for all records) → entries(8) lastChange(8)
//	oaipmh.staging  during a first build only: entries and items, moved
//	                to the top level by its last transaction (stage.go)
//	oaipmh.meta     version, epoch (bumped by a rebuild), last union datestamp seen
//
// The spec of the list of all records is empty. state is member (the
// record is live, or in the set) or gone (deleted, or no longer in the
// set). When a record changes, its entries move to the new datestamp; the
// old entries stay, marked with movedAt, the datestamp of the move. (The
// buckets are named for the protocol they serve, as store files name
// them.)
//
// Changes are positioned at their union datestamp, or at the present
// second when that is earlier, so that every change committed after a
// list was cut lands after the list's snapshot; old positions are kept
// for ListLifetime.
package oaiindex
