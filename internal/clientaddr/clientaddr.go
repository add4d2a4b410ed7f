// Package clientaddr says which address a request came from when Berth
// runs behind load balancers or proxies: the address aws:SourceIp
// conditions test and the public registry's anonymous pull limit counts.
//
// The peer of the connection is the client unless it is one of the
// proxies the operator trusts (--trusted-proxies). A trusted proxy's
// X-Forwarded-For is read from its right end, each proxy having appended
// the address it received from: the first address, going left, that is
// not a trusted proxy is the client. Entries left of it are what the
// client itself sent, and a client can write anything there, so they are
// never believed. Without trusted proxies the header is ignored.
package clientaddr

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of proxies whose X-Forwarded-For is believed.
type Trusted []netip.Prefix

// ParseTrusted reads a comma-separated list of addresses and CIDR
// prefixes ("10.0.0.0/8, 192.168.1.10, fd00::/8").
func ParseTrusted(list string) (Trusted, error) {
	var t Trusted
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR prefix", item)
		}
		a = a.Unmap()
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

func (t Trusted) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// Middleware records each request's client address for From. Trusting no
// proxy, it is next itself: From then reads the peer, and requests pay
// nothing for the feature.
func (t Trusted) Middleware(next http.Handler) http.Handler {
	if len(t) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, t.Resolve(r))))
	})
}

// Resolve is the client address of r: its peer, or, when the peer is a
// trusted proxy, the rightmost address of X-Forwarded-For that is not one.
// An invalid entry stops the walk at the last trusted address seen: what
// lies left of garbage cannot be told apart from what a client made up.
func (t Trusted) Resolve(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !peer.IsValid() || len(t) == 0 || !t.contains(peer) {
		return peer
	}
	client := peer
	headers := r.Header.Values("X-Forwarded-For")
	for i := len(headers) - 1; i >= 0; i-- {
		entries := strings.Split(headers[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := parseEntry(entries[j])
			if !ok {
				return client
			}
			client = a
			if !t.contains(a) {
				return client
			}
		}
	}
	return client
}

// parseEntry reads one X-Forwarded-For entry: an address, possibly with a
// port ("1.2.3.4:5678", "[2001:db8::1]:443") as some proxies write it.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// From is the client address the middleware recorded for r, or r's peer
// when no middleware ran (tests that call a handler directly).
func From(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(ctxKey{}).(netip.Addr); ok {
		return a
	}
	return peerAddr(r)
}
