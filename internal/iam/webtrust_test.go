package iam

import (
	"testing"
	"time"
)

// TestWebTrustAllows: how a trust policy decides a web identity, after
// the rewriting webTrustAllows makes for the engine.
func TestWebTrustAllows(t *testing.T) {
	const (
		provider = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
		other    = "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com"
		role     = "arn:aws:iam::111111111111:role/gha"
		host     = "token.actions.githubusercontent.com"
	)
	keys := map[string][]string{host + ":sub": {"repo:acme/app:ref:refs/heads/main"}, host + ":aud": {"sts.amazonaws.com"}}
	stmt := func(effect, principal, action, cond string) string {
		s := `{"Effect":"` + effect + `",` + principal + `,"Action":"` + action + `"`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + `}`
	}
	doc := func(stmts ...string) string {
		out := `{"Version":"2012-10-17","Statement":[`
		for i, s := range stmts {
			if i > 0 {
				out += ","
			}
			out += s
		}
		return out + `]}`
	}
	fed := func(arns ...string) string {
		if len(arns) == 1 {
			return `"Principal":{"Federated":"` + arns[0] + `"}`
		}
		return `"Principal":{"Federated":["` + arns[0] + `","` + arns[1] + `"]}`
	}
	const act = "sts:AssumeRoleWithWebIdentity"
	subMain := `{"StringEquals":{"` + host + `:sub":"repo:acme/app:ref:refs/heads/main","` + host + `:aud":"sts.amazonaws.com"}}`
	subLike := `{"StringLike":{"` + host + `:sub":"repo:acme/*"}}`
	subDev := `{"StringEquals":{"` + host + `:sub":"repo:acme/app:ref:refs/heads/dev"}}`
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"provider and matching sub", doc(stmt("Allow", fed(provider), act, subMain)), true},
		{"StringLike sub", doc(stmt("Allow", fed(provider), act, subLike)), true},
		{"other sub", doc(stmt("Allow", fed(provider), act, subDev)), false},
		{"no conditions", doc(stmt("Allow", fed(provider), act, "")), true},
		{"provider in a list", doc(stmt("Allow", fed(other, provider), act, subMain)), true},
		{"another provider", doc(stmt("Allow", fed(other), act, "")), false},
		{"AWS principal only", doc(stmt("Allow", `"Principal":{"AWS":"arn:aws:iam::111111111111:root"}`, act, "")), false},
		{"AssumeRole only", doc(stmt("Allow", fed(provider), "sts:AssumeRole", "")), false},
		{"wildcard action", doc(stmt("Allow", fed(provider), "sts:*", "")), true},
		{"explicit deny on sub", doc(stmt("Allow", fed(provider), act, ""), stmt("Deny", fed(provider), act, subLike)), false},
		{"deny for another provider", doc(stmt("Allow", fed(provider), act, ""), stmt("Deny", fed(other), act, "")), true},
		{"NotPrincipal deny naming another", doc(stmt("Allow", fed(provider), act, ""), stmt("Deny", `"NotPrincipal":{"Federated":"`+other+`"}`, act, "")), false},
		{"NotPrincipal deny naming the provider", doc(stmt("Allow", fed(provider), act, ""), stmt("Deny", `"NotPrincipal":{"Federated":"`+provider+`"}`, act, "")), true},
		{"not JSON", "{", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webTrustAllows(tt.doc, provider, role, "111111111111", time.Now(), keys); got != tt.want {
				t.Errorf("webTrustAllows = %v, want %v\n%s", got, tt.want, tt.doc)
			}
		})
	}
}

func TestProviderURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
		{"https://token.actions.githubusercontent.com/", "token.actions.githubusercontent.com"},
		{"https://gitlab.example.com/ci", "gitlab.example.com/ci"},
		{"https://127.0.0.1:8443", "127.0.0.1:8443"},
		{"http://token.example.com", ""},
		{"token.example.com", ""},
		{"https://token.example.com?x=1", ""},
		{"https://token.example.com#f", ""},
		{"https://user@token.example.com", ""},
	}
	for _, tt := range tests {
		got, err := ProviderURL(tt.in)
		if tt.want == "" && err == nil || tt.want != "" && got != tt.want {
			t.Errorf("ProviderURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckThumbprints(t *testing.T) {
	upper := "6938FD4D98BAB03FAADB97B34396831E3780AEA1"
	got, err := checkThumbprints([]string{upper, "6938fd4d98bab03faadb97b34396831e3780aea1"})
	if err != nil || len(got) != 1 || got[0] != "6938fd4d98bab03faadb97b34396831e3780aea1" {
		t.Errorf("checkThumbprints(same, twice) = %v, %v", got, err)
	}
	if _, err := checkThumbprints([]string{"zz38fd4d98bab03faadb97b34396831e3780aea1"}); err == nil {
		t.Error("a thumbprint that is not hex was accepted")
	}
	six := []string{upper, upper, upper, upper, upper, upper}
	if _, err := checkThumbprints(six); err == nil {
		t.Error("six thumbprints were accepted")
	}
}
