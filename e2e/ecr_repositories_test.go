package e2e

// The ECR repository and registry operations through aws-sdk-go-v2, and tag
// immutability as docker-style clients meet it on the data plane.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ecrRepoError asserts that err is the AWS error code and returns its
// message.
func ecrRepoError(t *testing.T, err error, code string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an AWS API error", err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae.ErrorMessage()
}

// ecrRepoErrorMentions asserts the error code and that the message names
// each of words.
func ecrRepoErrorMentions(t *testing.T, err error, code string, words ...string) {
	t.Helper()
	msg := ecrRepoError(t, err, code)
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("%s message %q does not mention %q", code, msg, w)
		}
	}
}

func ecrCreateRepo(t *testing.T, ctx context.Context, c *ecr.Client, in *ecr.CreateRepositoryInput) *types.Repository {
	t.Helper()
	out, err := c.CreateRepository(ctx, in)
	if err != nil {
		t.Fatalf("CreateRepository(%s): %v", aws.ToString(in.RepositoryName), err)
	}
	return out.Repository
}

func ecrDescribeRepo(t *testing.T, ctx context.Context, c *ecr.Client, name string) types.Repository {
	t.Helper()
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil {
		t.Fatalf("DescribeRepositories(%s): %v", name, err)
	}
	if len(out.Repositories) != 1 {
		t.Fatalf("DescribeRepositories(%s) returned %d repositories", name, len(out.Repositories))
	}
	return out.Repositories[0]
}

func wildcard(patterns ...string) []types.ImageTagMutabilityExclusionFilter {
	var fs []types.ImageTagMutabilityExclusionFilter
	for _, p := range patterns {
		fs = append(fs, types.ImageTagMutabilityExclusionFilter{
			FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard,
			Filter:     aws.String(p),
		})
	}
	return fs
}

