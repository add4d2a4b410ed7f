package registry

// Lifecycle policies: ECR's PutLifecyclePolicy and its siblings, previews,
// and the runs that expire images. A preview and a run both call evaluate,
// which hands the same picture of the repository to lifecycle.Evaluate: a
// preview shows what the next run deletes, unless the repository changes in
// between. A run deletes each image only while it is as evaluated (its
// tags, push and pull times), so an image pushed, re-tagged or pulled since
// is left for the next run to judge.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/berth-registry/berth/internal/lifecycle"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/metrics"
)

const (
	// previewStaleAfter gives up on a preview still IN_PROGRESS: the node
	// running it stopped. Evaluating even a large repository takes seconds.
	previewStaleAfter = 10 * time.Minute
	// lifecycleLeaseTTL bounds how long a node that died mid-run keeps
	// other nodes from running the repository's policy; a live node renews
	// it while it runs.
	lifecycleLeaseTTL = 2 * time.Minute
)

func lifecyclePolicyNotFound(r *meta.Repository) *Error {
	return errorf(ErrLifecyclePolicyNotFound,
		"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.Name, r.Registry.Account)
}

// parsePolicy checks policy text as PutLifecyclePolicy does.
func parsePolicy(text string) (*lifecycle.Policy, error) {
	p, err := lifecycle.Parse(text)
	if err != nil {
		return nil, errorf(ErrLifecyclePolicyInvalid,
			"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '%s'", err.Error())
	}
	return p, nil
}

// PutLifecyclePolicy sets a repository's lifecycle policy, keeping its text
// exactly as given.
func (s *Service) PutLifecyclePolicy(ctx context.Context, reg meta.RegistryKey, name, text string) (*meta.LifecyclePolicy, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	if _, err := parsePolicy(text); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if err := s.meta.PutLifecyclePolicy(ctx, r.ID, text, now); err != nil {
		if errors.Is(err, meta.ErrRepositoryUnknown) {
			return nil, repositoryNotFound(name, reg.Account)
		}
		return nil, fmt.Errorf("put lifecycle policy: %w", err)
	}
	return &meta.LifecyclePolicy{RepoID: r.ID, Registry: reg, Repository: name, Text: text, UpdatedAt: now}, nil
}

// GetLifecyclePolicy returns a repository's lifecycle policy.
func (s *Service) GetLifecyclePolicy(ctx context.Context, reg meta.RegistryKey, name string) (*meta.LifecyclePolicy, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	return s.policyOf(ctx, r)
}

func (s *Service) policyOf(ctx context.Context, r *meta.Repository) (*meta.LifecyclePolicy, error) {
	p, err := s.meta.GetLifecyclePolicy(ctx, r.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, lifecyclePolicyNotFound(r)
	}
	if err != nil {
		return nil, fmt.Errorf("get lifecycle policy: %w", err)
	}
	return p, nil
}

// DeleteLifecyclePolicy removes a repository's lifecycle policy and returns
// what it was.
func (s *Service) DeleteLifecyclePolicy(ctx context.Context, reg meta.RegistryKey, name string) (*meta.LifecyclePolicy, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	p, err := s.meta.DeleteLifecyclePolicy(ctx, r.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, lifecyclePolicyNotFound(r)
	}
	if err != nil {
		return nil, fmt.Errorf("delete lifecycle policy: %w", err)
	}
	return p, nil
}

// judged is the repository as an evaluation saw it.
type judged struct {
	manifests map[string]*meta.Manifest
	children  map[string][]string // of each index
}

// evaluate runs the policy over the repository as it is now. It returns
// what the policy does and what it judged.
func (s *Service) evaluate(ctx context.Context, r *meta.Repository, pol *lifecycle.Policy, now time.Time) ([]lifecycle.Result, *judged, error) {
	ms, err := s.meta.ListImages(ctx, r.ID, meta.ImageQuery{})
	if err != nil {
		return nil, nil, fmt.Errorf("list images of %s: %w", r.Name, err)
	}
	children, err := s.meta.ManifestChildren(ctx, r.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list index children of %s: %w", r.Name, err)
	}
	images := make([]lifecycle.Image, 0, len(ms))
	seen := &judged{manifests: make(map[string]*meta.Manifest, len(ms)), children: children}
	for _, m := range ms {
		seen.manifests[m.Digest] = m
		images = append(images, lifecycle.Image{
			Digest:       m.Digest,
			Tags:         m.Tags,
			PushedAt:     m.PushedAt,
			LastPulledAt: m.LastPulledAt,
			Children:     children[m.Digest],
			Subject:      m.Subject,
		})
	}
	return lifecycle.Evaluate(pol, images, now), seen, nil
}

// StartLifecyclePreview starts evaluating policy text (the repository's
// policy when text is empty) against the repository and returns the
// preview IN_PROGRESS. The evaluation is a job written with the preview
// (QueueLifecyclePreview), run by any node's job runner; its outcome is
// stored, so that any node answers GetLifecyclePreview.
func (s *Service) StartLifecyclePreview(ctx context.Context, reg meta.RegistryKey, name, text string) (*meta.LifecyclePreview, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	if text == "" {
		p, err := s.policyOf(ctx, r)
		if err != nil {
			return nil, err
		}
		text = p.Text
	}
	if _, err := parsePolicy(text); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	pv := &meta.LifecyclePreview{RepoID: r.ID, ID: newUploadID(), Text: text, Status: meta.PreviewInProgress, StartedAt: now}
	payload, err := json.Marshal(previewJob{RepoID: r.ID, Account: reg.Account, Region: reg.Region, Name: r.Name, PreviewID: pv.ID, Text: text})
	if err != nil {
		return nil, fmt.Errorf("encode lifecycle preview job: %w", err)
	}
	jobs := []meta.NewJob{{Queue: QueueLifecyclePreview, Key: pv.ID, Payload: payload}}
	err = s.meta.StartLifecyclePreview(ctx, pv, now.Add(-previewStaleAfter), jobs)
	switch {
	case errors.Is(err, meta.ErrPreviewInProgress):
		return nil, errorf(ErrLifecyclePreviewInProgress,
			"The previous lifecycle policy preview request has not completed. Wait and try again.")
	case errors.Is(err, meta.ErrRepositoryUnknown):
		return nil, repositoryNotFound(name, reg.Account)
	case err != nil:
		return nil, fmt.Errorf("start lifecycle preview: %w", err)
	}
	s.jobsWritten(len(jobs))
	return pv, nil
}

// runPreview evaluates a preview and records its outcome. An evaluation
// that fails is recorded as FAILED; a failure to record it is returned,
// for the job to be tried again.
func (s *Service) runPreview(ctx context.Context, r *meta.Repository, pol *lifecycle.Policy, pv meta.LifecyclePreview) error {
	results, _, err := s.evaluate(ctx, r, pol, s.now().UTC())
	pv.FinishedAt = s.now().UTC()
	if err != nil {
		s.log.ErrorContext(ctx, "lifecycle preview failed", "registry", r.Registry.Account, "region", r.Registry.Region,
			"repository", r.Name, "err", err)
		pv.Status, pv.Reason = meta.PreviewFailed, "the evaluation failed on the server; its log has the cause"
	} else {
		pv.Status, pv.Results = meta.PreviewComplete, previewResults(results)
	}
	err = s.meta.FinishLifecyclePreview(ctx, &pv)
	if err != nil && !errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("record lifecycle preview of %s: %w", r.Name, err)
	}
	return nil
}

