// Package meta defines Berth's transactional metadata store: repositories,
// blob links, manifests, tags and upload sessions. Each method is one
// transaction; the checks a method makes (a manifest's references exist, a
// tag is not immutable) happen inside it, so concurrent requests on several
// nodes cannot interleave between check and write.
//
// Every implementation passes the suite in package metatest.
package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

var (
	ErrNotFound           = errors.New("meta: not found")
	ErrRepositoryExists   = errors.New("meta: repository already exists")
	ErrRepositoryUnknown  = errors.New("meta: repository not found")
	ErrManifestUnknown    = errors.New("meta: manifest not found")
	ErrBlobUnknown        = errors.New("meta: blob not found")
	ErrTagUnknown         = errors.New("meta: tag not found")
	ErrUploadUnknown      = errors.New("meta: upload not found")
	ErrRepositoryNotEmpty = errors.New("meta: repository not empty")
	// ErrTagImmutable is returned when a push would move an immutable tag.
	ErrTagImmutable = errors.New("meta: tag is immutable")
	// ErrManifestReferenced is returned when deleting a manifest that an
	// index in the same repository still lists.
	ErrManifestReferenced = errors.New("meta: manifest referenced by an index")
	// ErrOffsetMismatch is returned when an upload was advanced by someone
	// else since it was read.
	ErrOffsetMismatch = errors.New("meta: upload offset changed")
)

// MissingRefError names a reference a manifest makes that the repository
// does not hold. It wraps ErrBlobUnknown or ErrManifestUnknown.
type MissingRefError struct {
	Ref Ref
}

func (e *MissingRefError) Error() string {
	return fmt.Sprintf("meta: %s %s not in repository", e.Ref.Kind, e.Ref.Digest)
}

func (e *MissingRefError) Unwrap() error {
	if e.Ref.Kind == RefManifest {
		return ErrManifestUnknown
	}
	return ErrBlobUnknown
}

// ReferencedError names the index that keeps a manifest from being deleted.
type ReferencedError struct {
	By string
}

func (e *ReferencedError) Error() string {
	return "meta: manifest is referenced by index " + e.By
}

func (e *ReferencedError) Unwrap() error { return ErrManifestReferenced }

// RegistryKey names a registry: an (account, region) pair as in ECR.
type RegistryKey struct {
	Account string
	Region  string
}

// Repository is one repository of a registry.
type Repository struct {
	ID        int64
	Registry  RegistryKey
	Name      string
	CreatedAt time.Time
	// TagMutability is ECR's imageTagMutability: MUTABLE, IMMUTABLE, or one
	// of the exclusion-filter variants; the domain interprets it.
	TagMutability string
	// Settings holds the rest of the repository's ECR configuration as the
	// domain encodes it (scanning, encryption, mutability filters, tags).
	Settings json.RawMessage
}

// Blob is a committed blob known to the metadata.
type Blob struct {
	Digest string
	Size   int64
}

// RefKind says what a manifest reference points at.
type RefKind string

const (
	RefBlob     RefKind = "blob"
	RefManifest RefKind = "manifest"
)

// Ref is a descriptor a manifest holds that must exist in its repository.
type Ref struct {
	Digest string
	Kind   RefKind
}

// Manifest is a stored manifest, its exact bytes and what the domain
// extracted from them.
type Manifest struct {
	Digest       string
	MediaType    string
	ArtifactType string
	// Subject is the digest named by the manifest's subject field, if any.
	Subject     string
	Annotations map[string]string
	Content     []byte
	// Size is len(Content) plus the sizes of the blobs it references, as
	// ECR's imageSizeInBytes reports; the bytes of Content are Content's.
	ImageSize    int64
	PushedAt     time.Time
	LastPulledAt time.Time
	Tags         []string
}

// TagWrite asks PutManifest to point a tag at the manifest.
type TagWrite struct {
	Name string
	// Immutable refuses the write with ErrTagImmutable when the tag already
	// points at a different manifest.
	Immutable bool
}

