package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted(" 10.0.0.0/8, 192.168.1.10 ,fd00::/8,::ffff:172.16.0.1,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.10/32", "fd00::/8", "172.16.0.1/32"}
	if len(got) != len(want) {
		t.Fatalf("ParseTrusted = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("ParseTrusted[%d] = %v, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0"} {
		if _, err := ParseTrusted(bad); err == nil || !strings.Contains(err.Error(), "neither an IP address nor a CIDR prefix") {
			t.Errorf("ParseTrusted(%q) = %v, want an error", bad, err)
		}
	}
	if got, err := ParseTrusted(""); err != nil || len(got) != 0 {
		t.Errorf("ParseTrusted(\"\") = %v, %v; want none", got, err)
	}
}

func TestResolve(t *testing.T) {
	trusted, err := ParseTrusted("10.0.0.0/8, 2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted Trusted
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies trusted: the header is ignored", nil, "10.1.1.1:5000", []string{"203.0.113.9"}, "10.1.1.1"},
		{"an untrusted peer's header is ignored", trusted, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"one trusted proxy", trusted, "10.1.1.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's made-up entries left of the real one", trusted, "10.1.1.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies", trusted, "10.1.1.1:5000", []string{"203.0.113.9, 10.2.2.2"}, "203.0.113.9"},
		{"the header repeated", trusted, "10.1.1.1:5000", []string{"1.1.1.1", "203.0.113.9, 10.2.2.2"}, "203.0.113.9"},
		{"only proxies: the leftmost", trusted, "10.1.1.1:5000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"no header: the proxy itself", trusted, "10.1.1.1:5000", nil, "10.1.1.1"},
		{"garbage stops the walk", trusted, "10.1.1.1:5000", []string{"203.0.113.9, unknown, 10.2.2.2"}, "10.2.2.2"},
		{"an entry with a port", trusted, "10.1.1.1:5000", []string{"203.0.113.9:41234"}, "203.0.113.9"},
		{"IPv6 through an IPv6 proxy", trusted, "[2001:db8:ffff::1]:443", []string{"[2001:db8:1::5]:1234"}, "2001:db8:1::5"},
		{"an IPv4-mapped peer", trusted, "[::ffff:10.1.1.1]:5000", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/v2/", nil)
		r.RemoteAddr = tc.peer
		for _, h := range tc.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := tc.trusted.Resolve(r); got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s: Resolve = %v, want %s", tc.name, got, tc.want)
		}
	}
}

func TestMiddlewareAndFrom(t *testing.T) {
	trusted, _ := ParseTrusted("127.0.0.1")
	var got netip.Addr
	h := trusted.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = From(r) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:9999"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != netip.MustParseAddr("203.0.113.9") {
		t.Errorf("From behind the middleware = %v, want the forwarded client", got)
	}
	// Without the middleware, From is the peer.
	if a := From(r); a != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("From without the middleware = %v, want the peer", a)
	}
}

func TestMiddlewareWithoutTrustedProxies(t *testing.T) {
	var got netip.Addr
	h := Trusted(nil).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = From(r) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:9999"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("From = %v, want the peer: no proxy is trusted", got)
	}
}
