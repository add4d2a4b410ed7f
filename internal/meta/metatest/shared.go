package metatest

import (
	"context"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// RunShared runs the suite's races with two handles on one store, as two
// nodes sharing a database have: the contended calls alternate between the
// handles, so each guarantee (one repository of a name, one advance of an
// upload from an offset, one final manifest of a tag, one winner of an
// immutable tag, an index never listing a deleted child, a push never lost
// to a repository's deletion or its blob's link to garbage collection, no
// lost settings change, never both a commit and a deletion of a blob, one
// holder of a lease, one worker per job, one import's vulnerability data
// seen whole, one manual scan of an image per limit window, one secret of
// a name, AWSCURRENT on one version after concurrent writes, no more
// creation templates than the limit, one creator of a templated
// repository, no lost client id of an OIDC provider, no lost count of a public pull, one
// redemption of a refresh token, one Identity Center instance, one user of a name) must hold
// across connections, not only within one handle's locks. open returns two
// handles on one new, empty store; RunShared closes both.
func RunShared(t *testing.T, open func(t *testing.T) (a, b meta.Store)) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"Concurrent/Pushes", testConcurrentPushes},
		{"Concurrent/CreateRepository", testConcurrentCreateRepository},
		{"Concurrent/AdvanceUpload", testConcurrentAdvanceUpload},
		{"Concurrent/TagWrites", testConcurrentTagWrites},
		{"Concurrent/ImmutableTag", testConcurrentImmutableTag},
		{"Concurrent/DeleteChildOfIndex", testConcurrentDeleteChild},
		{"Concurrent/DeleteRepository", testConcurrentDeleteRepository},
		{"Concurrent/ModifyRepository", testModifyRepositoryConcurrent},
		{"GC/ConcurrentBlobDeletion", testConcurrentBlobDeletion},
		{"GC/ConcurrentStaleLink", testConcurrentStaleLink},
		{"Lease/Concurrent", testConcurrentLease},
		{"Jobs/ConcurrentClaims", testConcurrentClaims},
		{"Jobs/ClaimRace", testClaimRace},
		{"Vulns/ConcurrentImports", testVulnConcurrentImports},
		{"Scans/ConcurrentRequests", testConcurrentScanRequests},
		{"Secrets/ConcurrentVersions", testConcurrentSecretVersions},
		{"Secrets/ConcurrentCreate", testConcurrentCreateSecret},
		{"Templates/Concurrent", testConcurrentTemplates},
		{"Templates/ConcurrentCreateRepository", testConcurrentCreateFromTemplate},
		{"PullThrough/ConcurrentRules", testConcurrentPullThroughRules},
		{"IAM/OIDCProviderConcurrentUpdates", testIAMOIDCProviderConcurrentUpdates},
		{"Public/ConcurrentPullCounts", testConcurrentPublicPullCounts},
		{"SSO/ConcurrentRedeem", testSSOConcurrentRedeem},
		{"SSO/ConcurrentCreate", testSSOConcurrentCreate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				for _, s := range []meta.Store{a, b} {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tc.fn(t, &twoHandles{Store: a, other: b})
		})
	}
}

// twoHandles sends the contended calls to its two handles in turn, and
// everything else to the first.
type twoHandles struct {
	meta.Store
	other meta.Store
	n     atomic.Uint64
}

func (h *twoHandles) pick() meta.Store {
	if h.n.Add(1)%2 == 0 {
		return h.Store
	}
	return h.other
}

func (h *twoHandles) CreateRepository(ctx context.Context, r *meta.Repository) error {
	return h.pick().CreateRepository(ctx, r)
}

func (h *twoHandles) ModifyRepository(ctx context.Context, repoID int64, fn func(r *meta.Repository) error) error {
	return h.pick().ModifyRepository(ctx, repoID, fn)
}

func (h *twoHandles) CreatePullThroughRule(ctx context.Context, r *meta.PullThroughRule, limit int) error {
	return h.pick().CreatePullThroughRule(ctx, r, limit)
}

func (h *twoHandles) UpdateOIDCProvider(ctx context.Context, arn string, update func(p *meta.IAMOIDCProvider) error) error {
	return h.pick().UpdateOIDCProvider(ctx, arn, update)
}

