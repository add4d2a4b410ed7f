package inventory

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The extractors the package links, one import each. A new one is a
// decision (it grows the binary): add it here and in extractors.go.
var allowedExtractors = map[string]bool{
	"github.com/google/osv-scalibr/extractor/filesystem/os/dpkg":                         true,
	"github.com/google/osv-scalibr/extractor/filesystem/os/apk":                          true,
	"github.com/google/osv-scalibr/extractor/filesystem/os/rpm":                          true,
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary":        true,
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargoauditable":    true,
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson": true,
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg":        true,
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/archive":           true,
}

// TestExtractorImports keeps the package's own imports of scalibr
// extractors to the list above.
func TestExtractorImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	must(t, err)
	const prefix = "github.com/google/osv-scalibr/extractor/filesystem/"
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		must(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(path, prefix) || strings.HasSuffix(path, "/metadata") || path == prefix+"os/osrelease" {
				continue
			}
			if !allowedExtractors[path] {
				t.Errorf("%s imports %s, an extractor not on the list", name, path)
			}
		}
	}
}

// TestNoExtractorLists checks what the package links in the end: none of
// scalibr's lists of every plugin, nor its image-scanning package (which
// brings the Docker client), nor any Docker or containerd client.
func TestNoExtractorLists(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/google/osv-scalibr/extractor/filesystem/list",
		"github.com/google/osv-scalibr/extractor/standalone/list",
		"github.com/google/osv-scalibr/detector/list",
		"github.com/google/osv-scalibr/enricher/enricherlist",
		"github.com/google/osv-scalibr/plugin/list",
		"github.com/google/osv-scalibr/artifact/image/layerscanning",
		"github.com/moby/",
		"github.com/docker/docker",
		"github.com/containerd/containerd",
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	for _, d := range deps {
		if d == "github.com/google/osv-scalibr" {
			t.Errorf("links scalibr's root package, which imports every plugin")
		}
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("links %s", d)
			}
		}
	}
}
