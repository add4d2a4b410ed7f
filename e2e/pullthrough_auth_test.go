package e2e

// The pull through cache's two kinds of authorization, end to end: Berth's
// own login to a Basic-auth upstream (CNCF Distribution with htpasswd),
// with credentials from a Secrets Manager secret made with aws-sdk-go-v2;
// and the puller's, by IAM policy (ecr:BatchImportUpstreamImage,
// ecr:CreateRepository) as docs/pull-through.md says.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The upstream's only user. Distribution's htpasswd takes bcrypt hashes
// only; this is bcrypt (cost 4) of ptcUpstreamPassword, fixed so that the
// tests need no bcrypt library.
const (
	ptcUpstreamUser     = "berth"
	ptcUpstreamPassword = "upstream-pass-1"
	ptcUpstreamHtpasswd = ptcUpstreamUser + ":$2a$04$8bgK9ksRdTRDdGHa8Gdfj.gRzV9myXmvztxgLzgZITbC5nm/ReYye"
)

// ptcSecret is a pull through cache secret's value.
func ptcSecret(user, token string) string {
	return `{"username":"` + user + `","accessToken":"` + token + `"}`
}

// pushUpstreamAs pushes img to the Basic-auth upstream directly, logged in.
func pushUpstreamAs(t *testing.T, ctx context.Context, up *distUpstream, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(up.Direct+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(ctx),
		remote.WithAuth(&ggcrauthn.Basic{Username: ptcUpstreamUser, Password: ptcUpstreamPassword})); err != nil {
		t.Fatalf("push %s upstream: %v", ref, err)
	}
	d, _ := img.Digest()
	return d
}

func TestPullThroughCacheBasicAuthUpstream(t *testing.T) {
	ctx := withTimeout(t, 3*time.Minute)
	up := startDistribution(t, ptcUpstreamHtpasswd)
	b := startAuthzBerth(t)
	c, sm := b.ECR(), b.SecretsManager()

	// The upstream really wants a login: anonymous pushes and pulls fail.
	if resp, err := http.Get("http://" + up.Direct + "/v2/"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous GET /v2/ of the upstream: %v, %v; want 401", resp, err)
	}
	img, _ := random.Image(64*1024, 2)
	want := pushUpstreamAs(t, ctx, up, "team/app:v1", img)

	// What the cache creates gets the PULL_THROUGH_CACHE template.
	if _, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("priv"), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForPullThroughCache},
		ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
		ResourceTags:       []ecrtypes.Tag{{Key: aws.String("source"), Value: aws.String("upstream")}},
	}); err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate(PULL_THROUGH_CACHE): %v", err)
	}

	secret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/priv"),
		SecretString: aws.String(ptcSecret(ptcUpstreamUser, ptcUpstreamPassword))})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	rule, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("priv"),
		UpstreamRegistryUrl: aws.String(up.URL), CredentialArn: secret.ARN})
	if err != nil {
		t.Fatalf("CreatePullThroughCacheRule with a credentialArn: %v", err)
	}
	if aws.ToString(rule.CredentialArn) != aws.ToString(secret.ARN) {
		t.Errorf("rule's credentialArn %q, want the secret's %q", aws.ToString(rule.CredentialArn), aws.ToString(secret.ARN))
	}
	v, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("priv")})
	if err != nil || !v.IsValid || aws.ToString(v.CredentialArn) != aws.ToString(secret.ARN) {
		t.Fatalf("Validate with the right credentials: %+v, %v; want isValid", v, err)
	}

	t.Run("PullWithTheSecret", func(t *testing.T) {
		got, err := pullThrough(t, ctx, b, "priv/team/app:v1")
		if err != nil || got != want {
			t.Fatalf("pull through a Basic-auth upstream: %s, %v; want %s\n%s", got, err, want, tail(b.Log(), 20))
		}
		waitImported(t, ctx, b, "priv/team/app", "v1", want)
	})

	t.Run("TemplateApplied", func(t *testing.T) {
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"priv/team/app"}})
		if err != nil || len(out.Repositories) != 1 {
			t.Fatalf("DescribeRepositories(priv/team/app): %+v, %v", out, err)
		}
		r := out.Repositories[0]
		if r.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutable {
			t.Errorf("the cache's repository is %s, want the template's IMMUTABLE", r.ImageTagMutability)
		}
		tags, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "source" || aws.ToString(tags.Tags[0].Value) != "upstream" {
			t.Errorf("the cache's repository's tags: %+v, %v; want the template's source=upstream", tags, err)
		}
	})

	// A second rule on the same upstream whose secret holds a wrong password.
	bad, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/stale"),
		SecretString: aws.String(ptcSecret(ptcUpstreamUser, "not-the-password"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("stale"),
		UpstreamRegistryUrl: aws.String(up.URL), CredentialArn: bad.ARN}); err != nil {
		t.Fatalf("CreatePullThroughCacheRule (wrong password): %v", err)
	}

	t.Run("WrongPassword", func(t *testing.T) {
		v, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("stale")})
		if err != nil || v.IsValid || !strings.Contains(aws.ToString(v.Failure), "Could not authenticate to the upstream registry "+up.URL) ||
			!strings.Contains(aws.ToString(v.Failure), "401") {
			t.Fatalf("Validate with a wrong password: %+v (failure %q), %v; want isValid false saying the login was refused (401)",
				v, aws.ToString(v.Failure), err)
		}
		t.Logf("failure: %s", aws.ToString(v.Failure))
		_, err = pullThrough(t, ctx, b, "stale/team/app:v1")
		te := wantRegistryError(t, err, http.StatusBadGateway, "DENIED")
		if len(te.Errors) == 0 {
			return
		}
		if msg := te.Errors[0].Message; !strings.Contains(msg, "refused the pull through cache rule's credentials") ||
			!strings.Contains(msg, "validate-pull-through-cache-rule") {
			t.Errorf("pull with refused credentials says %q; want it to say the upstream refused the rule's credentials", msg)
		}
	})

	t.Run("RotatedSecret", func(t *testing.T) {
		// The secret gets the right password; the rule is not touched.
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: bad.ARN,
			SecretString: aws.String(ptcSecret(ptcUpstreamUser, ptcUpstreamPassword))}); err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		v, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("stale")})
		if err != nil || !v.IsValid {
			t.Fatalf("Validate after rotating the secret: %+v (failure %q), %v; want isValid", v, aws.ToString(v.Failure), err)
		}
		got, err := pullThrough(t, ctx, b, "stale/team/app:v1")
		if err != nil || got != want {
			t.Fatalf("pull after rotating the secret: %s, %v; want %s\n%s", got, err, want, tail(b.Log(), 20))
		}
		waitImported(t, ctx, b, "stale/team/app", "v1", want)
	})
}

