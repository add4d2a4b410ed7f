package ocidist

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		path   string
		want   route
		status int // non-zero: an error with this status
	}{
		{path: "/v2/", want: route{kind: "base"}},
		{path: "/v2", want: route{kind: "base"}},
		{path: "/v2/_catalog", want: route{kind: "catalog"}},
		{path: "/v2/a/b/tags/list", want: route{kind: "tags", name: "a/b"}},
		{path: "/v2/app/manifests/latest", want: route{kind: "manifest", name: "app", ref: "latest"}},
		{path: "/v2/team/app/manifests/sha256:abc", want: route{kind: "manifest", name: "team/app", ref: "sha256:abc"}},
		{path: "/v2/app/blobs/sha256:abc", want: route{kind: "blob", name: "app", ref: "sha256:abc"}},
		{path: "/v2/app/blobs/uploads/", want: route{kind: "uploads", name: "app"}},
		{path: "/v2/app/blobs/uploads", want: route{kind: "uploads", name: "app"}},
		{path: "/v2/app/blobs/uploads/0123abcd", want: route{kind: "upload", name: "app", ref: "0123abcd"}},
		// A repository may be named like an operation.
		{path: "/v2/x/blobs/blobs/uploads/", want: route{kind: "uploads", name: "x/blobs"}},
		{path: "/v2/manifests/manifests/v1", want: route{kind: "manifest", name: "manifests", ref: "v1"}},
		{path: "/v2/app/referrers/sha256:abc", want: route{kind: "referrers", name: "app", ref: "sha256:abc"}},
		{path: "/v2/a/../b/manifests/x", status: http.StatusBadRequest},
		{path: "/v2/a//b/manifests/x", status: http.StatusBadRequest},
		{path: "/v2/a%2Fb/manifests/x", status: http.StatusBadRequest},
		{path: "/v2/a/./b/tags/list", status: http.StatusBadRequest},
		{path: "/v2/" + strings.Repeat("a", 3000) + "/tags/list", status: http.StatusRequestURITooLong},
		{path: "/v2/app/unknown", status: http.StatusNotFound},
		{path: "/v2/app", status: http.StatusNotFound},
	} {
		t.Run(tc.path[:min(len(tc.path), 60)], func(t *testing.T) {
			got, err := parseRoute(tc.path)
			if tc.status != 0 {
				var re *regError
				if !errors.As(err, &re) || re.Status != tc.status {
					t.Fatalf("parseRoute(%q) = %+v, %v; want status %d", tc.path, got, err, tc.status)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseRoute(%q) = %+v, %v; want %+v", tc.path, got, err, tc.want)
			}
		})
	}
}

func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/a/b/manifests/x", "/v2/a/blobs/uploads/id", "/v2/%2e%2e/tags/list"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, err := parseRoute(path)
		if err == nil && strings.Contains(rt.name, "..") {
			t.Fatalf("parseRoute(%q) let a '..' segment through: %+v", path, rt)
		}
	})
}

func TestAccepts(t *testing.T) {
	const (
		oci   = "application/vnd.oci.image.manifest.v1+json"
		index = "application/vnd.oci.image.index.v1+json"
		d2    = "application/vnd.docker.distribution.manifest.v2+json"
	)
	for _, tc := range []struct {
		accept []string
		mt     string
		want   bool
	}{
		{nil, oci, true},
		{[]string{"*/*"}, index, true},
		{[]string{"application/json"}, oci, true},
		{[]string{d2 + ", " + oci}, oci, true},
		{[]string{d2, oci + ";q=0.9"}, oci, true},
		{[]string{d2}, oci, false},
		{[]string{oci}, index, false},
		{[]string{oci + ", */*;q=0.1"}, index, true},
	} {
		if got := accepts(tc.accept, tc.mt); got != tc.want {
			t.Errorf("accepts(%q, %s) = %v, want %v", tc.accept, tc.mt, got, tc.want)
		}
	}
}
