// Package marctest builds MARC records for tests from a compact text form,
// so a test shows the fields it is about and nothing else.
package marctest

import (
	"strings"

	"github.com/unicat/unicat/marc"
)

// Record builds a book record (leader "nam") from tag/value pairs:
// "245", "10$aTitle$bRest" for a data field with indicators 1 and 0,
// "650", "$aSubject" for blank indicators, "001", "x1" for a control field.
func Record(fields ...string) *marc.Record {
	r := &marc.Record{Leader: "00000nam a2200000 a 4500"}
	for i := 0; i+1 < len(fields); i += 2 {
		tag, v := fields[i], fields[i+1]
		if marc.IsControlTag(tag) {
			r.Fields = append(r.Fields, marc.Field{Tag: tag, Value: v})
			continue
		}
		f := marc.Field{Tag: tag, Ind1: ' ', Ind2: ' '}
		if len(v) > 2 && v[2] == '$' {
			f.Ind1, f.Ind2 = v[0], v[1]
			v = v[2:]
		}
		for _, part := range strings.Split(v, "$")[1:] {
			if part != "" {
				f.Subfields = append(f.Subfields, marc.Subfield{Code: part[0], Value: part[1:]})
			}
		}
		r.Fields = append(r.Fields, f)
	}
	return r
}
