package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flagName is a CLI flag as written in prose: "--name", not "a--b".
var flagName = regexp.MustCompile(`(^|[^-\w])--[a-z]`)

// flagsInErrors returns "file:line: text" for each string literal that
// names a CLI flag in an error built by src: an argument of a call whose
// function is errors.New or is named like an error constructor
// (Errorf, ErrorAt, writeError, ...), or any literal inside an Error()
// method.
func flagsInErrors(fset *token.FileSet, file *ast.File) []string {
	var found []string
	report := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			text, err := strconv.Unquote(lit.Value)
			if err == nil && flagName.MatchString(text) {
				found = append(found, fset.Position(lit.Pos()).String()+": "+text)
			}
			return true
		})
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv != nil && n.Name.Name == "Error" && n.Body != nil {
				report(n.Body)
				return false
			}
		case *ast.CallExpr:
			if isErrorConstructor(n.Fun) {
				for _, arg := range n.Args {
					report(arg)
				}
				return false
			}
		}
		return true
	})
	return found
}

func isErrorConstructor(fun ast.Expr) bool {
	var name string
	switch f := fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok && pkg.Name == "errors" && f.Sel.Name == "New" {
			return true
		}
		name = f.Sel.Name
	default:
		return false
	}
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, "error") || strings.HasSuffix(lower, "errorf") || strings.HasPrefix(lower, "errorat")
}

func TestFlagsInErrorsFinds(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want int
	}{
		{"errors.New", `var e = errors.New("use --data-dir")`, 1},
		{"fmt.Errorf", `func f() error { return fmt.Errorf("x %d (--max-size)", 1) }`, 1},
		{"a diagnostic constructor", `var d = promotions.ErrorAt(c, f, nil, "over the limit (--max-repo-size)")`, 1},
		{"an HTTP error writer", `func f() { writeError(w, 401, c, "needs --token-file") }`, 1},
		{"an Error method", `func (e *E) Error() string { return fmt.Sprintf("%s; --allow-rollback serves it", e.x) }`, 1},
		{"an error without a flag", `var e = errors.New("another process holds the file")`, 0},
		{"a flag outside an error", `var args = []string{"--bind", "127.0.0.1"}`, 0},
		{"a double dash inside a word", `var e = errors.New("a--b")`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, "x.go", "package x\n"+c.src+"\n", 0)
			require.NoError(t, err)
			assert.Len(t, flagsInErrors(fset, file), c.want)
		})
	}
}

// Libraries return typed errors and cmd/promoctl words the hint that names
// a flag: a library is also used by the console, the Go provider and other
// programs, whose flags are not promoctl's.
func TestLibraryErrorsNameNoFlags(t *testing.T) {
	root := "../.."
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bin", ".bench", "testdata":
				return filepath.SkipDir
			}
			if rel, _ := filepath.Rel(root, path); rel == "cmd" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		for _, hit := range flagsInErrors(fset, file) {
			t.Errorf("a library error names a CLI flag (return a typed error and let cmd/promoctl add the hint): %s", hit)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 100, "the walk reached the module's packages")
}