func TestECRCreateAndDescribeRepository(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECR()
	before := time.Now().Add(-time.Second)

	full := ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String("team/full"),
		ImageTagMutability:                 types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: wildcard("latest", "dev-*"),
		ImageScanningConfiguration:         &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:            &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("alias/team")},
		Tags:                               []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	check := func(what string, r types.Repository) {
		t.Helper()
		if got, want := aws.ToString(r.RepositoryArn), "arn:aws:ecr:us-east-1:000000000000:repository/team/full"; got != want {
			t.Errorf("%s: repositoryArn = %s, want %s", what, got, want)
		}
		if aws.ToString(r.RegistryId) != testAccount || aws.ToString(r.RepositoryName) != "team/full" {
			t.Errorf("%s: registryId %s, repositoryName %s", what, aws.ToString(r.RegistryId), aws.ToString(r.RepositoryName))
		}
		if got, want := aws.ToString(r.RepositoryUri), b.Host+"/team/full"; got != want {
			t.Errorf("%s: repositoryUri = %s, want %s", what, got, want)
		}
		if r.CreatedAt == nil || r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: createdAt = %v, want about now", what, r.CreatedAt)
		}
		if r.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion {
			t.Errorf("%s: imageTagMutability = %s", what, r.ImageTagMutability)
		}
		var filters []string
		for _, f := range r.ImageTagMutabilityExclusionFilters {
			filters = append(filters, string(f.FilterType)+":"+aws.ToString(f.Filter))
		}
		if want := []string{"WILDCARD:latest", "WILDCARD:dev-*"}; !slices.Equal(filters, want) {
			t.Errorf("%s: exclusion filters = %q, want %q", what, filters, want)
		}
		if r.ImageScanningConfiguration == nil || !r.ImageScanningConfiguration.ScanOnPush {
			t.Errorf("%s: imageScanningConfiguration = %+v, want scanOnPush", what, r.ImageScanningConfiguration)
		}
		if e := r.EncryptionConfiguration; e == nil || e.EncryptionType != types.EncryptionTypeKms || aws.ToString(e.KmsKey) != "alias/team" {
			t.Errorf("%s: encryptionConfiguration = %+v", what, e)
		}
	}
	check("CreateRepository", *full)
	check("DescribeRepositories", ecrDescribeRepo(t, ctx, c, "team/full"))

	// The defaults, as ECR has them.
	bare := ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("bare")})
	if bare.ImageTagMutability != types.ImageTagMutabilityMutable || bare.ImageTagMutabilityExclusionFilters != nil ||
		bare.ImageScanningConfiguration == nil || bare.ImageScanningConfiguration.ScanOnPush ||
		bare.EncryptionConfiguration == nil || bare.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 ||
		bare.EncryptionConfiguration.KmsKey != nil {
		t.Errorf("defaults: %+v scanning %+v encryption %+v", bare, bare.ImageScanningConfiguration, bare.EncryptionConfiguration)
	}
	// KMS without a key names the AWS managed key.
	kms := ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{
		RepositoryName:          aws.String("kms-default"),
		EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKmsDsse},
	})
	if got := aws.ToString(kms.EncryptionConfiguration.KmsKey); got != "arn:aws:kms:us-east-1:000000000000:alias/aws/ecr" {
		t.Errorf("default KMS key = %q", got)
	}

	// Several names come back in the order asked, each once.
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"bare", "team/full", "bare"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range out.Repositories {
		names = append(names, aws.ToString(r.RepositoryName))
	}
	if want := []string{"bare", "team/full"}; !slices.Equal(names, want) || out.NextToken != nil {
		t.Errorf("DescribeRepositories(names) = %q, token %v; want %q", names, out.NextToken, want)
	}

	t.Run("errors", func(t *testing.T) {
		_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("bare")})
		if msg := ecrRepoError(t, err, "RepositoryAlreadyExistsException"); msg != "The repository with name 'bare' already exists in the registry with id '000000000000'" {
			t.Errorf("message %q", msg)
		}

		refused := []struct {
			name string
			in   ecr.CreateRepositoryInput
			code string
			says []string
		}{
			{"KMS key with AES256", ecr.CreateRepositoryInput{
				EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("alias/x")},
			}, "InvalidParameterException", []string{"'encryptionConfiguration.kmsKey'"}},
			{"exclusion without filters", ecr.CreateRepositoryInput{
				ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
			}, "InvalidParameterException", []string{"'imageTagMutabilityExclusionFilters'", "IMMUTABLE_WITH_EXCLUSION"}},
			{"filters without exclusion", ecr.CreateRepositoryInput{
				ImageTagMutability:                 types.ImageTagMutabilityImmutable,
				ImageTagMutabilityExclusionFilters: wildcard("latest"),
			}, "InvalidParameterException", []string{"'imageTagMutabilityExclusionFilters'", "IMMUTABLE"}},
			{"duplicate tag keys", ecr.CreateRepositoryInput{
				Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("team"), Value: aws.String("b")}},
			}, "InvalidTagParameterException", []string{"'team'"}},
			{"reserved tag prefix", ecr.CreateRepositoryInput{
				Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("a")}},
			}, "InvalidTagParameterException", []string{"'aws:'"}},
			{"tag key too long", ecr.CreateRepositoryInput{
				Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("a")}},
			}, "InvalidTagParameterException", []string{"128"}},
			{"51 tags", ecr.CreateRepositoryInput{Tags: manyTags(51)}, "TooManyTagsException", []string{"50"}},
		}
		for i, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				name := fmt.Sprintf("refused-%d", i)
				in := tc.in
				in.RepositoryName = aws.String(name)
				_, err := c.CreateRepository(ctx, &in)
				ecrRepoErrorMentions(t, err, tc.code, tc.says...)
				// Nothing is left behind.
				_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
				ecrRepoError(t, err, "RepositoryNotFoundException")
			})
		}

		_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"bare", "team/nope"}})
		if msg := ecrRepoError(t, err, "RepositoryNotFoundException"); msg != "The repository with name 'team/nope' does not exist in the registry with id '000000000000'" {
			t.Errorf("message %q", msg)
		}
		_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"bare"}, MaxResults: aws.Int32(10)})
		ecrRepoErrorMentions(t, err, "InvalidParameterException", "maxResults", "repositoryNames")
		_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"bare"}, NextToken: aws.String("YmFyZQ")})
		ecrRepoErrorMentions(t, err, "InvalidParameterException", "nextToken", "repositoryNames")
		for _, token := range []string{"not base64!", "QUJD" /* "ABC": no repository name */, ""} {
			_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: aws.String(token)})
			ecrRepoErrorMentions(t, err, "InvalidParameterException", "'nextToken'")
		}
	})
}

