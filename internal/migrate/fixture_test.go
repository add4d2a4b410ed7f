package migrate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/migrate"
)

// embedded opens an empty embedded deployment: SQLite and a blob
// directory, as `berth serve` lays them out under its data directory.
func embedded(t *testing.T) (migrate.Stores, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := sqlite.Open(filepath.Join(dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	b, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return migrate.Stores{Meta: m, Blobs: b}, dir
}

const (
	defaultAccount = "000000000000"
	otherAccount   = "123456789012"
	mtImage        = "application/vnd.oci.image.manifest.v1+json"
	mtIndex        = "application/vnd.oci.image.index.v1+json"
	mtConfig       = "application/vnd.oci.image.config.v1+json"
	mtLayer        = "application/vnd.oci.image.layer.v1.tar+gzip"
)

var (
	regA = meta.RegistryKey{Account: defaultAccount, Region: "us-east-1"}
	regB = meta.RegistryKey{Account: otherAccount, Region: "eu-west-1"}
)

// at is a time n seconds into the fixture's clock, with nanoseconds that
// PostgreSQL does not keep.
func at(n int) time.Time {
	return time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC).Add(time.Duration(n) * time.Second)
}

// fixture builds a deployment as a year of use leaves it, through the
// store methods the server uses.
type fixture struct {
	t *testing.T
	s migrate.Stores
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) repo(reg meta.RegistryKey, name, mutability, settings string, created int) *meta.Repository {
	f.t.Helper()
	r := &meta.Repository{Registry: reg, Name: name, CreatedAt: at(created), TagMutability: mutability}
	if settings != "" {
		r.Settings = json.RawMessage(settings)
	}
	f.must(f.s.Meta.CreateRepository(f.t.Context(), r))
	return r
}

// blob writes bytes to the blob store, as an upload does, and links them.
func (f *fixture) blob(content []byte, repos ...*meta.Repository) meta.Blob {
	f.t.Helper()
	ctx := f.t.Context()
	d := digest.FromBytes(content)
	id := fmt.Sprintf("fixture-%s", d.Encoded()[:16])
	_, err := f.s.Blobs.Append(ctx, id, 0, bytes.NewReader(content))
	f.must(err)
	f.must(f.s.Blobs.Commit(ctx, id, int64(len(content)), d))
	b := meta.Blob{Digest: d.String(), Size: int64(len(content))}
	for _, r := range repos {
		f.must(f.s.Meta.LinkBlob(ctx, r.ID, b))
	}
	return b
}

type desc struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// image puts an image manifest of config and layers.
func (f *fixture) image(r *meta.Repository, pushed int, config meta.Blob, layers []meta.Blob, tags ...string) meta.Manifest {
	f.t.Helper()
	doc := map[string]any{"schemaVersion": 2, "mediaType": mtImage, "config": desc{mtConfig, config.Digest, config.Size}}
	var ls []desc
	refs := []meta.Ref{{Digest: config.Digest, Kind: meta.RefBlob}}
	size := config.Size
	for _, l := range layers {
		ls = append(ls, desc{mtLayer, l.Digest, l.Size})
		refs = append(refs, meta.Ref{Digest: l.Digest, Kind: meta.RefBlob})
		size += l.Size
	}
	doc["layers"] = ls
	content, _ := json.MarshalIndent(doc, "", "   ")
	m := meta.Manifest{Digest: digest.FromBytes(content).String(), MediaType: mtImage, ArtifactType: mtConfig,
		Content: content, ImageSize: int64(len(content)) + size, PushedAt: at(pushed)}
	f.put(r, m, refs, tags)
	return m
}

// index puts an image index of children.
func (f *fixture) index(r *meta.Repository, pushed int, children []meta.Manifest, tags ...string) meta.Manifest {
	f.t.Helper()
	var ds []desc
	var refs []meta.Ref
	size := int64(0)
	for _, c := range children {
		ds = append(ds, desc{c.MediaType, c.Digest, int64(len(c.Content))})
		refs = append(refs, meta.Ref{Digest: c.Digest, Kind: meta.RefManifest})
		size += int64(len(c.Content))
	}
	content, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mtIndex, "manifests": ds})
	m := meta.Manifest{Digest: digest.FromBytes(content).String(), MediaType: mtIndex, Content: content,
		ImageSize: int64(len(content)) + size, PushedAt: at(pushed)}
	f.put(r, m, refs, tags)
	return m
}