func (h *twoHandles) CountPublicPull(ctx context.Context, key string, window int64) (int64, error) {
	return h.pick().CountPublicPull(ctx, key, window)
}

func (h *twoHandles) PutManifest(ctx context.Context, p *meta.PutManifest) error {
	return h.pick().PutManifest(ctx, p)
}

func (h *twoHandles) DeleteManifest(ctx context.Context, repoID int64, digest string, jobs []meta.NewJob) error {
	return h.pick().DeleteManifest(ctx, repoID, digest, jobs)
}

func (h *twoHandles) DeleteRepository(ctx context.Context, repoID int64, force bool) error {
	return h.pick().DeleteRepository(ctx, repoID, force)
}

func (h *twoHandles) RemoveStaleBlobLink(ctx context.Context, repoID int64, digest string, before time.Time) (bool, error) {
	return h.pick().RemoveStaleBlobLink(ctx, repoID, digest, before)
}

func (h *twoHandles) BeginBlobCommit(ctx context.Context, id, digest string) error {
	return h.pick().BeginBlobCommit(ctx, id, digest)
}

func (h *twoHandles) ClaimBlobDeletion(ctx context.Context, digest string, at time.Time) (bool, error) {
	return h.pick().ClaimBlobDeletion(ctx, digest, at)
}

func (h *twoHandles) AdvanceUpload(ctx context.Context, id string, from int64, u *meta.Upload) error {
	return h.pick().AdvanceUpload(ctx, id, from, u)
}

func (h *twoHandles) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	return h.pick().AcquireLease(ctx, name, holder, now, ttl)
}

func (h *twoHandles) ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error) {
	return h.pick().ClaimJob(ctx, queues, holder, now, lease)
}

func (h *twoHandles) ImportVulns(ctx context.Context, imp meta.VulnImport, records iter.Seq2[*meta.VulnRecord, error]) ([]meta.VulnEcosystem, error) {
	return h.pick().ImportVulns(ctx, imp, records)
}

func (h *twoHandles) FindVulns(ctx context.Context, keys []meta.VulnKey) ([]*meta.VulnRecord, error) {
	return h.pick().FindVulns(ctx, keys)
}

func (h *twoHandles) RequestScan(ctx context.Context, req meta.ScanRequest, jobs []meta.NewJob) error {
	return h.pick().RequestScan(ctx, req, jobs)
}

func (h *twoHandles) CreateSecret(ctx context.Context, s *meta.Secret, v *meta.SecretVersion) error {
	return h.pick().CreateSecret(ctx, s, v)
}

func (h *twoHandles) UpdateSecret(ctx context.Context, secretID int64, u meta.SecretUpdate) error {
	return h.pick().UpdateSecret(ctx, secretID, u)
}

func (h *twoHandles) CreateTemplate(ctx context.Context, t *meta.RepositoryTemplate, limit int) error {
	return h.pick().CreateTemplate(ctx, t, limit)
}

func (h *twoHandles) ModifyTemplate(ctx context.Context, reg meta.RegistryKey, key string, fn func(t *meta.RepositoryTemplate) error) (*meta.RepositoryTemplate, error) {
	return h.pick().ModifyTemplate(ctx, reg, key, fn)
}

func (h *twoHandles) CreateRepositoryWithLifecycle(ctx context.Context, r *meta.Repository, lifecyclePolicy string) error {
	return h.pick().CreateRepositoryWithLifecycle(ctx, r, lifecyclePolicy)
}

func (h *twoHandles) RedeemSSOToken(ctx context.Context, tokenHash string, tokens ...*meta.SSOToken) error {
	return h.pick().RedeemSSOToken(ctx, tokenHash, tokens...)
}

func (h *twoHandles) EnsureSSOInstance(ctx context.Context, inst *meta.SSOInstance) (*meta.SSOInstance, error) {
	return h.pick().EnsureSSOInstance(ctx, inst)
}

func (h *twoHandles) CreateSSOUser(ctx context.Context, u *meta.SSOUser) error {
	return h.pick().CreateSSOUser(ctx, u)
}
