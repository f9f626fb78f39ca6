package config

import _ "embed"

//go:embed demo.yaml
var demoYAML []byte

// DemoPath is where the demo configuration lives in the repository; the
// embedded copy resolves its relative paths as if read from there, so
// `unicat serve` without --config works from the repository root.
const DemoPath = "config/demo.yaml"

// Demo returns the embedded demo configuration.
func Demo() (*Config, error) {
	return Parse(demoYAML, DemoPath)
}
