// Package testpeer finds the real peer programs tests talk to (yaz-client,
// yaz-marcdump, yaz-iconv, zebrasrv, xmllint, iconv, and perl with the
// modules of Koha's Z39.50 client). Outside CI a missing
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

// NeedPerl returns the path of perl, with the named modules installed
// (Net::Z3950::ZOOM is the module ZOOM, as Koha loads it), or ends the
// test as Need does.
func NeedPerl(t testing.TB, modules ...string) string {
	t.Helper()
	perl := Need(t, "perl")
	for _, m := range modules {
		if out, err := exec.Command(perl, "-M"+m, "-e", "1").CombinedOutput(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("Perl module %s not installed (CI installs it in .ci/run): %v\n%s", m, err, out)
			}
			t.Skipf("Perl module %s not installed", m)
		}
	}
	return perl
}
