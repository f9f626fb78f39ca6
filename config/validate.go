package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problems and how they are found: the validator walks the YAML node tree
// along each setting's path to name its line.

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path, e.g. sources[2].kind
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a configuration file.
type Error struct {
	Path     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	name := e.Path
	if name == "" {
		name = "config"
	}
	fmt.Fprintf(&b, "%s: %d problem(s)", name, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// validator checks values after decoding; it finds line numbers by walking
// the YAML node tree along the same field path.
type validator struct {
	root     *yaml.Node
	problems []Problem
}

func (v *validator) add(path []any, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		Line:  v.line(path),
		Field: pathString(path),
		Msg:   fmt.Sprintf(format, args...),
	})
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		}
	}
	return b.String()
}

// line finds the node at path (map keys as strings, sequence indexes as
// ints); when a key is missing it returns the line of the nearest parent.
func (v *validator) line(path []any) int {
	n := v.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	for _, p := range path {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
				line = next.Line
			}
		}
		n = next
	}
	return line
}

func oneOf(s string, allowed []string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

func quoteList(allowed []string) string {
	var out []string
	for _, a := range allowed {
		if a != "" {
			out = append(out, a)
		}
	}
	return strings.Join(out, ", ")
}
