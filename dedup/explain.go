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
	members, clusters, edgesB := tx.Bucket(bucketMembers), tx.Bucket(bucketClusters), tx.Bucket(bucketEdges)
	if members == nil || clusters == nil || edgesB == nil {
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
	cv := clusters.Get(seqKey(seq))
	if cv == nil {
		return ex, nil // deleted, no members
	}
	master, keys, err := decodeCluster(seq, cv)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, k := range keys {
		in[k] = true
	}
	stx := store.WrapTx(tx)
	profiles := tx.Bucket(bucketProfiles)
	for _, k := range keys {
		src, local := splitRecordKey(k)
		m := Member{Source: src, LocalID: local, Master: k == master}
		if v := profiles.Get([]byte(k)); v != nil {
			p, err := decodeProfile(v)
			if err != nil {
				return nil, err
			}
			m.Title, m.Year, m.ISBNs, m.Score = p.display, p.year, p.isbns, p.score
		}
		if info, err := stx.Source(src); err == nil {
			m.Library, m.Level = info.LibraryCode, info.Level
		}
		ex.Members = append(ex.Members, m)
		err := forEdges(edgesB, k, func(o, rule string, when time.Time) error {
			e := Edge{A: displayKey(k), B: displayKey(o), Rule: rule, When: when}
			switch {
			case in[o] && k < o:
				ex.Edges = append(ex.Edges, e)
			case !in[o]:
				ex.Blocked = append(ex.Blocked, e)
			}
			return nil
		})
		if err != nil {
			return nil, err
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

func displayKey(k string) string {
	s, l := splitRecordKey(k)
	return s + ":" + l
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
