package upstream

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`, "bearer",
			map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/alpine:pull"}},
		{`Basic realm="berth-test"`, "basic", map[string]string{"realm": "berth-test"}},
		{`bearer realm=https://r.example/t, service=x`, "bearer", map[string]string{"realm": "https://r.example/t", "service": "x"}},
		{`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push"`, "bearer",
			map[string]string{"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull,push"}},
	} {
		s, p := parseChallenge(tc.in)
		if s != tc.scheme || !reflect.DeepEqual(p, tc.params) {
			t.Errorf("parseChallenge(%q) = %q %v, want %q %v", tc.in, s, p, tc.scheme, tc.params)
		}
	}
}

func TestParseBase(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"registry-1.docker.io", "https://registry-1.docker.io", ""},
		{"https://quay.io/", "https://quay.io", ""},
		{"http://127.0.0.1:5001", "http://127.0.0.1:5001", ""},
		{"ftp://example.com", "", "scheme"},
		{"https://example.com/v2/x", "", "path"},
		{"https://user:pw@example.com", "", "user"},
	} {
		u, err := ParseBase(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseBase(%q): %v, want an error about %s", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || u.String() != tc.want):
			t.Errorf("ParseBase(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

// TestBearerChallenge: a registry that answers 401 with a Bearer challenge
// is asked again with a token from its realm, fetched with the rule's
// credentials, and the token is reused for the next request.
func TestBearerChallenge(t *testing.T) {
	var tokenCalls, registryCalls int
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		tokenCalls++
		u, p, ok := r.BasicAuth()
		if !ok || u != "bob" || p != "s3cret" || r.URL.Query().Get("scope") != "repository:library/alpine:pull" || r.URL.Query().Get("service") != "test" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token": "tok", "expires_in": 300})
	})
	mux.HandleFunc("/v2/library/alpine/manifests/3", func(w http.ResponseWriter, r *http.Request) {
		registryCalls++
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test",scope="repository:library/alpine:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", "sha256:abc")
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("/v2/library/missing/manifests/1", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c := New(0)
	reg := Registry{Base: base, Creds: Credentials{Username: "bob", Password: "s3cret"}}
	for i := 0; i < 2; i++ {
		m, err := c.GetManifest(t.Context(), reg, "library/alpine", "3")
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Digest != "sha256:abc" || string(m.Body) != "{}" {
			t.Errorf("manifest %+v", m)
		}
	}
	if tokenCalls != 1 || registryCalls != 3 {
		t.Errorf("%d token requests and %d registry requests, want 1 and 3 (the token is reused)", tokenCalls, registryCalls)
	}
	_, err := c.GetManifest(t.Context(), reg, "library/missing", "1")
	if !NotFound(err) {
		t.Errorf("missing manifest: %v, want a 404", err)
	}
	bad := Registry{Base: base, Creds: Credentials{Username: "bob", Password: "wrong"}}
	// A token is kept for the credentials that fetched it: other
	// credentials (a rule's secret changed) fetch their own, refused here.
	if _, err := c.GetManifest(t.Context(), bad, "library/alpine", "3"); !Unauthorized(err) {
		t.Errorf("wrong password: %v, want a refusal", err)
	}
}

// TestBasicChallenge: a Basic challenge is answered with the credentials;
// none makes it a refusal that says so.
func TestBasicChallenge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ann" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c := New(0)
	if err := c.Ping(t.Context(), Registry{Base: base, Creds: Credentials{Username: "ann", Password: "pw"}}); err != nil {
		t.Errorf("Ping with credentials: %v", err)
	}
	if err := c.Ping(t.Context(), Registry{Base: base}); !Unauthorized(err) {
		t.Errorf("Ping without: %v, want a refusal", err)
	}
}
