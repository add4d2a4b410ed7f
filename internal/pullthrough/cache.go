package pullthrough

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/pullthrough/upstream"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// ErrNotCached says that a repository name falls under no rule: the
// caller serves the pull as any other.
var ErrNotCached = errors.New("pullthrough: no rule for this repository")

// Authorize asks whether the puller may perform an ECR action on the
// repository being pulled, for the pull through cache (the registry
// policy counts): ecr:BatchImportUpstreamImage before anything is fetched,
// and ecr:CreateRepository before the first fetch creates the repository.
type Authorize func(ctx context.Context, action string) error

// Manifest answers a manifest pull of a repository under a rule. A digest
// found locally is served as it is (a digest never changes); a tag found
// locally is served as it is until it is older than the refresh interval,
// then the upstream is asked where it points now. What is not local is
// fetched, served, and stored by an import job. When the upstream cannot
// answer and the tag is cached, the cached manifest is served.
func (s *Service) Manifest(ctx context.Context, reg meta.RegistryKey, name, ref string, allow Authorize) (*meta.Manifest, error) {
	rule, rest, err := s.ruleFor(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	if rule == nil {
		return nil, ErrNotCached
	}
	local, err := s.reg.GetManifest(ctx, reg, name, ref)
	switch {
	case err == nil && registry.IsDigest(ref):
		return local, nil
	case err == nil:
		fresh, err := s.fresh(ctx, reg, name, ref)
		if err != nil || fresh {
			return local, err
		}
	case !errors.Is(err, registry.ErrNameUnknown) && !errors.Is(err, registry.ErrManifestUnknown):
		return nil, err
	default:
		local = nil
	}
	up := upstreamRepository(rule, rest)
	m, err := s.fetchManifest(ctx, reg, rule, name, up, ref, local, allow)
	if err != nil && local != nil && !isAuthz(err) {
		return s.serveStale(ctx, name, ref, local, err), nil
	}
	return m, err
}

// isAuthz reports whether err is a refusal of the puller, which must
// not be answered from the cache either.
func isAuthz(err error) bool {
	var k *Error
	return !errors.As(err, &k) && !upstreamFailure(err)
}

// fresh reports whether a cached tag was found current upstream within the
// refresh interval.
func (s *Service) fresh(ctx context.Context, reg meta.RegistryKey, name, tag string) (bool, error) {
	r, err := s.reg.Repository(ctx, reg, name, false)
	if err != nil {
		return false, err
	}
	at, err := s.store.PullThroughChecked(ctx, r.ID, tag)
	if errors.Is(err, meta.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pull through check of %s:%s: %w", name, tag, err)
	}
	return s.now().Sub(at) < s.opts.Refresh, nil
}

// serveStale logs and counts a cached tag served because the upstream
// failed.
func (s *Service) serveStale(ctx context.Context, name, ref string, local *meta.Manifest, cause error) *meta.Manifest {
	reason := failureReason(cause)
	s.m.stale.Inc(reason)
	s.log.WarnContext(ctx, "pull through cache serves its cached image: the upstream could not be asked", "repository", name, "tag", ref,
		"digest", local.Digest, "reason", reason, "err", cause)
	return local
}

// fetchManifest asks the upstream for ref. A cached tag (local) is first
// checked with a HEAD: when it still points at the cached digest, the
// check is recorded and the cached manifest served.
func (s *Service) fetchManifest(ctx context.Context, reg meta.RegistryKey, rule *Rule, name, up, ref string, local *meta.Manifest, allow Authorize) (*meta.Manifest, error) {
	ur, err := s.upstreamFor(ctx, rule)
	if err != nil {
		return nil, err
	}
	uctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if local != nil {
		h, err := s.client.HeadManifest(uctx, ur, up, ref)
		if err != nil {
			return nil, s.upstreamError(err, "manifest", name, ref)
		}
		if h.Digest == local.Digest {
			if err := s.markChecked(ctx, reg, name, ref); err != nil {
				return nil, err
			}
			return local, nil
		}
	}
	if err := allow(ctx, "ecr:BatchImportUpstreamImage"); err != nil {
		return nil, err
	}
	if err := s.ensureRepository(ctx, reg, name, allow); err != nil {
		return nil, err
	}
	um, err := s.client.GetManifest(uctx, ur, up, ref)
	if err != nil {
		return nil, s.upstreamError(err, "manifest", name, ref)
	}
	s.m.fetches.Inc("manifest")
	d := digest.FromBytes(um.Body)
	if registry.IsDigest(ref) {
		want, err := registry.ParseDigest(ref)
		if err != nil {
			return nil, err
		}
		if want.Algorithm() != digest.SHA256 {
			d = want.Algorithm().FromBytes(um.Body)
		}
		if d != want {
			return nil, errorf(ErrUpstreamUnavailable, "the upstream %s served manifest bytes for %s that hash to %s: refusing them", rule.UpstreamURL, ref, d)
		}
	}
	mt := um.MediaType
	if !registry.IsManifestMediaType(mt) {
		mt = sniffMediaType(um.Body)
	}
	if err := s.enqueueImport(ctx, importJob{Registry: reg, Repository: name, Prefix: rule.Prefix, Upstream: up,
		Tag: tagOf(ref), Digest: d.String(), MediaType: mt, Manifest: um.Body}); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "pull through cache fetched a manifest", "repository", name, "ref", ref, "upstream", rule.UpstreamURL+"/"+up, "digest", d)
	return &meta.Manifest{Digest: d.String(), MediaType: mt, Content: um.Body, ImageSize: int64(len(um.Body))}, nil
}

