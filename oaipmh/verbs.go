package oaipmh

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
)

func (c *call) identify() {
	c.view(func(snap catalog.Snapshot) *oaiError {
		rd := snap.OAI()
		earliest, ok := rd.Earliest()
		if !ok {
			earliest = c.now.Unix()
		}
		sample := rd.FirstID()
		if sample == "" {
			sample = "u00000001"
		}
		o := &c.s.opts
		rs := c.begin()
		b := append(rs.buf, "<Identify>\n"...)
		b = elem(b, "repositoryName", o.RepositoryName)
		b = elem(b, "baseURL", c.base)
		b = elem(b, "protocolVersion", "2.0")
		b = elem(b, "adminEmail", o.AdminEmail)
		b = elem(b, "earliestDatestamp", formatTime(earliest))
		b = elem(b, "deletedRecord", "persistent")
		b = elem(b, "granularity", Granularity)
		b = elem(b, "compression", "gzip")
		b = append(b, `<description><oai-identifier xmlns="`+NamespaceIdentifier+`" xsi:schemaLocation="`+
			NamespaceIdentifier+` `+SchemaIdentifier+`">`+"\n"...)
		b = elem(b, "scheme", "oai")
		b = elem(b, "repositoryIdentifier", o.Domain)
		b = elem(b, "delimiter", ":")
		b = elem(b, "sampleIdentifier", c.s.Identifier(sample))
		b = append(b, "</oai-identifier></description>\n</Identify>\n"...)
		rs.buf = b
		rs.finish()
		return nil
	})
}

func (c *call) listMetadataFormats() {
	c.view(func(snap catalog.Snapshot) *oaiError {
		if ident, ok := c.q.args["identifier"]; ok {
			if e := c.lookup(snap.OAI(), ident); e != nil {
				return e
			}
		}
		rs := c.begin()
		b := append(rs.buf, "<ListMetadataFormats>\n"...)
		for _, f := range formats {
			b = append(b, "<metadataFormat>\n"...)
			b = elem(b, "metadataPrefix", f.prefix)
			b = elem(b, "schema", f.schema)
			b = elem(b, "metadataNamespace", f.namespace)
			b = append(b, "</metadataFormat>\n"...)
		}
		rs.buf = append(b, "</ListMetadataFormats>\n"...)
		rs.finish()
		return nil
	})
}

// lookup checks that an identifier names a union record.
func (c *call) lookup(rd *oaiindex.Reader, ident string) *oaiError {
	_, e := c.item(rd, ident)
	return e
}

func (c *call) item(rd *oaiindex.Reader, ident string) (*oaiindex.Item, *oaiError) {
	id, ok := c.s.unionID(ident)
	if !ok {
		return nil, &oaiError{"idDoesNotExist", fmt.Sprintf("%q is not an identifier of this repository (oai:%s:<id>)", ident, c.s.opts.Domain)}
	}
	it, err := rd.Item(id)
	if err != nil {
		c.s.log.Error("oai-pmh: index", "id", id, "err", err)
	}
	if it == nil {
		return nil, &oaiError{"idDoesNotExist", fmt.Sprintf("no record has the identifier %q", ident)}
	}
	return it, nil
}

func (c *call) getRecord() {
	prefix := c.q.args["metadataPrefix"]
	if !knownFormat(prefix) {
		c.fail(cannotDisseminate(prefix))
		return
	}
	c.view(func(snap catalog.Snapshot) *oaiError {
		it, e := c.item(snap.OAI(), c.q.args["identifier"])
		if e != nil {
			return e
		}
		id, _ := c.s.unionID(c.q.args["identifier"])
		rs := c.begin()
		rs.buf = append(rs.buf, "<GetRecord>\n"...)
		c.appendRecord(snap, oaiindex.Entry{Datestamp: it.Datestamp, ID: id, Deleted: it.Deleted}, prefix)
		rs.buf = append(rs.buf, "</GetRecord>\n"...)
		rs.finish()
		return nil
	})
}

func cannotDisseminate(prefix string) *oaiError {
	return &oaiError{"cannotDisseminateFormat", fmt.Sprintf("metadataPrefix %q is not served; ListMetadataFormats lists oai_dc, marc21 and marcxml", prefix)}
}

