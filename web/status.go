package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/store"
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
	var (
		ss  []harvester.SourceStatus
		err error
	)
	if s.opts.Status != nil {
		ss, err = s.opts.Status()
	} else {
		ss, err = harvester.ReadStatus(s.opts.Store, s.cfg.Load())
	}
	if err != nil {
		s.opts.Log.Error("web status", "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	d := &statusData{Now: s.opts.Now()}
	err = s.opts.Store.View(func(tx *store.Tx) error {
		live, _, err := dedup.Count(tx.Bolt())
		if err != nil {
			return err
		}
		d.Unions = live
		st, err := s.opts.Index.Status(tx.Bolt())
		d.Docs = st.Docs
		return err
	})
	if err != nil {
		s.opts.Log.Error("web status", "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	for _, st := range ss {
		row := sourceRow{SourceStatus: st, State: st.State}
		switch {
		case st.Disabled:
			row.State = "disabled"
		case s.opts.Paused != nil && s.opts.Paused(st.ID):
			row.State = "paused"
		case row.State == "" && st.Last != nil && st.Last.Err != "":
			row.State = "failed"
		case row.State == "":
			row.State = "idle"
		}
		d.Sources = append(d.Sources, row)
	}
	s.render(c, http.StatusOK, "status.html", "", d)
}
