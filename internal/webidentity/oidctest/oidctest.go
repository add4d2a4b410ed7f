// Package oidctest is a local OpenID Connect issuer for tests: an HTTPS
// server (with its own self-signed certificate) that serves a discovery
// document and a JWKS, and signs ID tokens with the keys it publishes.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/berth-registry/berth/internal/webidentity"
)

// Issuer is a running test issuer.
type Issuer struct {
	*httptest.Server
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey
	// Fetches counts requests for the JWKS.
	Fetches atomic.Int64
}

// Key ids of the two published keys.
const (
	RSAKeyID = "rsa-1"
	ECKeyID  = "ec-1"
)

// New starts an issuer, closed when t ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{RSA: rk, EC: ek}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.Fetches.Add(1)
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: rk.Public(), KeyID: RSAKeyID, Algorithm: string(jose.RS256), Use: "sig"},
			{Key: ek.Public(), KeyID: ECKeyID, Algorithm: string(jose.ES256), Use: "sig"},
		}})
	})
	iss.Server = httptest.NewTLSServer(mux)
	t.Cleanup(iss.Close)
	return iss
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// HostPath is the issuer's URL without its scheme, as IAM names the
// provider (and its condition keys): 127.0.0.1:port.
func (i *Issuer) HostPath() string { return strings.TrimPrefix(i.URL, "https://") }

// Thumbprint is the thumbprint of the server's certificate, which IAM's
// provider lists to trust it.
func (i *Issuer) Thumbprint() string { return webidentity.Thumbprint(i.Certificate()) }

// Claims are a token's claims; Sign fills iss, iat and exp when unset.
type Claims struct {
	Issuer   string    `json:"iss,omitempty"`
	Subject  string    `json:"sub,omitempty"`
	Audience []string  `json:"aud,omitempty"`
	Expiry   time.Time `json:"-"`
	// Extra claims, such as GitHub's repository or ref.
	Extra map[string]any `json:"-"`
}

// Sign makes a token signed with the issuer's RSA key (RS256), or its EC
// key (ES256) when ec.
func (i *Issuer) Sign(t testing.TB, c Claims, ec bool) string {
	t.Helper()
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.RSA, KeyID: RSAKeyID}}
	if ec {
		key = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: i.EC, KeyID: ECKeyID}}
	}
	return SignWith(t, key, i.URL, c)
}

// SignWith makes a token signed with any key: a forger's, for instance.
func SignWith(t testing.TB, key jose.SigningKey, issuer string, c Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if c.Issuer == "" {
		c.Issuer = issuer
	}
	if c.Expiry.IsZero() {
		c.Expiry = now.Add(5 * time.Minute)
	}
	std := jwt.Claims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		Expiry: jwt.NewNumericDate(c.Expiry), IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute))}
	if c.Expiry.Before(now) {
		std.IssuedAt = jwt.NewNumericDate(c.Expiry.Add(-time.Hour))
	}
	b := jwt.Signed(signer).Claims(std)
	if c.Extra != nil {
		b = b.Claims(c.Extra)
	}
	tok, err := b.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