// PutManifest describes one manifest push.
type PutManifest struct {
	RepoID   int64
	Manifest Manifest
	// Refs must all exist in the repository, or the push fails with a
	// *MissingRefError. Refs are recorded so that the blobs and child
	// manifests stay alive while the manifest does.
	Refs []Ref
	Tags []TagWrite
}

// Upload is an upload session in progress.
type Upload struct {
	ID     string
	RepoID int64
	// Offset is the number of bytes staged and hashed so far.
	Offset int64
	// HashState is the marshalled state of the running hash over the
	// first Offset bytes.
	HashState []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Referrer describes a manifest whose subject is another manifest.
type Referrer struct {
	Digest       string
	MediaType    string
	ArtifactType string
	Size         int64
	Annotations  map[string]string
}

// TagStatus selects images by whether tags point at them, as ECR's
// tagStatus filter does.
type TagStatus string

const (
	TagStatusAny      TagStatus = "ANY"
	TagStatusTagged   TagStatus = "TAGGED"
	TagStatusUntagged TagStatus = "UNTAGGED"
)

// ImageQuery selects one page of a repository's manifests.
type ImageQuery struct {
	// TagStatus filters by tags; "" means TagStatusAny.
	TagStatus TagStatus
	// After is exclusive: the page starts after this digest.
	After string
	// Limit <= 0 means no limit.
	Limit int
}

// Pull is one pull of a manifest, as recorded for lastRecordedPullTime.
type Pull struct {
	RepoID int64
	Digest string
	At     time.Time
}

// Store is the metadata store.
type Store interface {
	CreateRepository(ctx context.Context, r *Repository) error
	GetRepository(ctx context.Context, reg RegistryKey, name string) (*Repository, error)
	// ListRepositories returns up to limit repositories of a registry whose
	// names sort after after, in name order.
	ListRepositories(ctx context.Context, reg RegistryKey, after string, limit int) ([]*Repository, error)
	UpdateRepository(ctx context.Context, r *Repository) error
	// DeleteRepository removes a repository. Without force it fails with
	// ErrRepositoryNotEmpty while the repository holds manifests.
	DeleteRepository(ctx context.Context, repoID int64, force bool) error

	// ModifyRepository reads a repository, lets fn change its TagMutability
	// and Settings, and stores the result, in one transaction: concurrent
	// read-modify-writes (two TagResource calls) cannot lose each other's
	// changes. An error from fn aborts the change and is returned wrapped.
	// A missing repository fails with ErrRepositoryUnknown.
	ModifyRepository(ctx context.Context, repoID int64, fn func(r *Repository) error) error
	// GetRegistrySetting returns a registry-wide setting (ECR's account
	// settings), or ErrNotFound when it was never set.
	GetRegistrySetting(ctx context.Context, reg RegistryKey, name string) (string, error)
	// PutRegistrySetting sets or replaces a registry-wide setting.
	PutRegistrySetting(ctx context.Context, reg RegistryKey, name, value string) error

	// LinkBlob records a committed blob (once per deployment) and makes it
	// readable from the repository.
	LinkBlob(ctx context.Context, repoID int64, b Blob) error
	// GetBlob returns a blob linked to the repository, or ErrBlobUnknown.
	GetBlob(ctx context.Context, repoID int64, digest string) (Blob, error)
	// UnlinkBlob removes the link; the bytes stay until garbage collection.
	UnlinkBlob(ctx context.Context, repoID int64, digest string) error
	// BlobRepositories names up to limit repositories of a registry that
	// link the blob, in name order: the candidates for a mount that names
	// no source.
	BlobRepositories(ctx context.Context, reg RegistryKey, digest string, limit int) ([]string, error)

	CreateUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, repoID int64, id string) (*Upload, error)
	// AdvanceUpload records new progress; it fails with ErrOffsetMismatch
	// unless the stored offset is still from.
	AdvanceUpload(ctx context.Context, id string, from int64, u *Upload) error
	// CompleteUpload deletes the upload session and links the blob in one
	// transaction.
	CompleteUpload(ctx context.Context, id string, repoID int64, b Blob) error
	DeleteUpload(ctx context.Context, id string) error
	// UploadIDs lists every upload session, across repositories.
	UploadIDs(ctx context.Context) ([]string, error)
	// StaleUploads lists the upload sessions last updated before before.
	StaleUploads(ctx context.Context, before time.Time) ([]string, error)

	PutManifest(ctx context.Context, p *PutManifest) error
	// GetManifest returns a manifest by digest, with its tags.
	GetManifest(ctx context.Context, repoID int64, digest string) (*Manifest, error)
	// ResolveTag returns the digest a tag points at, or ErrTagUnknown.
	ResolveTag(ctx context.Context, repoID int64, tag string) (string, error)
	// GetTaggedManifest returns the manifest a tag points at in one lookup,
	// or ErrTagUnknown. It is the pull path: Tags stays empty.
	GetTaggedManifest(ctx context.Context, repoID int64, tag string) (*Manifest, error)
	// DeleteManifest removes a manifest and every tag that points at it. It
	// fails with a *ReferencedError while an index in the repository lists it.
	DeleteManifest(ctx context.Context, repoID int64, digest string) error
	DeleteTag(ctx context.Context, repoID int64, tag string) error
	// ListTags returns up to limit tag names after after, in lexical order.
	ListTags(ctx context.Context, repoID int64, after string, limit int) ([]string, error)
	// ListReferrers returns the manifests whose subject is digest, filtered
	// by artifactType when it is not empty.
	ListReferrers(ctx context.Context, repoID int64, digest, artifactType string) ([]Referrer, error)

	// ListImages returns the manifests of a page (see ImageQuery) in
	// digest order, with their tags and without Content.
	ListImages(ctx context.Context, repoID int64, q ImageQuery) ([]*Manifest, error)
	// RecordPulls moves each pulled manifest's LastPulledAt forward to the
	// pull's time (never back). Pulls of manifests that are gone are
	// skipped.
	RecordPulls(ctx context.Context, pulls []Pull) error
	// ManifestsReferencing returns up to limit digests, in order, of the
	// repository's manifests that reference the blob.
	ManifestsReferencing(ctx context.Context, repoID int64, blobDigest string, limit int) ([]string, error)
	// DeleteUntaggedManifest removes a manifest unless a tag points at it
	// or an index lists it, in one transaction, and reports whether it did.
	DeleteUntaggedManifest(ctx context.Context, repoID int64, digest string) (bool, error)

	IAMStore
	LifecycleStore
	GCStore
	LeaseStore

	Close() error
}

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
	// ErrRepositoryUnknown.
	StartLifecyclePreview(ctx context.Context, p *LifecyclePreview, staleBefore time.Time) error
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
	// index in the repository lists it.
	DeleteManifestIf(ctx context.Context, repoID int64, want ManifestState) (bool, error)
}

