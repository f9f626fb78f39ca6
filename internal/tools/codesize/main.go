// Command codesize prints the largest Go files and functions of a tree,
// so that their growth is seen and can be held to a size a reader takes
// in (`make size`):
//
//	codesize [-file-lines 600] [-func-lines 80] [-complexity 25] [-top 0] [-tests=false] [DIR]
//
// It lists, largest first, the files of more than -file-lines lines, the
// functions of more than -func-lines lines (from func to its closing
// brace) and the functions whose cyclomatic complexity is above
// -complexity, at most -top of each (0: all). The complexity is gocyclo's:
// 1, plus 1 for each if, for, range, case and select case but default,
// && and ||; a function literal counts toward the function it is in. Test
// files are measured too, unless -tests=false; generated files (a "// Code generated ... DO
// NOT EDIT." line before the package clause) and the testdata, vendor and
// hidden directories are not.
//
// It is written here over go/ast, in a page, rather than taken from
// gocyclo or gocognit, so that a developer's tool adds no dependency to
// the module.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileSize is one file's length in lines.
type fileSize struct {
	path  string
	lines int
}

// funcSize is one function's length and complexity.
type funcSize struct {
	pos        string // file:line of func
	name       string // F, or T.M for a method
	lines      int
	complexity int
}

func main() {
	fileLines := flag.Int("file-lines", 600, "list files of more lines than this")
	funcLines := flag.Int("func-lines", 80, "list functions of more lines than this")
	maxCyclo := flag.Int("complexity", 25, "list functions of a higher cyclomatic complexity than this")
	top := flag.Int("top", 0, "list at most this many of each (0: all)")
	tests := flag.Bool("tests", true, "measure _test.go files too")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	files, funcs, err := walk(root, *tests)
	if err != nil {
		fmt.Fprintln(os.Stderr, "codesize:", err)
		os.Exit(1)
	}
	print(os.Stdout, files, funcs, *fileLines, *funcLines, *maxCyclo, *top)
}

// walk measures every non-generated Go file under root.
func walk(root string, tests bool) ([]fileSize, []funcSize, error) {
	var files []fileSize
	var funcs []funcSize
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || !tests && strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fsz, fns, generated, err := measure(filepath.ToSlash(rel), src)
		if err != nil || generated {
			return err
		}
		files = append(files, fsz)
		funcs = append(funcs, fns...)
		return nil
	})
	return files, funcs, err
}

// measure counts a file's lines and its functions' lines and complexity,
// unless it is generated.
func measure(name string, src []byte) (fileSize, []funcSize, bool, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return fileSize{}, nil, false, err
	}
	if ast.IsGenerated(f) {
		return fileSize{}, nil, true, nil
	}
	lines := strings.Count(string(src), "\n")
	if len(src) > 0 && src[len(src)-1] != '\n' {
		lines++
	}
	var funcs []funcSize
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
		funcs = append(funcs, funcSize{
			pos:        fmt.Sprintf("%s:%d", name, start.Line),
			name:       funcName(fd),
			lines:      end.Line - start.Line + 1,
			complexity: complexity(fd.Body),
		})
	}
	return fileSize{path: name, lines: lines}, funcs, false, nil
}

// funcName is F for a function and T.M for a method of T or *T.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr: // T[P]
			t = x.X
			continue
		case *ast.IndexListExpr: // T[P, Q]
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// complexity is gocyclo's cyclomatic complexity of a function body.
func complexity(body ast.Node) int {
	c := 1
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil { // not default
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil { // not default
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// print writes the three lists.
func print(w io.Writer, files []fileSize, funcs []funcSize, fileLines, funcLines, maxCyclo, top int) {
	files = slices.DeleteFunc(slices.Clone(files), func(f fileSize) bool { return f.lines <= fileLines })
	slices.SortFunc(files, func(a, b fileSize) int { return cmp.Or(b.lines-a.lines, strings.Compare(a.path, b.path)) })
	fmt.Fprintf(w, "Files over %d lines: %d\n", fileLines, len(files))
	for _, f := range limit(files, top) {
		fmt.Fprintf(w, "%6d  %s\n", f.lines, f.path)
	}

	long := slices.DeleteFunc(slices.Clone(funcs), func(f funcSize) bool { return f.lines <= funcLines })
	slices.SortFunc(long, func(a, b funcSize) int { return cmp.Or(b.lines-a.lines, strings.Compare(a.pos, b.pos)) })
	fmt.Fprintf(w, "\nFunctions over %d lines: %d\n%6s %6s  %s\n", funcLines, len(long), "lines", "cyclo", "function")
	for _, f := range limit(long, top) {
		fmt.Fprintf(w, "%6d %6d  %s %s\n", f.lines, f.complexity, f.pos, f.name)
	}

	complex := slices.DeleteFunc(slices.Clone(funcs), func(f funcSize) bool { return f.complexity <= maxCyclo })
	slices.SortFunc(complex, func(a, b funcSize) int {
		return cmp.Or(b.complexity-a.complexity, strings.Compare(a.pos, b.pos))
	})
	fmt.Fprintf(w, "\nFunctions over complexity %d: %d\n%6s %6s  %s\n", maxCyclo, len(complex), "cyclo", "lines", "function")
	for _, f := range limit(complex, top) {
		fmt.Fprintf(w, "%6d %6d  %s %s\n", f.complexity, f.lines, f.pos, f.name)
	}
}

func limit[T any](s []T, top int) []T {
	if top > 0 && len(s) > top {
		return s[:top]
	}
	return s
}