// referrer puts an artifact whose subject is subject.
func (f *fixture) referrer(r *meta.Repository, pushed int, subject meta.Manifest, artifactType string, config meta.Blob) meta.Manifest {
	f.t.Helper()
	annotations := map[string]string{"org.opencontainers.image.created": "2025-06-01T12:00:00Z"}
	content, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mtImage, "artifactType": artifactType,
		"config": desc{"application/vnd.oci.empty.v1+json", config.Digest, config.Size}, "layers": []desc{},
		"subject": desc{subject.MediaType, subject.Digest, int64(len(subject.Content))}, "annotations": annotations})
	m := meta.Manifest{Digest: digest.FromBytes(content).String(), MediaType: mtImage, ArtifactType: artifactType,
		Subject: subject.Digest, Annotations: annotations, Content: content,
		ImageSize: int64(len(content)) + config.Size, PushedAt: at(pushed)}
	f.put(r, m, []meta.Ref{{Digest: config.Digest, Kind: meta.RefBlob}}, nil)
	return m
}

func (f *fixture) put(r *meta.Repository, m meta.Manifest, refs []meta.Ref, tags []string) {
	f.t.Helper()
	var ws []meta.TagWrite
	for _, t := range tags {
		ws = append(ws, meta.TagWrite{Name: t})
	}
	f.must(f.s.Meta.PutManifest(f.t.Context(), &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: refs, Tags: ws}))
}

func (f *fixture) entity(account string, kind meta.IAMKind, name, path, id string, created int) {
	f.t.Helper()
	e := &meta.IAMEntity{Account: account, Kind: kind, Name: name, Path: path, ID: id, CreatedAt: at(created)}
	if kind == meta.IAMRole {
		e.AssumeRolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
		e.Description, e.MaxSessionDuration = "deploys things", 7200
	}
	f.must(f.s.Meta.CreateIAMEntity(f.t.Context(), e))
}

func (f *fixture) key(account, user, id, status string, created int) {
	f.t.Helper()
	f.must(f.s.Meta.CreateAccessKey(f.t.Context(), &meta.IAMAccessKey{ID: id, Account: account, UserName: user,
		SecretAccessKey: "secret-of-" + id, Status: status, CreatedAt: at(created)}))
}

