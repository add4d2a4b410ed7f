package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
)

// blobLinks copies a repository's blob links, each once its bytes are in
// the target's blob store: a link must never name bytes that are not
// there. dst is nil during the check when the target lacks the repository.
func (r *run) blobLinks(ctx context.Context, src, dst *meta.Repository) error {
	for after := ""; ; {
		page, err := r.exp.BlobLinks(ctx, src.ID, after, pageSize)
		if err != nil {
			return err
		}
		if err := r.ensureBlobs(ctx, page); err != nil {
			return err
		}
		for _, b := range page {
			if dst != nil {
				got, err := r.dst.Meta.GetBlob(ctx, dst.ID, b.Digest)
				switch {
				case err == nil && got.Size == b.Size:
					r.present(BlobLinks)
					continue
				case err == nil:
					if err := r.conflict("repository %s: blob %s has %d bytes on the target, %d in the source", src.Name, b.Digest, got.Size, b.Size); err != nil {
						return err
					}
					continue
				case !errors.Is(err, meta.ErrBlobUnknown):
					return err
				}
			}
			if !r.dry {
				if err := r.dst.Meta.LinkBlob(ctx, dst.ID, b); err != nil {
					return err
				}
			}
			r.copied(BlobLinks, 1)
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].Digest
	}
}

// manifests copies a repository's manifests with their refs and tags,
// children before the indexes that list them: PutManifest refuses an
// index whose children are not in the repository yet.
func (r *run) manifests(ctx context.Context, src, dst *meta.Repository) error {
	var all []*meta.Manifest
	for after := ""; ; {
		page, err := r.src.Meta.ListImages(ctx, src.ID, meta.ImageQuery{After: after, Limit: pageSize})
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Digest
	}
	children, err := r.src.Meta.ManifestChildren(ctx, src.ID)
	if err != nil {
		return err
	}
	for _, m := range childrenFirst(all, children) {
		if err := r.manifest(ctx, src, dst, m); err != nil {
			return fmt.Errorf("manifest %s: %w", m.Digest, err)
		}
	}
	return nil
}

// manifest copies one manifest, m as ListImages returned it (its tags,
// no content), and those of its tags the target lacks.
func (r *run) manifest(ctx context.Context, src, dst *meta.Repository, m *meta.Manifest) error {
	stored := false
	var missing []meta.TagWrite
	if dst != nil {
		_, err := r.dst.Meta.GetManifest(ctx, dst.ID, m.Digest)
		switch {
		case err == nil:
			stored = true // a digest names its bytes: nothing to compare
		case !errors.Is(err, meta.ErrManifestUnknown):
			return err
		}
	}
	for _, tag := range m.Tags {
		if dst != nil {
			got, err := r.dst.Meta.ResolveTag(ctx, dst.ID, tag)
			switch {
			case err == nil && got == m.Digest:
				r.present(Tags)
				continue
			case err == nil:
				if err := r.conflict("repository %s: tag %s is on %s on the target, on %s in the source", src.Name, tag, got, m.Digest); err != nil {
					return err
				}
				continue
			case !errors.Is(err, meta.ErrTagUnknown):
				return err
			}
		}
		missing = append(missing, meta.TagWrite{Name: tag})
	}
	if stored && len(missing) == 0 {
		r.present(Manifests)
		return nil
	}
	if !r.dry {
		// Re-putting a stored manifest leaves it as it is and applies the
		// tags: a run that stopped between a manifest and its tags, or a
		// tag added since, is finished this way.
		full, err := r.src.Meta.GetManifest(ctx, src.ID, m.Digest)
		if err != nil {
			return err
		}
		refs, err := r.exp.ManifestRefs(ctx, src.ID, m.Digest)
		if err != nil {
			return err
		}
		full.Tags = nil
		// No Repository: tag immutability governs pushes, and these tags
		// are where the source has them. No Jobs: nothing was pushed, so
		// no image events.
		err = r.dst.Meta.PutManifest(ctx, &meta.PutManifest{RepoID: dst.ID, Manifest: *full, Refs: refs, Tags: missing})
		var mr *meta.MissingRefError
		if errors.As(err, &mr) {
			return fmt.Errorf("it references %s %s, which the source's repository does not hold either: %w", mr.Ref.Kind, mr.Ref.Digest, err)
		}
		if err != nil {
			return err
		}
	}
	if stored {
		r.present(Manifests)
	} else {
		r.copied(Manifests, 1)
	}
	r.copied(Tags, len(missing))
	return nil
}

// childrenFirst orders manifests so that every index comes after the
// manifests it lists (children maps an index to them). Digests name
// content, so there is no cycle; the walk would stop on one anyway.
func childrenFirst(ms []*meta.Manifest, children map[string][]string) []*meta.Manifest {
	byDigest := make(map[string]*meta.Manifest, len(ms))
	for _, m := range ms {
		byDigest[m.Digest] = m
	}
	out := make([]*meta.Manifest, 0, len(ms))
	seen := make(map[string]bool, len(ms))
	var visit func(d string)
	visit = func(d string) {
		if seen[d] {
			return
		}
		seen[d] = true
		for _, c := range children[d] {
			visit(c)
		}
		if m, ok := byDigest[d]; ok {
			out = append(out, m)
		}
	}
	for _, m := range ms {
		visit(m.Digest)
	}
	return out
}

// lifecyclePolicy copies a repository's lifecycle policy with the time it
// was put and last evaluated.
func (r *run) lifecyclePolicy(ctx context.Context, src, dst *meta.Repository) error {
	p, err := r.src.Meta.GetLifecyclePolicy(ctx, src.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if dst != nil {
		got, err := r.dst.Meta.GetLifecyclePolicy(ctx, dst.ID)
		switch {
		case err == nil && got.Text == p.Text:
			// A run that stopped between the two writes below left the
			// evaluation time out.
			if !r.dry && got.LastEvaluatedAt.IsZero() && !p.LastEvaluatedAt.IsZero() {
				if err := r.dst.Meta.MarkLifecycleEvaluated(ctx, dst.ID, p.Text, p.LastEvaluatedAt); err != nil {
					return err
				}
			}
			r.present(LifecyclePolicies)
			return nil
		case err == nil:
			return r.conflict("repository %s: its lifecycle policy on the target differs from the source's", src.Name)
		case !errors.Is(err, meta.ErrNotFound):
			return err
		}
	}
	if !r.dry {
		if err := r.dst.Meta.PutLifecyclePolicy(ctx, dst.ID, p.Text, p.UpdatedAt); err != nil {
			return err
		}
		if !p.LastEvaluatedAt.IsZero() {
			if err := r.dst.Meta.MarkLifecycleEvaluated(ctx, dst.ID, p.Text, p.LastEvaluatedAt); err != nil {
				return err
			}
		}
	}
	r.copied(LifecyclePolicies, 1)
	return nil
}