func tagOf(ref string) string {
	if registry.IsDigest(ref) {
		return ""
	}
	return ref
}

// ensureRepository creates the cache's repository on the first pull, with
// the puller's ecr:CreateRepository.
func (s *Service) ensureRepository(ctx context.Context, reg meta.RegistryKey, name string, allow Authorize) error {
	_, err := s.reg.Repository(ctx, reg, name, false)
	if !errors.Is(err, registry.ErrNameUnknown) {
		return err
	}
	if err := allow(ctx, "ecr:CreateRepository"); err != nil {
		return err
	}
	if _, err := s.opts.Creator.CreateRepositoryFromTemplate(ctx, reg, name, registry.AppliedForPullThroughCache); err != nil {
		return fmt.Errorf("create pull through cache repository %s: %w", name, err)
	}
	s.log.InfoContext(ctx, "pull through cache created a repository", "registry", reg.Account, "region", reg.Region, "repository", name)
	return nil
}

func (s *Service) markChecked(ctx context.Context, reg meta.RegistryKey, name, tag string) error {
	r, err := s.reg.Repository(ctx, reg, name, false)
	if err != nil {
		return err
	}
	if err := s.store.MarkPullThroughChecked(ctx, r.ID, tag, s.now().UTC()); err != nil {
		return fmt.Errorf("record pull through check of %s:%s: %w", name, tag, err)
	}
	return nil
}

func (s *Service) upstreamFor(ctx context.Context, rule *Rule) (upstream.Registry, error) {
	creds, err := s.credentials(ctx, rule.CredentialARN)
	if err != nil {
		return upstream.Registry{}, err
	}
	ur, err := upstreamRegistry(rule, creds)
	if err != nil {
		return upstream.Registry{}, errorf(ErrUpstreamUnavailable, "the rule's upstream URL %s cannot be used: %v", rule.UpstreamURL, err)
	}
	return ur, nil
}

// upstreamFailure reports whether err came from asking the upstream.
func upstreamFailure(err error) bool {
	var se *upstream.StatusError
	var ne net.Error
	var ke *Error
	return errors.As(err, &se) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &ke) && ke.Kind != ErrInvalid)
}

func failureReason(err error) string {
	switch {
	case upstream.RateLimited(err), errors.Is(err, ErrUpstreamRateLimited):
		return "rate_limited"
	case upstream.NotFound(err), errors.Is(err, registry.ErrManifestUnknown), errors.Is(err, registry.ErrBlobUnknown):
		return "not_found"
	case upstream.Unauthorized(err), errors.Is(err, ErrUpstreamDenied):
		return "denied"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "unavailable"
}

// upstreamError words an upstream's failure as the domain's error, and
// counts it.
func (s *Service) upstreamError(err error, what, name, ref string) error {
	reason := failureReason(err)
	s.m.failures.Inc(reason)
	switch reason {
	case "not_found":
		if what == "blob" {
			return &registry.Error{Kind: registry.ErrBlobUnknown, Message: fmt.Sprintf("blob %s is not in repository '%s', nor in its pull through cache rule's upstream", ref, name),
				Detail: map[string]string{"digest": ref}}
		}
		return &registry.Error{Kind: registry.ErrManifestUnknown, Message: fmt.Sprintf("manifest '%s' is not in repository '%s', nor in its pull through cache rule's upstream", ref, name)}
	case "rate_limited":
		return errorf(ErrUpstreamRateLimited, "the upstream registry of '%s' is rate limiting Berth (429) and %s '%s' is not cached: try again later", name, what, ref)
	case "denied":
		return errorf(ErrUpstreamDenied, "the upstream registry of '%s' refused the pull through cache rule's credentials (%v): check them with aws ecr validate-pull-through-cache-rule", name, err)
	}
	return errorf(ErrUpstreamUnavailable, "the upstream registry of '%s' could not be asked for %s '%s' and it is not cached: %v", name, what, ref, err)
}
