package vulndb

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the domain free of HTTP and SQL (a Fetcher brings
// URLs, meta.VulnStore keeps the data) and keeps what it links small: of
// osv-scalibr, the semantic package alone, which needs only the standard
// library — not the extractors the rest of that module pulls in.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	allowed := []string{
		"github.com/berth-registry/berth/internal/vulndb",
		"github.com/berth-registry/berth/internal/meta",
		"github.com/google/osv-scalibr/semantic",
		"github.com/pandatix/go-cvss/",
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http" || strings.HasPrefix(dep, "net/http/") || dep == "database/sql":
			t.Errorf("vulndb depends on %s", dep)
		case !strings.Contains(strings.Split(dep, "/")[0], "."):
			// the standard library
		default:
			ok := false
			for _, a := range allowed {
				ok = ok || dep == a || strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a)
			}
			if !ok {
				t.Errorf("vulndb depends on %s, which is not one of the packages it may link", dep)
			}
		}
	}
}