func manyTags(n int) []types.Tag {
	var tags []types.Tag
	for i := range n {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprintf("key-%02d", i)), Value: aws.String("v")})
	}
	return tags
}

func TestECRDescribeRepositoriesPagination(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("app/svc-%02d", i)
		want = append(want, name)
		ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
	}

	var got []string
	var sizes []int
	var token *string
	for range 10 {
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(10), NextToken: token})
		if err != nil {
			t.Fatalf("DescribeRepositories: %v", err)
		}
		sizes = append(sizes, len(out.Repositories))
		for _, r := range out.Repositories {
			got = append(got, aws.ToString(r.RepositoryName))
		}
		if out.NextToken == nil {
			break
		}
		if strings.Contains(*out.NextToken, "svc") {
			t.Errorf("nextToken %q shows the name it stands for", *out.NextToken)
		}
		token = out.NextToken
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) || !slices.Equal(got, want) {
		t.Errorf("pages of %v holding %q; want pages of [10 10 5] holding %q", sizes, got, want)
	}

	// Without maxResults one page of up to 100 holds them all.
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil || len(out.Repositories) != 25 || out.NextToken != nil {
		t.Fatalf("DescribeRepositories() = %d repositories, token %v, %v", len(out.Repositories), out.NextToken, err)
	}

	// The SDK's paginator walks the same pages.
	p := ecr.NewDescribeRepositoriesPaginator(c, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(7)})
	var paged []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("paginator: %v", err)
		}
		for _, r := range page.Repositories {
			paged = append(paged, aws.ToString(r.RepositoryName))
		}
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paginator gave %q", paged)
	}
}

func TestECRRegionsAreSeparateRegistries(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	east := b.ECR()
	west := ecr.NewFromConfig(b.awsConfig("eu-west-1", testAccessKeyID, testSecretAccessKey))

	e := ecrCreateRepo(t, ctx, east, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shared/name")})
	w := ecrCreateRepo(t, ctx, west, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shared/name"), ImageTagMutability: types.ImageTagMutabilityImmutable})
	ecrCreateRepo(t, ctx, west, &ecr.CreateRepositoryInput{RepositoryName: aws.String("west/only")})

	if aws.ToString(w.RepositoryArn) != "arn:aws:ecr:eu-west-1:000000000000:repository/shared/name" {
		t.Errorf("eu-west-1 ARN %s", aws.ToString(w.RepositoryArn))
	}
	eu, wu := aws.ToString(e.RepositoryUri), aws.ToString(w.RepositoryUri)
	if eu == wu || !strings.HasPrefix(wu, "000000000000.dkr.ecr.eu-west-1.") || !strings.HasSuffix(wu, "/shared/name") || strings.Contains(wu, "://") {
		t.Errorf("repositoryUri us-east-1 %s, eu-west-1 %s: want distinct registry hosts without scheme", eu, wu)
	}

	list := func(c *ecr.Client) []string {
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range out.Repositories {
			names = append(names, aws.ToString(r.RepositoryName)+"="+string(r.ImageTagMutability))
		}
		return names
	}
	if got := list(east); !slices.Equal(got, []string{"shared/name=MUTABLE"}) {
		t.Errorf("us-east-1 holds %q", got)
	}
	if got := list(west); !slices.Equal(got, []string{"shared/name=IMMUTABLE", "west/only=MUTABLE"}) {
		t.Errorf("eu-west-1 holds %q", got)
	}
	_, err := east.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"west/only"}})
	ecrRepoError(t, err, "RepositoryNotFoundException")

	// Deleting in one region leaves the other's repository of the same name.
	if _, err := west.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("shared/name")}); err != nil {
		t.Fatal(err)
	}
	ecrDescribeRepo(t, ctx, east, "shared/name")
}

