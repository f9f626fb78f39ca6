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
	seq, ok := explainedSeq(tx, id)
	if !ok {
		return nil, nil
	}
	u, err := Get(tx, unionID(seq))
	if err != nil || u == nil {
		return nil, err
	}
	if u.Deleted && u.AliasOf != "" {
		return Explain(tx, u.AliasOf)
	}
	ex := &Explanation{Union: u}
	master, keys, err := storedCluster(tx.Bucket(bucketUnions), seq)
	if err != nil {
		return nil, err
	}
	x := explainer{stx: store.WrapTx(tx), profiles: tx.Bucket(bucketProfiles), edgesB: tx.Bucket(bucketEdges),
		names: map[uint32]string{}}
	for _, k := range keys {
		m, err := x.member(k, k == master)
		if err != nil {
			return nil, err
		}
		ex.Members = append(ex.Members, m)
	}
	if err := x.tell(ex, keys); err != nil {
		return nil, err
	}
	sort.SliceStable(ex.Members, func(i, j int) bool { return ex.Members[i].Master && !ex.Members[j].Master })
	if ex.Aliases, err = aliasesOf(tx, unionID(seq)); err != nil {
		return nil, err
	}
	return ex, nil
}

// explainedSeq returns the cluster Explain explains for id: a union id's,
// or a member record's; false when there is none.
func explainedSeq(tx *bbolt.Tx, id string) (uint64, bool) {
	members := tx.Bucket(bucketMembers)
	if members == nil || tx.Bucket(bucketUnions) == nil || tx.Bucket(bucketEdges) == nil {
		return 0, false
	}
	if seq, ok := parseUnionID(id); ok {
		return seq, true
	}
	src, local, found := strings.Cut(id, ":")
	if !found {
		return 0, false
	}
	v := members.Get(store.RecordKey(src, local))
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// explainer gathers the members of a cluster and their edges.
type explainer struct {
	stx              *store.Tx
	profiles, edgesB *bbolt.Bucket
	names            map[uint32]string // ordinal → record key: the members', then the other ends'
	edges            [][2]uint32       // each member's edges: its ordinal, the other's
}

// member describes the record of key k, noting its edges.
func (x *explainer) member(k string, master bool) (Member, error) {
	src, local := splitRecordKey(k)
	m := Member{Source: src, LocalID: local, Master: master}
	if info, err := x.stx.Source(src); err == nil {
		m.Library, m.Level = info.LibraryCode, info.Level
	}
	if sr, err := x.stx.RecordView(src, local); err == nil && sr != nil && sr.Encoding != "" {
		m.Received = receivedAs(sr)
	}
	v := x.profiles.Get([]byte(k))
	if v == nil {
		return m, nil
	}
	p, err := decodeProfile(v)
	if err != nil {
		return m, err
	}
	m.Title, m.Year, m.ISBNs, m.Score = p.display, p.year, p.isbns, p.score
	x.names[p.ord] = k
	return m, forEdges(x.edgesB, p.ord, func(o uint32, _ []byte) error {
		x.edges = append(x.edges, [2]uint32{p.ord, o})
		return nil
	})
}

// tell puts the members' edges into ex: those within the cluster of keys
// once, in Edges, those to records outside in Blocked.
func (x *explainer) tell(ex *Explanation, keys []string) error {
	in := map[string]bool{}
	for _, k := range keys {
		in[k] = true
	}
	if err := nameOrdinals(x.profiles, x.edges, x.names); err != nil {
		return err
	}
	for _, e := range x.edges {
		if x.names[e[1]] == "" {
			continue // to a record gone (as reclustering reads it too)
		}
		lo, hi := min(e[0], e[1]), max(e[0], e[1])
		if in[x.names[e[1]]] && e[0] != lo {
			continue // an edge within the cluster, told once
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], edgeKey(lo, hi)) // where the match is
		rule, when, err := edgeMatch(x.edgesB.Get(k[:]))
		if err != nil {
			return err
		}
		edge := Edge{A: displayKey(x.names[e[0]]), B: displayKey(x.names[e[1]]), Rule: rule, When: when}
		if in[x.names[e[1]]] {
			ex.Edges = append(ex.Edges, edge)
		} else {
			ex.Blocked = append(ex.Blocked, edge)
		}
	}
	return nil
}

// aliasesOf returns the ids merged into union id: the deleted union
// records naming it, whose values are read without decoding the records
// the live ones serve.
func aliasesOf(tx *bbolt.Tx, id string) ([]string, error) {
	var out []string
	c := tx.Bucket(bucketUnions).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) < 2 || v[1]&flagDeleted == 0 {
			continue
		}
		o, err := decodeUnion(string(k), v)
		if err != nil {
			return nil, err
		}
		if o.aliasOf == id {
			out = append(out, string(k))
		}
	}
	return out, nil
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
