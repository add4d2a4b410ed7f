package pullthrough

import (
	"regexp"
	"strings"

	"github.com/berth-registry/berth/internal/pullthrough/upstream"
)

// ECR's upstream registries (the UpstreamRegistry enum), by URL.
const (
	UpstreamECR        = "ecr"
	UpstreamECRPublic  = "ecr-public"
	UpstreamQuay       = "quay"
	UpstreamK8s        = "k8s"
	UpstreamDockerHub  = "docker-hub"
	UpstreamGHCR       = "github-container-registry"
	UpstreamAzure      = "azure-container-registry"
	UpstreamGitLab     = "gitlab-container-registry"
	UpstreamChainguard = "chainguard"
)

var (
	ecrHostRE   = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)
	azureHostRE = regexp.MustCompile(`^[a-z0-9]{5,50}\.azurecr\.io$`)
)

// upstreamOf names the ECR upstream a URL's host is, "" for any other
// registry (Berth's extension).
func upstreamOf(host string) string {
	switch host = strings.ToLower(host); {
	case host == "registry-1.docker.io":
		return UpstreamDockerHub
	case host == "public.ecr.aws":
		return UpstreamECRPublic
	case host == "quay.io":
		return UpstreamQuay
	case host == "registry.k8s.io":
		return UpstreamK8s
	case host == "ghcr.io":
		return UpstreamGHCR
	case host == "registry.gitlab.com":
		return UpstreamGitLab
	case host == "cgr.dev":
		return UpstreamChainguard
	case azureHostRE.MatchString(host):
		return UpstreamAzure
	case ecrHostRE.MatchString(host):
		return UpstreamECR
	}
	return ""
}

// needsCredentials are the upstreams ECR requires a credentialArn for.
func needsCredentials(up string) bool {
	switch up {
	case UpstreamDockerHub, UpstreamGHCR, UpstreamAzure, UpstreamGitLab:
		return true
	}
	return false
}

// knownHosts are what an unsupported URL's message suggests.
const knownHosts = "registry-1.docker.io, public.ecr.aws, quay.io, registry.k8s.io, ghcr.io, <name>.azurecr.io, registry.gitlab.com, cgr.dev or <account>.dkr.ecr.<region>.amazonaws.com"

// upstreamRepository is the upstream's name for the part of a cached
// repository's name after the rule's prefix: under the rule's upstream
// prefix, and on Docker Hub a single name is an official image, under
// library/ (what `docker pull alpine` means).
func upstreamRepository(r *Rule, rest string) string {
	name := rest
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != rootPrefix {
		name = r.UpstreamPrefix + "/" + rest
	}
	if r.Upstream == UpstreamDockerHub && !strings.Contains(name, "/") {
		name = "library/" + name
	}
	return name
}

// upstreamRegistry is how the client reaches a rule's upstream.
func upstreamRegistry(r *Rule, creds upstream.Credentials) (upstream.Registry, error) {
	base, err := upstream.ParseBase(r.UpstreamURL)
	if err != nil {
		return upstream.Registry{}, err
	}
	return upstream.Registry{Base: base, Creds: creds}, nil
}

// upstreamBase checks an upstream URL and returns its host.
func upstreamBase(raw string) (string, error) {
	u, err := upstream.ParseBase(raw)
	if err != nil {
		return "", err
	}
	return u.Hostname(), nil
}
