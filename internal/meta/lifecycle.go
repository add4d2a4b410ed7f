package meta

import (
	"context"
	"errors"
	"time"
)

// Lifecycle policies, their previews, and what a lifecycle run needs.

// ErrPreviewInProgress refuses starting a lifecycle preview while the
// repository's last one still runs.
var ErrPreviewInProgress = errors.New("meta: lifecycle preview in progress")

// LifecyclePolicy is a repository's lifecycle policy.
type LifecyclePolicy struct {
	RepoID     int64
	Registry   RegistryKey
	Repository string
	// Text is the policy exactly as it was put.
	Text            string
	UpdatedAt       time.Time
	LastEvaluatedAt time.Time
}

// Lifecycle preview statuses, spelled as ECR's LifecyclePolicyPreviewStatus.
const (
	PreviewInProgress = "IN_PROGRESS"
	PreviewComplete   = "COMPLETE"
	PreviewFailed     = "FAILED"
)

// LifecyclePreview is a repository's latest lifecycle policy preview.
type LifecyclePreview struct {
	RepoID int64
	// ID tells one preview from the next, so that a run given up as stale
	// cannot record its results over a newer preview.
	ID         string
	Text       string
	Status     string
	Reason     string // why the preview FAILED
	StartedAt  time.Time
	FinishedAt time.Time
	// Results are the images the policy acts on, in digest order.
	Results []PreviewResult
}

// PreviewResult is one image a preview found the policy acts on.
type PreviewResult struct {
	Digest             string
	Tags               []string
	PushedAt           time.Time
	Action             string // EXPIRE or TRANSITION
	TargetStorageClass string // ARCHIVE for TRANSITION, else ""
	RulePriority       int
	StorageClass       string // the image's, before the action
}

// ManifestState is what a lifecycle run saw of a manifest when it decided
// to expire it.
type ManifestState struct {
	Digest       string
	Tags         []string
	PushedAt     time.Time
	LastPulledAt time.Time
}

// LifecycleStore keeps lifecycle policies and previews.
type LifecycleStore interface {
	// PutLifecyclePolicy sets or replaces a repository's policy; a missing
	// repository fails with ErrRepositoryUnknown. LastEvaluatedAt is kept.
	PutLifecyclePolicy(ctx context.Context, repoID int64, text string, at time.Time) error
	// GetLifecyclePolicy fails with ErrNotFound when the repository has none.
	GetLifecyclePolicy(ctx context.Context, repoID int64) (*LifecyclePolicy, error)
	// DeleteLifecyclePolicy removes the policy and returns what it was, or
	// fails with ErrNotFound.
	DeleteLifecyclePolicy(ctx context.Context, repoID int64) (*LifecyclePolicy, error)
	// ListLifecyclePolicies returns the policies of every registry's
	// repositories, in RepoID order.
	ListLifecyclePolicies(ctx context.Context) ([]*LifecyclePolicy, error)
	// MarkLifecycleEvaluated sets LastEvaluatedAt, if the policy's text is
	// still text (a policy put meanwhile was not evaluated).
	MarkLifecycleEvaluated(ctx context.Context, repoID int64, text string, at time.Time) error

	// StartLifecyclePreview records p (Status IN_PROGRESS, no results) as
	// the repository's preview, replacing the last one, unless the last one
	// is IN_PROGRESS and started at or after staleBefore: then it fails with
	// ErrPreviewInProgress. A missing repository fails with
	// ErrRepositoryUnknown. jobs are written only if the preview starts.
	StartLifecyclePreview(ctx context.Context, p *LifecyclePreview, staleBefore time.Time, jobs []NewJob) error
	// FinishLifecyclePreview records p's Status, Reason, FinishedAt and
	// Results, if the repository's preview is still p.ID and IN_PROGRESS;
	// otherwise it fails with ErrNotFound.
	FinishLifecyclePreview(ctx context.Context, p *LifecyclePreview) error
	// GetLifecyclePreview returns the repository's preview with its results,
	// or fails with ErrNotFound.
	GetLifecyclePreview(ctx context.Context, repoID int64) (*LifecyclePreview, error)

	// ManifestChildren maps each index of the repository to the manifests
	// it lists (its refs of kind RefManifest).
	ManifestChildren(ctx context.Context, repoID int64) (map[string][]string, error)
	// DeleteManifestIf deletes a manifest as DeleteManifest does, but only
	// while it is as want describes it: the same tags (as a set), PushedAt
	// and LastPulledAt. It reports false, with no error, when the manifest
	// is gone or has changed, and fails with a *ReferencedError while an
	// index in the repository lists it. jobs are written only if it deletes.
	DeleteManifestIf(ctx context.Context, repoID int64, want ManifestState, jobs []NewJob) (bool, error)
}