// appendRecord writes one record (header and metadata) of a list or
// GetRecord to the response, then flushes it. A record that cannot be
// read is logged and left out; the caller's count still includes it.
func (c *call) appendRecord(snap catalog.Snapshot, e oaiindex.Entry, prefix string) {
	rs := c.rs
	var u *dedup.UnionRecord
	if !e.Deleted {
		var err error
		u, err = snap.Union(e.ID)
		if err != nil {
			c.s.log.Error("oai-pmh: union record cannot be served; left out", "id", e.ID, "err", err)
			return
		}
	}
	rs.buf = append(rs.buf, "<record>\n"...)
	if u == nil || u.Deleted || u.Record == nil {
		rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, true, nil)
		rs.buf = append(rs.buf, "</record>\n"...)
		rs.flush()
		return
	}
	rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, false, oaiindex.Sets(u))
	rs.buf = append(rs.buf, "<metadata>\n"...)
	if prefix == "oai_dc" {
		rs.buf = marc.ToDC(u.Record).AppendXML(rs.buf, marc.RootOAIDC, true)
		rs.buf = append(rs.buf, '\n')
	} else {
		rs.buf, _ = marc.AppendMARCXML(rs.buf, u.Record, true)
	}
	rs.buf = append(rs.buf, "</metadata>\n</record>\n"...)
	rs.flush()
}

func (c *call) appendHeader(b []byte, id string, ds int64, deleted bool, sets []string) []byte {
	if deleted {
		b = append(b, `<header status="deleted">`+"\n"...)
	} else {
		b = append(b, "<header>\n"...)
	}
	b = elem(b, "identifier", c.s.Identifier(id))
	b = elem(b, "datestamp", formatTime(ds))
	for _, s := range sets {
		b = elem(b, "setSpec", s)
	}
	return append(b, "</header>\n"...)
}

func (c *call) list() {
	verb := verbListRecords
	if c.q.verb == "ListIdentifiers" {
		verb = verbListIdentifiers
	}
	t, first, e := c.listToken(verb)
	if e != nil {
		c.fail(e)
		return
	}
	l := &oaiindex.List{Spec: indexSpec(t.set), From: t.from, Cutoff: t.cutoff}
	c.view(func(snap catalog.Snapshot) *oaiError {
		rd := snap.OAI()
		if first {
			t.epoch = rd.Epoch()
			n, err := rd.Count(l)
			if err != nil {
				c.s.log.Error("oai-pmh: count", "err", err)
			}
			t.total = n
		} else if t.epoch != rd.Epoch() {
			return &oaiError{"badResumptionToken", "the list this resumptionToken continues no longer exists (the index was rebuilt); start the harvest again"}
		}
		return c.listPage(snap, l, t, first)
	})
}

// listToken returns the token of the page asked for: the one given, or a
// new list's, cut now. first reports a new list.
func (c *call) listToken(verb byte) (t *token, first bool, e *oaiError) {
	if raw, ok := c.q.args["resumptionToken"]; ok {
		t, err := decodeToken(raw)
		switch {
		case err != nil || t.verb != verb || !knownFormat(t.prefix):
			return nil, false, &oaiError{"badResumptionToken", "the resumptionToken is not one this repository issued for " + c.q.verb}
		case c.now.After(t.expires()):
			return nil, false, &oaiError{"badResumptionToken", "the resumptionToken expired at " + t.expires().Format(timeFormat)}
		}
		return t, false, nil
	}
	prefix := c.q.args["metadataPrefix"]
	if !knownFormat(prefix) {
		return nil, true, cannotDisseminate(prefix)
	}
	t = &token{verb: verb, prefix: prefix, set: c.q.args["set"], started: c.now.Unix()}
	t.cutoff = c.now.Unix() - 1
	if c.q.hasUntil && c.q.until < t.cutoff {
		t.cutoff = c.q.until
	}
	if c.q.hasFrom {
		t.from = max(c.q.from, 0)
	}
	// A list's snapshot is every change stamped up to the second before
	// its first request: changes committed after that are stamped later
	// (the Deduper stamps each commit later than the last and not before
	// the commit began), but one already stamped may still be committing,
	// and the list must not start without it. Should waiting fail, so
	// does the read that follows.
	c.s.cat.Settle(c.r.Context())
	return t, true, nil
}