// populate fills s with what every part of the migration copies.
func populate(t *testing.T, s migrate.Stores) {
	t.Helper()
	f := &fixture{t: t, s: s}
	ctx := t.Context()

	// Registry settings, one of them a deleted registry policy.
	f.must(s.Meta.PutRegistrySetting(ctx, regA, "REGISTRY_POLICY_SCOPE", "V2"))
	// ECR Public's custom alias of an account.
	f.must(s.Meta.SetPublicAlias(ctx, meta.PublicAlias{Alias: "my-team", Account: otherAccount, CreatedAt: at(0)}))
	f.must(s.Meta.PutRegistrySetting(ctx, regA, "registry-policy", `{"Version":"2012-10-17","Statement":[]}`))
	f.must(s.Meta.PutRegistrySetting(ctx, regB, "registry-policy", ""))

	// Repository creation templates, one in a registry with nothing else.
	for _, tm := range []*meta.RepositoryTemplate{
		{Registry: regA, Key: "team", CreatedAt: at(1), UpdatedAt: at(2),
			Settings: json.RawMessage(`{"prefix":"team/","appliedFor":["CREATE_ON_PUSH"],"tagMutability":"IMMUTABLE","lifecyclePolicy":"{\"rules\":[]}"}`)},
		{Registry: regA, Key: "ROOT", CreatedAt: at(3), UpdatedAt: at(3),
			Settings: json.RawMessage(`{"prefix":"ROOT","appliedFor":["REPLICATION"],"tagMutability":"MUTABLE"}`)},
		{Registry: meta.RegistryKey{Account: otherAccount, Region: "ap-south-1"}, Key: "mirror", CreatedAt: at(4), UpdatedAt: at(5),
			Settings: json.RawMessage(`{"prefix":"mirror","appliedFor":["PULL_THROUGH_CACHE"],"tagMutability":"MUTABLE"}`)},
	} {
		f.must(s.Meta.CreateTemplate(ctx, tm, 100))
	}

	// Secrets: one with three versions (v-three AWSCURRENT, v-two
	// AWSPREVIOUS and a label of its own, v-one deprecated), tags and a
	// read; one scheduled for deletion, in a registry with nothing else.
	cred := &meta.Secret{Registry: regA, Name: "ecr-pullthroughcache/docker-hub",
		ARN:         "arn:aws:secretsmanager:us-east-1:" + defaultAccount + ":secret:ecr-pullthroughcache/docker-hub-AbCdEf",
		Description: "Docker Hub", CreatedAt: at(6), ChangedAt: at(6), Tags: []meta.Tag{{Key: "team", Value: "a"}, {Key: "use", Value: "ptc"}}}
	f.must(s.Meta.CreateSecret(ctx, cred, &meta.SecretVersion{ID: "v-one", Stages: []string{meta.StageCurrent}, CreatedAt: at(6), Value: []byte("sealed one")}))
	f.must(s.Meta.UpdateSecret(ctx, cred.ID, meta.SecretUpdate{At: at(7), Version: &meta.SecretVersion{ID: "v-two", Stages: []string{meta.StageCurrent, "BLUE"}, CreatedAt: at(7), Value: []byte("sealed two")}}))
	f.must(s.Meta.UpdateSecret(ctx, cred.ID, meta.SecretUpdate{At: at(8), Version: &meta.SecretVersion{ID: "v-three", Stages: []string{meta.StageCurrent}, CreatedAt: at(8), Value: []byte("sealed three")}}))
	f.must(s.Meta.UpdateSecret(ctx, cred.ID, meta.SecretUpdate{At: at(9), AccessedAt: at(10)}))
	gone := &meta.Secret{Registry: meta.RegistryKey{Account: otherAccount, Region: "eu-north-1"}, Name: "old",
		ARN:       "arn:aws:secretsmanager:eu-north-1:" + otherAccount + ":secret:old-XyZ123",
		CreatedAt: at(11), ChangedAt: at(11)}
	f.must(s.Meta.CreateSecret(ctx, gone, &meta.SecretVersion{ID: "only", Stages: []string{meta.StageCurrent}, CreatedAt: at(11), Value: []byte("sealed")}))
	f.must(s.Meta.UpdateSecret(ctx, gone.ID, meta.SecretUpdate{Schedule: &meta.SecretSchedule{DeletedAt: at(12), DeletionDate: at(12).Add(7 * 24 * time.Hour)}}))

	// Pull through cache rules: one updated since, one in a registry with
	// nothing else.
	f.must(s.Meta.CreatePullThroughRule(ctx, &meta.PullThroughRule{Registry: regA, Prefix: "docker-hub",
		UpstreamURL: "registry-1.docker.io", Upstream: "docker-hub", UpstreamPrefix: "ROOT", CredentialARN: cred.ARN,
		CreatedAt: at(13), UpdatedAt: at(14)}, 10))
	f.must(s.Meta.CreatePullThroughRule(ctx, &meta.PullThroughRule{Registry: meta.RegistryKey{Account: otherAccount, Region: "sa-east-1"},
		Prefix: "mirror", UpstreamURL: "https://registry.example.com", UpstreamPrefix: "team", CreatedAt: at(15)}, 10))

	app := f.repo(regA, "team/app", "IMMUTABLE_WITH_EXCLUSION",
		`{"scanOnPush":true,"encryption":{"encryptionType":"AES256"},"filters":[{"filter":"latest","filterType":"WILDCARD"}],"tags":[{"Key":"team","Value":"a"}],"policy":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`, 1)
	base := f.repo(regA, "base", "MUTABLE", "", 2)
	other := f.repo(regB, "other/app", "MUTABLE", `{"encryption":{"encryptionType":"KMS","kmsKey":"arn:aws:kms:eu-west-1:123456789012:key/x"}}`, 3)
	f.repo(regB, "empty", "IMMUTABLE", "", 4)

	// A large layer, so that a copy streams through several reads and
	// (on S3) several segments.
	big := make([]byte, 9<<20+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	shared := f.blob([]byte("a layer in three repositories"), app, base, other)
	large := f.blob(big, app)
	cfg1 := f.blob([]byte(`{"architecture":"amd64","os":"linux"}`), app)
	cfg2 := f.blob([]byte(`{"architecture":"arm64","os":"linux"}`), app)
	cfgBase := f.blob([]byte(`{"architecture":"amd64","os":"linux","base":true}`), base, other)
	empty := f.blob([]byte("{}"), app)
	f.blob([]byte("pushed, never referenced"), app)

	amd := f.image(app, 10, cfg1, []meta.Blob{shared, large}, "v1", "v1.0")
	arm := f.image(app, 11, cfg2, []meta.Blob{shared})
	idx := f.index(app, 12, []meta.Manifest{amd, arm}, "latest")
	amd2 := f.image(app, 13, cfg1, []meta.Blob{large})
	f.index(app, 14, []meta.Manifest{idx, amd2}, "nested") // an index of an index
	f.referrer(app, 15, amd, "application/vnd.example.sbom.v1+json", empty)
	f.referrer(app, 16, idx, "application/vnd.example.signature.v1+json", empty)
	f.must(s.Meta.RecordPulls(ctx, []meta.Pull{{RepoID: app.ID, Digest: amd.Digest, At: at(100)}, {RepoID: app.ID, Digest: idx.Digest, At: at(101)}}))
	f.image(base, 20, cfgBase, []meta.Blob{shared}, "22.04", "jammy")
	f.image(other, 30, cfgBase, []meta.Blob{shared}, "x")

	f.must(s.Meta.PutLifecyclePolicy(ctx, app.ID, `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`, at(40)))
	f.must(s.Meta.MarkLifecycleEvaluated(ctx, app.ID, `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`, at(41)))
	f.must(s.Meta.PutLifecyclePolicy(ctx, base.ID, `{"rules":[]}`, at(42)))

	// IAM OIDC providers, one of an account with nothing else in IAM.
	f.must(s.Meta.CreateOIDCProvider(ctx, &meta.IAMOIDCProvider{ARN: "arn:aws:iam::" + defaultAccount + ":oidc-provider/token.actions.githubusercontent.com",
		Account: defaultAccount, URL: "token.actions.githubusercontent.com", ClientIDs: []string{"sts.amazonaws.com"},
		Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}, CreatedAt: at(45)}))
	f.must(s.Meta.CreateOIDCProvider(ctx, &meta.IAMOIDCProvider{ARN: "arn:aws:iam::222222222222:oidc-provider/ci.example.com/oidc",
		Account: "222222222222", URL: "ci.example.com/oidc", ClientIDs: []string{"berth", "other"}, CreatedAt: at(46)}))

	// IAM Identity Center: the instance, two users (one with a password),
	// a permission set with both kinds of policy, and an assignment.
	inst := &meta.SSOInstance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: "d-0123456789",
		Account: defaultAccount, CreatedAt: at(47)}
	_, err := s.Meta.EnsureSSOInstance(ctx, inst)
	f.must(err)
	f.must(s.Meta.CreateSSOUser(ctx, &meta.SSOUser{IdentityStoreID: inst.IdentityStoreID, UserID: "11111111-2222-3333-4444-555555555555",
		UserName: "alice", DisplayName: "Alice A", GivenName: "Alice", FamilyName: "A",
		Emails: []meta.SSOEmail{{Value: "alice@example.com", Type: "work", Primary: true}}, PasswordHash: "$2a$10$abcdefghijklmnopqrstuv", CreatedAt: at(48)}))
	f.must(s.Meta.CreateSSOUser(ctx, &meta.SSOUser{IdentityStoreID: inst.IdentityStoreID, UserID: "66666666-7777-8888-9999-000000000000",
		UserName: "bob", DisplayName: "Bob", CreatedAt: at(49)}))
	ps := &meta.SSOPermissionSet{ARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef", InstanceARN: inst.ARN,
		Name: "EcrPower", Description: "push and pull", SessionDuration: "PT4H",
		ManagedPolicies: []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
		InlinePolicy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`, CreatedAt: at(50)}
	f.must(s.Meta.CreatePermissionSet(ctx, ps))
	f.must(s.Meta.CreateSSOAssignment(ctx, &meta.SSOAssignment{InstanceARN: inst.ARN, PermissionSetARN: ps.ARN, Account: defaultAccount,
		PrincipalType: "USER", PrincipalID: "11111111-2222-3333-4444-555555555555", CreatedAt: at(51)}))

	// IAM: a created account with its root key, and the default account's
	// identities (which have no account record).
	f.must(s.Meta.CreateAccount(ctx, &meta.IAMAccount{ID: otherAccount, CreatedAt: at(50)},
		&meta.IAMAccessKey{ID: "AKIAOTHERROOT0000001", SecretAccessKey: "other-root-secret", Status: "Active", CreatedAt: at(50)}))
	f.key(otherAccount, "", "AKIAOTHERROOT0000002", "Inactive", 51)
	f.entity(otherAccount, meta.IAMUser, "carol", "/", "AIDAOTHERCAROL000001", 52)
	f.key(otherAccount, "carol", "AKIAOTHERCAROL000001", "Active", 53)

	f.entity(defaultAccount, meta.IAMUser, "Alice", "/engineering/", "AIDAALICE00000000001", 60)
	f.entity(defaultAccount, meta.IAMUser, "bob", "/", "AIDABOB0000000000001", 61)
	f.entity(defaultAccount, meta.IAMGroup, "devs", "/", "AGPADEVS000000000001", 62)
	f.entity(defaultAccount, meta.IAMGroup, "ops", "/", "AGPAOPS0000000000001", 63)
	f.entity(defaultAccount, meta.IAMRole, "deployer", "/service/", "AROADEPLOYER00000001", 64)
	f.key(defaultAccount, "Alice", "AKIAALICE00000000001", "Active", 65)
	f.key(defaultAccount, "Alice", "AKIAALICE00000000002", "Inactive", 66)
	f.key(defaultAccount, "bob", "AKIABOB0000000000001", "Active", 67)
	f.must(s.Meta.AddGroupMember(ctx, defaultAccount, "devs", "Alice"))
	f.must(s.Meta.AddGroupMember(ctx, defaultAccount, "devs", "bob"))
	f.must(s.Meta.AddGroupMember(ctx, defaultAccount, "ops", "bob"))
	pull := meta.IAMPolicy{Account: defaultAccount, Name: "Pull", Path: "/team/", ID: "ANPAPULL000000000001",
		ARN: "arn:aws:iam::" + defaultAccount + ":policy/team/Pull", Description: "pull anything",
		Document:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`,
		CreatedAt: at(70), UpdatedAt: at(71)}
	f.must(s.Meta.CreateManagedPolicy(ctx, &pull))
	f.must(s.Meta.AttachPolicy(ctx, defaultAccount, meta.IAMGroup, "devs", pull.ARN))
	f.must(s.Meta.AttachPolicy(ctx, defaultAccount, meta.IAMRole, "deployer", pull.ARN))
	f.must(s.Meta.AttachPolicy(ctx, defaultAccount, meta.IAMUser, "bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"))
	f.must(s.Meta.PutInlinePolicy(ctx, defaultAccount, meta.IAMUser, "Alice", meta.IAMInlinePolicy{Name: "PushApp",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:000000000000:repository/team/app"}]}`}))
	f.must(s.Meta.PutInlinePolicy(ctx, defaultAccount, meta.IAMRole, "deployer", meta.IAMInlinePolicy{Name: "Tokens",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`}))
	f.must(s.Meta.PutInlinePolicy(ctx, defaultAccount, meta.IAMGroup, "ops", meta.IAMInlinePolicy{Name: "Describe",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:Describe*","Resource":"*"}]}`}))
}
