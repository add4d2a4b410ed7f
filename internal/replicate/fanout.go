package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

// copyJob is a QueueCopy job's payload: one image to one destination.
type copyJob struct {
	Account     string            `json:"account"`
	Region      string            `json:"region"`
	Repository  string            `json:"repository"`
	Digest      string            `json:"digest"`
	Destination rules.Destination `json:"destination"`
}

// runImageEvent follows a push: it asks for a copy of the image to each
// destination of the rules its repository matches, and records the image
// as IN_PROGRESS there, in one transaction. Deletions are not replicated
// (nor are they in ECR), and neither is a replica.
func (s *Service) runImageEvent(ctx context.Context, j *meta.Job) error {
	var ev registry.ImageEvent
	if err := json.Unmarshal(j.Payload, &ev); err != nil {
		return jobs.Permanent(fmt.Errorf("replication: image event %d: %w", j.ID, err))
	}
	if ev.Action != registry.ImagePushed || ev.Replica || ev.Digest == "" {
		return nil
	}
	src := meta.RegistryKey{Account: ev.Account, Region: ev.Region}
	c, err := s.Configuration(ctx, src)
	if err != nil {
		return err
	}
	dests := rules.Destinations(c, ev.Repository)
	if len(dests) == 0 {
		return nil
	}
	r, err := s.reg.Repository(ctx, src, ev.Repository, false)
	if errors.Is(err, registry.ErrNameUnknown) {
		return nil // deleted since: nothing to replicate
	}
	if err != nil {
		return fmt.Errorf("replication of %s: %w", ev.Repository, err)
	}
	ok, err := s.wanted(ctx, src, ev.Repository, ev.Digest, 0)
	if err != nil || !ok {
		return err
	}
	now := s.now().UTC()
	var (
		statuses []meta.ReplicationStatus
		copies   []meta.NewJob
	)
	for _, d := range dests {
		payload, err := json.Marshal(copyJob{Account: src.Account, Region: src.Region, Repository: ev.Repository, Digest: ev.Digest, Destination: d})
		if err != nil {
			return jobs.Permanent(err)
		}
		statuses = append(statuses, meta.ReplicationStatus{RepoID: r.ID, Digest: ev.Digest,
			Destination: meta.RegistryKey{Account: d.RegistryID, Region: d.Region}, State: meta.ReplicationInProgress, UpdatedAt: now})
		copies = append(copies, meta.NewJob{Queue: QueueCopy, Key: copyKey(src, ev.Repository, ev.Digest, d, ev.Tags), Payload: payload})
	}
	if err := s.store.StartReplications(ctx, statuses, copies); err != nil {
		return fmt.Errorf("replication of %s@%s: %w", ev.Repository, ev.Digest, err)
	}
	s.notify()
	return nil
}

// copyKey keys a copy job so that the same push's copy is asked for once
// (an event job that runs twice), while a later push of the same image
// with other tags gets a copy of its own: a copy already running may have
// read the image's tags before the new ones came.
func copyKey(src meta.RegistryKey, repo, digest string, d rules.Destination, tags []string) string {
	sorted := slices.Sorted(slices.Values(tags))
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return fmt.Sprintf("%s/%s/%s@%s>%s/%s#%s", src.Account, src.Region, repo, digest, d.RegistryID, d.Region, hex.EncodeToString(sum[:8]))
}

// maxSubjectDepth bounds how far wanted follows subjects: a signature of
// an SBOM of an image is two steps from the image.
const maxSubjectDepth = 4

// wanted applies the registry's tag filter, Berth's extension: with one,
// an image replicates when one of its tags matches, and a referrer (a
// manifest with a subject) when its subject does, so that signatures and
// SBOMs follow their image. A referrer whose subject is not there yet is
// not copied now: the subject's copy brings its referrers along.
func (s *Service) wanted(ctx context.Context, src meta.RegistryKey, repo, digest string, depth int) (bool, error) {
	tf := s.tagFilter(ctx, src)
	if tf.All() {
		return true, nil
	}
	m, err := s.reg.GetManifest(ctx, src, repo, digest)
	if errors.Is(err, registry.ErrManifestUnknown) || errors.Is(err, registry.ErrNameUnknown) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("replication of %s@%s: %w", repo, digest, err)
	}
	if m.Subject != "" && depth < maxSubjectDepth {
		return s.wanted(ctx, src, repo, m.Subject, depth+1)
	}
	_, ok := tf.Tags(m.Tags)
	return ok, nil
}
