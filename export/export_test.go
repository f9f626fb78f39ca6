package export

import (
	"testing"

	"github.com/unicat/unicat/marc"
)

func TestOptionsCheck(t *testing.T) {
	for _, c := range []struct {
		opts Options
		ok   bool
	}{
		{Options{Format: marc.FormatISO2709}, true},
		{Options{Format: marc.FormatMARCXML, Source: "vinh"}, true},
		{Options{Format: marc.FormatMARCXML, Union: true}, true},
		{Options{Format: marc.FormatISO2709, Union: true, Source: "vinh"}, false},
		{Options{Format: "json"}, false},
		{Options{}, false},
	} {
		if err := c.opts.Check(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.opts, err)
		}
	}
}
