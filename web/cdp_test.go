package web

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// browser drives one headless Chromium over the DevTools protocol, for
// what its command-line modes cannot do: set the viewport of a phone,
// and measure the page laid out (no JavaScript of the page's is needed:
// the page has none, and its Content-Security-Policy forbids any).
type browser struct {
	t    *testing.T
	ws   *websocket.Conn
	next int
}

var devtoolsRe = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

// startBrowser runs Chromium with a remote debugging port and attaches
// to its first page. It is stopped when the test ends.
func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir="+profile, "about:blank")
	// Its own process group: Chromium's helpers (renderer, GPU) go with
	// it, before its profile directory is removed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("chromium did not open its DevTools port")
	}
	// The page targets are listed over HTTP on the same port.
	host := regexp.MustCompile(`^ws://([^/]+)/`).FindStringSubmatch(browserURL)[1]
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target in chromium: %v", err)
		}
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := websocket.Dial(tg.WS, "", "http://localhost/")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ws.Close() })
			b := &browser{t: t, ws: ws}
			b.call("Page.enable", nil)
			return b
		}
	}
	t.Fatal("chromium has no page")
	return nil
}

// cdpMessage is a DevTools protocol message: a command's answer (ID set)
// or an event (Method set).
type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// call sends a command and returns its result, waiting for the event
// named until (if any) too.
func (b *browser) call(method string, params any, until ...string) json.RawMessage {
	b.t.Helper()
	b.next++
	id := b.next
	if err := websocket.JSON.Send(b.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	b.ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	var result json.RawMessage
	answered, waiting := false, len(until) > 0
	for !answered || waiting {
		var m cdpMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
		switch {
		case m.ID == id && m.Error != nil:
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		case m.ID == id:
			answered, result = true, m.Result
		case waiting && m.Method == until[0]:
			waiting = false
		}
	}
	return result
}

// open loads url in a viewport of width × height CSS pixels, as a phone
// (mobile) or a desktop shows it.
func (b *browser) open(url string, width, height int, mobile bool) {
	b.t.Helper()
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
	b.call("Page.navigate", map[string]any{"url": url}, "Page.loadEventFired")
}

// eval returns the value of a JavaScript expression in the page.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	res := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		b.t.Fatal(err)
	}
	if r.Exception != nil {
		b.t.Fatalf("%s: %s", expr, r.Exception.Text)
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		b.t.Fatalf("%s = %s: %v", expr, r.Result.Value, err)
	}
}

// screenshot returns the whole page as a PNG.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	res := b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
	var r struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		b.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// overflow returns how far a page is wider than its layout viewport
// (clientWidth: a phone zooms out to show a page wider than the screen,
// which would widen innerWidth too): 0 when nothing scrolls sideways.
func (b *browser) overflow() int {
	var w struct{ Scroll, View int }
	b.eval(`({Scroll: document.documentElement.scrollWidth, View: document.documentElement.clientWidth})`, &w)
	return w.Scroll - w.View
}