func previewResults(rs []lifecycle.Result) []meta.PreviewResult {
	out := make([]meta.PreviewResult, 0, len(rs))
	for _, r := range rs {
		out = append(out, meta.PreviewResult{
			Digest:             r.Digest,
			Tags:               r.Tags,
			PushedAt:           r.PushedAt,
			Action:             string(r.Action.Type),
			TargetStorageClass: string(r.Action.TargetStorageClass),
			RulePriority:       r.AppliedRulePriority,
			StorageClass:       string(r.StorageClass),
		})
	}
	slices.SortFunc(out, func(a, b meta.PreviewResult) int {
		switch {
		case a.Digest < b.Digest:
			return -1
		case a.Digest > b.Digest:
			return 1
		}
		return 0
	})
	return out
}

// LifecyclePreview is a preview as GetLifecyclePolicyPreview reports it.
type LifecyclePreview struct {
	meta.LifecyclePreview
	// Summary counts every result, whatever the filter.
	Summary lifecycle.Summary
}

// GetLifecyclePreview returns a repository's latest preview, its results
// narrowed to the images ids name (any, when empty) with the tag status
// status (meta.TagStatusAny, or "", for all).
func (s *Service) GetLifecyclePreview(ctx context.Context, reg meta.RegistryKey, name string, ids []ImageID, status meta.TagStatus) (*LifecyclePreview, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	pv, err := s.meta.GetLifecyclePreview(ctx, r.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, errorf(ErrLifecyclePreviewNotFound,
			"Lifecycle policy preview does not exist for the repository with name '%s' in the registry with id '%s'", name, reg.Account)
	}
	if err != nil {
		return nil, fmt.Errorf("get lifecycle preview: %w", err)
	}
	if pv.Status == meta.PreviewInProgress && pv.StartedAt.Before(s.now().Add(-previewStaleAfter)) {
		pv.Status, pv.Reason = meta.PreviewFailed, "the node running the preview stopped before it finished"
	}
	out := &LifecyclePreview{LifecyclePreview: *pv}
	out.Results = nil
	var all []lifecycle.Result
	for _, res := range pv.Results {
		all = append(all, lifecycle.Result{Action: lifecycle.Action{
			Type: lifecycle.ActionType(res.Action), TargetStorageClass: lifecycle.StorageClass(res.TargetStorageClass)}})
		if previewMatches(res, ids, status) {
			out.Results = append(out.Results, res)
		}
	}
	out.Summary = lifecycle.Summarize(all)
	return out, nil
}

