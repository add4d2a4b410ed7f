package secrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// MaxTags is Secrets Manager's quota of tags per secret.
const MaxTags = 50

// CreateInput is a new secret.
type CreateInput struct {
	Name        string
	Description string
	KMSKeyID    string
	// ClientRequestToken becomes the first version's ID; one is made when
	// it is empty. A CreateSecret retried with the same token and value
	// answers as the first call did.
	ClientRequestToken string
	// Value is the first version's, nil for a secret with no value yet.
	Value *Value
	Tags  []Tag
	// ARN is the ARN the call was authorized on (NewARN); one is made when
	// it is empty.
	ARN string
}

// Written is what a call that wrote a secret answers: which secret, and
// the version it wrote (VersionID empty when it wrote none).
type Written struct {
	ARN       string
	Name      string
	VersionID string
	Stages    []string
}

// NewValue is the value a call gives: SecretString or SecretBinary, not
// both; nil when it gives neither.
func NewValue(str *string, bin []byte) (*Value, error) {
	switch {
	case str != nil && bin != nil:
		return nil, errorf(ErrInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case bin != nil:
		return &Value{Binary: bin}, nil
	case str != nil:
		return &Value{String: *str}, nil
	}
	return nil, nil
}

// NewARN is the ARN of a new secret of reg named name: the name, a hyphen
// and six random characters, as Secrets Manager makes them.
func NewARN(reg Registry, name string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [6]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return ARN(reg, name) + "-" + string(b[:])
}

// newVersionID is a version ID for a call that gave no token: a UUID, as
// the SDKs make.
func newVersionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// validName reports whether name has only the characters Secrets Manager
// takes in names.
func validName(name string) bool {
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("/_+=.@-", c):
		default:
			return false
		}
	}
	return name != ""
}

func checkTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return errorf(ErrInvalidParameter, "The tag key %s appears more than once in the request.", t.Key)
		}
		seen[t.Key] = true
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errorf(ErrInvalidParameter, "Tag keys that start with aws: are reserved for AWS use: %s", t.Key)
		}
	}
	return nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Create makes a secret.
