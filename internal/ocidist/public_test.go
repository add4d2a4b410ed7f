package ocidist

import (
	"testing"

	"github.com/berth-registry/berth/internal/authn"
)

func TestIsPublicHost(t *testing.T) {
	for _, tc := range []struct {
		host, public string
		want         bool
	}{
		{"public.ecr.localhost", "public.ecr.localhost", true},
		{"public.ecr.localhost:5000", "public.ecr.localhost", true},
		{"PUBLIC.ecr.localhost.:5000", "public.ecr.localhost", true},
		{"127.0.0.1:5000", "public.ecr.localhost", false},
		{"000000000000.dkr.ecr.us-east-1.localhost:5000", "public.ecr.localhost", false},
		{"public.ecr.localhost.evil:5000", "public.ecr.localhost", false},
		{"public.ecr.localhost", "", false},
	} {
		if got := IsPublicHost(tc.host, tc.public); got != tc.want {
			t.Errorf("IsPublicHost(%q, %q) = %v, want %v", tc.host, tc.public, got, tc.want)
		}
	}
}

func TestGrants(t *testing.T) {
	push := []authn.RegistryScope{{Repository: "a/b", Actions: []string{"push", "pull"}}}
	pull := []authn.RegistryScope{{Repository: "a/b", Actions: []string{"pull"}}}
	for _, tc := range []struct {
		name   string
		scopes []authn.RegistryScope
		repo   string
		act    string
		want   bool
	}{
		{"pull with pull", pull, "a/b", "pull", true},
		{"push with pull", pull, "a/b", "push", false},
		{"delete with push", push, "a/b", "delete", true},
		{"delete with pull", pull, "a/b", "delete", false},
		{"another repository", push, "a/c", "pull", false},
	} {
		if got := grants(tc.scopes, tc.repo, tc.act); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
