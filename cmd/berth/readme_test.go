package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's install lines build this command: from a clone, and by the
// module path go.mod declares.
func TestREADMEInstallLines(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod names no module")
	}
	for _, line := range []string{"go install ./cmd/berth", "go install " + string(m[1]) + "/cmd/berth@latest"} {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md does not give the install line %q", line)
		}
	}
}
