package e2e

// `berth admin migrate`: an embedded deployment, filled through real
// clients, copied to PostgreSQL and S3 and served from there by a new
// `berth serve`, which must read everything back the same.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/blob/s3/s3test"
	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

const migrateOtherAccount = "111111111111"

// runMigrate runs `berth admin migrate` with env added to the
// environment, and returns its standard output.
func runMigrate(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(berthBin, append([]string{"admin", "migrate"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

var reportRowRE = regexp.MustCompile(`(?m)^  ([A-Za-z][A-Za-z ]+?) +(\d+) +(\d+)$`)

// migrateCounts reads the report's table: kind → [copied, already there].
func migrateCounts(t *testing.T, out string) map[string][2]int {
	t.Helper()
	rows := map[string][2]int{}
	for _, m := range reportRowRE.FindAllStringSubmatch(out, -1) {
		c, _ := strconv.Atoi(m[2])
		p, _ := strconv.Atoi(m[3])
		rows[m[1]] = [2]int{c, p}
	}
	if len(rows) < 16 {
		t.Fatalf("the migration's report has %d rows:\n%s", len(rows), out)
	}
	return rows
}

func TestMigrate(t *testing.T) {
	pgtest.Require(t)
	ctx := withTimeout(t, 5*time.Minute)
	// The lifecycle loop runs when a server starts, and would stamp the
	// policy's evaluation on one side only: it runs once, then not again.
	src := startBerth(t, "", "--lifecycle-interval", "1000h")
	ecrc, iamc := src.ECR(), src.IAM()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, src.Log())
		}
	}

	// Repositories with every setting.
	_, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String("team/app"),
		ImageTagMutability:                 ecrtypes.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: wildcard("latest", "dev-*"),
		ImageScanningConfiguration:         &ecrtypes.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:            &ecrtypes.EncryptionConfiguration{EncryptionType: ecrtypes.EncryptionTypeKms, KmsKey: aws.String("alias/team")},
		Tags:                               []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	must("CreateRepository team/app", err)
	_, err = ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("base")})
	must("CreateRepository base", err)
	repoPolicy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/alice"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages"]}]}`, testAccount)
	_, err = ecrc.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("team/app"), PolicyText: aws.String(repoPolicy)})
	must("SetRepositoryPolicy", err)
	lifecycle := `{"rules":[{"rulePriority":1,"description":"old untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3650},"action":{"type":"expire"}}]}`
	_, err = ecrc.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("team/app"), LifecyclePolicyText: aws.String(lifecycle)})
	must("PutLifecyclePolicy", err)
	regPolicy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:%s:repository/*"}]}`, migrateOtherAccount, testAccount)
	_, err = ecrc.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(regPolicy)})
	must("PutRegistryPolicy", err)
	_, err = ecrc.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")})
	must("PutAccountSetting", err)

	// Images: one tagged twice and copied into a second repository, a
	// multi-arch index, and a referrer.
	opts := ggcrOpts(t, src, ctx)
	app, base := ggcrRepo(t, src, "team/app"), ggcrRepo(t, src, "base")
	img, err := random.Image(3<<20, 2)
	must("random.Image", err)
	must("push team/app:v1", remote.Write(app.Tag("v1"), img, opts...))
	must("tag latest", remote.Tag(app.Tag("latest"), img, opts...))
	must("push base:22.04", remote.Write(base.Tag("22.04"), img, opts...))
	idx, err := random.Index(512<<10, 1, 2)
	must("random.Index", err)
	must("push team/app:multi", remote.WriteIndex(app.Tag("multi"), idx, opts...))
	imgDigest, _ := img.Digest()
	idxDigest, _ := idx.Digest()
	imgDesc, err := remote.Head(app.Digest(imgDigest.String()), opts...)
	must("HEAD v1", err)
	sbomBase, err := random.Image(1024, 1)
	must("random.Image", err)
	sbom := mutate.Subject(mutate.ConfigMediaType(sbomBase, "application/vnd.example.sbom.v1+json"), *imgDesc).(v1.Image)
	sbomDigest, _ := sbom.Digest()
	must("push the sbom", remote.Write(app.Digest(sbomDigest.String()), sbom, opts...))

	// IAM: a user with two keys, an inline policy and a group whose
	// managed policy is attached; a role; another account with a user.
	alice := createUserWithKey(t, src, "alice")
	k2, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	must("CreateAccessKey", err)
	_, err = iamc.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKey.AccessKeyId, Status: "Inactive"})
	must("UpdateAccessKey", err)
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("login"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`)})
	must("PutUserPolicy", err)
	_, err = iamc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")})
	must("CreateGroup", err)
	_, err = iamc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})
	must("AddUserToGroup", err)
	pol, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ListRepos"), Path: aws.String("/team/"), Description: aws.String("list them"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}`)})
	must("CreatePolicy", err)
	_, err = iamc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn})
	must("AttachGroupPolicy", err)
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Description: aws.String("deploys"), MaxSessionDuration: aws.Int32(7200),
		AssumeRolePolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/alice"},"Action":"sts:AssumeRole"}]}`, testAccount))})
	must("CreateRole", err)
	_, err = iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")})
	must("AttachRolePolicy", err)
	otherCfg := azCreateAccount(t, src, migrateOtherAccount)
	otherCreds, _ := otherCfg.Credentials.Retrieve(ctx)
	_, err = ecr.NewFromConfig(otherCfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("other/app")})
	must("CreateRepository in the other account", err)
	otherIAM := iam.NewFromConfig(otherCfg)
	_, err = otherIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})
	must("CreateUser carol", err)
	ck, err := otherIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")})
	must("CreateAccessKey carol", err)
	carol := [2]string{aws.ToString(ck.AccessKey.AccessKeyId), aws.ToString(ck.AccessKey.SecretAccessKey)}
	accounts := map[string][2]string{
		testAccount:         {testAccessKeyID, testSecretAccessKey},
		migrateOtherAccount: {otherCreds.AccessKeyID, otherCreds.SecretAccessKey},
	}

	// A pull through cache rule whose credential is a secret with a second
	// value put since, and a CI system's OIDC provider.
	sm := src.SecretsManager()
	secret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/upstream"),
		Description: aws.String("the upstream's robot"), SecretString: aws.String(`{"username":"robot","accessToken":"one"}`)})
	must("CreateSecret", err)
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: secret.ARN, SecretString: aws.String(`{"username":"robot","accessToken":"two"}`)})
	must("PutSecretValue", err)
	_, err = ecrc.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("mirror"),
		UpstreamRegistryUrl: aws.String("https://registry.example.com"), CredentialArn: secret.ARN})
	must("CreatePullThroughCacheRule", err)
	_, err = iamc.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://ci.example.com/oidc"),
		ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{strings.Repeat("ab", 20)}})
	must("CreateOpenIDConnectProvider", err)

	// Every manifest is read once, which records pulls; then the recorder
	// (one flush a second) has written them all before the view is taken.
	manifests := manifestBytes(t, ctx, src, accounts)
	if _, err := remote.Image(app.Tag("v1"), opts...); err != nil {
		t.Fatalf("pull v1: %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	want := migrationView(t, ctx, src, accounts)
	oldLogin := src.Password(t)

	// The target: a database, a bucket, and the node's configuration.
	metaURL := pgtest.NewDatabase(t)
	bucket := s3test.NewBucket(t, "")
	q := url.Values{"endpoint": {bucket.Endpoint}, "region": {bucket.Region}, "path-style": {"true"}}
	blobsURL := "s3://" + bucket.Bucket + "/berth?" + q.Encode()
	s3env := []string{"BERTH_S3_ACCESS_KEY_ID=" + bucket.AccessKeyID, "BERTH_S3_SECRET_ACCESS_KEY=" + bucket.SecretAccessKey}
	args := []string{"--from-data", src.DataDir, "--meta", metaURL, "--blobs", blobsURL}

	// Not while the embedded server runs.
	_, err = runMigrate(t, s3env, args...)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("migrate beside a running server: %v, want a refusal", err)
	}
	src.Stop()

	out, err := runMigrate(t, s3env, args...)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	t.Logf("berth admin migrate:\n%s", out)
	first := migrateCounts(t, out)
	for kind, want := range map[string]int{"repositories": 3, "manifests": 6, "tags": 4, "users": 2, "access keys": 4,
		"accounts": 1, "groups": 1, "roles": 1, "managed policies": 1, "inline policies": 1, "policy attachments": 2,
		"group memberships": 1, "lifecycle policies": 1, "registry settings": 2,
		"secrets": 1, "pull through cache rules": 1, "OIDC providers": 1} {
		if first[kind] != [2]int{want, 0} {
			t.Errorf("first migration: %s copied/already there = %v, want %d/0", kind, first[kind], want)
		}
	}
	if first["blobs"][0] == 0 || first["blob links"][0] <= first["blobs"][0] {
		t.Errorf("first migration: blobs %v, blob links %v", first["blobs"], first["blob links"])
	}
	for _, next := range []string{"BERTH_TOKEN_KEY", filepath.Join(src.DataDir, "token-key"), "berth serve --meta"} {
		if !strings.Contains(out, next) {
			t.Errorf("the migration's output does not say %q", next)
		}
	}

	// A node on the new stores, with the embedded server's configuration.
	key, err := os.ReadFile(filepath.Join(src.DataDir, "token-key"))
	if err != nil {
		t.Fatal(err)
	}
	dst := &berth{t: t, DataDir: t.TempDir(), Env: s3env,
		Args: []string{"--meta", metaURL, "--blobs", blobsURL, "--token-key", strings.TrimSpace(string(key)), "--lifecycle-interval", "1000h"}}
	dst.start()
	t.Cleanup(dst.Stop)
	got := migrationView(t, ctx, dst, accounts)
	if got != want {
		t.Errorf("the new deployment reads back differently:\n%s", lineDiff(got, want))
	}
	if m := manifestBytes(t, ctx, dst, accounts); !maps.Equal(m, manifests) {
		t.Errorf("the manifests' bytes differ after the migration")
	}

	// Pulls by tag and digest, every layer read and verified.
	dopts := ggcrOpts(t, dst, ctx)
	dapp := ggcrRepo(t, dst, "team/app")
	pullAll := func(what string, ref string, o []remote.Option) {
		t.Helper()
		r, err := parseRef(dst, ref)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(r, o...)
		if err != nil {
			t.Fatalf("%s: get %s: %v\n%s", what, ref, err, dst.Log())
		}
		var images []v1.Image
		if desc.MediaType.IsIndex() {
			ix, err := desc.ImageIndex()
			if err != nil {
				t.Fatal(err)
			}
			im, _ := ix.IndexManifest()
			for _, c := range im.Manifests {
				ci, err := ix.Image(c.Digest)
				if err != nil {
					t.Fatalf("%s: child %s: %v", what, c.Digest, err)
				}
				images = append(images, ci)
			}
		} else {
			im, err := desc.Image()
			if err != nil {
				t.Fatal(err)
			}
			images = append(images, im)
		}
		for _, im := range images {
			layers, err := im.Layers()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for _, l := range layers {
				rc, err := l.Compressed()
				if err != nil {
					t.Fatalf("%s: layer: %v", what, err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil { // verifies the digest
					t.Fatalf("%s: layer: %v", what, err)
				}
				rc.Close()
			}
			if _, err := im.ConfigFile(); err != nil {
				t.Fatalf("%s: config: %v", what, err)
			}
		}
	}
	pullAll("by tag", "team/app:v1", dopts)
	pullAll("by digest", "team/app@"+imgDigest.String(), dopts)
	pullAll("the index", "team/app:multi", dopts)
	pullAll("the index by digest", "team/app@"+idxDigest.String(), dopts)
	pullAll("the copy in base", "base:22.04", dopts)
	// A login the embedded server issued works: the token key moved too.
	pullAll("with the old login", "team/app:latest", []remote.Option{remote.WithContext(ctx), remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: oldLogin})})
	refs, err := remote.Referrers(dapp.Digest(imgDigest.String()), dopts...)
	if err != nil {
		t.Fatalf("referrers: %v", err)
	}
	if im, _ := refs.IndexManifest(); len(im.Manifests) != 1 || im.Manifests[0].Digest != sbomDigest {
		t.Errorf("referrers of v1 = %+v, want the sbom %s", im.Manifests, sbomDigest)
	}

	// Keys keep working: alice's (her policies and the repository's
	// policy let her log in and pull), carol's, the other account's root.
	for name, k := range map[string][2]string{"alice": alice, "carol": carol, "the other root": accounts[migrateOtherAccount]} {
		id, err := sts.NewFromConfig(dst.awsConfig(testRegion, k[0], k[1])).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s's key on the new deployment: %v", name, err)
		}
		t.Logf("%s is %s", name, aws.ToString(id.Arn))
	}
	tok, err := ecr.NewFromConfig(dst.awsConfig(testRegion, alice[0], alice[1])).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("alice logs in: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	_, password, _ := strings.Cut(string(raw), ":")
	pullAll("as alice", "team/app:v1", []remote.Option{remote.WithContext(ctx), remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: password})})
	if _, err := remote.Get(ggcrRepo(t, dst, "base").Tag("22.04"), remote.WithContext(ctx), remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: password})); err == nil {
		t.Error("alice pulled from base, which no policy lets her read")
	}

	// Migrating again copies nothing and changes nothing (the pulls above
	// are the new deployment's own; they are flushed before the view).
	time.Sleep(2500 * time.Millisecond)
	before := migrationView(t, ctx, dst, accounts)
	out, err = runMigrate(t, s3env, args...)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	for kind, c := range migrateCounts(t, out) {
		if c[0] != 0 || c[1] != first[kind][0] {
			t.Errorf("second migration: %s copied/already there = %v, want 0/%d", kind, c, first[kind][0])
		}
	}
	if after := migrationView(t, ctx, dst, accounts); after != before {
		t.Errorf("the second migration changed the deployment:\n%s", lineDiff(after, before))
	}
}

func parseRef(b *berth, ref string) (name.Reference, error) {
	return name.ParseReference(b.Host+"/"+ref, name.Insecure)
}

// manifestBytes reads every manifest of every repository of the accounts
// through BatchGetImage: account/repository@digest → its bytes.
func manifestBytes(t *testing.T, ctx context.Context, b *berth, accounts map[string][2]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for account, k := range accounts {
		c := ecr.NewFromConfig(b.awsConfig(testRegion, k[0], k[1]))
		repos, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatalf("DescribeRepositories: %v", err)
		}
		for _, r := range repos.Repositories {
			imgs, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: r.RepositoryName})
			if err != nil {
				t.Fatalf("ListImages: %v", err)
			}
			for _, id := range imgs.ImageIds {
				got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: r.RepositoryName,
					ImageIds:           []ecrtypes.ImageIdentifier{{ImageDigest: id.ImageDigest}},
					AcceptedMediaTypes: []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"}})
				if err != nil || len(got.Images) == 0 { // one per tag
					t.Fatalf("BatchGetImage %s: %v %+v", aws.ToString(id.ImageDigest), err, got)
				}
				out[account+"/"+aws.ToString(r.RepositoryName)+"@"+aws.ToString(id.ImageDigest)] = aws.ToString(got.Images[0].ImageManifest)
			}
		}
	}
	return out
}

// migrationView is everything the ECR and IAM APIs say of the accounts,
// one fact a line, in a fixed order. Times are at milliseconds; the
// repositories' URIs (which name the server's port) and the lifecycle
// policy's last evaluation (which the loop stamps when a server starts)
// are left out.
func migrationView(t *testing.T, ctx context.Context, b *berth, accounts map[string][2]string) string {
	t.Helper()
	var v strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&v, format+"\n", args...) }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s on %s: %v", what, b.URL, err)
		}
	}
	tm := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
	}
	js := func(x any) string { j, _ := json.Marshal(x); return string(j) }
	for _, account := range slices.Sorted(maps.Keys(accounts)) {
		k := accounts[account]
		cfg := b.awsConfig(testRegion, k[0], k[1])
		c, ic := ecr.NewFromConfig(cfg), iam.NewFromConfig(cfg)
		line("account %s", account)
		reg, err := c.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
		if err == nil {
			line("  registry policy %s", aws.ToString(reg.PolicyText))
		}
		setting, err := c.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("BLOB_MOUNTING")})
		must("GetAccountSetting", err)
		line("  BLOB_MOUNTING %s", aws.ToString(setting.Value))
		repos, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		must("DescribeRepositories", err)
		for _, r := range repos.Repositories {
			name := r.RepositoryName
			r.RepositoryUri = nil
			line("  repository %s created %s %s", aws.ToString(name), tm(r.CreatedAt), js(r))
			tags, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
			must("ListTagsForResource", err)
			line("    tags %s", js(tags.Tags))
			if p, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: name}); err == nil {
				line("    policy %s", aws.ToString(p.PolicyText))
			}
			if p, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name}); err == nil {
				line("    lifecycle %s", aws.ToString(p.LifecyclePolicyText))
			}
			imgs, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: name})
			must("DescribeImages", err)
			slices.SortFunc(imgs.ImageDetails, func(a, b ecrtypes.ImageDetail) int {
				return strings.Compare(aws.ToString(a.ImageDigest), aws.ToString(b.ImageDigest))
			})
			for _, d := range imgs.ImageDetails {
				slices.Sort(d.ImageTags)
				line("    image %s tags %v size %d pushed %s pulled %s type %s artifact %s", aws.ToString(d.ImageDigest), d.ImageTags,
					aws.ToInt64(d.ImageSizeInBytes), tm(d.ImagePushedAt), tm(d.LastRecordedPullTime),
					aws.ToString(d.ImageManifestMediaType), aws.ToString(d.ArtifactMediaType))
				rs, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: name,
					SubjectId: &ecrtypes.SubjectIdentifier{ImageDigest: d.ImageDigest}})
				must("ListImageReferrers", err)
				for _, rf := range rs.Referrers {
					line("      referrer %s %s %d", aws.ToString(rf.Digest), aws.ToString(rf.ArtifactType), aws.ToInt64(rf.Size))
				}
			}
		}

		rules, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
		must("DescribePullThroughCacheRules", err)
		for _, r := range rules.PullThroughCacheRules {
			line("  pull through %s %s credential %s created %s updated %s", aws.ToString(r.EcrRepositoryPrefix), aws.ToString(r.UpstreamRegistryUrl),
				aws.ToString(r.CredentialArn), tm(r.CreatedAt), tm(r.UpdatedAt))
		}
		sc := secretsmanager.NewFromConfig(cfg)
		secrets, err := sc.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
		must("ListSecrets", err)
		for _, s := range secrets.SecretList {
			line("  secret %s %s %q created %s changed %s", aws.ToString(s.Name), aws.ToString(s.ARN), aws.ToString(s.Description),
				tm(s.CreatedDate), tm(s.LastChangedDate))
			vs, err := sc.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: s.ARN})
			must("ListSecretVersionIds", err)
			slices.SortFunc(vs.Versions, func(a, b smtypes.SecretVersionsListEntry) int {
				return strings.Compare(aws.ToString(a.VersionId), aws.ToString(b.VersionId))
			})
			for _, v := range vs.Versions {
				val, err := sc.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN, VersionId: v.VersionId})
				must("GetSecretValue", err)
				slices.Sort(v.VersionStages)
				line("    version %s stages %v created %s value %s", aws.ToString(v.VersionId), v.VersionStages, tm(v.CreatedDate), aws.ToString(val.SecretString))
			}
		}
		providers, err := ic.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		must("ListOpenIDConnectProviders", err)
		for _, p := range providers.OpenIDConnectProviderList {
			got, err := ic.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: p.Arn})
			must("GetOpenIDConnectProvider", err)
			line("  oidc provider %s url %s clients %v thumbprints %v created %s", aws.ToString(p.Arn), aws.ToString(got.Url),
				got.ClientIDList, got.ThumbprintList, tm(got.CreateDate))
		}

		users, err := ic.ListUsers(ctx, &iam.ListUsersInput{})
		must("ListUsers", err)
		for _, u := range users.Users {
			line("  user %s %s %s %s %s", aws.ToString(u.UserName), aws.ToString(u.UserId), aws.ToString(u.Arn), aws.ToString(u.Path), tm(u.CreateDate))
			keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
			must("ListAccessKeys", err)
			for _, k := range keys.AccessKeyMetadata {
				line("    key %s %s %s", aws.ToString(k.AccessKeyId), k.Status, tm(k.CreateDate))
			}
			pols, err := ic.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: u.UserName})
			must("ListUserPolicies", err)
			for _, p := range pols.PolicyNames {
				doc, err := ic.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: u.UserName, PolicyName: aws.String(p)})
				must("GetUserPolicy", err)
				line("    inline %s %s", p, aws.ToString(doc.PolicyDocument))
			}
			att, err := ic.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u.UserName})
			must("ListAttachedUserPolicies", err)
			line("    attached %s", js(att.AttachedPolicies))
			groups, err := ic.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: u.UserName})
			must("ListGroupsForUser", err)
			for _, g := range groups.Groups {
				line("    in group %s", aws.ToString(g.GroupName))
			}
		}
		groups, err := ic.ListGroups(ctx, &iam.ListGroupsInput{})
		must("ListGroups", err)
		for _, g := range groups.Groups {
			line("  group %s %s %s %s", aws.ToString(g.GroupName), aws.ToString(g.GroupId), aws.ToString(g.Arn), tm(g.CreateDate))
			att, err := ic.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: g.GroupName})
			must("ListAttachedGroupPolicies", err)
			line("    attached %s", js(att.AttachedPolicies))
		}
		roles, err := ic.ListRoles(ctx, &iam.ListRolesInput{})
		must("ListRoles", err)
		for _, r := range roles.Roles {
			line("  role %s %s %s %s %s %d %s", aws.ToString(r.RoleName), aws.ToString(r.RoleId), aws.ToString(r.Arn), tm(r.CreateDate),
				aws.ToString(r.Description), aws.ToInt32(r.MaxSessionDuration), aws.ToString(r.AssumeRolePolicyDocument))
			att, err := ic.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
			must("ListAttachedRolePolicies", err)
			line("    attached %s", js(att.AttachedPolicies))
		}
		pols, err := ic.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Local"})
		must("ListPolicies", err)
		for _, p := range pols.Policies {
			ver, err := ic.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: p.DefaultVersionId})
			must("GetPolicyVersion", err)
			line("  policy %s %s %s %s attached %d %s", aws.ToString(p.Arn), aws.ToString(p.PolicyId), tm(p.CreateDate), tm(p.UpdateDate),
				aws.ToInt32(p.AttachmentCount), aws.ToString(ver.PolicyVersion.Document))
		}
	}
	return v.String()
}

// lineDiff shows the lines of got and want that the other lacks.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
