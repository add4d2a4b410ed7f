package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestKindsDeclaredInOnePlace reads the package's source: every error kind
// (an exported Err… variable) is declared in errors.go and listed by
// Kinds, so that the front doors' tables, which are checked against
// Kinds, cover them all.
func TestKindsDeclaredInOnePlace(t *testing.T) {
	listed := map[error]bool{}
	for _, k := range Kinds() {
		if listed[k] {
			t.Errorf("Kinds lists %q twice", k)
		}
		listed[k] = true
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						if !strings.HasPrefix(id.Name, "Err") || !id.IsExported() {
							continue
						}
						declared++
						if name != "errors.go" {
							t.Errorf("%s declares the error kind %s: declare it in errors.go", name, id.Name)
						}
					}
				}
			}
		}
	}
	if declared != len(listed) {
		t.Errorf("errors.go declares %d kinds but Kinds lists %d", declared, len(listed))
	}
}