func previewMatches(r meta.PreviewResult, ids []ImageID, status meta.TagStatus) bool {
	switch {
	case status == meta.TagStatusTagged && len(r.Tags) == 0,
		status == meta.TagStatusUntagged && len(r.Tags) > 0:
		return false
	}
	if len(ids) == 0 {
		return true
	}
	return slices.ContainsFunc(ids, func(id ImageID) bool {
		return (id.Digest != "" || id.Tag != "") &&
			(id.Digest == "" || id.Digest == r.Digest) &&
			(id.Tag == "" || slices.Contains(r.Tags, id.Tag))
	})
}

// LifecycleRun is what one run of a repository's policy did.
type LifecycleRun struct {
	Registry    meta.RegistryKey
	Repository  string
	EvaluatedAt time.Time
	// Busy is set when another node was running the policy: this run did
	// nothing.
	Busy bool
	// Expired are the images deleted.
	Expired []lifecycle.Result
	// Skipped are images the policy expires that were left: changed since
	// the evaluation, or still listed by an index that stays.
	Skipped []lifecycle.Result
	// Unsupported are the images the policy archives: Berth has no archive
	// storage class, so they stay in standard storage.
	Unsupported []lifecycle.Result
}

// RunLifecyclePolicy runs a repository's lifecycle policy now, as the
// periodic run does.
func (s *Service) RunLifecyclePolicy(ctx context.Context, reg meta.RegistryKey, name string) (*LifecycleRun, error) {
	r, err := s.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	p, err := s.policyOf(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.runLifecycle(ctx, r, p)
}

// RunLifecyclePolicies runs the policy of every repository that has one,
// in every registry. A repository's failure is logged and the others go
// on; it returns the number of repositories it ran or found another node
// running.
func (s *Service) RunLifecyclePolicies(ctx context.Context) (int, error) {
	ps, err := s.meta.ListLifecyclePolicies(ctx)
	if err != nil {
		return 0, fmt.Errorf("list lifecycle policies: %w", err)
	}
	ran := 0
	for _, p := range ps {
		if err := ctx.Err(); err != nil {
			return ran, err
		}
		r := &meta.Repository{ID: p.RepoID, Registry: p.Registry, Name: p.Repository}
		if _, err := s.runLifecycle(ctx, r, p); err != nil {
			s.log.WarnContext(ctx, "lifecycle policy run failed", "registry", r.Registry.Account, "region", r.Registry.Region,
				"repository", r.Name, "err", err)
			continue
		}
		ran++
	}
	return ran, nil
}

// LifecycleLoop runs every repository's lifecycle policy every interval,
// until ctx ends.
func (s *Service) LifecycleLoop(ctx context.Context, every time.Duration) {
	for {
		if _, err := s.RunLifecyclePolicies(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "lifecycle policies", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (s *Service) runLifecycle(ctx context.Context, r *meta.Repository, p *meta.LifecyclePolicy) (*LifecycleRun, error) {
	run := &LifecycleRun{Registry: r.Registry, Repository: r.Name}
	// One run of a repository at a time: in this process by the lock, across
	// the nodes of a deployment by the lease.
	lease := "lifecycle/" + strconv.FormatInt(r.ID, 10)
	unlock := s.jobLocks.lock(lease)
	defer unlock()
	release, got, err := s.holdLease(ctx, lease, s.node, lifecycleLeaseTTL)
	if err != nil {
		s.lm.runs.Inc("error")
		return nil, fmt.Errorf("lifecycle lease: %w", err)
	}
	if !got {
		s.lm.runs.Inc("busy")
		run.Busy = true
		return run, nil
	}
	defer release()
	if err := s.executeLifecycle(ctx, r, p, run); err != nil {
		s.lm.runs.Inc("error")
		return nil, err
	}
	s.lm.runs.Inc("ok")
	return run, nil
}

func (s *Service) executeLifecycle(ctx context.Context, r *meta.Repository, p *meta.LifecyclePolicy, run *LifecycleRun) error {
	pol, err := parsePolicy(p.Text)
	if err != nil {
		return fmt.Errorf("stored lifecycle policy of %s: %w", r.Name, err)
	}
	now := s.now().UTC()
	run.EvaluatedAt = now
	results, seen, err := s.evaluate(ctx, r, pol, now)
	if err != nil {
		return err
	}
	labels := []string{r.Registry.Account, r.Registry.Region, r.Name}
	var expire []lifecycle.Result
	for _, res := range results {
		switch res.Action.Type {
		case lifecycle.ActionExpire:
			expire = append(expire, res)
		default:
			run.Unsupported = append(run.Unsupported, res)
		}
	}
	if n := len(run.Unsupported); n > 0 {
		s.lm.skipped.Add(float64(n), append(labels, "archive_unsupported")...)
		s.log.InfoContext(ctx, "lifecycle: not supported: skipped archiving; the images stay in standard storage",
			"registry", r.Registry.Account, "region", r.Registry.Region, "repository", r.Name, "images", n)
	}
	// Indexes before the images they list: a pass deletes what nothing
	// lists any more, which frees children for the next pass.
	slices.SortStableFunc(expire, func(a, b lifecycle.Result) int {
		return len(seen.children[b.Digest]) - len(seen.children[a.Digest])
	})
	for progress := true; progress && len(expire) > 0; {
		progress = false
		var waiting []lifecycle.Result
		for _, res := range expire {
			m := seen.manifests[res.Digest]
			ok, err := s.meta.DeleteManifestIf(ctx, r.ID, meta.ManifestState{
				Digest: m.Digest, Tags: m.Tags, PushedAt: m.PushedAt, LastPulledAt: m.LastPulledAt},
				s.imageJobs(r, ImageEvent{Action: ImageDeleted, Digest: m.Digest, Tags: m.Tags}))
			var refd *meta.ReferencedError
			switch {
			case errors.As(err, &refd):
				waiting = append(waiting, res)
				continue
			case err != nil:
				return fmt.Errorf("expire %s in %s: %w", res.Digest, r.Name, err)
			case !ok:
				run.Skipped = append(run.Skipped, res)
				s.lm.skipped.Inc(append(labels, "changed")...)
				s.log.InfoContext(ctx, "lifecycle: image changed since evaluation: skipped",
					"registry", r.Registry.Account, "region", r.Registry.Region, "repository", r.Name,
					"digest", res.Digest, "tags", res.Tags, "rule_priority", res.AppliedRulePriority)
			default:
				run.Expired = append(run.Expired, res)
				s.jobsWritten(len(s.opts.ImageEventQueues))
				s.lm.expired.Inc(labels...)
				s.log.InfoContext(ctx, "lifecycle expired image",
					"registry", r.Registry.Account, "region", r.Registry.Region, "repository", r.Name,
					"digest", res.Digest, "tags", res.Tags, "rule_priority", res.AppliedRulePriority,
					"evaluated_at", now)
			}
			progress = true
		}
		expire = waiting
	}
	for _, res := range expire {
		run.Skipped = append(run.Skipped, res)
		s.lm.skipped.Inc(append(labels, "referenced")...)
		s.log.InfoContext(ctx, "lifecycle: image listed by an index that stays: skipped",
			"registry", r.Registry.Account, "region", r.Registry.Region, "repository", r.Name, "digest", res.Digest)
	}
	if err := s.meta.MarkLifecycleEvaluated(ctx, r.ID, p.Text, now); err != nil {
		return fmt.Errorf("record lifecycle evaluation of %s: %w", r.Name, err)
	}
	return nil
}

// lifecycleMetrics are the lifecycle's counters on the /metrics page.
type lifecycleMetrics struct {
	expired *metrics.Counter
	skipped *metrics.Counter
	runs    *metrics.Counter
}

func newLifecycleMetrics(reg *metrics.Registry) *lifecycleMetrics {
	return &lifecycleMetrics{
		expired: reg.Counter("berth_lifecycle_expired_images_total",
			"Images deleted by lifecycle policies.", "registry", "region", "repository"),
		skipped: reg.Counter("berth_lifecycle_skipped_images_total",
			"Images a lifecycle policy acts on that were left alone, by reason: changed (pushed, re-tagged or pulled since the evaluation), referenced (listed by an index that stays), archive_unsupported (archiving is not supported).",
			"registry", "region", "repository", "reason"),
		runs: reg.Counter("berth_lifecycle_runs_total",
			"Runs of a repository's lifecycle policy, by result: ok, error, or busy (another node was running it).", "result"),
	}
}
