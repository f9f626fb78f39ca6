package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// The request log has one line per request, naming the route pattern
// (as the metrics do) beside the raw path.
func TestRequestLogRoute(t *testing.T) {
	var buf bytes.Buffer
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(requestLog(slog.New(slog.NewJSONHandler(&buf, nil))))
	r.GET("/record/:id", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	for _, path := range []string{"/record/u0000001a", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got:\n%s", buf.String())
	}
	want := []struct {
		route, path string
		status      float64
	}{{"/record/:id", "/record/u0000001a", 200}, {"unmatched", "/nowhere", 404}}
	for i, l := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got["route"] != want[i].route || got["path"] != want[i].path || got["status"] != want[i].status {
			t.Errorf("line %d: route %v path %v status %v, want %+v", i, got["route"], got["path"], got["status"], want[i])
		}
	}
}
