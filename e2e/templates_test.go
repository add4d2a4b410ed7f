package e2e

// Repository creation templates end to end: aws-sdk-go-v2 manages them,
// go-containerregistry pushes to repositories a CREATE_ON_PUSH template
// creates, as root and as an IAM user whose policy decides whether the
// push may create (and tag) the repository.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const (
	rctLifecycle = `{"rules":[{"rulePriority":1,"description":"keep 10","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`
	rctPolicy    = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`
)

func TestTemplatesCreateOnPush(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 3*time.Minute)
	c := b.ECR()

	created, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix:             aws.String("team"),
		Description:        aws.String("created on push"),
		AppliedFor:         []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForCreateOnPush},
		ImageTagMutability: ecrtypes.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{
			{FilterType: ecrtypes.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")}},
		LifecyclePolicy:  aws.String(rctLifecycle),
		RepositoryPolicy: aws.String(rctPolicy),
		ResourceTags:     []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	if err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate: %v", err)
	}
	tm := created.RepositoryCreationTemplate
	if aws.ToString(created.RegistryId) != testAccount || aws.ToString(tm.Prefix) != "team" || aws.ToString(tm.Description) != "created on push" ||
		len(tm.AppliedFor) != 1 || tm.AppliedFor[0] != ecrtypes.RCTAppliedForCreateOnPush ||
		tm.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutableWithExclusion || len(tm.ImageTagMutabilityExclusionFilters) != 1 ||
		aws.ToString(tm.LifecyclePolicy) != rctLifecycle || aws.ToString(tm.RepositoryPolicy) != rctPolicy ||
		tm.EncryptionConfiguration == nil || tm.EncryptionConfiguration.EncryptionType != ecrtypes.EncryptionTypeAes256 ||
		len(tm.ResourceTags) != 1 || tm.CreatedAt == nil || tm.UpdatedAt == nil || time.Since(*tm.CreatedAt) > time.Minute {
		t.Errorf("created template: %+v", tm)
	}

	// Push to a new repository under the prefix: it is created with the
	// template's settings.
	ref := ggcrRepo(t, b, "team/app")
	opts := ggcrOpts(t, b, ctx)
	img, _ := random.Image(1024, 2)
	if err := remote.Write(ref.Tag("v1"), img, opts...); err != nil {
		t.Fatalf("pushing team/app:v1 to a missing repository under a CREATE_ON_PUSH template: %v", err)
	}
	repos, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
	if err != nil {
		t.Fatalf("DescribeRepositories(team/app): %v", err)
	}
	r := repos.Repositories[0]
	if r.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutableWithExclusion || len(r.ImageTagMutabilityExclusionFilters) != 1 ||
		aws.ToString(r.ImageTagMutabilityExclusionFilters[0].Filter) != "latest" {
		t.Errorf("team/app's mutability: %s %+v", r.ImageTagMutability, r.ImageTagMutabilityExclusionFilters)
	}
	lp, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("team/app")})
	if err != nil || aws.ToString(lp.LifecyclePolicyText) != rctLifecycle {
		t.Errorf("team/app's lifecycle policy: %v, %v", lp, err)
	}
	rp, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("team/app")})
	if err != nil || aws.ToString(rp.PolicyText) != rctPolicy {
		t.Errorf("team/app's repository policy: %v, %v", rp, err)
	}
	tags, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "a" {
		t.Errorf("team/app's tags: %+v, %v", tags, err)
	}
	// The template's mutability holds: v1 does not move, latest does.
	other, _ := random.Image(1024, 1)
	err = remote.Write(ref.Tag("v1"), other, opts...)
	wantRegistryError(t, err, http.StatusBadRequest, "TAG_INVALID")
	for range 2 {
		img, _ := random.Image(512, 1)
		if err := remote.Write(ref.Tag("latest"), img, opts...); err != nil {
			t.Errorf("moving latest (excluded from immutability): %v", err)
		}
	}

	// Names no CREATE_ON_PUSH template governs still answer NAME_UNKNOWN:
	// another namespace, the prefix itself (ECR assumes a '/' after it), a
	// template for another scenario.
	if _, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("mirror/"), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForReplication},
	}); err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate(mirror/): %v", err)
	}
	for _, name := range []string{"other/app", "team", "teams/app", "mirror/app"} {
		err := remote.Write(ggcrRepo(t, b, name).Tag("v1"), img, opts...)
		te := wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
		want := fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, testAccount)
		if len(te.Errors) > 0 && te.Errors[0].Message != want {
			t.Errorf("push to %s: %q, want %q", name, te.Errors[0].Message, want)
		}
	}

	// A push through the API creates the repository too.
	if _, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("team/api")}); err != nil {
		t.Errorf("InitiateLayerUpload(team/api): %v", err)
	}
	if _, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/api"}}); err != nil {
		t.Errorf("team/api after InitiateLayerUpload: %v", err)
	}

	// An update applies to repositories created after it.
	up, err := c.UpdateRepositoryCreationTemplate(ctx, &ecr.UpdateRepositoryCreationTemplateInput{
		Prefix: aws.String("team/"), ImageTagMutability: ecrtypes.ImageTagMutabilityMutable, LifecyclePolicy: aws.String(""),
	})
	if err != nil {
		t.Fatalf("UpdateRepositoryCreationTemplate: %v", err)
	}
	if u := up.RepositoryCreationTemplate; u.ImageTagMutability != ecrtypes.ImageTagMutabilityMutable || len(u.ImageTagMutabilityExclusionFilters) != 0 ||
		u.LifecyclePolicy != nil || aws.ToString(u.RepositoryPolicy) != rctPolicy || aws.ToString(u.Description) != "created on push" ||
		!u.CreatedAt.Equal(*tm.CreatedAt) || u.UpdatedAt.Before(*tm.UpdatedAt) {
		t.Errorf("updated template: %+v", u)
	}
	if err := remote.Write(ggcrRepo(t, b, "team/app2").Tag("v1"), img, opts...); err != nil {
		t.Fatalf("push to team/app2: %v", err)
	}
	repos, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app2"}})
	if err != nil || repos.Repositories[0].ImageTagMutability != ecrtypes.ImageTagMutabilityMutable {
		t.Errorf("team/app2 after the update: %+v, %v", repos, err)
	}
	_, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("team/app2")})
	wantAPIErrorCode(t, "GetLifecyclePolicy(team/app2)", err, "LifecyclePolicyNotFoundException", 400)

	// Describe: all, by prefix, in pages.
	for i := range 3 {
		if _, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
			Prefix: aws.String(fmt.Sprintf("page%d", i)), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForPullThroughCache},
		}); err != nil {
			t.Fatal(err)
		}
	}
	var prefixes []string
	pages := ecr.NewDescribeRepositoryCreationTemplatesPaginator(c, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(2)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeRepositoryCreationTemplates page: %v", err)
		}
		n++
		if aws.ToString(page.RegistryId) != testAccount || len(page.RepositoryCreationTemplates) > 2 {
			t.Errorf("page %+v", page)
		}
		for _, tm := range page.RepositoryCreationTemplates {
			prefixes = append(prefixes, aws.ToString(tm.Prefix))
		}
	}
	if want := "mirror/ page0 page1 page2 team"; strings.Join(prefixes, " ") != want || n != 3 {
		t.Errorf("templates in %d pages: %q, want %q in 3", n, prefixes, want)
	}
	byPrefix, err := c.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"team", "nope"}})
	if err != nil || len(byPrefix.RepositoryCreationTemplates) != 1 || aws.ToString(byPrefix.RepositoryCreationTemplates[0].Prefix) != "team" {
		t.Errorf("DescribeRepositoryCreationTemplates(team, nope) = %+v, %v", byPrefix, err)
	}

	// Deleted, the template creates nothing more. "team/" names the
	// template created as "team": one namespace.
	del, err := c.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("team/")})
	if err != nil || aws.ToString(del.RepositoryCreationTemplate.Prefix) != "team" {
		t.Fatalf("DeleteRepositoryCreationTemplate = %+v, %v", del, err)
	}
	err = remote.Write(ggcrRepo(t, b, "team/app3").Tag("v1"), img, opts...)
	wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
}

// TestTemplatesBadInput: each refusal is ECR's exception with a message
// that says what to fix.
func TestTemplatesBadInput(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	onPush := []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForCreateOnPush}
	create := func(in ecr.CreateRepositoryCreationTemplateInput) error {
		if in.AppliedFor == nil {
			in.AppliedFor = onPush
		}
		_, err := c.CreateRepositoryCreationTemplate(ctx, &in)
		return err
	}
	for _, tc := range []struct {
		name     string
		in       ecr.CreateRepositoryCreationTemplateInput
		code     string
		contains string
	}{
		{"upper-case prefix", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("Team")},
			"InvalidParameterException", "Invalid parameter at 'prefix' failed to satisfy constraint: 'Member must satisfy regular expression pattern"},
		{"prefix with //", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a//b")},
			"InvalidParameterException", "Invalid parameter at 'prefix'"},
		{"ROOT/", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("ROOT/")},
			"InvalidParameterException", "Invalid parameter at 'prefix'"},
		{"unknown appliedFor", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []ecrtypes.RCTAppliedFor{"ON_PULL"}},
			"InvalidParameterException", "Member must satisfy enum value set"},
		{"no appliedFor", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []ecrtypes.RCTAppliedFor{}},
			"InvalidParameterException", "Invalid parameter at 'appliedFor' failed to satisfy constraint: 'A repository creation template must apply to at least one of [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]'"},
		{"bad lifecycle policy", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), LifecyclePolicy: aws.String(`{"rules":[{"rulePriority":0}]}`)},
			"InvalidParameterException", "Invalid parameter at 'lifecyclePolicy' failed to satisfy constraint: '"},
		{"bad repository policy", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), RepositoryPolicy: aws.String(`{"Statement":"nope"}`)},
			"InvalidParameterException", "Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided'"},
		{"filters under IMMUTABLE", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
			ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("x")}}},
			"InvalidParameterException", "ImageTagMutabilityExclusionFilters must be null when imageTagMutability is set as IMMUTABLE"},
		{"reserved tag", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), ResourceTags: []ecrtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}},
			"InvalidTagParameterException", "reserved for AWS use"},
		{"role of another account", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), CustomRoleArn: aws.String("arn:aws:iam::111122223333:role/r")},
			"InvalidParameterException", "the role must be in the same account as the registry, '000000000000'"},
	} {
		err := create(tc.in)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		code, msg := apiErrorCode(t, err)
		if code != tc.code || apiErrorStatus(err) != 400 || !strings.Contains(msg, tc.contains) {
			t.Errorf("%s: %d %s %q; want 400 %s containing %q", tc.name, apiErrorStatus(err), code, msg, tc.code, tc.contains)
		}
	}

	if err := create(ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("dup/")}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "a second template of one namespace", create(ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("dup")}),
		"TemplateAlreadyExistsException", 400, "A repository creation template with prefix 'dup' already exists in the registry with id '000000000000'")
	_, err := c.UpdateRepositoryCreationTemplate(ctx, &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("missing")})
	wantAPIError(t, "UpdateRepositoryCreationTemplate(missing)", err,
		"TemplateNotFoundException", 400, "The repository creation template with prefix 'missing' does not exist in the registry with id '000000000000'")
	_, err = c.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("missing/")})
	wantAPIError(t, "DeleteRepositoryCreationTemplate(missing)", err,
		"TemplateNotFoundException", 400, "The repository creation template with prefix 'missing/' does not exist in the registry with id '000000000000'")
	_, err = c.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{NextToken: aws.String("garbage!")})
	wantAPIErrorCode(t, "DescribeRepositoryCreationTemplates with a forged token", err, "InvalidParameterException", 400)

	// ECR's limit: the registry holds 100 (dup/ is one of them).
	for i := range 99 {
		if err := create(ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(fmt.Sprintf("n%02d", i))}); err != nil {
			t.Fatalf("template %d: %v", i, err)
		}
	}
	wantAPIError(t, "the 101st template", create(ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("over")}),
		"LimitExceededException", 400, "The registry with id '000000000000' already has 100 repository creation templates, the most it can have: delete one before creating another")
}

// TestTemplatesCreateOnPushAuthorization: a push that would create a
// repository needs ecr:CreateRepository, and ecr:TagResource when the
// template tags it, as CreateRepository with tags does.
func TestTemplatesCreateOnPushAuthorization(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	if _, err := b.ECR().CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("ci"), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForCreateOnPush},
		ResourceTags: []ecrtypes.Tag{{Key: aws.String("owner"), Value: aws.String("ci")}},
	}); err != nil {
		t.Fatal(err)
	}
	cfg := azUser(t, b, b.IAM(), "pusher")
	userARN := "arn:aws:iam::" + testAccount + ":user/pusher"
	setPolicy := func(actions string) {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"*"}]}`
		if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("pusher"), PolicyName: aws.String("push"),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	const push = `"ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:BatchGetImage"`
	setPolicy("[" + push + "]")
	password := getLoginPassword(t, cfg)
	ref := ggcrRepo(t, b, "ci/app")
	img, _ := random.Image(512, 1)

	err := remote.Write(ref.Tag("v1"), img, azOpts(ctx, password)...)
	azWantDenied(t, "push without ecr:CreateRepository", err,
		azDeniedMsg(userARN, "ecr:CreateRepository", azRepoARN(testAccount, "ci/app"), azNoIdentityPolicy("ecr:CreateRepository")))
	if _, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"ci/app"}}); err == nil {
		t.Error("a refused push created the repository")
	}

	// The tags count as the request's: a condition on them decides.
	setPolicy("[" + push + `,"ecr:CreateRepository"]`)
	err = remote.Write(ref.Tag("v1"), img, azOpts(ctx, password)...)
	azWantDenied(t, "push without ecr:TagResource", err,
		azDeniedMsg(userARN, "ecr:TagResource", azRepoARN(testAccount, "ci/app"), azNoIdentityPolicy("ecr:TagResource")))

	if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("pusher"), PolicyName: aws.String("push"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + push + `],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["ecr:CreateRepository","ecr:TagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/owner":"ci"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref.Tag("v1"), img, azOpts(ctx, password)...); err != nil {
		t.Fatalf("push allowed to create and tag: %v", err)
	}
	out, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"ci/app"}})
	if err != nil || len(out.Repositories) != 1 {
		t.Fatalf("ci/app after the push: %+v, %v", out, err)
	}

	// Managing templates is its own action.
	_, err = ecr.NewFromConfig(cfg).CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("mine"), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForCreateOnPush}})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" ||
		!strings.Contains(err.Error(), "ecr:CreateRepositoryCreationTemplate on resource: "+azRepoARN(testAccount, "*")) {
		t.Errorf("CreateRepositoryCreationTemplate without the action: %v", err)
	}
}
