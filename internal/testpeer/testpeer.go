// Package testpeer finds the real peer programs tests talk to (yaz-client,
// yaz-marcdump, yaz-iconv, zebrasrv, xmllint, iconv). Outside CI a missing
// peer skips the test; in CI (CI=true) it fails it, because .ci/run
// installs every peer and a skipped comparison would hide a regression.
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of the program name or ends the test.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI installs it in .ci/run): %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}
