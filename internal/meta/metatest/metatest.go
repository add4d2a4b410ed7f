// Package metatest is the conformance suite of meta.Store. Every
// implementation runs it unchanged:
//
//	func TestStore(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) meta.Store { ... })
//	}
//
// Besides what package meta documents, the suite pins down these points, so
// that the implementations agree on them:
//
//   - CreateRepository sets Repository.ID. IDs are never reused, even after
//     the repository is deleted.
//   - The store keeps the timestamps it is given (it does not invent them):
//     they read back equal at microsecond precision, in UTC, and a zero time
//     reads back zero.
//   - Names sort bytewise, as Go compares strings (in PostgreSQL, COLLATE "C").
//     A limit <= 0 means no limit.
//   - Writes into a repository that does not exist (LinkBlob, CreateUpload,
//     PutManifest) fail with ErrRepositoryUnknown; so do UpdateRepository and
//     DeleteRepository.
//   - Removing what is not there fails with the matching sentinel:
//     UnlinkBlob with ErrBlobUnknown, DeleteUpload with ErrUploadUnknown,
//     DeleteTag with ErrTagUnknown, DeleteManifest with ErrManifestUnknown.
//     AdvanceUpload and CompleteUpload on a missing session fail with
//     ErrUploadUnknown, and CompleteUpload with another repository's session
//     too.
//   - UpdateRepository stores TagMutability and Settings only. AdvanceUpload
//     reads only Offset, HashState and UpdatedAt from its *Upload.
//   - DeleteRepository without force succeeds while the repository holds
//     only blob links and uploads.
//   - PutManifest takes the tags from PutManifest.Tags; Manifest.Tags is
//     ignored. Re-putting a stored manifest leaves the stored one as it was
//     (PushedAt included) and still applies the tags of the new push.
//   - A manifest's refs count for DeleteManifest only when of kind
//     RefManifest; when several indexes list a manifest, ReferencedError.By
//     names any one of them.
//   - Settings and Annotations compare by value: a store may re-encode
//     Settings JSON, and nil and empty are the same.
//   - The order of UploadIDs and ListReferrers is unspecified.
//   - A job written by a change (PutManifest.Jobs, the jobs of the deleting
//     methods and StartLifecyclePreview) is stamped with the store's own
//     clock, as the change takes no time; its RunAfter is kept as given.
package metatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Run runs the suite. newStore returns a new, empty store on each call; Run
// closes it when the test that asked for it ends.
func Run(t *testing.T, newStore func(t *testing.T) meta.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"Ping", testPing},
		{"Repository/CreateGet", testCreateGetRepository},
		{"Repository/PerRegistry", testRepositoryPerRegistry},
		{"Repository/List", testListRepositories},
		{"Repository/Update", testUpdateRepository},
		{"Repository/Delete", testDeleteRepository},
		{"Repository/DeleteForce", testDeleteRepositoryForce},
		{"Repository/Settings", testSettings},
		{"Blob/Link", testLinkBlob},
		{"Blob/Unlink", testUnlinkBlob},
		{"Blob/Repositories", testBlobRepositories},
		{"Upload/CreateGet", testCreateGetUpload},
		{"Upload/Advance", testAdvanceUpload},
		{"Upload/Complete", testCompleteUpload},
		{"Upload/DeleteAndList", testDeleteUpload},
		{"Upload/Stale", testStaleUploads},
		{"Manifest/PutGet", testPutGetManifest},
		{"Manifest/MissingRefs", testPutManifestMissingRefs},
		{"Manifest/RepositoryChanged", testPutManifestRepositoryChanged},
		{"Manifest/Idempotent", testPutManifestIdempotent},
		{"Manifest/Links", testPutManifestLinks},
		{"Manifest/Delete", testDeleteManifest},
		{"Manifest/DeleteReferenced", testDeleteReferencedManifest},
		{"Tag/Writes", testTagWrites},
		{"Tag/List", testListTags},
		{"Tag/Delete", testDeleteTag},
		{"Referrers", testListReferrers},
		{"Image/List", testListImages},
		{"Image/RecordPulls", testRecordPulls},
		{"Image/ManifestsReferencing", testManifestsReferencing},
		{"Image/DeleteUntagged", testDeleteUntaggedManifest},
		{"Concurrent/Pushes", testConcurrentPushes},
		{"Concurrent/CreateRepository", testConcurrentCreateRepository},
		{"Concurrent/AdvanceUpload", testConcurrentAdvanceUpload},
		{"Concurrent/TagWrites", testConcurrentTagWrites},
		{"Concurrent/ImmutableTag", testConcurrentImmutableTag},
		{"Concurrent/DeleteChildOfIndex", testConcurrentDeleteChild},
		{"Concurrent/DeleteRepository", testConcurrentDeleteRepository},
		{"Lifecycle/Policy", testLifecyclePolicy},
		{"Lifecycle/Preview", testLifecyclePreview},
		{"Lifecycle/ManifestChildren", testManifestChildren},
		{"Lifecycle/DeleteManifestIf", testDeleteManifestIf},
		{"Lease/AcquireRelease", testLeases},
		{"Lease/Concurrent", testConcurrentLease},
		{"Lease/Clock", testStoreClock},
		{"Jobs/Enqueue", testEnqueueJobs},
		{"Jobs/Keys", testJobKeys},
		{"Jobs/Claim", testClaimJob},
		{"Jobs/LeaseLapse", testJobLeaseLapse},
		{"Jobs/Fail", testFailJob},
		{"Jobs/Prune", testPruneJobs},
		{"Jobs/WithChanges", testJobsWithChanges},
		{"Jobs/ConcurrentClaims", testConcurrentClaims},
		{"Jobs/ClaimRace", testClaimRace},
		{"GC/StaleBlobLinks", testStaleBlobLinks},
		{"GC/UnreferencedBlobs", testUnreferencedBlobs},
		{"GC/BlobDeletion", testBlobDeletion},
		{"GC/ConcurrentBlobDeletion", testConcurrentBlobDeletion},
		{"GC/ConcurrentStaleLink", testConcurrentStaleLink},
		{"GC/BlobUsage", testBlobUsage},
		{"IAM/Accounts", testIAMAccounts},
		{"IAM/Entities", testIAMEntities},
		{"IAM/Groups", testIAMGroups},
		{"IAM/InlinePolicies", testIAMInlinePolicies},
		{"IAM/ManagedPolicies", testIAMManagedPolicies},
		{"IAM/Attachments", testIAMAttachments},
		{"IAM/AccessKeys", testIAMAccessKeys},
		{"IAM/UserDeleteOrder", testIAMUserDeleteOrder},
		{"IAM/RoleSessions", testIAMRoleSessions},
		{"IAM/UserSessions", testIAMUserSessions},
		{"IAM/OIDCProviders", testIAMOIDCProviders},
		{"IAM/OIDCProviderConcurrentUpdates", testIAMOIDCProviderConcurrentUpdates},
		{"SSO/Instance", testSSOInstance},
		{"SSO/Users", testSSOUsers},
		{"SSO/PermissionSets", testSSOPermissionSets},
		{"SSO/Clients", testSSOClients},
		{"SSO/DeviceFlow", testSSODeviceFlow},
		{"SSO/Tokens", testSSOTokens},
		{"SSO/ConcurrentRedeem", testSSOConcurrentRedeem},
		{"SSO/ConcurrentCreate", testSSOConcurrentCreate},
		{"Vulns/ImportFind", testVulnImportFind},
		{"Vulns/Replace", testVulnReplace},
		{"Vulns/AllOrNothing", testVulnAllOrNothing},
		{"Vulns/ConcurrentImports", testVulnConcurrentImports},
		{"Scans/PutGet", testImageScanPutGet},
		{"Scans/Requests", testScanRequests},
		{"Scans/Limit", testScanLimit},
		{"Scans/Jobs", testScanRequestJobs},
		{"Scans/Stale", testStaleImageScans},
		{"Scans/ConcurrentRequests", testConcurrentScanRequests},
		{"Secrets/CreateGet", testSecretCreateGet},
		{"Secrets/Versions", testSecretVersions},
		{"Secrets/Update", testSecretUpdate},
		{"Secrets/Delete", testSecretDelete},
		{"Secrets/ScheduledName", testSecretScheduledName},
		{"Secrets/Prune", testSecretPrune},
		{"Secrets/ConcurrentVersions", testConcurrentSecretVersions},
		{"Secrets/ConcurrentCreate", testConcurrentCreateSecret},
		{"Replication/Statuses", testReplicationStatuses},
		{"Templates/CreateGet", testTemplateCreateGet},
		{"Templates/Limit", testTemplateLimit},
		{"Templates/List", testTemplateList},
		{"Templates/Modify", testTemplateModify},
		{"Templates/Delete", testTemplateDelete},
		{"Templates/CreateRepositoryWithLifecycle", testCreateRepositoryWithLifecycle},
		{"Templates/Concurrent", testConcurrentTemplates},
		{"Templates/ConcurrentCreateRepository", testConcurrentCreateFromTemplate},
		{"PullThrough/Rules", testPullThroughRules},
		{"PullThrough/Checks", testPullThroughChecks},
		{"PullThrough/ConcurrentRules", testConcurrentPullThroughRules},
		{"Public/Aliases", testPublicAliases},
		{"Public/PullCounts", testPublicPullCounts},
		{"Public/ConcurrentPullCounts", testConcurrentPublicPullCounts},
		{"Export/Registries", testExportRegistries},
		{"Export/RegistrySettings", testExportRegistrySettings},
		{"Export/BlobLinks", testExportBlobLinks},
		{"Export/ManifestRefs", testExportManifestRefs},
		{"Export/IAMAccounts", testExportIAMAccounts},
		{"Export/SSOInstance", testExportSSOInstance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

var (
	reg1 = meta.RegistryKey{Account: "111111111111", Region: "eu-west-1"}
	reg2 = meta.RegistryKey{Account: "222222222222", Region: "eu-west-1"}
	reg3 = meta.RegistryKey{Account: "111111111111", Region: "us-east-1"}
)

const (
	mtImage  = "application/vnd.oci.image.manifest.v1+json"
	mtIndex  = "application/vnd.oci.image.index.v1+json"
	atSBOM   = "application/vnd.example.sbom.v1+json"
	atSig    = "application/vnd.example.signature.v1+json"
	mtConfig = "application/vnd.oci.image.config.v1+json"
)

// at returns a fixed time n seconds into the suite's clock, in a zone other
// than UTC so that the stores' normalisation shows.
func at(n int) time.Time {
	zone := time.FixedZone("UTC+2", 2*60*60)
	return time.Date(2025, 3, 14, 15, 9, 26, 535897000, zone).Add(time.Duration(n) * time.Second)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func blobOf(content string) meta.Blob {
	return meta.Blob{Digest: digestOf([]byte(content)), Size: int64(len(content))}
}

// image returns a manifest whose bytes are a small OCI image manifest
// naming the given blobs; seed makes it unique.
func image(seed string, blobs ...meta.Blob) meta.Manifest {
	var layers bytes.Buffer
	for i, b := range blobs {
		if i > 0 {
			layers.WriteString(",")
		}
		fmt.Fprintf(&layers, `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}`, b.Digest, b.Size)
	}
	content := fmt.Appendf(nil, "{\n  \"schemaVersion\": 2,\n  \"mediaType\": %q,\n  \"layers\": [%s],\n  \"annotations\": {\"seed\": %q}\n}\n",
		mtImage, layers.String(), seed)
	return meta.Manifest{
		Digest:    digestOf(content),
		MediaType: mtImage,
		Content:   content,
		ImageSize: int64(len(content)),
		PushedAt:  at(0),
	}
}

// index returns an image index listing the given manifests.
func index(seed string, children ...meta.Manifest) meta.Manifest {
	m := image(seed)
	var list bytes.Buffer
	for i, c := range children {
		if i > 0 {
			list.WriteString(",")
		}
		fmt.Fprintf(&list, `{"mediaType":%q,"digest":%q,"size":%d}`, c.MediaType, c.Digest, len(c.Content))
	}
	m.Content = fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"manifests":[%s],"annotations":{"seed":%q}}`,
		mtIndex, list.String(), seed)
	m.Digest, m.MediaType, m.ImageSize = digestOf(m.Content), mtIndex, int64(len(m.Content))
	return m
}

// referrer returns an artifact manifest whose subject is subject.
func referrer(seed, artifactType, subject string) meta.Manifest {
	m := image(seed)
	m.Content = fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"subject":{"digest":%q},"annotations":{"seed":%q}}`,
		mtImage, artifactType, subject, seed)
	m.Digest, m.ImageSize = digestOf(m.Content), int64(len(m.Content))
	m.ArtifactType, m.Subject = artifactType, subject
	m.Annotations = map[string]string{"seed": seed, "org.opencontainers.image.created": "2025-03-14T15:09:26Z"}
	return m
}

