package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
)

// holding is one 852 of a union record, as a reader sees it.
type holding struct {
	Code, Name, Level string
	Location, Call    string
	Copies            int
}

// link is a link to a digital copy (an 856), as a reader follows it.
type link struct {
	URL, Text, Note string
}

type marcField struct {
	Tag        string
	Ind1, Ind2 string
	Value      string // control fields
	Subfields  []marc.Subfield
}

type recordData struct {
	ID         string
	Title      string
	Resp       string
	Creators   []marc.Name
	Edition    string
	Publishers []string
	Places     []string
	Year       string
	Extent     string
	ISBNs      []string
	ISSNs      []string
	Languages  []string // in words, as Country and Type
	Country    string
	Subjects   []string
	Classes    []marc.Classification
	Type       string
	Links      []link
	Holdings   []holding
	Libraries  int // holding libraries (a library may have several 852s)
	Leader     string
	Fields     []marcField
	XMLURL     string
	ISO2709URL string
}

// validID is the shape of a union id: letters and digits only, so that it
// can go into a file name and a URL unescaped.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// lookup reads union record id. It writes the answer itself (a 404, 410,
// or a redirect to the record an alias was merged into) and returns nil
// when there is no record to show.
func (s *Server) lookup(c *gin.Context, suffix string) *dedup.UnionRecord {
	id := c.Param("id")
	var u *dedup.UnionRecord
	var err error
	if validID(id) { // anything else names no record
		err = s.opts.Catalog.View(c.Request.Context(), func(snap catalog.Snapshot) error {
			var err error
			u, err = snap.Union(id)
			return err
		})
	}
	switch {
	case err != nil:
		s.opts.Log.Error("web record", "id", id, "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return nil
	case u == nil:
		s.fail(c, http.StatusNotFound, notFoundText(c, "notfound.text", id))
		return nil
	case u.Deleted && u.AliasOf != "":
		c.Redirect(http.StatusMovedPermanently, "/record/"+u.AliasOf+suffix)
		return nil
	case u.Deleted || u.Record == nil:
		s.fail(c, http.StatusGone, notFoundText(c, "gone.text", id))
		return nil
	}
	return u
}

func notFoundText(c *gin.Context, key, id string) string {
	lang, _ := pickLang(c.Request)
	return strings.Replace(tr{Lang: lang}.T(key), "%s", clip(id, 64), 1)
}

func (s *Server) record(c *gin.Context) {
	u := s.lookup(c, "")
	if u == nil {
		return
	}
	r := u.Record
	lang, _ := pickLang(c.Request)
	d := &recordData{
		ID: u.ID, Title: r.Title(), Resp: r.Responsibility(), Creators: r.Creators(),
		Edition: r.Edition(), Publishers: r.Publishers(), Places: r.Places(), Year: r.YearString(),
		Extent: r.Extent(), ISSNs: r.ISSNs(), Subjects: r.Subjects(),
		Classes: r.Classifications(), Type: codeWords(typeNames, r.MaterialType(), lang), Leader: r.Leader,
		XMLURL: "/record/" + u.ID + "/marcxml", ISO2709URL: "/record/" + u.ID + "/iso2709",
		Links: links(r),
	}
	d.ISBNs, _ = r.ISBNs()
	for _, l := range r.Languages() {
		d.Languages = append(d.Languages, codeWords(languageNames, l, lang))
	}
	if f := r.First("008"); f != nil && len(f.Value) >= 18 {
		if c := strings.TrimRight(f.Value[15:18], " |"); c != "" {
			d.Country = codeWords(countryNames, c, lang)
		}
	}
	for i := range d.Creators {
		d.Creators[i].Role = roleWords(d.Creators[i].Role, lang)
	}
	d.Holdings, d.Libraries = holdings(s.cfg.Load(), r), len(u.Libraries)
	for _, f := range r.Fields {
		mf := marcField{Tag: f.Tag, Value: f.Value, Subfields: f.Subfields}
		if !f.IsControl() {
			mf.Ind1, mf.Ind2 = indicator(f.Ind1), indicator(f.Ind2)
		}
		d.Fields = append(d.Fields, mf)
	}
	s.render(c, http.StatusOK, "record.html", d.Title, d)
}

// holdings returns the 852s of a union record as a reader sees them: the
// library by name and level (as the configuration describes it), where
// the copy is ($b sublocation, $c shelf), its call number ($k prefix, $h
// classification, $i item, $m suffix) and how many copies ($t).
func holdings(cfg *config.Config, r *marc.Record) []holding {
	var out []holding
	for _, f := range r.FieldsByTag("852") {
		h := holding{Code: f.Sub('a'), Copies: dedup.Copies(f)}
		h.Location = strings.Join(f.Subs("bc"), ", ")
		h.Call = strings.Join(f.Subs("khim"), " ")
		if cfg != nil {
			if l, ok := cfg.Library(h.Code); ok {
				h.Name, h.Level = l.Name, l.Level
			}
		}
		out = append(out, h)
	}
	return out
}

// links returns the record's links to digital copies: every 856 with an
// http(s) or ftp URI ($u), its text the link text ($y) or the materials
// specified ($3), else the URI, its note the public note ($z).
func links(r *marc.Record) []link {
	var out []link
	for _, f := range r.FieldsByTag("856") {
		for _, u := range f.Subs("u") {
			u = strings.TrimSpace(u)
			lower := strings.ToLower(u)
			if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "ftp://") {
				continue // javascript: and the like are no copy
			}
			l := link{URL: u, Text: strings.Join(f.Subs("y3"), " "), Note: strings.Join(f.Subs("z"), " ")}
			if l.Text == "" {
				l.Text = u
			}
			out = append(out, l)
		}
	}
	return out
}

// indicator shows a blank indicator as MARC displays conventionally do.
func indicator(b byte) string {
	if b == ' ' || b == 0 {
		return "_"
	}
	return string(rune(b))
}

func (s *Server) downloadXML(c *gin.Context) {
	u := s.lookup(c, "/marcxml")
	if u == nil {
		return
	}
	out := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	out, _ = marc.AppendMARCXML(out, u.Record, true)
	out = append(out, '\n')
	attachment(c, u.ID+".xml")
	c.Data(http.StatusOK, "application/marcxml+xml; charset=utf-8", out)
}

func (s *Server) downloadISO(c *gin.Context) {
	u := s.lookup(c, "/iso2709")
	if u == nil {
		return
	}
	out, err := marc.EncodeISO2709(u.Record)
	if errors.Is(err, marc.ErrTooLong) {
		s.fail(c, http.StatusUnprocessableEntity, err.Error()+": download MARCXML instead")
		return
	}
	if err != nil {
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	attachment(c, u.ID+".mrc")
	c.Data(http.StatusOK, "application/marc", out)
}

// attachment names the download; the id is checked to be alphanumeric,
// so the name needs no quoting beyond the quotes.
func attachment(c *gin.Context, name string) {
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
}
