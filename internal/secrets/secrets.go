// Package secrets is Berth's Secrets Manager domain: the secrets ECR users
// keep registry credentials in (a pull-through cache rule's credentialArn
// names one whose name starts with ecr-pullthroughcache/). A secret
// belongs to a registry — an account and a region — has an ARN with
// Secrets Manager's random suffix, versions each holding a string or
// binary value, and staging labels (AWSCURRENT, AWSPREVIOUS) that say
// which version is which. Values are encrypted before they reach the
// store (crypt.go). The front door (secretsapi) calls it with the
// caller's registry; other domains read a value with SecretValue. It
// never sees HTTP and never writes SQL.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Store is what the domain keeps in the metadata store (meta.SecretStore).
type Store interface {
	meta.SecretStore
}

// Options configure a Service.
type Options struct {
	// TokenKey is the deployment's login-token key material, from which
	// the key that encrypts values is derived; every node has the same.
	TokenKey []byte
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service is the Secrets Manager domain over a store.
type Service struct {
	store Store
	seal  *sealer
	log   *slog.Logger
	now   func() time.Time
}

// New returns the domain over store; it fails when the token key is too
// short to derive a key from.
func New(store Store, opts Options) (*Service, error) {
	seal, err := newSealer(opts.TokenKey)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, seal: seal, log: opts.Logger, now: opts.Now}, nil
}

// The store's records the domain hands to its callers, under its names.
type (
	// Registry is an account and a region.
	Registry = meta.RegistryKey
	// Secret is a secret's record, without values.
	Secret = meta.Secret
	// Version is one version of a secret, without its value.
	Version = meta.SecretVersion
	// Tag is a resource tag.
	Tag = meta.Tag
)

// The labels Secrets Manager manages itself.
const (
	StageCurrent  = meta.StageCurrent
	StagePrevious = meta.StagePrevious
)

// Value is a version's value: String or Binary, whichever it holds.
type Value struct {
	String string
	// Binary is nil for a string value.
	Binary    []byte
	VersionID string
	// Stages are the version's labels and CreatedAt when it was made, as
	// read (empty when the value was not read from the store).
	Stages    []string
	CreatedAt time.Time
}

// IsBinary reports whether the value is SecretBinary.
func (v *Value) IsBinary() bool { return v.Binary != nil }

// SecretValue reads the current value (AWSCURRENT) of a secret of the
// registry (account, region), named by id: its name or ARN, whole or
// partial. A secret that does not exist, has no current value or is
// scheduled for deletion is an error matching ErrNotFound. It is the
// read other domains (the pull-through cache) make, with no caller to
// authorize: a read here is not a GetSecretValue, so it does not change
// the secret's LastAccessedDate.
func (s *Service) SecretValue(ctx context.Context, account, region, id string) (*Value, error) {
	sec, err := s.find(ctx, Registry{Account: account, Region: region}, id)
	if err != nil {
		return nil, err
	}
	if sec.Scheduled() {
		return nil, errorf(ErrNotFound, "Secrets Manager can't use secret %s: it is scheduled for deletion.", sec.Name)
	}
	return s.value(ctx, sec, "", StageCurrent)
}

// value reads and decrypts one version of sec.
func (s *Service) value(ctx context.Context, sec *Secret, versionID, stage string) (*Value, error) {
	v, err := s.store.SecretVersionValue(ctx, sec.ID, versionID, stage)
	switch {
	case errors.Is(err, meta.ErrSecretVersionNotFound) && versionID != "":
		return nil, noValueForVersion(versionID)
	case errors.Is(err, meta.ErrSecretVersionNotFound):
		return nil, noValueForStage(stage)
	case errors.Is(err, meta.ErrSecretNotFound):
		return nil, notFound()
	case err != nil:
		return nil, fmt.Errorf("read secret %s: %w", sec.ARN, err)
	}
	if stage != "" && versionID != "" && !hasStage(v.Stages, stage) {
		return nil, errorf(ErrInvalidParameter, "You provided a VersionStage that is not associated to the provided VersionId.")
	}
	val, err := s.seal.open(sec.ARN, v.ID, v.Value)
	if err != nil {
		s.log.ErrorContext(ctx, "decrypt a secret value", "secret", sec.ARN, "version", v.ID, "err", err)
		return nil, errorf(ErrDecryption, "Secrets Manager can't decrypt the protected secret text using the provided KMS key: %v (was --token-key changed?)", err)
	}
	val.Stages, val.CreatedAt = v.Stages, v.CreatedAt
	return val, nil
}

func hasStage(stages []string, stage string) bool {
	for _, st := range stages {
		if st == stage {
			return true
		}
	}
	return false
}

// Lookup finds a secret by name or ARN, scheduled for deletion or not:
// what the front door authorizes a call on.
func (s *Service) Lookup(ctx context.Context, reg Registry, id string) (*Secret, error) {
	return s.find(ctx, reg, id)
}

// find resolves id — a name, a whole ARN, or a partial ARN (one without
// the random suffix) — to a secret of reg. An ARN of another account or
// region names nothing here: resource policies, which would let another
// account read a secret, are not supported. A secret whose deletion date
// has passed is removed now, and is not found.
func (s *Service) find(ctx context.Context, reg Registry, id string) (*Secret, error) {
	var (
		sec *Secret
		err error
	)
	if rest, ok := strings.CutPrefix(id, arnPrefix(reg)); ok {
		sec, err = s.store.SecretByARN(ctx, id)
		if errors.Is(err, meta.ErrSecretNotFound) {
			// A partial ARN: the name without the suffix.
			sec, err = s.store.Secret(ctx, reg, rest)
		}
	} else if strings.HasPrefix(id, "arn:") {
		return nil, notFound()
	} else {
		sec, err = s.store.Secret(ctx, reg, id)
	}
	if errors.Is(err, meta.ErrSecretNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("look up secret %s: %w", id, err)
	}
	if sec.Scheduled() && !s.now().Before(sec.DeletionDate) {
		s.purge(ctx, sec)
		return nil, notFound()
	}
	return sec, nil
}

// purge removes a secret whose recovery window has ended. Any node that
// meets it first does it; the others find it gone, which is the same.
func (s *Service) purge(ctx context.Context, sec *Secret) {
	err := s.store.DeleteSecret(ctx, sec.ID)
	if err != nil && !errors.Is(err, meta.ErrSecretNotFound) {
		s.log.WarnContext(ctx, "remove a secret whose recovery window ended", "secret", sec.ARN, "err", err)
		return
	}
	if err == nil {
		s.log.InfoContext(ctx, "removed a secret whose recovery window ended", "secret", sec.ARN, "deletion_date", sec.DeletionDate)
	}
}

// arnPrefix starts the ARNs of reg's secrets.
func arnPrefix(reg Registry) string {
	return "arn:aws:secretsmanager:" + reg.Region + ":" + reg.Account + ":secret:"
}

// ARN is the ARN a name has in reg before its random suffix: what a call
// on a secret that does not exist is authorized on.
func ARN(reg Registry, name string) string { return arnPrefix(reg) + name }