func blobRefs(blobs ...meta.Blob) []meta.Ref {
	var refs []meta.Ref
	for _, b := range blobs {
		refs = append(refs, meta.Ref{Digest: b.Digest, Kind: meta.RefBlob})
	}
	return refs
}

func manifestRefs(ms ...meta.Manifest) []meta.Ref {
	var refs []meta.Ref
	for _, m := range ms {
		refs = append(refs, meta.Ref{Digest: m.Digest, Kind: meta.RefManifest})
	}
	return refs
}

func tags(names ...string) []meta.TagWrite {
	var ts []meta.TagWrite
	for _, n := range names {
		ts = append(ts, meta.TagWrite{Name: n})
	}
	return ts
}

func newRepo(t *testing.T, s meta.Store, reg meta.RegistryKey, name string) *meta.Repository {
	t.Helper()
	r := &meta.Repository{Registry: reg, Name: name, CreatedAt: at(0), TagMutability: "MUTABLE"}
	if err := s.CreateRepository(t.Context(), r); err != nil {
		t.Fatalf("CreateRepository(%s): %v", name, err)
	}
	return r
}

func link(t *testing.T, s meta.Store, repoID int64, contents ...string) []meta.Blob {
	t.Helper()
	var bs []meta.Blob
	for _, c := range contents {
		b := blobOf(c)
		if err := s.LinkBlob(t.Context(), repoID, b); err != nil {
			t.Fatalf("LinkBlob(%s): %v", c, err)
		}
		bs = append(bs, b)
	}
	return bs
}

