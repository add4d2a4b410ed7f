package replicate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

// destination is where a copy writes: a repository of this deployment
// (local) or of a remote registry (remoteDest). A manifest is put after
// its blobs and the manifests it lists.
type destination interface {
	putBlob(ctx context.Context, d descriptor) error
	putManifest(ctx context.Context, m *meta.Manifest, tags []string) error
}

// descriptor is what a copy reads of a manifest's descriptors.
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type manifestDoc struct {
	Config    *descriptor  `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"`
}

// runCopy copies one image to one destination and records the outcome:
// COMPLETE for the image and the referrers that came with it, or FAILED
// with the reason while the job waits for its retry.
func (s *Service) runCopy(ctx context.Context, j *meta.Job) error {
	var p copyJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("replication: copy job %d: %w", j.ID, err))
	}
	src := meta.RegistryKey{Account: p.Account, Region: p.Region}
	r, err := s.reg.Repository(ctx, src, p.Repository, false)
	if errors.Is(err, registry.ErrNameUnknown) {
		return nil // deleted since: nothing to replicate
	}
	if err != nil {
		return err
	}
	m, err := s.reg.GetManifest(ctx, src, p.Repository, p.Digest)
	if errors.Is(err, registry.ErrManifestUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	dest := meta.RegistryKey{Account: p.Destination.RegistryID, Region: p.Destination.Region}
	copied, err := s.copy(ctx, src, p.Repository, m, p.Destination)
	now := s.now().UTC()
	if err != nil {
		f := asFailure(err)
		s.log.WarnContext(ctx, "replication failed; it will be retried", "repository", p.Repository, "digest", p.Digest,
			"destination", p.Destination.String(), "attempt", j.Attempts, "reason", f.Error(), "err", err)
		st := meta.ReplicationStatus{RepoID: r.ID, Digest: p.Digest, Destination: dest, State: meta.ReplicationFailed, Failure: f.Error(), UpdatedAt: now}
		if perr := s.store.PutReplicationStatus(ctx, st); perr != nil {
			s.log.ErrorContext(ctx, "record a failed replication", "digest", p.Digest, "err", perr)
		}
		return err
	}
	for _, d := range copied {
		st := meta.ReplicationStatus{RepoID: r.ID, Digest: d, Destination: dest, State: meta.ReplicationComplete, UpdatedAt: now}
		if err := s.store.PutReplicationStatus(ctx, st); err != nil {
			return fmt.Errorf("record the replication of %s: %w", d, err)
		}
	}
	s.log.InfoContext(ctx, "image replicated", "repository", p.Repository, "digest", p.Digest,
		"destination", p.Destination.String(), "manifests", len(copied))
	return nil
}

// asFailure is err as a failure with a code, an unclassified error being
// an internal one.
func asFailure(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	return fail(FailureInternal, err, "%v", err)
}

// copy copies image m of repository repo of src to d, with its tags (those
// the tag filter lets through), and returns the digests of the image and
// of the referrers that came with it.
func (s *Service) copy(ctx context.Context, src meta.RegistryKey, repo string, m *meta.Manifest, d rules.Destination) ([]string, error) {
	tags, _ := s.tagFilter(ctx, src).Tags(m.Tags)
	rem, err := s.remote(ctx, src, d)
	if err != nil {
		return nil, err
	}
	var w destination
	if rem != nil {
		w, err = s.remoteDestination(ctx, rem, src, repo, d)
	} else {
		w, err = s.localDestination(ctx, src, repo, d)
	}
	if err != nil {
		return nil, err
	}
	c := &copier{s: s, src: src, repo: repo, w: w, seen: map[string]bool{}}
	if err := c.image(ctx, m, tags, 0); err != nil {
		return nil, err
	}
	return c.copied, nil
}

// copier copies one image, children first, then its referrers.
type copier struct {
	s      *Service
	src    meta.RegistryKey
	repo   string
	w      destination
	seen   map[string]bool
	copied []string
}