// listPage writes the page of list l that token t asks for, and the
// token of the next.
func (c *call) listPage(snap catalog.Snapshot, l *oaiindex.List, t *token, first bool) *oaiError {
	rd := snap.OAI()
	elemName := c.q.verb
	var n uint64
	var last oaiindex.Entry
	more := false
	err := rd.Scan(l, t.posDS, t.posID, func(e oaiindex.Entry) bool {
		if n == uint64(c.s.opts.PageSize) {
			more = true
			return false
		}
		if c.rs == nil {
			c.begin().buf = append(c.rs.buf, "<"+elemName+">\n"...)
		}
		if t.verb == verbListRecords {
			c.appendRecord(snap, e, t.prefix)
		} else {
			c.appendListHeader(rd, e)
		}
		n++
		last = e
		return true
	})
	if err != nil {
		c.s.log.Error("oai-pmh: list", "err", err)
		if c.rs == nil {
			http.Error(c.w, "internal error", http.StatusInternalServerError)
		}
		return nil // a begun response stays unfinished: see view
	}
	if c.rs == nil {
		if first {
			return &oaiError{"noRecordsMatch", "no record matches the arguments"}
		}
		return &oaiError{"badResumptionToken", "the list this resumptionToken continues has no more records"}
	}
	b := c.rs.buf
	switch {
	case more:
		next := *t
		next.posDS, next.posID = last.Datestamp, last.ID
		next.cursor = t.cursor + n
		b = appendToken(b, t, &next)
	case !first:
		b = appendToken(b, t, nil)
	}
	c.rs.buf = append(b, "</"+elemName+">\n"...)
	c.rs.finish()
	return nil
}

// appendToken writes the resumptionToken element of a page of the list
// t was read for: next continues the list, nil ends it (an empty token).
func appendToken(b []byte, t, next *token) []byte {
	b = append(b, `<resumptionToken`...)
	if next != nil {
		b = append(b, ` expirationDate="`...)
		b = t.expires().AppendFormat(b, timeFormat)
		b = append(b, '"')
	}
	b = append(b, ` completeListSize="`...)
	b = strconv.AppendUint(b, t.total, 10)
	b = append(b, `" cursor="`...)
	b = strconv.AppendUint(b, t.cursor, 10)
	b = append(b, '"')
	if next == nil {
		return append(b, "/>\n"...)
	}
	b = append(b, '>')
	b = append(b, next.encode()...)
	return append(b, "</resumptionToken>\n"...)
}

// appendListHeader writes one header of ListIdentifiers.
func (c *call) appendListHeader(rd *oaiindex.Reader, e oaiindex.Entry) {
	rs := c.rs
	deleted := e.Deleted
	var sets []string
	if !deleted {
		it, err := rd.Item(e.ID)
		if err != nil || it == nil {
			c.s.log.Error("oai-pmh: header cannot be served; left out", "id", e.ID, "err", err)
			return
		}
		deleted = it.Deleted
		if !deleted {
			sets = it.Members()
		}
	}
	rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, deleted, sets)
	rs.flush()
}

func (c *call) listSets() {
	first := true
	var t *token
	if raw, ok := c.q.args["resumptionToken"]; ok {
		first = false
		var err error
		t, err = decodeToken(raw)
		switch {
		case err != nil || t.verb != verbListSets:
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken is not one this repository issued for ListSets"})
			return
		case c.now.After(t.expires()):
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken expired at " + t.expires().Format(timeFormat)})
			return
		}
	} else {
		t = &token{verb: verbListSets, started: c.now.Unix()}
	}
	c.view(func(snap catalog.Snapshot) *oaiError {
		sources, err := snap.Sources()
		if err != nil {
			c.s.log.Error("oai-pmh: sources", "err", err)
		}
		libraries, err := snap.Libraries()
		if err != nil {
			c.s.log.Error("oai-pmh: libraries", "err", err)
		}
		sets := allSets(snap.OAI(), libraries, sources)
		if len(sets) == 0 {
			return &oaiError{"noSetHierarchy", "this repository has no sets yet"}
		}
		if first {
			t.total = uint64(len(sets))
		}
		start, _ := slices.BinarySearchFunc(sets, t.posID, func(s setInfo, spec string) int { return strings.Compare(s.spec, spec) })
		if !first && start < len(sets) && sets[start].spec == t.posID {
			start++
		}
		if start >= len(sets) {
			return &oaiError{"badResumptionToken", "the list this resumptionToken continues has no more sets"}
		}
		end := min(start+c.s.opts.PageSize, len(sets))
		rs := c.begin()
		b := append(rs.buf, "<ListSets>\n"...)
		for _, s := range sets[start:end] {
			b = append(b, "<set>\n"...)
			b = elem(b, "setSpec", s.spec)
			b = elem(b, "setName", s.name)
			b = append(b, "</set>\n"...)
		}
		switch {
		case end < len(sets):
			next := *t
			next.posID = sets[end-1].spec
			next.cursor = t.cursor + uint64(end-start)
			b = appendToken(b, t, &next)
		case !first:
			b = appendToken(b, t, nil)
		}
		rs.buf = append(b, "</ListSets>\n"...)
		rs.finish()
		return nil
	})
}
