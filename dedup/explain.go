package dedup

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/store"
)

// Member is one source record of a cluster, as explained.
type Member struct {
	Source, LocalID string
	Master          bool
	Title           string // 245 as displayed
	Year            int
	ISBNs           []string
	Score           int // completeness (see the master rule)
	Library         string
	Level           string
	// Received says what the record arrived in when its text was
	// converted ("tcvn3, labelled utf-8"); "" for UTF-8 NFC.
	Received string
}

// Explanation describes one union record's cluster.
type Explanation struct {
	Union   *UnionRecord
	Members []Member // master first, then by source and local id
	Edges   []Edge   // the matches between members, each once
	Aliases []string // ids merged into this one
	// Blocked are matches from members to records outside the cluster that
	// a veto kept apart.
	Blocked []Edge
}

// Explain describes the cluster of id, a union id or "source:localid" (a
// member record). An alias is explained through the id it was merged into.
// It returns nil, nil when id names nothing.
func Explain(tx *bbolt.Tx, id string) (*Explanation, error) {
	members, unions, edgesB := tx.Bucket(bucketMembers), tx.Bucket(bucketUnions), tx.Bucket(bucketEdges)
	if members == nil || unions == nil || edgesB == nil {
		return nil, nil
	}
	seq, ok := parseUnionID(id)
	if !ok {
		src, local, found := strings.Cut(id, ":")
		if !found {
			return nil, nil
		}
		v := members.Get(store.RecordKey(src, local))
		if len(v) != 8 {
			return nil, nil
		}
		seq = binary.BigEndian.Uint64(v)
	}
	u, err := Get(tx, unionID(seq))
	if err != nil || u == nil {
		return nil, err
	}
	if u.Deleted && u.AliasOf != "" {
		return Explain(tx, u.AliasOf)
	}
	ex := &Explanation{Union: u}
	master, keys, err := storedCluster(unions, seq)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, k := range keys {
		in[k] = true
	}
	stx := store.WrapTx(tx)
	profiles := tx.Bucket(bucketProfiles)
	names := map[uint32]string{} // ordinal → record key: the members', then the other ends'
	var edges [][2]uint32        // each member's edges: its ordinal, the other's
	for _, k := range keys {
		src, local := splitRecordKey(k)
		m := Member{Source: src, LocalID: local, Master: k == master}
		if info, err := stx.Source(src); err == nil {
			m.Library, m.Level = info.LibraryCode, info.Level
		}
		if sr, err := stx.RecordView(src, local); err == nil && sr != nil && sr.Encoding != "" {
			m.Received = receivedAs(sr)
		}
		if v := profiles.Get([]byte(k)); v != nil {
			p, err := decodeProfile(v)
			if err != nil {
				return nil, err
			}
			m.Title, m.Year, m.ISBNs, m.Score = p.display, p.year, p.isbns, p.score
			names[p.ord] = k
			if err := forEdges(edgesB, p.ord, func(o uint32, _ []byte) error {
				edges = append(edges, [2]uint32{p.ord, o})
				return nil
			}); err != nil {
				return nil, err
			}
		}
		ex.Members = append(ex.Members, m)
	}
	if err := nameOrdinals(profiles, edges, names); err != nil {
		return nil, err
	}
	for _, e := range edges {
		if names[e[1]] == "" {
			continue // to a record gone (as reclustering reads it too)
		}
		lo, hi := min(e[0], e[1]), max(e[0], e[1])
		if in[names[e[1]]] && e[0] != lo {
			continue // an edge within the cluster, told once
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], edgeKey(lo, hi)) // where the match is
		rule, when, err := edgeMatch(edgesB.Get(k[:]))
		if err != nil {
			return nil, err
		}
		edge := Edge{A: displayKey(names[e[0]]), B: displayKey(names[e[1]]), Rule: rule, When: when}
		if in[names[e[1]]] {
			ex.Edges = append(ex.Edges, edge)
		} else {
			ex.Blocked = append(ex.Blocked, edge)
		}
	}
	sort.SliceStable(ex.Members, func(i, j int) bool { return ex.Members[i].Master && !ex.Members[j].Master })
	// Aliases are deleted union records naming this one: their values are
	// read without decoding the records the live ones serve.
	want := unionID(seq)
	c := tx.Bucket(bucketUnions).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) < 2 || v[1]&flagDeleted == 0 {
			continue
		}
		o, err := decodeUnion(string(k), v)
		if err != nil {
			return nil, err
		}
		if o.aliasOf == want {
			ex.Aliases = append(ex.Aliases, string(k))
		}
	}
	return ex, nil
}