func TestECRDeleteRepository(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECR()

	created := ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app"), ImageTagMutability: types.ImageTagMutabilityImmutable})
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ggcrRepo(t, b, "team/app").Tag("v1"), img, ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("push: %v", err)
	}

	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app")})
	if msg := ecrRepoError(t, err, "RepositoryNotEmptyException"); msg != "The repository with name 'team/app' in registry with id '000000000000' cannot be deleted because it still contains images" {
		t.Errorf("message %q", msg)
	}
	ecrDescribeRepo(t, ctx, c, "team/app")

	out, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app"), Force: true})
	if err != nil {
		t.Fatalf("DeleteRepository(force): %v", err)
	}
	if r := out.Repository; r == nil || aws.ToString(r.RepositoryArn) != aws.ToString(created.RepositoryArn) ||
		aws.ToString(r.RepositoryUri) != aws.ToString(created.RepositoryUri) || r.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("deleted repository = %+v, want %+v", out.Repository, created)
	}
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
	ecrRepoError(t, err, "RepositoryNotFoundException")
	_, err = remote.Image(ggcrRepo(t, b, "team/app").Tag("v1"), ggcrOpts(t, b, ctx)...)
	wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")

	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app")})
	if msg := ecrRepoError(t, err, "RepositoryNotFoundException"); msg != "The repository with name 'team/app' does not exist in the registry with id '000000000000'" {
		t.Errorf("message %q", msg)
	}

	// An empty repository goes without force; a new one of the same name
	// starts empty and with its own settings.
	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app")}); err != nil {
		t.Fatalf("DeleteRepository(empty): %v", err)
	}
}

func TestECRRepositorySettings(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECR()
	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})

	mut, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:                     aws.String("app"),
		ImageTagMutability:                 types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: wildcard("release-*"),
	})
	if err != nil {
		t.Fatalf("PutImageTagMutability: %v", err)
	}
	if aws.ToString(mut.RegistryId) != testAccount || aws.ToString(mut.RepositoryName) != "app" ||
		mut.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(mut.ImageTagMutabilityExclusionFilters) != 1 ||
		aws.ToString(mut.ImageTagMutabilityExclusionFilters[0].Filter) != "release-*" {
		t.Errorf("PutImageTagMutability output %+v", mut)
	}
	scan, err := c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RepositoryName:             aws.String("app"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
	})
	if err != nil {
		t.Fatalf("PutImageScanningConfiguration: %v", err)
	}
	if aws.ToString(scan.RegistryId) != testAccount || aws.ToString(scan.RepositoryName) != "app" || !scan.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("PutImageScanningConfiguration output %+v", scan)
	}
	r := ecrDescribeRepo(t, ctx, c, "app")
	if r.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(r.ImageTagMutabilityExclusionFilters) != 1 ||
		!r.ImageScanningConfiguration.ScanOnPush || r.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 {
		t.Errorf("described after updates: %+v", r)
	}

	// Back to plain MUTABLE drops the filters.
	mut, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityMutable})
	if err != nil || mut.ImageTagMutabilityExclusionFilters != nil {
		t.Fatalf("PutImageTagMutability(MUTABLE) = %+v, %v", mut, err)
	}
	if r := ecrDescribeRepo(t, ctx, c, "app"); r.ImageTagMutabilityExclusionFilters != nil || !r.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("described after MUTABLE: %+v", r)
	}

	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion})
	ecrRepoErrorMentions(t, err, "InvalidParameterException", "'imageTagMutabilityExclusionFilters'")
	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityMutable, ImageTagMutabilityExclusionFilters: wildcard("x")})
	ecrRepoErrorMentions(t, err, "InvalidParameterException", "'imageTagMutabilityExclusionFilters'")
	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("nope"), ImageTagMutability: types.ImageTagMutabilityImmutable})
	if msg := ecrRepoError(t, err, "RepositoryNotFoundException"); msg != "The repository with name 'nope' does not exist in the registry with id '000000000000'" {
		t.Errorf("message %q", msg)
	}
	_, err = c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("nope"), ImageScanningConfiguration: &types.ImageScanningConfiguration{}})
	ecrRepoError(t, err, "RepositoryNotFoundException")
}

