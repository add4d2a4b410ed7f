package authn

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	root := RootCredentials{Account: "123456789012", AccessKeyID: "AKIATESTKEY000000001", SecretAccessKey: "secretsecretsecretsecret"}
	key := []byte(strings.Repeat("k", 32))
	tokens, err := NewTokens(key, NewKeys(root))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tokens.now = func() time.Time { return now }
	p := &Principal{Account: root.Account, ARN: RootARN(root.Account), AccessKeyID: root.AccessKeyID}
	password, exp := tokens.Issue(p, "eu-west-1")
	if !exp.Equal(now.Add(TokenLifetime)) {
		t.Fatalf("expires %v, want 12 hours ahead", exp)
	}
	session := *p
	session.Expires = now.Add(time.Hour)
	if _, sexp := tokens.Issue(&session, "eu-west-1"); !sexp.Equal(session.Expires) {
		t.Fatalf("token for a session expires %v, want the session's %v", sexp, session.Expires)
	}
	other, _ := NewTokens([]byte(strings.Repeat("x", 32)), NewKeys(root))
	otherPassword, _ := other.Issue(p, "eu-west-1")
	unknown, _ := tokens.Issue(&Principal{Account: root.Account, AccessKeyID: "AKIAUNKNOWN000000000"}, "eu-west-1")

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name     string
		password string
		at       time.Time
		want     error
	}{
		{"valid", password, now, nil},
		{"just before expiry", password, now.Add(TokenLifetime - time.Second), nil},
		{"expired", password, now.Add(TokenLifetime), ErrTokenExpired},
		{"other server's key", otherPassword, now, ErrInvalidToken},
		{"payload altered", flip(password, len(tokenPrefix)+3), now, ErrInvalidToken},
		{"signature altered", flip(password, len(password)-10), now, ErrInvalidToken},
		// The last character of a base64 signature has spare bits: a
		// different spelling of the same bytes is still refused.
		{"last character respelled", password[:len(password)-1] + string(password[len(password)-1]^1), now, ErrInvalidToken},
		{"truncated", password[:len(password)-5], now, ErrInvalidToken},
		{"garbage", "not-a-token", now, ErrInvalidToken},
		{"empty", "", now, ErrInvalidToken},
		{"key deleted", unknown, now, ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens.now = func() time.Time { return tc.at }
			got, region, err := tokens.Check(context.Background(), tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (got.ARN != p.ARN || region != "eu-west-1") {
				t.Fatalf("Check = %+v in %s", got, region)
			}
		})
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	c1, created, err := LoadOrCreateRoot(dir+"/root.json", "123456789012")
	if err != nil || !created || c1.Validate() != nil {
		t.Fatalf("first LoadOrCreateRoot = %+v, %v, %v", c1, created, err)
	}
	c2, created, err := LoadOrCreateRoot(dir+"/root.json", "123456789012")
	if err != nil || created || c2 != c1 {
		t.Fatalf("second LoadOrCreateRoot = %+v, %v, %v; want the stored credentials", c2, created, err)
	}
	k1, err := LoadOrCreateKey(dir + "/key")
	if err != nil || len(k1) != 32 {
		t.Fatalf("LoadOrCreateKey = %d bytes, %v", len(k1), err)
	}
	k2, _ := LoadOrCreateKey(dir + "/key")
	if string(k1) != string(k2) {
		t.Fatal("the token key changed between loads")
	}
}
