// Command rrproxy is a round-robin reverse proxy for the end-to-end tests:
// it sends each request to the next of several Berth nodes, whatever the
// one before went to, streaming bodies both ways, as a load balancer in
// front of a deployment does.
//
//	rrproxy -listen 127.0.0.1:5000 http://127.0.0.1:5001 http://127.0.0.1:5002 …
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to listen on")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rrproxy -listen ADDR URL…")
		os.Exit(2)
	}
	var targets []*url.URL
	for _, a := range flag.Args() {
		u, err := url.Parse(a)
		if err != nil || u.Host == "" {
			fmt.Fprintf(os.Stderr, "rrproxy: %q is not a URL\n", a)
			os.Exit(2)
		}
		targets = append(targets, u)
	}
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[int(next.Add(1)-1)%len(targets)])
			r.Out.Host = r.In.Host // the nodes see the name clients use
		},
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	log.Fatal(http.ListenAndServe(*listen, rp))
}
