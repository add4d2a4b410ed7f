package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOCIConformance runs the OCI distribution-spec conformance suite (the
// version pinned as a tool in go.mod) against berth with every API and data
// set Berth supports enabled. Sparse manifests stay off: like ECR, Berth
// refuses a manifest whose blobs or child manifests are not in the
// repository (MANIFEST_BLOB_UNKNOWN).
func TestOCIConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite runs without -short")
	}
	b := startBerth(t, "", "--auto-create-repositories")
	runConformance(t, b.Host, b.Password(t), b.Log)
}

// TestOCIConformanceThreeNodes runs the whole suite through a round-robin
// proxy in front of three nodes on one PostgreSQL and one S3 bucket: every
// request may land on another node than the one before it.
func TestOCIConformanceThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite runs without -short")
	}
	nodes := startNodes(t, 3, "--auto-create-repositories")
	p := startProxy(t, nodes...)
	runConformance(t, p.Host, nodes[0].Password(t), func() string {
		var logs []string
		for i, n := range nodes {
			logs = append(logs, fmt.Sprintf("--- node %d ---\n%s", i, tail(n.Log(), 20)))
		}
		return strings.Join(logs, "\n")
	})
	for i, n := range p.Hits() {
		if n == 0 {
			t.Errorf("node %d answered no request: the proxy did not spread them", i)
		}
	}
}

// runConformance runs the OCI distribution-spec conformance suite against
// host, with every workflow on but sparse indexes (which Berth refuses,
// as ECR does).
func runConformance(t *testing.T, host, password string, serverLog func() string) {
	t.Helper()
	results := t.TempDir()
	cmd := exec.Command("go", "tool", "conformance")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+host,
		"OCI_TLS=disabled",
		"OCI_USERNAME=AWS",
		"OCI_PASSWORD="+password,
		"OCI_VERSION=1.1",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_RESULTS_DIR="+results,
		"OCI_LOG=warn",
		"OCI_API_PULL=true",
		"OCI_API_PUSH=true",
		"OCI_API_BLOBS_ATOMIC=true",
		"OCI_API_BLOBS_DELETE=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_BLOBS_MOUNT_ANONYMOUS=true",
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_API_MANIFESTS_ATOMIC=true",
		"OCI_API_MANIFESTS_DELETE=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_API_TAGS_ATOMIC=true",
		"OCI_API_TAGS_DELETE=true",
		"OCI_API_TAGS_LIST=true",
		"OCI_API_REFERRER=true",
		"OCI_DATA_IMAGE=true",
		"OCI_DATA_INDEX=true",
		"OCI_DATA_INDEX_LIST=true",
		"OCI_DATA_SPARSE=false",
		"OCI_DATA_ARTIFACT=true",
		"OCI_DATA_SUBJECT=true",
		"OCI_DATA_SUBJECT_MISSING=true",
		"OCI_DATA_ARTIFACT_LIST=true",
		"OCI_DATA_SUBJECT_LIST=true",
		"OCI_DATA_DATA_FIELD=true",
		"OCI_DATA_NONDISTRIBUTABLE=true",
		"OCI_DATA_CUSTOM_FIELDS=true",
		"OCI_DATA_NO_LAYERS=true",
		"OCI_DATA_EMPTY_BLOB=true",
		"OCI_DATA_SHA512=true",
	)
	out, err := cmd.CombinedOutput()
	report := string(out)
	os.WriteFile(filepath.Join(results, "stdout.txt"), out, 0o644)
	counts := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(Pass|Skip|FAIL|Error|Disabled)\.+:\s+(\d+)$`).FindAllStringSubmatch(report, -1) {
		counts[m[1]] = m[2]
	}
	t.Logf("conformance: pass=%s skip=%s fail=%s error=%s disabled=%s", counts["Pass"], counts["Skip"], counts["FAIL"], counts["Error"], counts["Disabled"])
	if err != nil || counts["FAIL"] != "0" || counts["Error"] != "0" || counts["Skip"] != "0" {
		t.Errorf("conformance suite did not pass cleanly (%v):\n%s\n--- berth log (tail) ---\n%s", err, report, tail(serverLog(), 60))
	}
	if counts["Pass"] == "" || counts["Pass"] == "0" {
		t.Errorf("conformance suite passed nothing:\n%s", report)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