// Online garbage collection.
//
// LinkBlob and CompleteUpload stamp a link with the store's clock when they
// make it or make it again; deleting a manifest stamps the links of the
// blobs it referenced. A link's age is measured from that stamp.

// ErrBlobDeleting is returned by BeginBlobCommit, LinkBlob and
// CompleteUpload for a digest whose bytes garbage collection is deleting,
// or has deleted (LinkBlob, CompleteUpload): a link would name bytes that
// are gone.
var ErrBlobDeleting = errors.New("meta: blob deleted by garbage collection")

// BlobLink is a repository's link to a blob.
type BlobLink struct {
	RepoID     int64
	Registry   RegistryKey
	Repository string
	Digest     string
	Size       int64
	LinkedAt   time.Time
}

// RepositoryUsage sums a repository's blob links: those a manifest of the
// repository references, and the others.
type RepositoryUsage struct {
	RepoID            int64
	Registry          RegistryKey
	Repository        string
	ReferencedBlobs   int
	ReferencedBytes   int64
	UnreferencedBlobs int
	UnreferencedBytes int64
}

// GCStore finds what garbage collection may remove and removes it, each
// check made again inside the transaction that removes.
type GCStore interface {
	// StaleBlobLinks returns up to limit links stamped before before that
	// no manifest of their repository references, in (RepoID, Digest)
	// order after (afterRepo, afterDigest).
	StaleBlobLinks(ctx context.Context, before time.Time, afterRepo int64, afterDigest string, limit int) ([]BlobLink, error)
	// RemoveStaleBlobLink removes a link if it is still stale as
	// StaleBlobLinks says, and reports whether it did.
	RemoveStaleBlobLink(ctx context.Context, repoID int64, digest string, before time.Time) (bool, error)
	// UnreferencedBlobs returns up to limit recorded blobs, first recorded
	// before before, that no repository links and no manifest references,
	// in digest order after after.
	UnreferencedBlobs(ctx context.Context, before time.Time, after string, limit int) ([]Blob, error)
	// RecordedBlobs reports which of the digests have a blob record.
	RecordedBlobs(ctx context.Context, digests []string) (map[string]bool, error)
	// ClaimBlobDeletion starts deleting a blob's bytes. If no repository
	// links the digest, no manifest references it, no upload is committing
	// it (BeginBlobCommit) and no deletion of it is under way, it removes
	// the blob's record, if any, marks the digest as being deleted at at,
	// and reports true. From then on BeginBlobCommit fails with
	// ErrBlobDeleting until FinishBlobDeletion.
	ClaimBlobDeletion(ctx context.Context, digest string, at time.Time) (bool, error)
	// FinishBlobDeletion records that a claimed digest's bytes are gone.
	FinishBlobDeletion(ctx context.Context, digest string) error
	// PendingBlobDeletions lists the digests claimed before before whose
	// deletion never finished (their collector stopped).
	PendingBlobDeletions(ctx context.Context, before time.Time) ([]string, error)
	// PruneBlobDeletions forgets finished deletions claimed before before.
	PruneBlobDeletions(ctx context.Context, before time.Time) (int, error)
	// BeginBlobCommit records that upload session id is about to commit
	// the digest's bytes, so that ClaimBlobDeletion leaves the digest alone
	// until the session ends (CompleteUpload, DeleteUpload). It forgets a
	// finished deletion of the digest (the upload brings the bytes back),
	// and fails with ErrBlobDeleting while one is under way, and with
	// ErrUploadUnknown when there is no such session.
	BeginBlobCommit(ctx context.Context, id, digest string) error
	// BlobUsage sums the blob links of every repository that has any, in
	// RepoID order.
	BlobUsage(ctx context.Context) ([]RepositoryUsage, error)
}