// pushImage links fresh blobs and puts an image referencing them.
func pushImage(t *testing.T, s meta.Store, repoID int64, seed string, tagNames ...string) meta.Manifest {
	t.Helper()
	bs := link(t, s, repoID, "config "+seed, "layer "+seed)
	m := image(seed, bs...)
	put(t, s, &meta.PutManifest{RepoID: repoID, Manifest: m, Refs: blobRefs(bs...), Tags: tags(tagNames...)})
	return m
}

func put(t *testing.T, s meta.Store, p *meta.PutManifest) {
	t.Helper()
	if err := s.PutManifest(t.Context(), p); err != nil {
		t.Fatalf("PutManifest(%s): %v", p.Manifest.Digest, err)
	}
}

func getManifest(t *testing.T, s meta.Store, repoID int64, digest string) *meta.Manifest {
	t.Helper()
	m, err := s.GetManifest(t.Context(), repoID, digest)
	if err != nil {
		t.Fatalf("GetManifest(%s): %v", digest, err)
	}
	return m
}

// wantErr fails unless err matches want; a nil want asks for no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v, want %v in UTC", what, got, want.UTC())
	}
}

func checkTags(t *testing.T, s meta.Store, repoID int64, want map[string]string) {
	t.Helper()
	for tag, digest := range want {
		got, err := s.ResolveTag(t.Context(), repoID, tag)
		switch {
		case digest == "" && !errors.Is(err, meta.ErrTagUnknown):
			t.Errorf("ResolveTag(%s) = %q, %v; want ErrTagUnknown", tag, got, err)
		case digest != "" && (err != nil || got != digest):
			t.Errorf("ResolveTag(%s) = %q, %v; want %s", tag, got, err, digest)
		}
	}
}

func checkManifestUnknown(t *testing.T, s meta.Store, repoID int64, digest string) {
	t.Helper()
	_, err := s.GetManifest(t.Context(), repoID, digest)
	if !errors.Is(err, meta.ErrManifestUnknown) {
		t.Errorf("GetManifest(%s): error %v, want ErrManifestUnknown", digest, err)
	}
}

func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func sameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

func sameMap(a, b map[string]string) bool {
	return maps.Equal(a, b) // nil and empty compare equal
}
