package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-registry/berth/internal/meta"
)

// secrets copies a registry's Secrets Manager secrets: each with its ARN,
// description, tags, times, deletion schedule and every version with its
// id, time, staging labels and value. Values are copied as stored, sealed
// under the deployment's token key: the target's servers read them only
// with the same --token-key (docs/secrets.md), which a deployment that
// moves its stores keeps. A secret the target holds under the same name
// with the same ARN, no version the source lacks and no change after the
// source's last is the same secret, or a copy of it stopped half-way: the
// versions it lacks are added and its settings set. Anything else is a
// conflict.
func (r *run) secrets(ctx context.Context, reg meta.RegistryKey) error {
	all, err := r.src.Meta.Secrets(ctx, reg)
	if err != nil {
		return fmt.Errorf("secrets of registry %s: %w", registryName(reg), err)
	}
	for i := range all {
		if err := r.secret(ctx, &all[i]); err != nil {
			return fmt.Errorf("secret %s of registry %s: %w", all[i].Name, registryName(reg), err)
		}
	}
	return nil
}

func (r *run) secret(ctx context.Context, src *meta.Secret) error {
	dst, err := r.dst.Meta.Secret(ctx, src.Registry, src.Name)
	switch {
	case err == nil:
		if diff := secretDiff(dst, src); diff != "" {
			return r.conflict("registry %s: the secret %s %s", registryName(src.Registry), src.Name, diff)
		}
	case errors.Is(err, meta.ErrSecretNotFound):
		dst = nil
	default:
		return err
	}
	// Versions are listed newest first; they are added oldest first, each
	// with the labels it has in the source, so the labels end where they
	// are (only the final AWSCURRENT holder is ever given AWSCURRENT, so
	// the store's move of AWSPREVIOUS never fires).
	var missing []meta.SecretVersion
	for _, v := range slices.Backward(src.Versions) {
		if dst == nil || !slices.ContainsFunc(dst.Versions, func(d meta.SecretVersion) bool { return d.ID == v.ID }) {
			missing = append(missing, v)
		}
	}
	if dst != nil && len(missing) == 0 && sameSecret(dst, src) {
		r.present(Secrets)
		return nil
	}
	if r.dry {
		r.copied(Secrets, 1)
		return nil
	}
	value := func(v meta.SecretVersion) (*meta.SecretVersion, error) {
		got, err := r.src.Meta.SecretVersionValue(ctx, src.ID, v.ID, "")
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", v.ID, err)
		}
		return &meta.SecretVersion{ID: v.ID, Stages: v.Stages, CreatedAt: v.CreatedAt, Value: got.Value}, nil
	}
	if dst == nil {
		rec := &meta.Secret{Registry: src.Registry, Name: src.Name, ARN: src.ARN, Description: src.Description,
			KMSKeyID: src.KMSKeyID, CreatedAt: src.CreatedAt, ChangedAt: src.ChangedAt, Tags: src.Tags}
		var first *meta.SecretVersion
		if len(missing) > 0 {
			if first, err = value(missing[0]); err != nil {
				return err
			}
			missing = missing[1:]
		}
		if err := r.dst.Meta.CreateSecret(ctx, rec, first); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		dst = rec
	}
	for _, v := range missing {
		full, err := value(v)
		if err != nil {
			return err
		}
		if err := r.dst.Meta.UpdateSecret(ctx, dst.ID, meta.SecretUpdate{Version: full}); err != nil && !errors.Is(err, meta.ErrSecretVersionExists) {
			return fmt.Errorf("version %s: %w", v.ID, err)
		}
	}
	// Last, what adding versions may have moved, and the rest as the
	// source has it.
	u := meta.SecretUpdate{At: src.ChangedAt, Description: &src.Description, KMSKeyID: &src.KMSKeyID,
		SetTags: src.Tags, AccessedAt: src.AccessedAt}
	if src.Scheduled() {
		u.Schedule = &meta.SecretSchedule{DeletedAt: src.DeletedAt, DeletionDate: src.DeletionDate}
	}
	if err := r.dst.Meta.UpdateSecret(ctx, dst.ID, u); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	r.copied(Secrets, 1)
	return nil
}

// sameSecret compares what a copy sets on a secret, versions aside.
func sameSecret(dst, src *meta.Secret) bool {
	return dst.Description == src.Description && dst.KMSKeyID == src.KMSKeyID &&
		sameTime(dst.CreatedAt, src.CreatedAt) && sameTime(dst.ChangedAt, src.ChangedAt) &&
		sameTime(dst.DeletionDate, src.DeletionDate) && slices.Equal(dst.Tags, src.Tags) &&
		slices.EqualFunc(dst.Versions, src.Versions, func(a, b meta.SecretVersion) bool {
			return a.ID == b.ID && slices.Equal(a.Stages, b.Stages) && sameTime(a.CreatedAt, b.CreatedAt)
		})
}

// secretDiff says how the target's secret of a name is not the source's
// or a copy of it stopped half-way; "" when it is.
func secretDiff(dst, src *meta.Secret) string {
	if dst.ARN != src.ARN {
		return fmt.Sprintf("is %s on the target, %s in the source", dst.ARN, src.ARN)
	}
	for _, v := range dst.Versions {
		if !slices.ContainsFunc(src.Versions, func(s meta.SecretVersion) bool { return s.ID == v.ID }) {
			return fmt.Sprintf("has the version %s on the target, which the source lacks", v.ID)
		}
	}
	if dst.ChangedAt.After(src.ChangedAt) {
		return fmt.Sprintf("was changed on the target (%s) after its last change in the source (%s)", stamp(dst.ChangedAt), stamp(src.ChangedAt))
	}
	return ""
}
