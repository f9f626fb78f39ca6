package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/harvester"
)

type sourceRow struct {
	harvester.SourceStatus
	State string
	Ago   string
}

type statusData struct {
	Sources []sourceRow
	Unions  int
	Docs    uint64
	Now     time.Time
}

func (s *Server) status(c *gin.Context) {
	ss, err := s.sourceStatus()
	if err != nil {
		s.opts.Log.Error("web status", "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	d := &statusData{Now: s.opts.Now()}
	err = s.opts.Catalog.View(c.Request.Context(), func(snap catalog.Snapshot) error {
		live, _, err := snap.UnionCounts()
		if err != nil {
			return err
		}
		d.Unions = live
		st, err := snap.IndexStatus()
		d.Docs = st.Docs
		return err
	})
	if err != nil {
		s.opts.Log.Error("web status", "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	for _, st := range ss {
		d.Sources = append(d.Sources, s.sourceRow(st))
	}
	s.render(c, http.StatusOK, "status.html", "", d)
}
