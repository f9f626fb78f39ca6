package marc

import "github.com/unicat/unicat/vnortho"

// How the sampled fields of a group are decided. The rule (decide) is
// that their encoding is choose(totals, label), the totals being each
// encoding's scores summed over the sample, and that each sampled field
// then keeps it unless choose(field's scores, it) says otherwise.
// Reading every sampled field every way is most of what detection costs,
// and when one reading is clean most of those readings cannot change the
// outcome: scores only grow as fields are added, so a reading already
// worse than a clean one on the first field is out. decideSample
// therefore looks for a clean reading, trying first the one the last
// record's sample was read in (a file's records mostly share one), then
// the label's, then the others, each only as far as the first field where
// it costs anything, and scores the rest only as far as needed to rule
// them out; when that does not settle it, every reading of every sampled
// field is scored and the rule applied as it stands.

// decideSample sets the reading of the sampled fields in sample and
// returns the encoding chosen for the group.
func (d *detector) decideSample(sample []fieldEvidence, base int) int {
	k := sample[0].kind
	rec, settled := 0, false
	if g, ok := d.cleanReading(sample, base); ok {
		rec, settled = d.settle(sample, base, g)
	}
	if !settled {
		var totals [numEncodings]vnortho.Score
		for i := range sample {
			ev := &sample[i]
			for e := range detectEncodings {
				d.fill(ev, e)
				totals[e].Add(ev.scores[e])
			}
		}
		rec = choose(&totals, base, k)
	}
	d.last[k] = int8(rec + 1)
	for i := range sample {
		ev := &sample[i]
		e := rec
		if !settled {
			e = choose(&ev.scores, rec, k)
		}
		d.out[ev.field] = reading{cs: detectEncodings[e], via: ev.via[e]}
	}
	return rec
}

// cleanReading returns the first encoding, in the order decideSample
// tries them, that reads every sampled field with nothing wrong.
func (d *detector) cleanReading(sample []fieldEvidence, base int) (int, bool) {
	first := base
	if last := d.last[sample[0].kind]; last > 0 {
		first = int(last) - 1
	}
	if _, ok := d.costless(sample, first); ok {
		return first, true
	}
	if _, ok := d.costless(sample, base); ok && first != base {
		return base, true
	}
	for e := range detectEncodings {
		if e == first || e == base {
			continue
		}
		if _, ok := d.costless(sample, e); ok {
			return e, true
		}
	}
	return 0, false
}

// settle reports whether g, which reads every sampled field with nothing
// wrong (cost 0), is what choose(totals, base) returns, judged without
// scoring every reading:
//
//   - if g is base, nothing is preferred to it (prefers wants a lower
//     cost) nor rescues it (vnortho.Rescue wants bad bytes in it);
//   - else g must be preferred to base, which the first fields of base
//     may show (what is preferred to part of base is preferred to all of
//     it: base's junk only grows), and no other reading may cost 0 too:
//     each is ruled out by the first field where it costs anything (a
//     second clean reading is left to the rule, which weighs syllables
//     and the order of encodings).
//
// Each sampled field then keeps g: its cost there is 0 too.
func (d *detector) settle(sample []fieldEvidence, base, g int) (int, bool) {
	tg, _ := d.costless(sample, g)
	if g == base {
		return g, true
	}
	k := sample[0].kind
	var tb vnortho.Score
	for i := 0; i < len(sample) && !prefers(tg, tb, k, base); i++ {
		d.fill(&sample[i], base)
		tb.Add(sample[i].scores[base])
	}
	if !prefers(tg, tb, k, base) {
		return 0, false
	}
	for e := range detectEncodings {
		if e == g || e == base {
			continue
		}
		if _, ok := d.costless(sample, e); ok {
			return 0, false
		}
	}
	return g, true
}

// costless scores the sample in encoding e field by field, as far as the
// first field where it costs anything, and reports whether it never does.
func (d *detector) costless(sample []fieldEvidence, e int) (vnortho.Score, bool) {
	var t vnortho.Score
	for i := range sample {
		d.fill(&sample[i], e)
		if t.Add(sample[i].scores[e]); t.Cost() > 0 {
			return t, false
		}
	}
	return t, true
}