// TestPullThroughCacheAuthorization: a puller who may pull but not import
// from the upstream fetches nothing; ecr:BatchImportUpstreamImage, and
// ecr:CreateRepository for the first pull, from the identity's policy or
// the registry policy, let it through; a cached image needs neither.
func TestPullThroughCacheAuthorization(t *testing.T) {
	ctx := withTimeout(t, 3*time.Minute)
	up := startDistribution(t, "")
	b := startAuthzBerth(t)
	img, _ := random.Image(32*1024, 1)
	want := pushUpstream(t, ctx, up, "team/app:v1", img)
	other, _ := random.Image(32*1024, 1)
	wantOther := pushUpstream(t, ctx, up, "team/other:v1", other)
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("up"), UpstreamRegistryUrl: aws.String(up.URL)}); err != nil {
		t.Fatal(err)
	}

	const pull = `"ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"`
	setPolicy := func(user, actions string) {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + actions + `],"Resource":"*"}]}`
		if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("pull"),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	pullAs := func(password, ref string) (v1.Hash, error) {
		r, err := name.ParseReference(b.Host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r, azOpts(ctx, password)...)
		if err != nil {
			return v1.Hash{}, err
		}
		return img.Digest()
	}
	const fetchNeeds = " (a pull through cache fetch needs it)"

	cfg := azUser(t, b, b.IAM(), "puller")
	userARN := "arn:aws:iam::" + testAccount + ":user/puller"
	setPolicy("puller", pull)
	password := getLoginPassword(t, cfg)

	before := up.Counts()
	_, err := pullAs(password, "up/team/app:v1")
	azWantDenied(t, "first pull without ecr:BatchImportUpstreamImage", err,
		azDeniedMsg(userARN, "ecr:BatchImportUpstreamImage", azRepoARN(testAccount, "up/team/app"), azNoIdentityPolicy("ecr:BatchImportUpstreamImage"))+fetchNeeds)
	if after := up.Counts(); after["manifest"] != before["manifest"] || after["blob"] != before["blob"] {
		t.Errorf("a refused puller made Berth fetch from the upstream: %v → %v", before, after)
	}

	setPolicy("puller", pull+`,"ecr:BatchImportUpstreamImage"`)
	_, err = pullAs(password, "up/team/app:v1")
	azWantDenied(t, "first pull without ecr:CreateRepository", err,
		azDeniedMsg(userARN, "ecr:CreateRepository", azRepoARN(testAccount, "up/team/app"), azNoIdentityPolicy("ecr:CreateRepository"))+fetchNeeds)
	if _, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"up/team/app"}}); err == nil {
		t.Error("a pull refused ecr:CreateRepository created the repository")
	}

	setPolicy("puller", pull+`,"ecr:BatchImportUpstreamImage","ecr:CreateRepository"`)
	if got, err := pullAs(password, "up/team/app:v1"); err != nil || got != want {
		t.Fatalf("first pull with both actions: %s, %v; want %s\n%s", got, err, want, tail(b.Log(), 20))
	}
	waitImported(t, ctx, b, "up/team/app", "v1", want)

	// Served from the cache, the pull needs nothing extra.
	setPolicy("puller", pull)
	before = up.Counts()
	if got, err := pullAs(password, "up/team/app:v1"); err != nil || got != want {
		t.Errorf("cached pull with only the pull actions: %s, %v; want %s", got, err, want)
	}
	if after := up.Counts(); after["manifest"] != before["manifest"] {
		t.Errorf("the cached pull asked the upstream: %v → %v", before, after)
	}

	// The registry policy may grant both, as docs/pull-through.md shows.
	if _, err := b.ECR().PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{` +
		`"Sid":"PullThroughCache","Effect":"Allow","Principal":{"AWS":"` + userARN + `"},` +
		`"Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],` +
		`"Resource":"` + azRepoARN(testAccount, "up/*") + `"}]}`)}); err != nil {
		t.Fatalf("PutRegistryPolicy: %v", err)
	}
	if got, err := pullAs(password, "up/team/other:v1"); err != nil || got != wantOther {
		t.Fatalf("first pull allowed by the registry policy: %s, %v; want %s\n%s", got, err, wantOther, tail(b.Log(), 20))
	}
	// ... for the pull through cache only: a plain CreateRepository stays refused.
	_, err = ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("up/plain")})
	azWantAPIDenied(t, "CreateRepository with only the registry policy", err,
		azDeniedMsg(userARN, "ecr:CreateRepository", azRepoARN(testAccount, "up/plain"), azNoIdentityPolicy("ecr:CreateRepository")))
}
