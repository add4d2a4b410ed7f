package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
)

// Work that follows a change is a job written in the change's own
// transaction (meta.NewJob): a crash between the change and the work loses
// neither, and a change that rolls back asks for nothing.

// ImageAction is what happened to an image, in ECR's words for its "ECR
// Image Action" events.
type ImageAction string

const (
	ImagePushed  ImageAction = "PUSH"
	ImageDeleted ImageAction = "DELETE"
)

// ImageEvent is one change to a repository's images: a manifest pushed or
// tagged, a manifest or a tag deleted. It is the payload of the jobs the
// queues in Options.ImageEventQueues receive.
type ImageEvent struct {
	Action     ImageAction `json:"action"`
	Account    string      `json:"account"`
	Region     string      `json:"region"`
	Repository string      `json:"repository"`
	// Digest is the image's; empty for a tag deleted by name on the data
	// plane, where the tag is all the request says.
	Digest string `json:"digest,omitempty"`
	// Tags are the tags pushed, or the tags deleted.
	Tags         []string  `json:"tags,omitempty"`
	MediaType    string    `json:"mediaType,omitempty"`
	ArtifactType string    `json:"artifactType,omitempty"`
	At           time.Time `json:"at"`
	// Replica marks a push that replication made (PutReplica): ECR does
	// not replicate a replica again, so replication does not follow it.
	Replica bool `json:"replica,omitempty"`
}

// imageJobs are the jobs an image event asks for: one for each queue that
// follows image events, none when no queue does.
func (s *Service) imageJobs(r *meta.Repository, ev ImageEvent) []meta.NewJob {
	if len(s.opts.ImageEventQueues) == 0 {
		return nil
	}
	ev.Account, ev.Region, ev.Repository = r.Registry.Account, r.Registry.Region, r.Name
	if ev.At.IsZero() {
		ev.At = s.now().UTC()
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		// An ImageEvent always encodes; should that change, the change
		// itself must not be refused for it.
		s.log.Error("encode image event", "err", err)
		return nil
	}
	out := make([]meta.NewJob, len(s.opts.ImageEventQueues))
	for i, q := range s.opts.ImageEventQueues {
		out[i] = meta.NewJob{Queue: q, Payload: payload}
	}
	return out
}

// jobsWritten wakes this node's job runner after a change wrote jobs, so
// that they start now rather than at its next poll.
func (s *Service) jobsWritten(n int) {
	if n > 0 && s.notify != nil {
		s.notify()
	}
}

// QueueLifecyclePreview is the queue of lifecycle policy previews: any
// node's runner evaluates a preview that StartLifecyclePreview asked for,
// and a preview whose node died is taken over when its lease lapses.
const QueueLifecyclePreview = "lifecycle-preview"

// previewJob is a lifecycle-preview job's payload.
type previewJob struct {
	RepoID    int64  `json:"repoId"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	Name      string `json:"repository"`
	PreviewID string `json:"previewId"`
	Text      string `json:"text"`
}

// RegisterJobs gives runner the handlers of the domain's queues and has
// the domain wake it when a change writes jobs.
func (s *Service) RegisterJobs(runner *jobs.Runner) {
	s.notify = runner.Notify
	runner.Handle(QueueLifecyclePreview, s.runPreviewJob, jobs.QueueOptions{MaxAttempts: 3})
}

// runPreviewJob evaluates a preview and records its outcome. A preview
// that is no longer the repository's latest (a newer one replaced it, the
// repository went) is not evaluated.
func (s *Service) runPreviewJob(ctx context.Context, j *meta.Job) error {
	var p previewJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("lifecycle preview job %d: %w", j.ID, err))
	}
	r, err := s.meta.GetRepository(ctx, Key{Account: p.Account, Region: p.Region}, p.Name)
	if errors.Is(err, meta.ErrRepositoryUnknown) || (err == nil && r.ID != p.RepoID) {
		return nil // deleted, or deleted and made again: nothing to preview
	}
	if err != nil {
		return fmt.Errorf("lifecycle preview of %s: %w", p.Name, err)
	}
	current, err := s.meta.GetLifecyclePreview(ctx, r.ID)
	if errors.Is(err, meta.ErrNotFound) || (err == nil && (current.ID != p.PreviewID || current.Status != meta.PreviewInProgress)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lifecycle preview of %s: %w", p.Name, err)
	}
	pol, err := parsePolicy(p.Text)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("lifecycle preview of %s: the policy no longer parses: %w", p.Name, err))
	}
	return s.runPreview(ctx, r, pol, *current)
}
