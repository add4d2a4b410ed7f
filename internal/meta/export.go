package meta

import "context"

// ExportStore enumerates what the other interfaces reach only by a name or
// an id the caller already knows: every registry, a registry's settings, a
// repository's blob links, a manifest's recorded references, every account
// that owns IAM state. With it and the other interfaces' reads, a whole
// store can be copied into another (`berth admin migrate`).
//
// It is not part of Store: no request needs it, so a store offers it by
// implementing it and a caller discovers it by type assertion. Both
// implementations do, and the shared suite (metatest) checks them.
//
// Vulnerability data (VulnStore) is left out on purpose: it is a copy of
// public OSV data, which `berth vulndb import` loads again into the new
// store from where it came, newer by then; copying it would only make a
// migration longer. Image scans and scan requests (ScanStore) are left out
// as well: a scan is recomputed from the image and that data, and a
// request is small but only says that an image's scan status shows and
// that its next manual scan waits out ECR's 24 hours. So after a migration
// images show no scan status until a scan is asked for again, and that
// request is not refused by the limit.
type ExportStore interface {
	// Registries lists every registry that has a repository, a registry
	// setting, a repository creation template, a secret or a pull through
	// cache rule, in (Account, Region) order. (A registry's templates are then read with ListTemplates.)
	Registries(ctx context.Context) ([]RegistryKey, error)
	// RegistrySettings returns every setting put in a registry, by name,
	// with its value as stored (a deleted registry policy is ""); an empty
	// map when there are none.
	RegistrySettings(ctx context.Context, reg RegistryKey) (map[string]string, error)
	// BlobLinks returns up to limit of the blobs the repository links, in
	// digest order after after.
	BlobLinks(ctx context.Context, repoID int64, after string, limit int) ([]Blob, error)
	// ManifestRefs returns the references PutManifest recorded for a
	// manifest, ordered by kind then digest; a missing manifest fails with
	// ErrManifestUnknown.
	ManifestRefs(ctx context.Context, repoID int64, digest string) ([]Ref, error)
	// IAMAccounts lists, in order, every account that was created
	// (ListAccounts) or owns a user, group, role, managed policy, access
	// key or OIDC provider. The default account has no record of its own (its root keys
	// come from the configuration); this is how its identities are found.
	IAMAccounts(ctx context.Context) ([]string, error)
	// SSOInstance returns the deployment's Identity Center instance, nil
	// when it has none yet (no server has started on the store).
	SSOInstance(ctx context.Context) (*SSOInstance, error)
}
