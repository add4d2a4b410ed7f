package pullthrough

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/pullthrough/upstream"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// Queue is the outbox queue of imports: a manifest a client pulled through
// the cache, stored with everything it references once those are stored
// (the blobs the client fetched are, by then, through its own requests;
// the job fetches the others), then its tag moved.
const Queue = "pull-through-import"

// importJob is an import's payload. The manifest's bytes travel with it:
// the import stores what the client was served, even if the upstream
// moves the tag meanwhile.
type importJob struct {
	Registry   meta.RegistryKey `json:"registry"`
	Repository string           `json:"repository"`
	Prefix     string           `json:"prefix"`
	Upstream   string           `json:"upstream"`
	Tag        string           `json:"tag,omitempty"`
	Digest     string           `json:"digest"`
	MediaType  string           `json:"mediaType"`
	Manifest   []byte           `json:"manifest"`
}

func (s *Service) enqueueImport(ctx context.Context, j importJob) error {
	payload, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode import: %w", err)
	}
	now := s.now().UTC()
	key := fmt.Sprintf("%s/%s/%s@%s#%s", j.Registry.Account, j.Registry.Region, j.Repository, j.Digest, j.Tag)
	if err := s.store.EnqueueJobs(ctx, []meta.NewJob{{Queue: Queue, Key: key, Payload: payload, RunAfter: now.Add(s.opts.ImportDelay)}}, now); err != nil {
		return fmt.Errorf("enqueue import of %s: %w", j.Digest, err)
	}
	s.opts.Notify()
	return nil
}

// JobRegistrar is the job runner, as the cache registers with it.
type JobRegistrar interface {
	Handle(queue string, h jobs.Handler, opts jobs.QueueOptions)
}

// RegisterJobs makes runner run the imports.
func (s *Service) RegisterJobs(runner JobRegistrar) {
	runner.Handle(Queue, s.runImport, jobs.QueueOptions{MaxAttempts: 8})
}

// runImport stores a pulled manifest with what it references. Run twice,
// it finds the second time that everything is there.
func (s *Service) runImport(ctx context.Context, job *meta.Job) error {
	var j importJob
	if err := json.Unmarshal(job.Payload, &j); err != nil {
		return jobs.Permanent(fmt.Errorf("read import: %w", err))
	}
	rule, err := s.store.GetPullThroughRule(ctx, j.Registry, j.Prefix)
	if errors.Is(err, meta.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("import %s into %s: the pull through cache rule %s was deleted", j.Digest, j.Repository, j.Prefix))
	}
	if err != nil {
		return err
	}
	ur, err := s.upstreamFor(ctx, rule)
	if err != nil {
		return err
	}
	im := importer{s: s, reg: j.Registry, name: j.Repository, up: j.Upstream, ur: ur}
	if err := im.manifest(ctx, j.Digest, j.MediaType, j.Manifest, 0); err != nil {
		return im.final(err)
	}
	if j.Tag != "" {
		if _, err := s.reg.PutManifest(ctx, j.Registry, j.Repository, j.Tag, j.MediaType, j.Manifest, nil); err != nil {
			return im.final(fmt.Errorf("tag %s: %w", j.Tag, err))
		}
		if err := s.markChecked(ctx, j.Registry, j.Repository, j.Tag); err != nil {
			return err
		}
	}
	s.log.InfoContext(ctx, "pull through cache stored an image", "repository", j.Repository, "digest", j.Digest, "tag", j.Tag)
	return nil
}

type importer struct {
	s    *Service
	reg  meta.RegistryKey
	name string
	up   string
	ur   upstream.Registry
}

// final makes errors no retry can mend permanent: a manifest the
// registry refuses, an immutable tag, a repository deleted meanwhile.
func (im *importer) final(err error) error {
	for _, k := range []error{registry.ErrManifestInvalid, registry.ErrTagImmutable, registry.ErrNameUnknown, registry.ErrDigestInvalid, registry.ErrTooLarge} {
		if errors.Is(err, k) {
			return jobs.Permanent(err)
		}
	}
	return err
}

