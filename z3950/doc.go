// Package z3950 serves the union catalog over Z39.50 (ANSI/NISO Z39.50-2003,
// ISO 23950) and is the Z39.50 client the harvester uses to read member
// libraries' targets.
//
// The package keeps the protocol's layers apart:
//
//   - BER and PDUs (ber.go, frame.go, pdu*.go): the APDUs of the Z39.50-2003
//     ASN.1 (Init, Search, Present, Scan, DeleteResultSet, Sort, Close, and
//     enough of the others to answer them) as Go values, encoded and decoded
//     with github.com/go-asn1-ber/asn1-ber. Pure functions, fuzzed.
//   - Query translation (query.go, attrs.go): Type-1 (and 101) RPN queries
//     with the Bib-1 attribute set become the search package's query tree,
//     the one SRU's CQL also becomes, so both protocols give the same answer.
//     The attribute mapping is a table; what it cannot answer is reported
//     with the Bib-1 diagnostic for the attribute type (113-123), never as an
//     empty result. PQF (pqf.go) is parsed for the client and the tests.
//   - Record rendering (render.go): USMARC/MARC 21 (ISO 2709, UTF-8), MARCXML,
//     SUTRS and OPAC (the bibliographic record plus one holdings entry per
//     holding library, from the union record's 852 fields), element sets F
//     and B, and marcxml (the full record, with the XML syntax only, as
//     Koha's Zebra configuration serves it; with other syntaxes it is
//     diagnostic 25, as there).
//   - Sessions and the server (session.go, server.go): one goroutine per
//     connection holding its named result sets, message size limits from
//     Init, an idle timeout, a connection limit, panics contained to their
//     connection, and Prometheus metrics.
//   - The client (client.go): Init, Search, Present (paging), Scan, Close.
//
// Character set: text in PDUs is UTF-8. A client's character-set
// negotiation proposal (Init otherInfo, negotiation record 3) is answered:
// UTF-8 is selected when proposed, otherwise no negotiation is put in
// force and UTF-8 is still what is sent.
package z3950
