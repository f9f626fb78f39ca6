package testpeer

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// VNConvVersion is the version of the npm package vietnamese-conversion
// that .ci/run installs (into .ci/node/node_modules, which git ignores)
// and the oracle was checked with.
const VNConvVersion = "2.0.0"

//go:embed vnconv.js
var vnconvJS []byte

// VNConv runs the npm package vietnamese-conversion, the oracle for VNI
// and TCVN3: Encode turns Unicode text into the charset's bytes. It
// offers no decoding, which would be no oracle for VNI: the package
// replaces its table's entries in order, ư before ừ, and so misreads every
// toned ơ and ư. Outside CI a missing node or package skips the test; in
// CI it fails it.
type VNConv struct {
	node, modules string
}

// NeedVNConv finds node and the package: in $UNICAT_NODE_MODULES, else in
// .ci/node/node_modules of the repository holding the working directory.
func NeedVNConv(t testing.TB) *VNConv {
	t.Helper()
	Need(t, "node")
	vc, err := FindVNConv()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return vc
}

// FindVNConv is NeedVNConv for programs (the fixture generator).
func FindVNConv() (*VNConv, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	dir := os.Getenv("UNICAT_NODE_MODULES")
	if dir == "" {
		dir = filepath.Join(repoRoot(), ".ci", "node", "node_modules")
	}
	if _, err := os.Stat(filepath.Join(dir, "vietnamese-conversion", "package.json")); err != nil {
		return nil, fmt.Errorf("npm package vietnamese-conversion not installed in %s (.ci/run installs it: npm install --prefix .ci/node vietnamese-conversion@%s)", dir, VNConvVersion)
	}
	return &VNConv{node: node, modules: dir}, nil
}

// Encode converts Unicode texts to charset ("vni" or "tcvn3") bytes.
func (v *VNConv) Encode(charset string, texts []string) ([][]byte, error) {
	req := make([]map[string]string, len(texts))
	for i, s := range texts {
		req[i] = map[string]string{"text": s, "to": charset}
	}
	var resp []struct{ Hex string }
	if err := v.run(req, &resp); err != nil {
		return nil, err
	}
	out := make([][]byte, len(resp))
	for i, r := range resp {
		b, err := hex.DecodeString(r.Hex)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (v *VNConv) run(req, resp any) error {
	in, err := json.Marshal(req)
	if err != nil {
		return err
	}
	cmd := exec.Command(v.node, "-e", string(vnconvJS))
	cmd.Env = append(os.Environ(), "NODE_PATH="+v.modules)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("vietnamese-conversion: %v: %s", err, stderr.Bytes())
	}
	return json.Unmarshal(out, resp)
}

// repoRoot is the directory holding go.mod above the working directory.
func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
