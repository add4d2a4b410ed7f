package e2e

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// proxy is a round-robin load balancer in front of several nodes, as an
// operator puts one: each request goes to the next node, whatever the one
// before it went to, and bodies stream both ways.
type proxy struct {
	Host string // 127.0.0.1:port
	URL  string
	next atomic.Uint64
	hits []atomic.Int64
}

// startProxy serves a proxy over nodes until the test ends.
func startProxy(t *testing.T, nodes ...*berth) *proxy {
	t.Helper()
	p := &proxy{hits: make([]atomic.Int64, len(nodes))}
	targets := make([]*url.URL, len(nodes))
	for i, n := range nodes {
		u, err := url.Parse(n.URL)
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = u
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := int(p.next.Add(1)-1) % len(targets)
			p.hits[i].Add(1)
			r.SetURL(targets[i])
			r.Out.Host = r.In.Host // the nodes see the name clients use
		},
		FlushInterval: -1,
		// A node being killed refuses connections: the proxy answers 502,
		// which the clients see; its log would only repeat it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.Host = ln.Addr().String()
	p.URL = "http://" + p.Host
	return p
}

// Hits are how many requests each node was sent.
func (p *proxy) Hits() []int64 {
	out := make([]int64, len(p.hits))
	for i := range p.hits {
		out[i] = p.hits[i].Load()
	}
	return out
}

// proxyRepo names a repository as clients of the proxy do.
func proxyRepo(t *testing.T, p *proxy, repo string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(p.Host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// azAuth is the login of a client holding password (user AWS).
func azAuth(password string) remote.Option {
	return remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: password})
}
