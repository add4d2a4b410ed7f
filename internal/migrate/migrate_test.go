package migrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	blobs3 "github.com/berth-registry/berth/internal/blob/s3"
	"github.com/berth-registry/berth/internal/blob/s3/s3test"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/postgres"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
	"github.com/berth-registry/berth/internal/migrate"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	pgtest.Stop()
	os.Exit(code)
}

// scaledOut opens an empty PostgreSQL database and S3 bucket.
func scaledOut(t *testing.T) migrate.Stores {
	t.Helper()
	pgtest.Require(t)
	m, err := postgres.Open(t.Context(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := blobs3.New(t.Context(), s3test.NewBucket(t, "berth"))
	if err != nil {
		t.Fatal(err)
	}
	return migrate.Stores{Meta: m, Blobs: b}
}

// wantCopied is what the fixture holds, per kind.
var wantCopied = map[migrate.Kind]int{
	migrate.RegistrySettings:  3,
	migrate.Templates:         3,
	migrate.Repositories:      4,
	migrate.Blobs:             7,
	migrate.BlobLinks:         10,
	migrate.Manifests:         9,
	migrate.Tags:              7,
	migrate.LifecyclePolicies: 2,
	migrate.Accounts:          1,
	migrate.Users:             3,
	migrate.Groups:            2,
	migrate.Roles:             1,
	migrate.ManagedPolicies:   1,
	migrate.InlinePolicies:    3,
	migrate.Attachments:       3,
	migrate.Memberships:       3,
	migrate.AccessKeys:        6,
	migrate.PublicAliases:     1,
	migrate.Secrets:           2,
	migrate.PullThroughRules:  2,
	migrate.OIDCProviders:     2,
	migrate.SSOInstances:      1,
	migrate.SSOUsers:          2,
	migrate.PermissionSets:    1,
	migrate.SSOAssignments:    1,
}

func checkCounts(t *testing.T, what string, got, want map[migrate.Kind]int) {
	t.Helper()
	for _, k := range migrate.Kinds {
		if got[k] != want[k] {
			t.Errorf("%s %s = %d, want %d", what, k, got[k], want[k])
		}
	}
}

func noStaging(t *testing.T, b blob.Store) {
	t.Helper()
	ids, err := b.Uploads(t.Context())
	if err != nil || len(ids) != 0 {
		t.Errorf("the target's blob store has staging uploads %v (%v), want none", ids, err)
	}
}

// migrateTwice migrates a populated embedded deployment into dst, checks
// that everything reads back the same, then migrates again and checks that
// the second run copies nothing and changes nothing.
func migrateTwice(t *testing.T, dst migrate.Stores) {
	src, _ := embedded(t)
	populate(t, src)
	want := dump(t, src)

	rep, err := migrate.Run(t.Context(), src, dst, migrate.Options{Parallel: 3})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	sameDump(t, "the target after the migration", dump(t, dst), want)
	checkCounts(t, "copied", rep.Copied, wantCopied)
	checkCounts(t, "already there", rep.Present, nil)
	if rep.BlobBytes < 9<<20 {
		t.Errorf("BlobBytes = %d, want the fixture's blobs, over 9 MiB", rep.BlobBytes)
	}
	noStaging(t, dst.Blobs)

	again, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if again.CopiedAny() || again.BlobBytes != 0 {
		t.Errorf("the second run copied %v (%d blob bytes), want nothing", again.Copied, again.BlobBytes)
	}
	checkCounts(t, "already there on the second run", again.Present, wantCopied)
	sameDump(t, "the target after a second migration", dump(t, dst), want)
	// The source is as it was: a migration only reads it.
	sameDump(t, "the source", dump(t, src), want)
}

func TestMigrateEmbedded(t *testing.T) {
	dst, _ := embedded(t)
	migrateTwice(t, dst)
}

func TestMigratePostgresS3(t *testing.T) {
	migrateTwice(t, scaledOut(t))
}

func TestDryRun(t *testing.T) {
	src, _ := embedded(t)
	populate(t, src)
	dst, _ := embedded(t)
	empty := dump(t, dst)
	rep, err := migrate.Run(t.Context(), src, dst, migrate.Options{DryRun: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.DryRun {
		t.Error("the report of a dry run does not say so")
	}
	checkCounts(t, "would copy", rep.Copied, wantCopied)
	sameDump(t, "the target after a dry run", dump(t, dst), empty)
	if n := countBlobs(t, dst.Blobs); n != 0 {
		t.Errorf("a dry run left %d blobs in the target", n)
	}
	real, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if real.BlobBytes != rep.BlobBytes {
		t.Errorf("the dry run would copy %d blob bytes, the migration copied %d", rep.BlobBytes, real.BlobBytes)
	}
}

func countBlobs(t *testing.T, b blob.Store) int {
	n := 0
	if err := b.Walk(t.Context(), func(digest.Digest, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConflicts: a target that holds other things under the source's
// names is refused, every difference named, and nothing is written.
func TestConflicts(t *testing.T) {
	src, _ := embedded(t)
	populate(t, src)
	dst, _ := embedded(t)
	if _, err := migrate.Run(t.Context(), src, dst, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The target moves on: a setting, a repository's settings, a tag, a
	// user recreated with another id, a policy document, a public alias.
	must(dst.Meta.PutRegistrySetting(ctx, regA, "REGISTRY_POLICY_SCOPE", "V1"))
	base, err := dst.Meta.GetRepository(ctx, regA, "base")
	must(err)
	base.TagMutability = "IMMUTABLE"
	must(dst.Meta.UpdateRepository(ctx, base))
	app, err := dst.Meta.GetRepository(ctx, regA, "team/app")
	must(err)
	v1, err := dst.Meta.ResolveTag(ctx, app.ID, "v1")
	must(err)
	latest, err := dst.Meta.GetTaggedManifest(ctx, app.ID, "latest")
	must(err)
	must(dst.Meta.PutManifest(ctx, &meta.PutManifest{RepoID: app.ID, Manifest: *latest, Tags: []meta.TagWrite{{Name: "v1"}}}))
	must(dst.Meta.RemoveGroupMember(ctx, defaultAccount, "devs", "bob"))
	must(dst.Meta.RemoveGroupMember(ctx, defaultAccount, "ops", "bob"))
	must(dst.Meta.DetachPolicy(ctx, defaultAccount, meta.IAMUser, "bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"))
	must(dst.Meta.DeleteAccessKey(ctx, defaultAccount, "bob", "AKIABOB0000000000001"))
	must(dst.Meta.DeleteIAMEntity(ctx, defaultAccount, meta.IAMUser, "bob"))
	must(dst.Meta.CreateIAMEntity(ctx, &meta.IAMEntity{Account: defaultAccount, Kind: meta.IAMUser, Name: "bob", Path: "/", ID: "AIDAANOTHERBOB000001", CreatedAt: at(99)}))
	must(dst.Meta.PutInlinePolicy(ctx, defaultAccount, meta.IAMRole, "deployer", meta.IAMInlinePolicy{Name: "Tokens", Document: `{"Version":"2012-10-17","Statement":[]}`}))
	_, err = dst.Meta.ModifyTemplate(ctx, regA, "team", func(tm *meta.RepositoryTemplate) error {
		tm.Settings, tm.UpdatedAt = json.RawMessage(`{"prefix":"team/","appliedFor":["REPLICATION"]}`), at(98)
		return nil
	})
	must(err)
	must(dst.Meta.SetPublicAlias(ctx, meta.PublicAlias{Alias: "their-team", Account: otherAccount, CreatedAt: at(97)}))
	cred, err := dst.Meta.Secret(ctx, regA, "ecr-pullthroughcache/docker-hub")
	must(err)
	must(dst.Meta.UpdateSecret(ctx, cred.ID, meta.SecretUpdate{At: at(96), Version: &meta.SecretVersion{ID: "v-four", Stages: []string{meta.StageCurrent}, CreatedAt: at(96), Value: []byte("rotated")}}))
	rule, err := dst.Meta.GetPullThroughRule(ctx, regA, "docker-hub")
	must(err)
	rule.CredentialARN, rule.UpdatedAt = "arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/other-QwErTy", at(95)
	must(dst.Meta.UpdatePullThroughRule(ctx, rule))
	must(dst.Meta.SetSSOUserPassword(ctx, "d-0123456789", "11111111-2222-3333-4444-555555555555", "$2a$10$anotherpasswordhashxx"))
	must(dst.Meta.UpdateOIDCProvider(ctx, "arn:aws:iam::222222222222:oidc-provider/ci.example.com/oidc", func(p *meta.IAMOIDCProvider) error {
		p.ClientIDs = []string{"berth"}
		return nil
	}))
	// And the source has something new, which must not be copied either.
	f := &fixture{t: t, s: src}
	f.repo(regA, "new", "MUTABLE", "", 200)
	before := dump(t, dst)

	_, err = migrate.Run(ctx, src, dst, migrate.Options{})
	var ce *migrate.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Run on a target that differs: error %v, want a *ConflictError", err)
	}
	for _, want := range []string{
		"registry 000000000000/us-east-1: setting REGISTRY_POLICY_SCOPE is \"V1\" on the target, \"V2\" in the source",
		"repository base in registry 000000000000/us-east-1: its tag mutability is IMMUTABLE on the target, MUTABLE in the source",
		"repository team/app: tag v1 is on " + latest.Digest + " on the target, on " + v1 + " in the source",
		"user bob of account 000000000000: its id is AIDAANOTHERBOB000001 on the target, AIDABOB0000000000001 in the source",
		"role deployer of account 000000000000: inline policy Tokens differs on the target",
		"registry 000000000000/us-east-1: the repository creation template team differs on the target",
		"account 123456789012's public registry has the alias their-team on the target, my-team in the source",
		"registry 000000000000/us-east-1: the secret ecr-pullthroughcache/docker-hub has the version v-four on the target, which the source lacks",
		"registry 000000000000/us-east-1: the pull through cache rule docker-hub differs on the target",
		"the OIDC provider arn:aws:iam::222222222222:oidc-provider/ci.example.com/oidc differs on the target",
		"the Identity Center user alice (11111111-2222-3333-4444-555555555555) differs on the target",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if len(ce.Conflicts) != 11 {
		t.Errorf("%d conflicts, want 11: %q", len(ce.Conflicts), ce.Conflicts)
	}
	sameDump(t, "the target after a refused migration", dump(t, dst), before)
}

// failingCommits is a blob store whose Commit fails after a number of
// successes, as a network or a disk may fail half-way.
type failingCommits struct {
	blob.Store
	left atomic.Int64
}

var errInjected = errors.New("injected commit failure")

func (f *failingCommits) Commit(ctx context.Context, id string, size int64, d digest.Digest) error {
	if f.left.Add(-1) < 0 {
		return errInjected
	}
	return f.Store.Commit(ctx, id, size, d)
}

// TestPartialRunFinished: a migration that fails half-way is finished by
// the next run.
func TestPartialRunFinished(t *testing.T) {
	src, _ := embedded(t)
	populate(t, src)
	want := dump(t, src)
	dst, _ := embedded(t)
	faulty := &failingCommits{Store: dst.Blobs}
	faulty.left.Store(3)
	_, err := migrate.Run(t.Context(), src, migrate.Stores{Meta: dst.Meta, Blobs: faulty}, migrate.Options{Parallel: 1})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Run with failing commits: error %v, want the injected failure", err)
	}
	noStaging(t, dst.Blobs)
	rep, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err != nil {
		t.Fatalf("the second Run: %v", err)
	}
	if rep.Present[migrate.Blobs] != 3 || rep.Copied[migrate.Blobs] != wantCopied[migrate.Blobs]-3 {
		t.Errorf("the second run found %d blobs and copied %d, want 3 and %d", rep.Present[migrate.Blobs], rep.Copied[migrate.Blobs], wantCopied[migrate.Blobs]-3)
	}
	sameDump(t, "the target after the second run", dump(t, dst), want)
}

// TestSecretCopyFinished: a secret whose copy stopped after its first
// version (the target has it, with the source's ARN and times, and none of
// the later versions or settings) is finished by the next run.
func TestSecretCopyFinished(t *testing.T) {
	src, _ := embedded(t)
	populate(t, src)
	want := dump(t, src)
	dst, _ := embedded(t)
	ctx := t.Context()
	sec, err := src.Meta.Secret(ctx, regA, "ecr-pullthroughcache/docker-hub")
	if err != nil {
		t.Fatal(err)
	}
	oldest := sec.Versions[len(sec.Versions)-1]
	first, err := src.Meta.SecretVersionValue(ctx, sec.ID, oldest.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	first.Stages = oldest.Stages
	half := &meta.Secret{Registry: sec.Registry, Name: sec.Name, ARN: sec.ARN, CreatedAt: sec.CreatedAt, ChangedAt: sec.ChangedAt}
	if err := dst.Meta.CreateSecret(ctx, half, first); err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Run(ctx, src, dst, migrate.Options{})
	if err != nil {
		t.Fatalf("Run onto a half-copied secret: %v", err)
	}
	if rep.Copied[migrate.Secrets] != 2 {
		t.Errorf("copied %d secrets, want 2 (the half-copied one finished, and the other)", rep.Copied[migrate.Secrets])
	}
	sameDump(t, "the target after finishing the secret", dump(t, dst), want)
}

// TestDamagedSourceBlob: bytes that do not hash to their digest are never
// committed in the target.
func TestDamagedSourceBlob(t *testing.T) {
	src, dir := embedded(t)
	f := &fixture{t: t, s: src}
	r := f.repo(regA, "app", "MUTABLE", "", 1)
	f.blob([]byte("good bytes"), r)
	bad := f.blob([]byte("bytes that rot"), r)
	d := digest.Digest(bad.Digest)
	path := filepath.Join(dir, "blobs", "blobs", string(d.Algorithm()), d.Encoded()[:2], d.Encoded())
	if err := os.WriteFile(path, []byte("bytes that ROT"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst, _ := embedded(t)
	_, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), bad.Digest) {
		t.Fatalf("Run with a damaged blob: error %v, want it named as damaged", err)
	}
	if _, err := dst.Blobs.Stat(t.Context(), d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the damaged blob is in the target: Stat error %v", err)
	}
	noStaging(t, dst.Blobs)
}

// TestMissingSourceBlob: a link whose bytes are gone stops the migration
// with the digest named.
func TestMissingSourceBlob(t *testing.T) {
	src, dir := embedded(t)
	f := &fixture{t: t, s: src}
	r := f.repo(regA, "app", "MUTABLE", "", 1)
	lost := f.blob([]byte("lost bytes"), r)
	d := digest.Digest(lost.Digest)
	if err := os.Remove(filepath.Join(dir, "blobs", "blobs", string(d.Algorithm()), d.Encoded()[:2], d.Encoded())); err != nil {
		t.Fatal(err)
	}
	dst, _ := embedded(t)
	_, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), lost.Digest) || !strings.Contains(err.Error(), "does not have it") {
		t.Fatalf("Run with a lost blob: error %v", err)
	}
}

// TestEmpty: an embedded deployment that never served anything migrates
// to nothing.
func TestEmpty(t *testing.T) {
	src, _ := embedded(t)
	dst, _ := embedded(t)
	rep, err := migrate.Run(t.Context(), src, dst, migrate.Options{})
	if err != nil || rep.CopiedAny() || len(rep.Present) != 0 {
		t.Fatalf("Run of an empty deployment = %+v, %v", rep, err)
	}
}

// TestEmptySSOInstance: an Identity Center instance made by a first look
// and holding nothing is not carried, so a target whose nodes made their
// own instance is not refused for it; one holding a user is, and says so.
func TestEmptySSOInstance(t *testing.T) {
	ctx := t.Context()
	src, _ := embedded(t)
	dst, _ := embedded(t)
	inst := &meta.SSOInstance{ARN: "arn:aws:sso:::instance/ssoins-aaaaaaaaaaaaaaaa", IdentityStoreID: "d-aaaaaaaaaa", Account: defaultAccount, CreatedAt: at(1)}
	if _, err := src.Meta.EnsureSSOInstance(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Meta.EnsureSSOInstance(ctx, &meta.SSOInstance{ARN: "arn:aws:sso:::instance/ssoins-bbbbbbbbbbbbbbbb",
		IdentityStoreID: "d-bbbbbbbbbb", Account: defaultAccount, CreatedAt: at(2)}); err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Run(ctx, src, dst, migrate.Options{})
	if err != nil || rep.CopiedAny() {
		t.Fatalf("Run with an empty Identity Center instance = %+v, %v; want nothing copied", rep, err)
	}
	if err := src.Meta.CreateSSOUser(ctx, &meta.SSOUser{IdentityStoreID: inst.IdentityStoreID, UserID: "u-1", UserName: "alice", CreatedAt: at(3)}); err != nil {
		t.Fatal(err)
	}
	_, err = migrate.Run(ctx, src, dst, migrate.Options{})
	var ce *migrate.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the target's Identity Center instance is arn:aws:sso:::instance/ssoins-bbbbbbbbbbbbbbbb") {
		t.Fatalf("Run with a user under another instance than the target's: %v, want a conflict naming the instances", err)
	}
}