func (s *Service) Create(ctx context.Context, reg Registry, in CreateInput) (*Written, error) {
	if !validName(in.Name) {
		return nil, errorf(ErrValidation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > MaxTags {
		return nil, errorf(ErrLimitExceeded, "A secret can have at most %d tags; the request gives %d.", MaxTags, len(in.Tags))
	}
	if in.ARN == "" {
		in.ARN = NewARN(reg, in.Name)
	}
	now := s.stamp()
	sec := &Secret{Registry: reg, Name: in.Name, ARN: in.ARN, Description: in.Description, KMSKeyID: in.KMSKeyID,
		CreatedAt: now, ChangedAt: now, Tags: sortedTags(in.Tags)}
	var v *Version
	if in.Value != nil {
		id := in.ClientRequestToken
		if id == "" {
			id = newVersionID()
		}
		v = &Version{ID: id, Stages: []string{StageCurrent}, CreatedAt: now, Value: s.seal.seal(in.ARN, id, in.Value)}
	}
	err := s.store.CreateSecret(ctx, sec, v)
	switch {
	case errors.Is(err, meta.ErrSecretExists):
		if w := s.sameCreate(ctx, reg, in); w != nil {
			return w, nil
		}
		return nil, errorf(ErrExists, "The operation failed because the secret %s already exists.", in.Name)
	case errors.Is(err, meta.ErrSecretScheduled):
		return nil, errorf(ErrInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
	case err != nil:
		return nil, fmt.Errorf("create secret %s: %w", in.Name, err)
	}
	w := &Written{ARN: sec.ARN, Name: sec.Name}
	if v != nil {
		w.VersionID, w.Stages = v.ID, v.Stages
	}
	return w, nil
}

// sameCreate answers a CreateSecret retried with its token: the secret
// exists with a version of that ID and the same value. nil otherwise.
func (s *Service) sameCreate(ctx context.Context, reg Registry, in CreateInput) *Written {
	if in.ClientRequestToken == "" || in.Value == nil {
		return nil
	}
	sec, err := s.find(ctx, reg, in.Name)
	if err != nil || sec.Scheduled() {
		return nil
	}
	w, err := s.sameVersion(ctx, sec, in.ClientRequestToken, in.Value)
	if err != nil {
		return nil
	}
	return w
}

// sameVersion answers a write of version id that sec has: the write
// again, when the value is the same, is ignored; with another value it is
// refused, since a version never changes. nil, nil when sec has no such
// version.
func (s *Service) sameVersion(ctx context.Context, sec *Secret, id string, v *Value) (*Written, error) {
	if !slices.ContainsFunc(sec.Versions, func(x Version) bool { return x.ID == id }) {
		return nil, nil
	}
	old, err := s.value(ctx, sec, id, "")
	if errors.Is(err, ErrNotFound) {
		return nil, nil // removed since sec was read
	}
	if err != nil {
		return nil, err
	}
	if old.IsBinary() != v.IsBinary() || old.String != v.String || !bytes.Equal(old.Binary, v.Binary) {
		return nil, errorf(ErrExists, "You can't modify an existing version, you can only create new versions.")
	}
	return &Written{ARN: sec.ARN, Name: sec.Name, VersionID: id, Stages: old.Stages}, nil
}

// PutValue adds a version holding v to the secret id, with the labels
// stages (AWSCURRENT when none). token, when given, is its ID, and makes
// the call idempotent.
func (s *Service) PutValue(ctx context.Context, reg Registry, id, token string, v *Value, stages []string) (*Written, error) {
	if v == nil {
		return nil, errorf(ErrInvalidParameter, "You must provide either SecretString or SecretBinary.")
	}
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	sec, err := s.live(ctx, reg, id)
	if err != nil {
		return nil, err
	}
	return s.addVersion(ctx, sec, token, v, stages, meta.SecretUpdate{})
}

// addVersion writes a new version of sec with u's other changes, or
// answers the write of a version it has (sameVersion).
func (s *Service) addVersion(ctx context.Context, sec *Secret, token string, v *Value, stages []string, u meta.SecretUpdate) (*Written, error) {
	if token == "" {
		token = newVersionID()
	}
	if w, err := s.sameVersion(ctx, sec, token, v); w != nil || err != nil {
		return w, err
	}
	now := s.stamp()
	u.At, u.Live = now, true
	u.Version = &Version{ID: token, Stages: slices.Compact(slices.Sorted(slices.Values(stages))), CreatedAt: now,
		Value: s.seal.seal(sec.ARN, token, v)}
	err := s.store.UpdateSecret(ctx, sec.ID, u)
	if errors.Is(err, meta.ErrSecretVersionExists) {
		// Written by a call that ran at the same time: answer as if
		// after it.
		again, ferr := s.find(ctx, sec.Registry, sec.ARN)
		if ferr != nil {
			return nil, ferr
		}
		if w, err := s.sameVersion(ctx, again, token, v); w != nil || err != nil {
			return w, err
		}
	}
	if err := s.updated(sec, err); err != nil {
		return nil, err
	}
	return &Written{ARN: sec.ARN, Name: sec.Name, VersionID: token, Stages: u.Version.Stages}, nil
}

// updated words a store's refusal of an update.
func (s *Service) updated(sec *Secret, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meta.ErrSecretNotFound):
		return notFound()
	case errors.Is(err, meta.ErrSecretScheduled):
		return markedForDeletion()
	}
	return fmt.Errorf("update secret %s: %w", sec.ARN, err)
}

// live finds a secret that a call may change or read the value of: one
// not scheduled for deletion.
func (s *Service) live(ctx context.Context, reg Registry, id string) (*Secret, error) {
	sec, err := s.find(ctx, reg, id)
	if err != nil {
		return nil, err
	}
	if sec.Scheduled() {
		return nil, markedForDeletion()
	}
	return sec, nil
}

// UpdateInput is UpdateSecret's change: nil fields are left as they are.
type UpdateInput struct {
	Description *string
	KMSKeyID    *string
	// Value, when set, becomes a new AWSCURRENT version, whose ID is
	// ClientRequestToken when given.
	Value              *Value
	ClientRequestToken string
}

// Update changes a secret's description, KMS key or value.
func (s *Service) Update(ctx context.Context, reg Registry, id string, in UpdateInput) (*Written, error) {
	sec, err := s.live(ctx, reg, id)
	if err != nil {
		return nil, err
	}
	u := meta.SecretUpdate{Description: in.Description, KMSKeyID: in.KMSKeyID}
	if in.Value != nil {
		return s.addVersion(ctx, sec, in.ClientRequestToken, in.Value, []string{StageCurrent}, u)
	}
	u.At, u.Live = s.stamp(), true
	if err := s.updated(sec, s.store.UpdateSecret(ctx, sec.ID, u)); err != nil {
		return nil, err
	}
	return &Written{ARN: sec.ARN, Name: sec.Name}, nil
}

// Recovery windows, in days.
const (
	MinRecoveryWindow     = 7
	MaxRecoveryWindow     = 30
	DefaultRecoveryWindow = 30
)

// DeleteInput is how a secret is deleted: after a recovery window (in
// days; 0 for the default) or at once.
type DeleteInput struct {
	RecoveryWindowInDays int64
	WindowGiven          bool
	Force                bool
}

// Deleted is a deletion's answer.
type Deleted struct {
	ARN          string
	Name         string
	DeletionDate time.Time
}

// Delete schedules a secret's deletion, or deletes it at once with Force.
func (s *Service) Delete(ctx context.Context, reg Registry, id string, in DeleteInput) (*Deleted, error) {
	if in.Force && in.WindowGiven {
		return nil, errorf(ErrInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(DefaultRecoveryWindow)
	if in.WindowGiven {
		if in.RecoveryWindowInDays < MinRecoveryWindow || in.RecoveryWindowInDays > MaxRecoveryWindow {
			return nil, errorf(ErrInvalidParameter, "The recovery window can't be less than %d days or more than %d days.", MinRecoveryWindow, MaxRecoveryWindow)
		}
		days = in.RecoveryWindowInDays
	}
	now := s.stamp()
	sec, err := s.find(ctx, reg, id)
	if in.Force {
		// Deleting what is already gone is no error when forced.
		if errors.Is(err, ErrNotFound) {
			return &Deleted{ARN: id, Name: nameOf(reg, id), DeletionDate: now}, nil
		}
		if err != nil {
			return nil, err
		}
		if err := s.store.DeleteSecret(ctx, sec.ID); err != nil && !errors.Is(err, meta.ErrSecretNotFound) {
			return nil, fmt.Errorf("delete secret %s: %w", sec.ARN, err)
		}
		return &Deleted{ARN: sec.ARN, Name: sec.Name, DeletionDate: now}, nil
	}
	if err != nil {
		return nil, err
	}
	if sec.Scheduled() {
		return nil, markedForDeletion()
	}
	when := now.Add(time.Duration(days) * 24 * time.Hour)
	u := meta.SecretUpdate{At: now, Live: true, Schedule: &meta.SecretSchedule{DeletedAt: now, DeletionDate: when}}
	if err := s.updated(sec, s.store.UpdateSecret(ctx, sec.ID, u)); err != nil {
		return nil, err
	}
	return &Deleted{ARN: sec.ARN, Name: sec.Name, DeletionDate: when}, nil
}

// nameOf is the name id gives, for answering a forced deletion of
// nothing.
func nameOf(reg Registry, id string) string {
	if rest, ok := strings.CutPrefix(id, arnPrefix(reg)); ok {
		return rest
	}
	return id
}

// Restore cancels a secret's scheduled deletion; restoring one that is
// not scheduled does nothing.
func (s *Service) Restore(ctx context.Context, reg Registry, id string) (*Secret, error) {
	sec, err := s.find(ctx, reg, id)
	if err != nil {
		return nil, err
	}
	if !sec.Scheduled() {
		return sec, nil
	}
	u := meta.SecretUpdate{At: s.stamp(), Schedule: &meta.SecretSchedule{}}
	if err := s.updated(sec, s.store.UpdateSecret(ctx, sec.ID, u)); err != nil {
		return nil, err
	}
	return sec, nil
}

// Tag adds tags to a secret, or changes their values.
func (s *Service) Tag(ctx context.Context, reg Registry, id string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	sec, err := s.live(ctx, reg, id)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, t := range slices.Concat(sec.Tags, tags) {
		keys[t.Key] = true
	}
	if len(keys) > MaxTags {
		return errorf(ErrLimitExceeded, "A secret can have at most %d tags; these would make %d.", MaxTags, len(keys))
	}
	return s.updated(sec, s.store.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: s.stamp(), Live: true, SetTags: tags}))
}

// Untag removes tags from a secret by key.
func (s *Service) Untag(ctx context.Context, reg Registry, id string, keys []string) error {
	sec, err := s.live(ctx, reg, id)
	if err != nil {
		return err
	}
	return s.updated(sec, s.store.UpdateSecret(ctx, sec.ID, meta.SecretUpdate{At: s.stamp(), Live: true, RemoveTags: keys}))
}

func sortedTags(tags []Tag) []Tag {
	out := slices.Clone(tags)
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}