func TestECRResourceTags(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECR()
	r := ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String("team/app"),
		Tags:           []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("cost"), Value: aws.String("1")}},
	})
	arn := r.RepositoryArn

	listTags := func() []string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		var kv []string
		for _, tag := range out.Tags {
			kv = append(kv, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		return kv
	}
	if got := listTags(); !slices.Equal(got, []string{"cost=1", "team=a"}) {
		t.Errorf("tags after create = %q", got)
	}
	if _, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{
		{Key: aws.String("team"), Value: aws.String("b")}, {Key: aws.String("env"), Value: aws.String("")},
	}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got := listTags(); !slices.Equal(got, []string{"cost=1", "env=", "team=b"}) {
		t.Errorf("tags after TagResource = %q", got)
	}
	if _, err := c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"cost", "never-set"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := listTags(); !slices.Equal(got, []string{"env=", "team=b"}) {
		t.Errorf("tags after UntagResource = %q", got)
	}

	// Up to 50 tags on the repository, counting those it has.
	_, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: manyTags(49)})
	ecrRepoErrorMentions(t, err, "TooManyTagsException", "50")
	if _, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: manyTags(48)}); err != nil {
		t.Fatalf("TagResource up to 50: %v", err)
	}
	if n := len(listTags()); n != 50 {
		t.Errorf("%d tags, want 50", n)
	}
	_, err = c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{
		{Key: aws.String("dup"), Value: aws.String("1")}, {Key: aws.String("dup"), Value: aws.String("2")},
	}})
	ecrRepoErrorMentions(t, err, "InvalidTagParameterException", "'dup'")
	_, err = c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(strings.Repeat("v", 257))}}})
	ecrRepoErrorMentions(t, err, "InvalidTagParameterException", "256")

	for _, tc := range []struct {
		arn, code string
		says      []string
	}{
		{"not-an-arn", "InvalidParameterException", []string{"Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"}},
		{"arn:aws:ecr:us-east-1:000000000000:repository/", "InvalidParameterException", []string{"'resourceArn'"}},
		{"arn:aws:s3:::bucket", "InvalidParameterException", []string{"'resourceArn'"}},
		{"arn:aws:ecr:us-east-1:000000000000:repository/Team/App", "InvalidParameterException", []string{"'resourceArn'"}},
		{"arn:aws:ecr:eu-west-1:000000000000:repository/team/app", "InvalidParameterException", []string{"'resourceArn'", "eu-west-1"}},
		{"arn:aws:ecr:us-east-1:000000000000:repository/team/nope", "RepositoryNotFoundException",
			[]string{"The repository with name 'team/nope' does not exist in the registry with id '000000000000'"}},
		{"arn:aws:ecr:us-east-1:111111111111:repository/team/app", "AccessDeniedException", []string{"ecr:ListTagsForResource"}},
	} {
		_, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
		ecrRepoErrorMentions(t, err, tc.code, tc.says...)
		_, err = c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		ecrRepoError(t, err, tc.code)
		_, err = c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: []string{"k"}})
		ecrRepoError(t, err, tc.code)
	}

	// Tags go with the repository.
	if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app")}); err != nil {
		t.Fatal(err)
	}
	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	if got := listTags(); len(got) != 0 {
		t.Errorf("a new repository of the old name has tags %q", got)
	}
}

func TestECRRegistryAndAccountSettings(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)

	reg, err := b.ECR().DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
	if err != nil {
		t.Fatalf("DescribeRegistry: %v", err)
	}
	if aws.ToString(reg.RegistryId) != testAccount || reg.ReplicationConfiguration == nil || reg.ReplicationConfiguration.Rules == nil || len(reg.ReplicationConfiguration.Rules) != 0 {
		t.Errorf("DescribeRegistry = %+v", reg)
	}

	get := func(c *ecr.Client, name string) string {
		t.Helper()
		out, err := c.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("GetAccountSetting(%s): %v", name, err)
		}
		if aws.ToString(out.Name) != name {
			t.Errorf("GetAccountSetting(%s) answered for %s", name, aws.ToString(out.Name))
		}
		return aws.ToString(out.Value)
	}
	defaults := map[string]string{"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2", "BLOB_MOUNTING": "DISABLED"}
	for name, want := range defaults {
		if got := get(b.ECR(), name); got != want {
			t.Errorf("%s = %s, want the default %s", name, got, want)
		}
	}
	out, err := b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")})
	if err != nil || aws.ToString(out.Name) != "BLOB_MOUNTING" || aws.ToString(out.Value) != "ENABLED" {
		t.Fatalf("PutAccountSetting = %+v, %v", out, err)
	}
	if _, err := b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V2")}); err != nil {
		t.Fatalf("PutAccountSetting(REGISTRY_POLICY_SCOPE): %v", err)
	}

	_, err = b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("SOMETIMES")})
	ecrRepoErrorMentions(t, err, "InvalidParameterException", "'value'", "ENABLED", "DISABLED")
	_, err = b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("NO_SUCH_SETTING"), Value: aws.String("X")})
	ecrRepoErrorMentions(t, err, "InvalidParameterException", "'name'")
	_, err = b.ECR().GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("NO_SUCH_SETTING")})
	ecrRepoErrorMentions(t, err, "InvalidParameterException", "'name'")

	// Settings are kept per registry, and across restarts.
	b.Stop()
	b.Restart()
	if got := get(b.ECR(), "BLOB_MOUNTING"); got != "ENABLED" {
		t.Errorf("BLOB_MOUNTING after restart = %s, want ENABLED", got)
	}
	west := ecr.NewFromConfig(b.awsConfig("eu-west-1", testAccessKeyID, testSecretAccessKey))
	if got := get(west, "BLOB_MOUNTING"); got != "DISABLED" {
		t.Errorf("BLOB_MOUNTING in eu-west-1 = %s, want the default DISABLED", got)
	}
}

