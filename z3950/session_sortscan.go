package z3950

import (
	"fmt"
	"strings"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/search"
)

// sortFields name sort keys for a Sort request's sortfield.
var sortFields = map[string]search.SortBy{
	"title": search.SortTitle, "author": search.SortCreator, "creator": search.SortCreator,
	"date": search.SortDate, "year": search.SortDate,
}

func (ss *session) sort(req *SortRequest) *SortResponse {
	resp := &SortResponse{ReferenceID: req.ReferenceID, ResultCount: -1, V2: ss.v2}
	fail := func(d *Diagnostic) *SortResponse {
		resp.Status = SortFailure
		resp.Diagnostics = []Diagnostic{*ss.diag(d)}
		return resp
	}
	if len(req.Inputs) != 1 {
		return fail(&Diagnostic{Condition: DiagSortTooManyInputs, AddInfo: "one input result set"})
	}
	in, ok := ss.sets[setName(req.Inputs[0])]
	if !ok {
		return fail(&Diagnostic{Condition: DiagResultSetMissing, AddInfo: req.Inputs[0]})
	}
	if len(req.Keys) > search.MaxSortKeys {
		return fail(&Diagnostic{Condition: DiagTooManySortKeys, AddInfo: fmt.Sprint(search.MaxSortKeys)})
	}
	var keys []search.SortKey
	for _, k := range req.Keys {
		var by search.SortBy
		switch {
		case k.Field != "":
			by = sortFields[strings.ToLower(k.Field)]
			if by == 0 {
				if def, ok := search.LookupIndex(k.Field); ok {
					by = def.Sort
				}
			}
		case k.Attributes != nil:
			for _, a := range k.Attributes {
				if a.Type == AttrUse && a.Complex == nil {
					if def, ok := search.LookupBib1(a.Value); ok {
						by = def.Sort
					}
				}
			}
		}
		if by == 0 {
			return fail(&Diagnostic{Condition: DiagSortSequence, AddInfo: sortKeyText(k)})
		}
		if k.Relation != 0 && k.Relation != 1 {
			return fail(&Diagnostic{Condition: DiagIllegalSortRelation, AddInfo: fmt.Sprint(k.Relation)})
		}
		keys = append(keys, search.SortKey{By: by, Descending: k.Relation == 1})
	}
	q := &search.Query{Root: in.query.Root, Sort: keys}
	rs, err := ss.runSearch(q)
	if err != nil {
		return fail(ss.failure(err, "sort"))
	}
	ss.storeSet(setName(req.Output), rs)
	resp.Status = SortSuccess
	resp.ResultCount = rs.total
	return resp
}

func sortKeyText(k SortKeySpec) string {
	switch {
	case k.Field != "":
		return k.Field
	case k.Attributes != nil:
		return attrList(k.Attributes)
	}
	return k.Unsupported
}

func (ss *session) scan(req *ScanRequest) *ScanResponse {
	resp := &ScanResponse{ReferenceID: req.ReferenceID, V2: ss.v2}
	fail := func(d *Diagnostic) *ScanResponse {
		resp.Status = ScanFailure
		resp.Entries = nil
		resp.Diagnostics = []Diagnostic{*ss.diag(d)}
		return resp
	}
	if d := ss.checkDatabases(req.DatabaseNames); d != nil {
		return fail(d)
	}
	if req.StepSize > 0 {
		return fail(&Diagnostic{Condition: DiagZeroStepOnly, AddInfo: fmt.Sprint(req.StepSize)})
	}
	spec, err := parseAttributes(req.Term.Attributes, req.AttributeSet)
	if err != nil {
		return fail(ss.failure(err, "scan"))
	}
	text, err := termValue(req.Term.Term)
	if err != nil {
		return fail(ss.failure(err, "scan"))
	}
	count := req.Count
	limited := false
	if count > ss.srv.cfg.MaxScanTerms {
		count, limited = ss.srv.cfg.MaxScanTerms, true
	}
	pos := 1
	if req.HasPosition {
		pos = req.PreferredPosition
	}
	if count <= 0 {
		resp.Status = ScanSuccess
		return resp
	}
	if pos < 0 || pos > count+1 {
		return fail(&Diagnostic{Condition: DiagScanPosition, AddInfo: fmt.Sprint(pos)})
	}
	sr := search.ScanRequest{Index: "anywhere", From: text, Position: pos, Count: count,
		Phrases: spec.match() == search.MatchField || spec.structure == 1}
	if spec.index != nil {
		sr.Index = spec.index.Name
	}
	terms, err := ss.scanTerms(sr, resp)
	if err != nil {
		return fail(ss.failure(err, "scan"))
	}
	switch {
	case len(terms) == req.Count:
		resp.Status = ScanSuccess
	case limited && len(terms) == count:
		resp.Status = ScanPartial4
	default:
		resp.Status = ScanPartial5
	}
	return resp
}

// scanTerms runs sr and adds its terms to resp, with the position of the
// term the list is positioned on (the first >= sr.From).
func (ss *session) scanTerms(sr search.ScanRequest, resp *ScanResponse) ([]search.ScanTerm, error) {
	var terms, first []search.ScanTerm
	err := ss.srv.cfg.Catalog.View(ss.ctx, func(snap catalog.Snapshot) error {
		var err error
		if terms, err = snap.Scan(ss.ctx, sr); err != nil {
			return err
		}
		at := sr
		at.Position, at.Count = 1, 1
		first, err = snap.Scan(ss.ctx, at)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		e := ScanEntry{Term: Term{Kind: TermGeneral, Bytes: []byte(t.Value)}, Occurrences: t.Count}
		if t.Display != t.Value {
			e.DisplayTerm = t.Display
		}
		resp.Entries = append(resp.Entries, e)
	}
	if len(first) == 1 {
		for i, t := range terms {
			if t.Value == first[0].Value {
				resp.PositionOfTerm = i + 1
				break
			}
		}
	}
	return terms, nil
}