func (c *copier) image(ctx context.Context, m *meta.Manifest, tags []string, depth int) error {
	if c.seen[m.Digest] {
		return nil
	}
	c.seen[m.Digest] = true
	var doc manifestDoc
	if err := json.Unmarshal(m.Content, &doc); err != nil {
		return fail(FailureSourceUnreadable, err, "the manifest %s does not parse: %v", m.Digest, err)
	}
	for _, child := range doc.Manifests {
		cm, err := c.s.reg.GetManifest(ctx, c.src, c.repo, child.Digest)
		if err != nil {
			return fail(FailureSourceUnreadable, err, "the index %s lists %s, which cannot be read: %v", m.Digest, child.Digest, err)
		}
		if err := c.image(ctx, cm, nil, depth); err != nil {
			return err
		}
	}
	blobs := doc.Layers
	if doc.Config != nil {
		blobs = append([]descriptor{*doc.Config}, blobs...)
	}
	for _, b := range blobs {
		if strings.Contains(b.MediaType, ".nondistributable.") || strings.Contains(b.MediaType, ".foreign.") {
			continue
		}
		if err := c.w.putBlob(ctx, b); err != nil {
			return err
		}
	}
	if err := c.w.putManifest(ctx, m, tags); err != nil {
		return err
	}
	c.copied = append(c.copied, m.Digest)
	if depth >= maxSubjectDepth {
		return nil
	}
	// Referrers (signatures, SBOMs) follow their image: those pushed
	// before the image was replicated come now, those pushed after come
	// with their own push.
	refs, err := c.s.reg.Referrers(ctx, c.src, c.repo, digest.Digest(m.Digest), "")
	if err != nil {
		return fail(FailureSourceUnreadable, err, "the referrers of %s cannot be listed: %v", m.Digest, err)
	}
	for _, r := range refs {
		rm, err := c.s.reg.GetManifest(ctx, c.src, c.repo, r.Digest)
		if errors.Is(err, registry.ErrManifestUnknown) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fail(FailureSourceUnreadable, err, "the referrer %s of %s cannot be read: %v", r.Digest, m.Digest, err)
		}
		if err := c.image(ctx, rm, nil, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// local is a destination in this deployment: PutReplica links the
// source's blobs with each manifest, so putBlob has nothing to do.
type local struct {
	s        *Service
	src, dst meta.RegistryKey
	repo     string
}

func (l *local) putBlob(context.Context, descriptor) error { return nil }

func (l *local) putManifest(ctx context.Context, m *meta.Manifest, tags []string) error {
	_, err := l.s.reg.PutReplica(ctx, l.dst, l.repo, l.src, l.repo, m.MediaType, m.Content, tags)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, registry.ErrTagImmutable):
		return fail(FailureDestinationRefused, err, "%v", err)
	case errors.Is(err, registry.ErrManifestBlobUnknown):
		return fail(FailureSourceUnreadable, err, "%v", err)
	case errors.Is(err, registry.ErrNameUnknown):
		return fail(FailureDestinationRefused, err, "the destination repository '%s' was deleted while the image was copied", l.repo)
	}
	return err
}

// localDestination readies a repository of this deployment for a copy:
// across accounts, the destination's registry policy must allow the
// source account ecr:ReplicateImage, and ecr:CreateRepository when the
// repository does not exist; a missing repository is created with the
// destination's REPLICATION creation template.
func (s *Service) localDestination(ctx context.Context, src meta.RegistryKey, repo string, d rules.Destination) (destination, error) {
	dst := meta.RegistryKey{Account: d.RegistryID, Region: d.Region}
	resource := authz.RepositoryARN(dst.Region, dst.Account, repo)
	var pol *policy.Policy
	crossAccount := dst.Account != src.Account
	if crossAccount {
		var err error
		if pol, err = s.registryPolicy(ctx, dst); err != nil {
			return nil, err
		}
		if err := s.allowed(pol, src, dst, "ecr:ReplicateImage", resource); err != nil {
			return nil, err
		}
	}
	_, err := s.reg.Repository(ctx, dst, repo, false)
	if errors.Is(err, registry.ErrNameUnknown) {
		if crossAccount {
			if err := s.allowed(pol, src, dst, "ecr:CreateRepository", resource); err != nil {
				return nil, err
			}
		}
		if _, err = s.reg.CreateRepositoryFromTemplate(ctx, dst, repo, registry.AppliedForReplication); err != nil {
			return nil, fmt.Errorf("create the destination repository %s: %w", repo, err)
		}
		s.log.InfoContext(ctx, "repository created for replication", "registry", dst.Account, "region", dst.Region, "repository", repo)
	} else if err != nil {
		return nil, fmt.Errorf("destination repository %s: %w", repo, err)
	}
	return &local{s: s, src: src, dst: dst, repo: repo}, nil
}

// registryPolicy is a registry's policy, nil when it has none.
func (s *Service) registryPolicy(ctx context.Context, reg meta.RegistryKey) (*policy.Policy, error) {
	text, err := s.reg.RegistryPolicy(ctx, reg)
	if errors.Is(err, registry.ErrRegistryPolicyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry policy of %s in %s: %w", reg.Account, reg.Region, err)
	}
	p, err := policy.Parse(policy.Registry, []byte(text))
	if err != nil {
		// Stored only after it parsed; should the rules change, it allows
		// nothing rather than everything.
		s.log.Warn("replication: a stored registry policy does not parse", "registry", reg.Account, "region", reg.Region, "err", err)
		return nil, nil
	}
	return p, nil
}

func (s *Service) allowed(pol *policy.Policy, src, dst meta.RegistryKey, action, resource string) error {
	err := authz.AuthorizeFeature(pol, authz.FeatureRequest{Feature: policy.Replication, From: src.Account, Action: action,
		Resource: resource, Owner: dst.Account, Time: s.now()})
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return fail(FailurePolicyDenied, err, "the registry policy of the destination registry %s in %s does not allow account %s %s: %v",
			dst.Account, dst.Region, src.Account, action, err)
	}
	return err
}
