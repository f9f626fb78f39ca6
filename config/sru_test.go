package config

import (
	"strings"
	"testing"
)

func TestSRUConfig(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: d\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SRU.DefaultRecords != 10 || cfg.SRU.MaxRecords != 100 {
		t.Errorf("defaults %+v", cfg.SRU)
	}
	cfg, err = Parse([]byte("sru: {default_records: 5, max_records: 50}\n"), "")
	if err != nil || cfg.SRU.DefaultRecords != 5 || cfg.SRU.MaxRecords != 50 {
		t.Errorf("%+v %v", cfg, err)
	}
	_, err = Parse([]byte("sru:\n  default_records: 500\n  max_records: 50\n"), "")
	if err == nil || !strings.Contains(err.Error(), "line 2: sru.default_records") {
		t.Errorf("default above max: %v", err)
	}
}
