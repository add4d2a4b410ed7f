package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVulndbCommands runs `berth vulndb import` and `status` on a data
// directory, as an operator would.
func TestVulndbCommands(t *testing.T) {
	data := t.TempDir()
	env := func(string) string { return "" }
	run := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := vulndbCmd(args, &out, &errs, env)
		return out.String(), err
	}
	out, err := run("status", "--data", data)
	if err != nil || !strings.Contains(out, "no vulnerability data") {
		t.Fatalf("status of an empty store = %q, %v", out, err)
	}
	fixtures := filepath.Join("..", "..", "internal", "vulndb", "testdata", "osv")
	out, err = run("import", "--data", data, filepath.Join(fixtures, "go"), filepath.Join(fixtures, "handwritten"))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, want := range []string{"ECOSYSTEM  LOADED", "\nGo         4 ", "\nDebian     3 ", "1 withdrawn"} {
		if !strings.Contains(out, want) {
			t.Errorf("import printed\n%s\nwithout %q", out, want)
		}
	}
	out, err = run("status", "--data", data, "--output", "json")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var st struct {
		Version    int64
		Ecosystems []struct {
			Ecosystem string
			Records   int
			Source    string
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Version != 1 || len(st.Ecosystems) != 5 ||
		st.Ecosystems[2].Ecosystem != "Go" || st.Ecosystems[2].Records != 4 || !strings.Contains(st.Ecosystems[2].Source, "handwritten") {
		t.Errorf("status --output json = %s (%v)", out, err)
	}

	// A malformed source loads nothing and says which file.
	bad := filepath.Join(t.TempDir(), "BAD-1.json")
	writeFile(t, bad, `{"id": "BAD-1", "affected": [{"package": {"ecosystem": "Go"}}]}`)
	if _, err := run("import", "--data", data, bad); err == nil || !strings.Contains(err.Error(), "BAD-1.json") {
		t.Errorf("import of a malformed record: %v", err)
	}
	out, _ = run("status", "--data", data)
	if !strings.Contains(out, "\nGo         4 ") {
		t.Errorf("after a failed import status is\n%s", out)
	}

	for _, args := range [][]string{
		{"import", "--data", data},
		{"status", "--data", data, "extra"},
		{"status", "--data", data, "--output", "yaml"},
		{"frob"},
		{"status", "--data", filepath.Join(data, "missing")},
	} {
		if _, err := run(args...); err == nil {
			t.Errorf("berth vulndb %v succeeded", args)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
