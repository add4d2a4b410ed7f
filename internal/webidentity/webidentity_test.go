package webidentity_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/berth-registry/berth/internal/webidentity"
	"github.com/berth-registry/berth/internal/webidentity/oidctest"
)

func TestVerify(t *testing.T) {
	idp := oidctest.New(t)
	other := oidctest.New(t)
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	trusted := webidentity.Issuer{URL: idp.URL, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{idp.Thumbprint()}}
	good := oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"}}
	with := func(f func(c *oidctest.Claims)) oidctest.Claims { c := good; f(&c); return c }

	tests := []struct {
		name    string
		token   string
		issuer  webidentity.Issuer
		kind    error
		message string
	}{
		{name: "RS256", token: idp.Sign(t, good, false), issuer: trusted},
		{name: "ES256", token: idp.Sign(t, good, true), issuer: trusted},
		{name: "one of several audiences", token: idp.Sign(t, with(func(c *oidctest.Claims) { c.Audience = []string{"x", "sts.amazonaws.com"} }), false), issuer: trusted},
		{name: "wrong audience", token: idp.Sign(t, with(func(c *oidctest.Claims) { c.Audience = []string{"sts.amazon.com"} }), false), issuer: trusted,
			kind: webidentity.ErrInvalidToken, message: "Incorrect token audience"},
		{name: "no audience", token: idp.Sign(t, with(func(c *oidctest.Claims) { c.Audience = nil }), false), issuer: trusted,
			kind: webidentity.ErrInvalidToken, message: "Missing a required claim: aud"},
		{name: "expired", token: idp.Sign(t, with(func(c *oidctest.Claims) { c.Expiry = time.Now().Add(-10 * time.Minute) }), false), issuer: trusted,
			kind: webidentity.ErrExpired},
		{name: "expired within the leeway", token: idp.Sign(t, with(func(c *oidctest.Claims) { c.Expiry = time.Now().Add(-20 * time.Second) }), false), issuer: trusted},
		{name: "forged with the issuer's key id", token: oidctest.SignWith(t,
			jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: forger, KeyID: oidctest.RSAKeyID}}, idp.URL, good), issuer: trusted,
			kind: webidentity.ErrInvalidToken},
		{name: "signed by another issuer's key", token: other.Sign(t, with(func(c *oidctest.Claims) { c.Issuer = idp.URL }), false), issuer: trusted,
			kind: webidentity.ErrInvalidToken},
		{name: "iss is not the provider's", token: other.Sign(t, good, false),
			issuer: webidentity.Issuer{URL: idp.URL, ClientIDs: trusted.ClientIDs, Thumbprints: trusted.Thumbprints},
			kind:   webidentity.ErrInvalidToken},
		{name: "untrusted certificate", token: idp.Sign(t, good, false),
			issuer: webidentity.Issuer{URL: idp.URL, ClientIDs: trusted.ClientIDs, Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}},
			kind:   webidentity.ErrCommunication},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &webidentity.Verifier{}
			tok, err := webidentity.Parse(tt.token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c, err := v.Verify(t.Context(), tok, tt.issuer)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != good.Subject || c.Audience != "sts.amazonaws.com" {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			var we *webidentity.Error
			if !errors.As(err, &we) || !errors.Is(err, tt.kind) {
				t.Fatalf("Verify = %v, want a %v", err, tt.kind)
			}
			if tt.message != "" && we.Message != tt.message {
				t.Errorf("message %q, want %q", we.Message, tt.message)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, raw := range []string{"", "not.a.token", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."} {
		if _, err := webidentity.Parse(raw); !errors.Is(err, webidentity.ErrInvalidToken) {
			t.Errorf("Parse(%q) = %v, want ErrInvalidToken", raw, err)
		}
	}
}

// TestKeysCached: keys are fetched once per TTL, and again (at most once
// a minute) for a key id not among them.
func TestKeysCached(t *testing.T) {
	idp := oidctest.New(t)
	now := time.Now()
	v := &webidentity.Verifier{Now: func() time.Time { return now }}
	iss := webidentity.Issuer{URL: idp.URL, ClientIDs: []string{"a"}, Thumbprints: []string{idp.Thumbprint()}}
	verify := func(raw string) error {
		tok, err := webidentity.Parse(raw)
		if err != nil {
			return err
		}
		_, err = v.Verify(t.Context(), tok, iss)
		return err
	}
	good := idp.Sign(t, oidctest.Claims{Subject: "s", Audience: []string{"a"}, Expiry: now.Add(3 * time.Hour)}, false)
	for range 3 {
		if err := verify(good); err != nil {
			t.Fatal(err)
		}
	}
	if n := idp.Fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for three tokens, want 1", n)
	}
	unknownKid := oidctest.SignWith(t, jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: idp.EC, KeyID: "rotated"}}, idp.URL,
		oidctest.Claims{Subject: "s", Audience: []string{"a"}})
	now = now.Add(2 * time.Minute)
	_ = verify(unknownKid)
	_ = verify(unknownKid)
	if n := idp.Fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after two tokens with an unknown kid, want 2", n)
	}
	now = now.Add(2 * time.Hour)
	if err := verify(good); err != nil {
		t.Fatal(err)
	}
	if n := idp.Fetches.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches after the TTL, want 3", n)
	}
}

// TestFailedFetchRemembered: an issuer that cannot be reached is asked
// again only after a while, so tokens naming it cannot make every request
// wait on it.
func TestFailedFetchRemembered(t *testing.T) {
	idp := oidctest.New(t)
	now := time.Now()
	v := &webidentity.Verifier{Now: func() time.Time { return now }}
	// The right issuer, but its certificate is not trusted: every fetch fails.
	iss := webidentity.Issuer{URL: idp.URL, ClientIDs: []string{"a"}}
	tok, err := webidentity.Parse(idp.Sign(t, oidctest.Claims{Subject: "s", Audience: []string{"a"}, Expiry: now.Add(time.Hour)}, false))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := v.Verify(t.Context(), tok, iss); !errors.Is(err, webidentity.ErrCommunication) {
			t.Fatalf("Verify = %v, want ErrCommunication", err)
		}
	}
	// Trusted now, but the failure is remembered for a few seconds.
	iss.Thumbprints = []string{idp.Thumbprint()}
	if _, err := v.Verify(t.Context(), tok, iss); !errors.Is(err, webidentity.ErrCommunication) {
		t.Fatalf("Verify right after a failure = %v, want the remembered failure", err)
	}
	now = now.Add(11 * time.Second)
	if _, err := v.Verify(t.Context(), tok, iss); err != nil {
		t.Fatalf("Verify after the failure's retry time: %v", err)
	}
	if n := idp.Fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1 (failed handshakes never reach it)", n)
	}
}
