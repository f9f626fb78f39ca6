package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/render"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server.
type Options struct {
	// Catalog is what the pages search and show.
	Catalog catalog.Reader
	// Config names the sources and their libraries. It may be replaced
	// later with SetConfig (configuration reload).
	Config *config.Config
	// Status reports the harvest status of every source (the
	// scheduler's, or harvester.ReadStatus when none runs).
	Status func() ([]harvester.SourceStatus, error)
	// Paused, when set, reports whether a source's schedule is paused.
	Paused func(id string) bool
	// LibrarySetURL, when set, gives the URL of the OAI-PMH set of a
	// holding library (the library pages link to it); "" for none.
	LibrarySetURL func(code string) string
	Log           *slog.Logger // nil logs nothing
	// Now is the clock of the status page; nil means time.Now.
	Now func() time.Time
}

// Server renders the web pages. Create it with New and mount it with
// Mount; it is safe for concurrent use.
type Server struct {
	opts Options
	tmpl *template.Template
	cfg  atomicConfig
}

// PageSize is how many results a search page lists.
const PageSize = 20

// New parses the embedded templates and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Catalog == nil || opts.Status == nil {
		return nil, fmt.Errorf("web: Options need a Catalog and a Status")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s := &Server{opts: opts, tmpl: tmpl}
	s.cfg.Store(opts.Config)
	return s, nil
}

// SetConfig replaces the configuration the pages name sources from.
func (s *Server) SetConfig(cfg *config.Config) { s.cfg.Store(cfg) }

// Mount adds the pages to r: /, /search, /record/:id (and its downloads),
// /libraries, /library/:code, /status and /static/.
func (s *Server) Mount(r gin.IRoutes) {
	r.GET("/", s.search)
	r.GET("/search", s.search)
	r.GET("/record/:id", s.record)
	r.GET("/record/:id/marcxml", s.downloadXML)
	r.GET("/record/:id/iso2709", s.downloadISO)
	r.GET("/libraries", s.libraryList)
	r.GET("/library/:code", s.library)
	r.GET("/status", s.status)
	sub, _ := fs.Sub(staticFS, "static")
	r.StaticFS("/static", http.FS(sub))
}

// page is what every template receives.
type page struct {
	L     tr
	Title string
	// Self is the current URL, for the language switch.
	Self string
	Data any
}

// render writes the named template with status code.
func (s *Server) render(c *gin.Context, code int, name, title string, data any) {
	lang, remember := pickLang(c.Request)
	if remember {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: lang, Path: "/",
			MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	c.Header("Content-Language", lang)
	c.Header("Vary", "Accept-Language, Cookie")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	p := page{L: tr{Lang: lang}, Title: clip(title, 200), Self: selfURL(c.Request.URL, lang), Data: data}
	c.Render(code, render.HTML{Template: s.tmpl, Name: name, Data: p})
}

// selfURL is u with lang set to the other language, for the switch link;
// a URL too long to be a page's (a query refused as too long) switches
// on the home page.
func selfURL(u *url.URL, lang string) string {
	other := tr{Lang: lang}.Other()
	if len(u.Path)+len(u.RawQuery) > maxEcho {
		return "/?lang=" + other
	}
	q := u.Query()
	q.Set("lang", other)
	return u.Path + "?" + q.Encode()
}

// maxEcho bounds what a page repeats of its request (a query, an id): an
// error answering a huge request must not cost more than the request.
const maxEcho = 2 * MaxQueryLen

// clip returns s cut to at most n bytes at a character boundary, "…"
// marking a cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fail renders the error page.
func (s *Server) fail(c *gin.Context, code int, msg string) {
	s.render(c, code, "error.html", http.StatusText(code), msg)
}

var funcs = template.FuncMap{
	"printf": fmt.Sprintf,
	"join":   strings.Join,
	"add":    func(a, b int) int { return a + b },
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"isotime":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"libraryURL": libraryURL,
}