// LeaseStore lets one node at a time do a job across a deployment.
type LeaseStore interface {
	// AcquireLease takes, or renews, lease name for holder until now+ttl,
	// unless another holder has it until after now; it reports whether
	// holder has it.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up holder's lease; one not held is not an error.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// IAM: accounts, identities, policies, access keys and role sessions.
//
// Names of users, groups, roles and policies compare case-insensitively
// (ASCII), as IAM's do: "Bob" and "bob" are one user, stored as first
// written. Documents are stored verbatim. List methods return name order.

// IAMKind is the kind of identity policies attach to.
type IAMKind string

const (
	IAMUser  IAMKind = "user"
	IAMGroup IAMKind = "group"
	IAMRole  IAMKind = "role"
)

// MaxAccessKeysPerUser is IAM's quota of access keys per user, Active and
// Inactive alike; an account's root has the same quota.
const MaxAccessKeysPerUser = 2

// IAM sentinels; IAM store methods return them inside an *IAMError.
var (
	ErrIAMExists   = errors.New("meta: IAM entity already exists")
	ErrIAMNotFound = errors.New("meta: IAM entity not found")
	// ErrIAMConflict refuses deleting what others still depend on.
	ErrIAMConflict = errors.New("meta: IAM entity still in use")
	// ErrIAMLimit refuses going over a quota (MaxAccessKeysPerUser).
	ErrIAMLimit = errors.New("meta: IAM quota exceeded")
)

// What an *IAMError is about, and what blocks a delete.
const (
	IAMWhatAccount    = "account"
	IAMWhatAccessKey  = "access key"
	IAMWhatPolicy     = "policy"     // managed; Name is the ARN
	IAMWhatAttachment = "attachment" // Name is the policy ARN
	IAMWhatMembership = "membership" // Name is the user
	IAMWhatSession    = "session"
	// IAMKind values name users, groups and roles; IAMKind+" policy"
	// ("user policy") an inline policy.

	IAMBlockedByAccessKeys       = "access keys"
	IAMBlockedByInlinePolicies   = "policies"
	IAMBlockedByAttachedPolicies = "attached policies"
	IAMBlockedByGroups           = "groups"      // a user's memberships
	IAMBlockedByMembers          = "members"     // a group's users
	IAMBlockedByAttachments      = "attachments" // a managed policy's
)

// IAMError says which entity an IAM store method found present, missing,
// in use or over quota. It wraps one of the IAM sentinels.
type IAMError struct {
	Err  error
	What string
	Name string
	// BlockedBy, with ErrIAMConflict, is what still depends on the entity.
	BlockedBy string
}

func (e *IAMError) Error() string {
	msg := e.Err.Error() + ": " + e.What + " " + e.Name
	if e.BlockedBy != "" {
		msg += " (has " + e.BlockedBy + ")"
	}
	return msg
}

func (e *IAMError) Unwrap() error { return e.Err }

// IAMAccount is an account of the deployment other than the default one,
// whose root keys come from the configuration.
type IAMAccount struct {
	ID        string
	CreatedAt time.Time
}

// IAMEntity is a user, group or role.
type IAMEntity struct {
	Account   string
	Kind      IAMKind
	Name      string
	Path      string
	ID        string // AIDA…, AGPA…, AROA…; unique in the deployment
	CreatedAt time.Time

	// Roles only.
	AssumeRolePolicy   string
	Description        string
	MaxSessionDuration int // seconds
}

// IAMInlinePolicy is a policy embedded in one user, group or role.
type IAMInlinePolicy struct {
	Name     string
	Document string
}

// IAMPolicy is a customer managed policy. AWS managed policies
// (arn:aws:iam::aws:policy/…) are built into the binary, not stored.
type IAMPolicy struct {
	Account     string
	Name        string
	Path        string
	ID          string // ANPA…
	ARN         string
	Description string
	// Document is the default (and only) version, v1.
	Document  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IAMAccessKey is a long-term key of a user, or of an account's root when
// UserName is "".
type IAMAccessKey struct {
	ID              string
	Account         string
	UserName        string
	SecretAccessKey string
	Status          string // Active or Inactive
	CreatedAt       time.Time
}

// IAMSession is a role session made by AssumeRole: temporary credentials
// stored so that every node sharing the database accepts them.
type IAMSession struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey string
	SessionToken    string
	Account         string
	RoleName        string
	RolePath        string
	RoleID          string
	SessionName     string
	// SourceARN is the identity that assumed the role.
	SourceARN string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IAMListQuery selects one page of a list.
type IAMListQuery struct {
	// PathPrefix keeps entities whose path starts with it; "" keeps all.
	PathPrefix string
	// After is exclusive: the page starts after this name
	// (case-insensitively).
	After string
	// Limit <= 0 means no limit.
	Limit int
}

// IAMStore keeps IAM's state. Every method is one transaction; the checks
// it makes (the user exists, the role has no policies left) are made
// inside it.
type IAMStore interface {
	// CreateAccount records an account and, unless root is nil, its first
	// root access key.
	CreateAccount(ctx context.Context, a *IAMAccount, root *IAMAccessKey) error
	GetAccount(ctx context.Context, id string) (*IAMAccount, error)
	ListAccounts(ctx context.Context) ([]*IAMAccount, error)

	CreateIAMEntity(ctx context.Context, e *IAMEntity) error
	GetIAMEntity(ctx context.Context, account string, kind IAMKind, name string) (*IAMEntity, error)
	ListIAMEntities(ctx context.Context, account string, kind IAMKind, q IAMListQuery) ([]*IAMEntity, error)
	// DeleteIAMEntity refuses (ErrIAMConflict) while a user has access
	// keys, inline or attached policies or groups, a group has members or
	// policies, a role has policies. Deleting a role ends its sessions.
	DeleteIAMEntity(ctx context.Context, account string, kind IAMKind, name string) error
	UpdateAssumeRolePolicy(ctx context.Context, account, role, document string) error

	// AddGroupMember is idempotent; RemoveGroupMember fails with
	// ErrIAMNotFound (What membership) when the user is not a member.
	AddGroupMember(ctx context.Context, account, group, user string) error
	RemoveGroupMember(ctx context.Context, account, group, user string) error
	ListGroupMembers(ctx context.Context, account, group string) ([]*IAMEntity, error)
	ListUserGroups(ctx context.Context, account, user string) ([]*IAMEntity, error)

	// PutInlinePolicy adds or replaces an inline policy.
	PutInlinePolicy(ctx context.Context, account string, kind IAMKind, owner string, p IAMInlinePolicy) error
	GetInlinePolicy(ctx context.Context, account string, kind IAMKind, owner, name string) (*IAMInlinePolicy, error)
	ListInlinePolicies(ctx context.Context, account string, kind IAMKind, owner string) ([]string, error)
	DeleteInlinePolicy(ctx context.Context, account string, kind IAMKind, owner, name string) error

	CreateManagedPolicy(ctx context.Context, p *IAMPolicy) error
	GetManagedPolicy(ctx context.Context, arn string) (*IAMPolicy, error)
	ListManagedPolicies(ctx context.Context, account string, q IAMListQuery) ([]*IAMPolicy, error)
	// DeleteManagedPolicy refuses (ErrIAMConflict) while it is attached.
	DeleteManagedPolicy(ctx context.Context, arn string) error

	// AttachPolicy is idempotent. A customer managed policy must be the
	// account's own; an AWS managed ARN (arn:aws:iam::aws:policy/…) is
	// taken on the caller's word.
	AttachPolicy(ctx context.Context, account string, kind IAMKind, owner, policyARN string) error
	DetachPolicy(ctx context.Context, account string, kind IAMKind, owner, policyARN string) error
	ListAttachedPolicies(ctx context.Context, account string, kind IAMKind, owner string) ([]string, error)
	// PolicyAttachmentCounts counts, per policy ARN, the account's users,
	// groups and roles it is attached to.
	PolicyAttachmentCounts(ctx context.Context, account string) (map[string]int, error)

	// CreateAccessKey fails with ErrIAMLimit when the user (or root)
	// already has MaxAccessKeysPerUser keys.
	CreateAccessKey(ctx context.Context, k *IAMAccessKey) error
	GetAccessKey(ctx context.Context, id string) (*IAMAccessKey, error)
	ListAccessKeys(ctx context.Context, account, user string) ([]*IAMAccessKey, error)
	UpdateAccessKeyStatus(ctx context.Context, account, user, id, status string) error
	DeleteAccessKey(ctx context.Context, account, user, id string) error

	// CreateRoleSession fails with ErrIAMNotFound unless the role exists
	// with the session's RoleID.
	CreateRoleSession(ctx context.Context, s *IAMSession) error
	GetRoleSession(ctx context.Context, accessKeyID string) (*IAMSession, error)
	DeleteRoleSessionsExpiredBefore(ctx context.Context, t time.Time) (int, error)
}