type refs struct {
	MediaType string       `json:"mediaType"`
	Config    *descriptor  `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"`
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
}

// manifest stores one manifest by digest, after what it references: an
// index's children (each fetched and stored whole: an index is stored only
// with all of them, so a pull of one platform caches every platform), an
// image's config and layers.
func (im *importer) manifest(ctx context.Context, d, mediaType string, body []byte, depth int) error {
	if _, err := im.s.reg.GetManifest(ctx, im.reg, im.name, d); err == nil {
		return nil
	}
	var doc refs
	if err := json.Unmarshal(body, &doc); err != nil {
		return jobs.Permanent(fmt.Errorf("manifest %s is not JSON: %w", d, err))
	}
	if len(doc.Manifests) > 0 {
		if depth > 0 {
			return jobs.Permanent(fmt.Errorf("manifest %s: an index inside an index", d))
		}
		for _, c := range doc.Manifests {
			if err := im.child(ctx, c); err != nil {
				return err
			}
		}
	} else {
		blobs := doc.Layers
		if doc.Config != nil {
			blobs = append([]descriptor{*doc.Config}, blobs...)
		}
		for _, b := range blobs {
			if strings.Contains(b.MediaType, ".nondistributable.") || strings.Contains(b.MediaType, ".foreign.") {
				continue
			}
			if err := im.blob(ctx, b.Digest); err != nil {
				return err
			}
		}
	}
	if _, err := im.s.reg.PutManifest(ctx, im.reg, im.name, d, mediaType, body, nil); err != nil {
		return fmt.Errorf("store manifest %s: %w", d, err)
	}
	return nil
}

func (im *importer) child(ctx context.Context, c descriptor) error {
	if _, err := im.s.reg.GetManifest(ctx, im.reg, im.name, c.Digest); err == nil {
		return nil
	}
	want, err := digest.Parse(c.Digest)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("child manifest %q: %w", c.Digest, err))
	}
	m, err := im.s.client.GetManifest(ctx, im.ur, im.up, c.Digest)
	if err != nil {
		return fmt.Errorf("fetch child manifest %s: %w", c.Digest, err)
	}
	im.s.m.fetches.Inc("manifest")
	if got := want.Algorithm().FromBytes(m.Body); got != want {
		return fmt.Errorf("the upstream served bytes hashing to %s for child manifest %s", got, want)
	}
	mt := m.MediaType
	if !registry.IsManifestMediaType(mt) {
		mt = sniffMediaType(m.Body)
	}
	return im.manifest(ctx, c.Digest, mt, m.Body, 1)
}

func (im *importer) blob(ctx context.Context, ds string) error {
	d, err := digest.Parse(ds)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("blob %q: %w", ds, err))
	}
	if _, err := im.s.reg.StatBlob(ctx, im.reg, im.name, d); err == nil {
		return nil
	}
	body, _, err := im.s.client.GetBlob(ctx, im.ur, im.up, ds)
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", ds, err)
	}
	defer body.Close()
	im.s.m.fetches.Inc("blob")
	cr := &countingReader{r: body}
	err = im.s.reg.PutBlob(ctx, im.reg, im.name, d, cr)
	im.s.m.bytes.Add(float64(cr.n))
	if err != nil {
		return fmt.Errorf("store blob %s: %w", ds, err)
	}
	return nil
}

// sniffMediaType tells a manifest's type from its bytes, for an upstream
// that served it with a generic Content-Type.
func sniffMediaType(body []byte) string {
	var doc refs
	if json.Unmarshal(body, &doc) == nil && doc.MediaType != "" {
		return doc.MediaType
	}
	if doc.Manifests != nil {
		return registry.MediaTypeOCIIndex
	}
	return registry.MediaTypeOCIManifest
}
