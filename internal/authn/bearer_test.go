package authn

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRegistryTokens(t *testing.T) {
	root := RootCredentials{Account: "123456789012", AccessKeyID: "AKIATESTKEY000000001", SecretAccessKey: "secretsecretsecretsecret"}
	tokens, err := NewTokens([]byte(strings.Repeat("k", 32)), NewKeys(root))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tokens.now = func() time.Time { return now }
	p := &Principal{Account: root.Account, ARN: RootARN(root.Account), AccessKeyID: root.AccessKeyID}
	pull := []RegistryScope{{Repository: "b123456789012/app", Actions: []string{"pull"}}}

	anon, exp := tokens.IssueRegistryToken(nil, pull, time.Time{})
	if !exp.Equal(now.Add(RegistryTokenLifetime)) {
		t.Errorf("anonymous token expires %v, want %v", exp, now.Add(RegistryTokenLifetime))
	}
	login, _ := tokens.Issue(p, "public")
	loginExp := now.Add(5 * time.Minute)
	logged, exp := tokens.IssueRegistryToken(p, pull, loginExp)
	if !exp.Equal(loginExp) {
		t.Errorf("a token of a login expiring sooner expires %v, want the login's %v", exp, loginExp)
	}
	other, _ := NewTokens([]byte(strings.Repeat("x", 32)), NewKeys(root))
	forged, _ := other.IssueRegistryToken(nil, pull, time.Time{})
	unknown, _ := tokens.IssueRegistryToken(&Principal{AccessKeyID: "AKIAUNKNOWN000000000"}, pull, time.Time{})
	sealedURL := tokens.SignURL(`{"s":[]}`, now.Add(time.Hour))

	for _, tc := range []struct {
		name      string
		token     string
		at        time.Time
		principal bool
		want      error
	}{
		{"anonymous", anon, now, false, nil},
		{"logged in", logged, now, true, nil},
		{"anonymous, expired", anon, now.Add(RegistryTokenLifetime), false, ErrTokenExpired},
		{"logged in, past its login", logged, loginExp, false, ErrTokenExpired},
		{"another server's", forged, now, false, ErrInvalidToken},
		{"a login password is no bearer token", login, now, false, ErrInvalidToken},
		{"a download link is no bearer token", sealedURL, now, false, ErrInvalidToken},
		{"a deleted key's", unknown, now, false, ErrInvalidToken},
		{"garbage", "x.y.z", now, false, ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens.now = func() time.Time { return tc.at }
			defer func() { tokens.now = func() time.Time { return now } }()
			gotP, scopes, err := tokens.CheckRegistryToken(t.Context(), tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if (gotP != nil) != tc.principal || (gotP != nil && gotP.ARN != p.ARN) {
				t.Errorf("principal %+v, want one: %v", gotP, tc.principal)
			}
			if !reflect.DeepEqual(scopes, pull) {
				t.Errorf("scopes %+v, want %+v", scopes, pull)
			}
		})
	}
	if _, _, _, err := tokens.CheckLogin(t.Context(), anon); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a bearer token as a login password: %v, want ErrInvalidToken", err)
	}
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RegistryScope
		ok   bool
	}{
		{"repository:b000000000000/app:pull", RegistryScope{"b000000000000/app", []string{"pull"}}, true},
		{"repository:alias/team/app:push,pull", RegistryScope{"alias/team/app", []string{"push", "pull"}}, true},
		{"repository:alias/app:pull,pull,", RegistryScope{"alias/app", []string{"pull"}}, true},
		{"repository:alias/app:", RegistryScope{"alias/app", nil}, true},
		{"registry:catalog:*", RegistryScope{}, false},
		{"aws", RegistryScope{}, false},
		{"repository::pull", RegistryScope{}, false},
	} {
		got, ok := ParseScope(tc.in)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if !Allows([]RegistryScope{{"a/b", []string{"push", "pull"}}}, "a/b", "push") || Allows([]RegistryScope{{"a/b", []string{"pull"}}}, "a/b", "push") ||
		Allows([]RegistryScope{{"a/b", []string{"pull"}}}, "a/c", "pull") {
		t.Error("Allows does not match repositories and actions exactly")
	}
}