// nameOrdinals adds to names the record keys of the edges' other ends
// not named yet, read from the profiles (each stores its ordinal): a
// cluster's matches with records outside it are few, and finding their
// keys once here costs less than a bucket from ordinals to keys written
// at every commit.
func nameOrdinals(profiles *bbolt.Bucket, edges [][2]uint32, names map[uint32]string) error {
	want := map[uint32]bool{}
	for _, e := range edges {
		if _, ok := names[e[1]]; !ok {
			want[e[1]] = true
		}
	}
	c := profiles.Cursor()
	for k, v := c.First(); k != nil && len(want) > 0; k, v = c.Next() {
		r := reader{b: v}
		if ver := r.byte(); ver != profileEncV3 {
			return fmt.Errorf("dedup: record %q: unknown profile encoding version %d", displayKey(string(k)), ver)
		}
		if ord := uint32(r.uvarint()); r.err == nil && want[ord] {
			names[ord] = string(k)
			delete(want, ord)
		}
	}
	return nil // an ordinal still wanted names a record gone: its edge is not told
}

// Write prints the explanation for people.
func (ex *Explanation) Write(w io.Writer) error {
	u := ex.Union
	var b strings.Builder
	fmt.Fprintf(&b, "union %s  datestamp %s", u.ID, u.Datestamp.Format(time.RFC3339Nano))
	if u.Deleted {
		b.WriteString("  DELETED")
	}
	b.WriteString("\n")
	if len(u.Libraries) > 0 {
		fmt.Fprintf(&b, "held by %s (%s)\n", strings.Join(u.Libraries, ", "), strings.Join(u.Levels, ", "))
	}
	if len(ex.Aliases) > 0 {
		fmt.Fprintf(&b, "aliases (merged into this one): %s\n", strings.Join(ex.Aliases, ", "))
	}
	fmt.Fprintf(&b, "members (%d):\n", len(ex.Members))
	for _, m := range ex.Members {
		mark := " "
		if m.Master {
			mark = "*"
		}
		fmt.Fprintf(&b, " %s %s:%s  [%s %s]  score %d  year %d", mark, m.Source, m.LocalID, m.Library, m.Level, m.Score, m.Year)
		if len(m.ISBNs) > 0 {
			fmt.Fprintf(&b, "  isbn %s", strings.Join(m.ISBNs, ","))
		}
		fmt.Fprintf(&b, "\n     %s\n", m.Title)
		if m.Received != "" {
			fmt.Fprintf(&b, "     received as %s, converted to UTF-8 NFC\n", m.Received)
		}
	}
	b.WriteString("(* = master: highest encoding level, most significant fields, subjects and classification, then source priority)\n")
	fmt.Fprintf(&b, "edges (%d):\n", len(ex.Edges))
	for _, e := range ex.Edges {
		fmt.Fprintf(&b, "  %s ~ %s  %s  (%s)\n", e.A, e.B, e.Rule, e.When.Format(time.RFC3339))
	}
	if len(ex.Blocked) > 0 {
		fmt.Fprintf(&b, "matches kept out of this cluster by a veto on the merge (%d):\n", len(ex.Blocked))
		for _, e := range ex.Blocked {
			fmt.Fprintf(&b, "  %s ~ %s  %s\n", e.A, e.B, e.Rule)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// receivedAs describes what a converted record arrived in.
func receivedAs(sr *store.SourceRecord) string {
	switch {
	case sr.Override:
		return sr.Encoding + " (the source's charset setting)"
	case sr.Label != "" && string(sr.Label) != sr.Encoding:
		return sr.Encoding + ", labelled " + string(sr.Label)
	}
	return sr.Encoding
}