// TestECRTagImmutabilityOnDataPlane pushes through go-containerregistry, as
// docker does, into repositories with each kind of tag mutability.
func TestECRTagImmutabilityOnDataPlane(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	opts := ggcrOpts(t, b, ctx)

	push := func(repo, tag string) error {
		t.Helper()
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		return remote.Write(ggcrRepo(t, b, repo).Tag(tag), img, opts...)
	}
	// pushTwice pushes two different images under tag and reports whether
	// the second was accepted; a refusal must be ECR's.
	pushTwice := func(repo, tag string) bool {
		t.Helper()
		if err := push(repo, tag); err != nil {
			t.Fatalf("first push of %s:%s: %v", repo, tag, err)
		}
		err := push(repo, tag)
		if err == nil {
			return true
		}
		te := wantRegistryError(t, err, http.StatusBadRequest, "TAG_INVALID")
		want := fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo)
		if len(te.Errors) > 0 && te.Errors[0].Message != want {
			t.Errorf("message = %q, want %q", te.Errors[0].Message, want)
		}
		return false
	}

	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("locked"), ImageTagMutability: types.ImageTagMutabilityImmutable})
	if pushTwice("locked", "v1") {
		t.Error("IMMUTABLE: a tag moved")
	}
	// The same image again under the same tag is no overwrite.
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := ggcrRepo(t, b, "locked").Tag("v2")
	for range 2 {
		if err := remote.Write(ref, img, opts...); err != nil {
			t.Fatalf("pushing the same image twice: %v", err)
		}
	}

	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String("mostly-locked"),
		ImageTagMutability:                 types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: wildcard("latest", "dev-*"),
	})
	for tag, movable := range map[string]bool{"latest": true, "dev-42": true, "release-1": false, "latest-1": false} {
		if got := pushTwice("mostly-locked", tag); got != movable {
			t.Errorf("IMMUTABLE_WITH_EXCLUSION: tag %s movable = %v, want %v", tag, got, movable)
		}
	}

	ecrCreateRepo(t, ctx, c, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String("mostly-open"),
		ImageTagMutability:                 types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: wildcard("prod-*"),
	})
	for tag, movable := range map[string]bool{"latest": true, "prod-1": false} {
		if got := pushTwice("mostly-open", tag); got != movable {
			t.Errorf("MUTABLE_WITH_EXCLUSION: tag %s movable = %v, want %v", tag, got, movable)
		}
	}

	// PutImageTagMutability applies to the next push.
	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("locked"), ImageTagMutability: types.ImageTagMutabilityMutable}); err != nil {
		t.Fatal(err)
	}
	if err := push("locked", "v1"); err != nil {
		t.Errorf("push after PutImageTagMutability(MUTABLE): %v", err)
	}
	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("mostly-open"), ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
		t.Fatal(err)
	}
	if pushTwice("mostly-open", "nightly") {
		t.Error("after PutImageTagMutability(IMMUTABLE): a tag moved")
	}
}
