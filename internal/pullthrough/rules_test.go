package pullthrough

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func TestUpstreamOf(t *testing.T) {
	for host, want := range map[string]string{
		"registry-1.docker.io":  UpstreamDockerHub,
		"public.ecr.aws":        UpstreamECRPublic,
		"quay.io":               UpstreamQuay,
		"registry.k8s.io":       UpstreamK8s,
		"ghcr.io":               UpstreamGHCR,
		"myregistry.azurecr.io": UpstreamAzure,
		"registry.gitlab.com":   UpstreamGitLab,
		"cgr.dev":               UpstreamChainguard,
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com": UpstreamECR,
		"docker.io":          "",
		"127.0.0.1":          "",
		"harbor.example.com": "",
	} {
		if got := upstreamOf(host); got != want {
			t.Errorf("upstreamOf(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestUpstreamRepository(t *testing.T) {
	for _, tc := range []struct {
		upstream, upPrefix, rest, want string
	}{
		{UpstreamDockerHub, "ROOT", "alpine", "library/alpine"},
		{UpstreamDockerHub, "ROOT", "bitnami/redis", "bitnami/redis"},
		{UpstreamQuay, "ROOT", "alpine", "alpine"},
		{UpstreamECR, "team", "app", "team/app"},
		{"", "mirror/x", "app", "mirror/x/app"},
		{UpstreamDockerHub, "ROOT", "library/alpine", "library/alpine"},
	} {
		r := &Rule{Upstream: tc.upstream, UpstreamPrefix: tc.upPrefix}
		if got := upstreamRepository(r, tc.rest); got != tc.want {
			t.Errorf("%s %s %s: %q, want %q", tc.upstream, tc.upPrefix, tc.rest, got, tc.want)
		}
	}
}

func TestNormPrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hub", "hub"}, {"hub/", "hub"}, {"a/b-c.d", "a/b-c.d"}, {"ROOT", "ROOT"},
		{"h", ""}, {"Hub", ""}, {"/hub", ""}, {"hub//x", ""}, {"abcdefghijabcdefghijabcdefghijx", ""}, {"root", "root"},
	} {
		got, err := normPrefix("p", tc.in)
		if (tc.want == "") != (err != nil) || got != tc.want {
			t.Errorf("normPrefix(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// fakeStore keeps rules in a map: enough for the matching.
type fakeStore struct {
	Store
	rules []*Rule
}

func (f *fakeStore) ListPullThroughRules(context.Context, meta.RegistryKey) ([]*meta.PullThroughRule, error) {
	return f.rules, nil
}

func TestRuleFor(t *testing.T) {
	reg := meta.RegistryKey{Account: "111111111111", Region: "us-east-1"}
	for _, tc := range []struct {
		name     string
		prefixes []string
		repo     string
		want     string
		rest     string
	}{
		{"prefix", []string{"hub"}, "hub/library/alpine", "hub", "library/alpine"},
		{"longest prefix wins", []string{"hub", "hub/team"}, "hub/team/app", "hub/team", "app"},
		{"whole segments only", []string{"hub"}, "hubble/app", "", ""},
		{"the prefix alone is no image", []string{"hub"}, "hub", "", ""},
		{"ROOT catches the rest", []string{"ROOT", "hub"}, "quay/app", "ROOT", "quay/app"},
		{"a prefix beats ROOT", []string{"ROOT", "hub"}, "hub/app", "hub", "app"},
		{"no rules", nil, "hub/app", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			for _, p := range tc.prefixes {
				st.rules = append(st.rules, &Rule{Registry: reg, Prefix: p})
			}
			s := New(st, nil, Options{Now: func() time.Time { return time.Unix(0, 0) }})
			r, rest, err := s.ruleFor(t.Context(), reg, tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r != nil {
				got = r.Prefix
			}
			if got != tc.want || rest != tc.rest {
				t.Errorf("ruleFor(%s) = %q, %q; want %q, %q", tc.repo, got, rest, tc.want, tc.rest)
			}
		})
	}
}

// fakeSecrets answers from a map of ARNs.
type fakeSecrets map[string]string

func (f fakeSecrets) SecretString(_ context.Context, _, _, id string) (string, error) {
	v, ok := f[id]
	if !ok {
		return "", ErrSecretNotFound
	}
	return v, nil
}

func TestCredentials(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/hub-AbCdEf"
	const bad = "arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/bad-AbCdEf"
	s := New(&fakeStore{}, nil, Options{Secrets: fakeSecrets{arn: `{"username":"bob","accessToken":"dckr_pat_x"}`, bad: `not json`}})
	c, err := s.credentials(t.Context(), arn)
	if err != nil || c.Username != "bob" || c.Password != "dckr_pat_x" {
		t.Errorf("credentials: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		arn  string
		kind error
	}{
		{bad, ErrSecretDecrypt},
		{"arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/none-AbCdEf", ErrSecretNotFound},
		{"arn:aws:iam::111111111111:role/x", ErrInvalid},
	} {
		if _, err := s.credentials(t.Context(), tc.arn); !errors.Is(err, tc.kind) {
			t.Errorf("credentials(%s): %v, want %v", tc.arn, err, tc.kind)
		}
	}
}
