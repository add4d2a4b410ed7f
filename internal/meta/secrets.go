package meta

import (
	"context"
	"errors"
	"time"
)

// Secrets Manager's secrets. A secret belongs to a registry (an account
// and a region) and is named uniquely within it; its ARN, with the random
// suffix Secrets Manager gives it, is unique in the deployment. A secret
// has versions, each holding one value that the domain has encrypted (the
// store keeps the bytes as given and never reads them), and staging labels
// (AWSCURRENT, AWSPREVIOUS, any others), each on at most one version of
// the secret. A version with no label is deprecated.

// Secret store sentinels.
var (
	ErrSecretNotFound = errors.New("meta: secret not found")
	// ErrSecretExists refuses a name its registry already has.
	ErrSecretExists = errors.New("meta: secret already exists")
	// ErrSecretScheduled refuses a change to a secret scheduled for
	// deletion, where SecretUpdate.Live asks for that check, and a
	// CreateSecret whose name is taken by a secret scheduled for deletion
	// whose date has not come.
	ErrSecretScheduled = errors.New("meta: secret is scheduled for deletion")
	// ErrSecretVersionExists refuses a version ID the secret already has.
	ErrSecretVersionExists = errors.New("meta: secret version already exists")
	// ErrSecretVersionNotFound is a version (by ID or by label) the secret
	// does not have.
	ErrSecretVersionNotFound = errors.New("meta: secret version not found")
)

// Staging labels the store moves itself: a version given AWSCURRENT hands
// the version that had it AWSPREVIOUS.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// MaxSecretVersions is how many versions a secret keeps: past it, adding a
// version removes the oldest deprecated ones (those with no label), as
// Secrets Manager removes them.
const MaxSecretVersions = 100

// Secret is a secret's record, without its values.
type Secret struct {
	ID          int64
	Registry    RegistryKey
	Name        string
	ARN         string
	Description string
	KMSKeyID    string
	CreatedAt   time.Time
	// ChangedAt is the last change (Secrets Manager's LastChangedDate);
	// AccessedAt the day of the last read of a value (zero for never).
	ChangedAt  time.Time
	AccessedAt time.Time
	// DeletedAt is when deletion was asked for and DeletionDate when the
	// secret goes; both are zero unless the secret is scheduled for
	// deletion.
	DeletedAt    time.Time
	DeletionDate time.Time
	// Tags are in key order.
	Tags []Tag
	// Versions are newest first, without their values.
	Versions []SecretVersion
}

// Scheduled reports whether the secret is scheduled for deletion.
func (s *Secret) Scheduled() bool { return !s.DeletionDate.IsZero() }

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// SecretVersion is one version of a secret.
type SecretVersion struct {
	ID string
	// Stages are the version's staging labels, in name order. Given to
	// CreateSecret or SecretUpdate.Version, they are the labels moved to
	// the new version.
	Stages    []string
	CreatedAt time.Time
	// Value is the encrypted value: given when a version is added, read
	// back by SecretVersionValue only.
	Value []byte
}

// SecretUpdate is a change to one secret, made in one transaction. Unset
// fields are left as they are.
type SecretUpdate struct {
	// At, when set, becomes the secret's ChangedAt.
	At          time.Time
	Description *string
	KMSKeyID    *string
	// Version is added to the secret and its Stages moved to it from the
	// versions that had them (AWSCURRENT's old version gets AWSPREVIOUS,
	// which its previous holder loses). A version ID the secret has fails
	// with ErrSecretVersionExists and changes nothing.
	Version *SecretVersion
	// SetTags adds tags or replaces their values; RemoveTags removes the
	// keys named (a key not there is not an error).
	SetTags    []Tag
	RemoveTags []string
	// Schedule, when set, schedules the secret for deletion (DeletedAt,
	// DeletionDate) or, with both zero, cancels a scheduled deletion.
	Schedule *SecretSchedule
	// AccessedAt, when set, becomes the secret's AccessedAt.
	AccessedAt time.Time
	// Live refuses the update with ErrSecretScheduled when the secret is
	// scheduled for deletion, checked in the update's transaction.
	Live bool
}

// SecretSchedule is when a secret's deletion was asked for and when it
// happens.
type SecretSchedule struct {
	DeletedAt    time.Time
	DeletionDate time.Time
}

// SecretStore keeps Secrets Manager's secrets.
type SecretStore interface {
	// CreateSecret stores a new secret, with its first version when v is
	// not nil (v.Stages are its labels), and sets s.ID. s.Versions and
	// s.Tags beyond those given are ignored; s.Tags are stored. A name the
	// registry has fails with ErrSecretExists — or, when that secret is
	// scheduled for deletion, with ErrSecretScheduled until its
	// DeletionDate, and from then on the old secret is removed and the new
	// one created in its place.
	CreateSecret(ctx context.Context, s *Secret, v *SecretVersion) error
	// Secret reads a secret by name, with its tags and versions (without
	// values); ErrSecretNotFound if there is none.
	Secret(ctx context.Context, reg RegistryKey, name string) (*Secret, error)
	// SecretByARN reads a secret by its whole ARN.
	SecretByARN(ctx context.Context, arn string) (*Secret, error)
	// Secrets lists a registry's secrets in name order, with their tags
	// and versions (without values).
	Secrets(ctx context.Context, reg RegistryKey) ([]Secret, error)
	// SecretVersionValue reads one version of a secret with its value: the
	// version versionID when it is not empty, else the one labelled
	// stage. ErrSecretVersionNotFound if the secret has no such version,
	// ErrSecretNotFound if there is no such secret.
	SecretVersionValue(ctx context.Context, secretID int64, versionID, stage string) (*SecretVersion, error)
	// UpdateSecret changes a secret; ErrSecretNotFound if there is none.
	UpdateSecret(ctx context.Context, secretID int64, u SecretUpdate) error
	// DeleteSecret removes a secret with its versions and tags;
	// ErrSecretNotFound if there is none.
	DeleteSecret(ctx context.Context, secretID int64) error
}
