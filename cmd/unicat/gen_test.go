package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/corpus"
)

func TestGen(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"gen", "-o", dir, "-n", "500", "-libraries", "5", "-seed", "3", "-vocab", ""}, &out, &errb); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "500 records") {
		t.Errorf("gen said %q", out.String())
	}
	for _, l := range corpus.Libraries(5) {
		if _, err := os.Stat(filepath.Join(dir, l.ID+".mrc")); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, corpus.TruthFile))
	if err != nil || strings.Count(string(b), "\n") != 501 {
		t.Errorf("truth: %d lines (%v), want 501", strings.Count(string(b), "\n"), err)
	}
	if code := run([]string{"gen", "-n", "5"}, &out, &errb); code == 0 {
		t.Error("gen without -o succeeded")
	}
}
