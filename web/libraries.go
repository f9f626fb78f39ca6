package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/store"
)

// libraryRow is one library of the network as its pages show it.
type libraryRow struct {
	store.LibraryInfo
	Known   bool // described by the configuration (else a code a source of many libraries reports)
	Union   int  // live union records it holds
	Alone   int  // of them, held by no other library
	Merged  int  // percent of its union records shared with another library
	Records int  // source records of its own sources
	Sources []sourceRow
	SetURL  string // its OAI-PMH set, "" when not served
}

type librariesData struct {
	Libraries []libraryRow
}

// libraries reads every library: the registered ones and any other code
// holding union records, with their counts and their own sources.
func (s *Server) libraries(ctx context.Context) ([]libraryRow, error) {
	ss, err := s.sourceStatus()
	if err != nil {
		return nil, err
	}
	cfg := s.cfg.Load()
	byCode := map[string]*libraryRow{}
	err = s.opts.Catalog.View(ctx, func(snap catalog.Snapshot) error {
		libs, err := snap.Libraries()
		if err != nil {
			return err
		}
		for _, l := range libs {
			byCode[l.Code] = &libraryRow{LibraryInfo: l, Known: true}
		}
		counts, err := snap.LibraryCounts()
		if err != nil {
			return err
		}
		for code, n := range counts {
			r := byCode[code]
			if r == nil {
				r = &libraryRow{LibraryInfo: store.LibraryInfo{Code: code, Name: code}}
				byCode[code] = r
			}
			r.Union, r.Alone = n.Union, n.Alone
			if n.Union > 0 {
				r.Merged = 100 * (n.Union - n.Alone) / n.Union
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, st := range ss {
		if cfg == nil {
			break
		}
		src, ok := cfg.Source(st.ID)
		if !ok {
			continue
		}
		if r := byCode[src.LibraryCode]; r != nil {
			r.Sources = append(r.Sources, s.sourceRow(st))
			r.Records += st.Live
		}
	}
	out := make([]libraryRow, 0, len(byCode))
	for _, r := range byCode {
		if s.opts.LibrarySetURL != nil {
			r.SetURL = s.opts.LibrarySetURL(r.Code)
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func (s *Server) libraryList(c *gin.Context) {
	libs, err := s.libraries(c.Request.Context())
	if err != nil {
		s.opts.Log.Error("web libraries", "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	lang, _ := pickLang(c.Request)
	s.render(c, http.StatusOK, "libraries.html", tr{Lang: lang}.T("libraries"), &librariesData{Libraries: libs})
}

func (s *Server) library(c *gin.Context) {
	code := c.Param("code")
	libs, err := s.libraries(c.Request.Context())
	if err != nil {
		s.opts.Log.Error("web library", "code", code, "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	i := sort.Search(len(libs), func(i int) bool { return libs[i].Code >= code })
	if i == len(libs) || libs[i].Code != code {
		s.fail(c, http.StatusNotFound, notFoundText(c, "library.notfound", code))
		return
	}
	s.render(c, http.StatusOK, "library.html", libs[i].Name, &libs[i])
}

// libraryURL is the page of a library.
func libraryURL(code string) string { return "/library/" + url.PathEscape(code) }

// sourceStatus is the harvest status of every source: the scheduler's
// when it runs, else as the store has it.
func (s *Server) sourceStatus() ([]harvester.SourceStatus, error) { return s.opts.Status() }

// sourceRow is a source's status as the pages show it, its state
// completed: disabled, paused, failed (its last run), idle.
func (s *Server) sourceRow(st harvester.SourceStatus) sourceRow {
	row := sourceRow{SourceStatus: st, State: st.State}
	switch {
	case st.Disabled:
		row.State = "disabled"
	case s.opts.Paused != nil && s.opts.Paused(st.ID):
		row.State = "paused"
	case row.State != "running" && st.Last != nil && st.Last.Unfinished():
		row.State = "interrupted"
	case row.State == "" && st.Last != nil && st.Last.Err != "":
		row.State = "failed"
	case row.State == "":
		row.State = "idle"
	}
	return row
}
