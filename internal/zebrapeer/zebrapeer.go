// Package zebrapeer runs Index Data's Zebra (Debian idzebra-2.0) on a
// loopback port over a MARC file, as the reference server unicat's search
// is compared with in tests and benchmarks. The configuration is the
// repository's testdata/peers/zebra: indexing rules (marc21.abs) and a
// CQL mapping (cql2pqf.properties) written after unicat's index table.
package zebrapeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Server is a running zebrasrv.
type Server struct {
	Addr string // host:port; Z39.50 and SRU (HTTP) share it
	URL  string // SRU base URL (database Default)
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// Options for Start.
type Options struct {
	// ConfigDir holds marc21.abs, unicat.att and cql2pqf.properties
	// (testdata/peers/zebra).
	ConfigDir string
	// WorkDir receives the register, logs and generated configuration.
	WorkDir string
	// Records is an ISO 2709 file (UTF-8) to index.
	Records string
	// IndexLog, when set, receives zebraidx's output.
	IndexLog io.Writer
	// KohaRetrieval configures record retrieval as Koha's Zebra does
	// (koha-conf.xml's retrievalinfo): USMARC and XML with the element
	// sets F and B, and the element set marcxml with XML only, the record
	// converted from USMARC by YAZ. Other syntaxes are then refused (239).
	KohaRetrieval bool
}

// kohaRetrieval is the retrievalinfo of Koha's koha-conf.xml for the
// bibliographic server, without its XSLT-based element sets.
const kohaRetrieval = `
    <retrievalinfo>
      <retrieval syntax="usmarc" name="F"/>
      <retrieval syntax="usmarc" name="B"/>
      <retrieval syntax="xml" name="F"/>
      <retrieval syntax="xml" name="B"/>
      <retrieval syntax="xml" name="marcxml" identifier="info:srw/schema/1/marcxml-v1.1">
        <backend syntax="usmarc" name="F">
          <marc inputformat="marc" outputformat="marcxml" inputcharset="utf-8"/>
        </backend>
      </retrieval>
    </retrievalinfo>`

// Start indexes opts.Records with zebraidx and starts zebrasrv on a free
// loopback port. Stop it with Stop.
func Start(opts Options) (*Server, error) {
	cfgDir, err := filepath.Abs(opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	work, err := prepareWorkDir(opts.WorkDir, opts.Records)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := writeConfig(cfgDir, work, addr, opts.KohaRetrieval); err != nil {
		return nil, err
	}
	log := opts.IndexLog
	if log == nil {
		log = io.Discard
	}
	if err := index(work, log); err != nil {
		return nil, err
	}
	return serve(work, addr)
}

// prepareWorkDir makes the directories of the work directory dir and
// puts the records there; it returns dir's absolute path.
func prepareWorkDir(dir, records string) (string, error) {
	work, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, d := range []string{"reg", "shadow", "lock", "tmp", "rec"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return "", fmt.Errorf("zebrapeer: %w", err)
		}
	}
	recs, err := filepath.Abs(records)
	if err != nil {
		return "", err
	}
	if err := linkOrCopy(recs, filepath.Join(work, "rec", "data.mrc")); err != nil {
		return "", fmt.Errorf("zebrapeer: %w", err)
	}
	return work, nil
}

// writeConfig writes Zebra's configuration (zebra.cfg) and the server's
// (yazgfs.xml, listening on addr) into work.
func writeConfig(cfgDir, work, addr string, koha bool) error {
	zcfg := fmt.Sprintf(`profilePath: %s:/usr/share/idzebra-2.0/tab
modulePath: /usr/lib/x86_64-linux-gnu/idzebra-2.0/modules:/usr/lib/idzebra-2.0/modules
attset: unicat.att
attset: explain.att
recordType: grs.marcxml.marc21
encoding: utf-8
register: %s/reg:100G
shadow: %s/shadow:100G
lockDir: %s/lock
keyTmpDir: %s/tmp
memMax: 256M
`, cfgDir, work, work, work, work)
	if err := os.WriteFile(filepath.Join(work, "zebra.cfg"), []byte(zcfg), 0o644); err != nil {
		return err
	}
	retrieval := ""
	if koha {
		retrieval = kohaRetrieval
	}
	gfs := fmt.Sprintf(`<yazgfs>
  <listen id="public">tcp:%s</listen>
  <server id="server1" listenref="public">
    <config>%s/zebra.cfg</config>
    <cql2rpn>%s/cql2pqf.properties</cql2rpn>%s
  </server>
</yazgfs>
`, addr, work, cfgDir, retrieval)
	return os.WriteFile(filepath.Join(work, "yazgfs.xml"), []byte(gfs), 0o644)
}

// index builds the register of work's records with zebraidx.
func index(work string, log io.Writer) error {
	for _, args := range [][]string{{"init"}, {"update", "rec"}, {"commit"}} {
		cmd := exec.Command("zebraidx", append([]string{"-c", "zebra.cfg"}, args...)...)
		cmd.Dir = work
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("zebrapeer: zebraidx %v: %w", args, err)
		}
	}
	return nil
}

// serve starts zebrasrv in work and waits until it listens on addr.
func serve(work, addr string) (*Server, error) {
	s := &Server{Addr: addr, URL: "http://" + addr + "/Default", dir: work, done: make(chan error, 1)}
	s.cmd = exec.Command("zebrasrv", "-f", "yazgfs.xml", "-l", filepath.Join(work, "server.log"))
	s.cmd.Dir = work
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("zebrapeer: zebrasrv: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("zebrapeer: zebrasrv exited (%v); see %s/server.log", err, work)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("zebrapeer: zebrasrv did not listen on %s; see %s/server.log", addr, work)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Dir is the work directory: the register is in its reg and shadow.
func (s *Server) Dir() string { return s.dir }

// Restart stops zebrasrv and starts it again on the same register and
// address, as a service restart does; it returns once zebrasrv listens.
// s stays the handle of the new process.
func (s *Server) Restart() error {
	s.Stop()
	n, err := serve(s.dir, s.Addr)
	if err != nil {
		return err
	}
	*s = *n
	return nil
}

// Stop ends zebrasrv (and the children it forked for connections).
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// SRU sends a GET with the parameters to Zebra's SRU server.
func (s *Server) SRU(ctx context.Context, client *http.Client, params url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"?"+params.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, errors.New("zebrapeer: HTTP " + resp.Status)
	}
	return body, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// linkOrCopy puts src at dst: a hard link when both are on one file
// system (Zebra's directory walk does not follow symbolic links).
func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
