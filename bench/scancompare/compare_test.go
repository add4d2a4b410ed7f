package main

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	berth, osv := set{}, set{}
	common := []finding{
		{"Debian:12", "libssl3", "3.0.17-1~deb12u2", "DEBIAN-CVE-2025-9230"},
		{"Go", "golang.org/x/text", "0.3.0", "GO-2020-0015"},
		{"PyPI", "requests", "2.19.0", "PYSEC-2023-74"},
		{"npm", "lodash", "4.17.15", "GHSA-35jh-r3h4-6jhm"},
	}
	for _, f := range common {
		berth.add(f, "")
		osv.add(f, "")
	}
	// Spellings that are one package: the release, PEP 503.
	berth.add(finding{"PyPI", "Django", "3.2.19", "GHSA-jh3w-4vvf-mjgr"}, "")
	osv.add(finding{"PyPI", "django", "3.2.19", "GHSA-jh3w-4vvf-mjgr"}, "")
	r := compare(berth, osv)
	if err := r.err(); err != nil || len(r.same) != 5 {
		t.Fatalf("same sets: %v, %d in both", err, len(r.same))
	}

	// An allowed difference passes, and is reported as explained.
	berth.add(finding{"npm", "ip", "2.0.0", "GHSA-78xj-cgh5-2h22"}, "")
	if r := compare(berth, osv); r.err() != nil || len(r.explained) != 1 {
		t.Fatalf("allowed difference: %v, %d explained", r.err(), len(r.explained))
	}
	// The same kind of difference on another finding does not.
	osv.add(finding{"npm", "ip", "1.1.8", "GHSA-78xj-cgh5-2h22"}, "")
	r = compare(berth, osv)
	if err := r.err(); err == nil || !strings.Contains(err.Error(), "osv-scanner only 1") {
		t.Fatalf("unexplained difference: err = %v", err)
	}

	// A comparison with nothing found in an ecosystem compared nothing there.
	r = compare(set{}, set{})
	if err := r.err(); err == nil || !strings.Contains(err.Error(), "Debian, Go, PyPI, npm") {
		t.Fatalf("empty sets: err = %v", err)
	}
}
