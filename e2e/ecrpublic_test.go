package e2e

// ECR Public's API through aws-sdk-go-v2: repositories with catalog data,
// the registry and its catalog data, the login, and the bad input ECR
// Public refuses (docs/ecr-public.md).

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

func (b *berth) ECRPublic(region string) *ecrpublic.Client {
	return ecrpublic.NewFromConfig(b.awsConfig(region, testAccessKeyID, testSecretAccessKey))
}

func TestECRPublicRepositoriesAndCatalog(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECRPublic("us-east-1")

	var logo bytes.Buffer
	if err := png.Encode(&logo, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{
		RepositoryName: aws.String("team/web"),
		CatalogData: &types.RepositoryCatalogDataInput{
			Description: aws.String("the web app"), AboutText: aws.String("# About"), UsageText: aws.String("docker pull it"),
			Architectures: []string{"x86-64", "ARM 64"}, OperatingSystems: []string{"Linux"}, LogoImageBlob: logo.Bytes(),
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	r := created.Repository
	if got, want := aws.ToString(r.RepositoryArn), "arn:aws:ecr-public::"+testAccount+":repository/team/web"; got != want {
		t.Errorf("repositoryArn %s, want %s", got, want)
	}
	if got, want := aws.ToString(r.RepositoryUri), "public.ecr.localhost/b"+testAccount+"/team/web"; got != want {
		t.Errorf("repositoryUri %s, want %s", got, want)
	}
	if aws.ToString(created.CatalogData.Description) != "the web app" || len(created.CatalogData.Architectures) != 2 {
		t.Errorf("catalogData %+v", created.CatalogData)
	}

	// The public registry is not the private one: ECR does not see it.
	priv, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(priv.Repositories) != 0 {
		t.Errorf("ECR lists %d repositories, want none: the public one leaked into the private registry", len(priv.Repositories))
	}
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/web")}); err != nil {
		t.Errorf("a private repository of the public one's name: %v", err)
	}

	desc, err := c.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{})
	if err != nil || len(desc.Repositories) != 1 || aws.ToString(desc.Repositories[0].RepositoryName) != "team/web" {
		t.Fatalf("DescribeRepositories: %+v, %v", desc, err)
	}

	if _, err := c.PutRepositoryCatalogData(ctx, &ecrpublic.PutRepositoryCatalogDataInput{
		RepositoryName: aws.String("team/web"), CatalogData: &types.RepositoryCatalogDataInput{Description: aws.String("new words")},
	}); err != nil {
		t.Fatalf("PutRepositoryCatalogData: %v", err)
	}
	got, err := c.GetRepositoryCatalogData(ctx, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: aws.String("team/web")})
	if err != nil || aws.ToString(got.CatalogData.Description) != "new words" || len(got.CatalogData.Architectures) != 0 {
		t.Fatalf("GetRepositoryCatalogData: %+v, %v", got, err)
	}

	tags, err := c.ListTagsForResource(ctx, &ecrpublic.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("ListTagsForResource: %+v, %v", tags, err)
	}
	imgs, err := c.DescribeImages(ctx, &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("team/web")})
	if err != nil || len(imgs.ImageDetails) != 0 {
		t.Fatalf("DescribeImages: %+v, %v", imgs, err)
	}
	if _, err := c.SetRepositoryPolicy(ctx, &ecrpublic.SetRepositoryPolicyInput{RepositoryName: aws.String("team/web"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr-public:DescribeImages"}]}`)}); err != nil {
		t.Fatalf("SetRepositoryPolicy: %v", err)
	}
	if _, err := c.GetRepositoryPolicy(ctx, &ecrpublic.GetRepositoryPolicyInput{RepositoryName: aws.String("team/web")}); err != nil {
		t.Fatalf("GetRepositoryPolicy: %v", err)
	}

	regs, err := c.DescribeRegistries(ctx, &ecrpublic.DescribeRegistriesInput{})
	if err != nil || len(regs.Registries) != 1 {
		t.Fatalf("DescribeRegistries: %+v, %v", regs, err)
	}
	if got, want := aws.ToString(regs.Registries[0].RegistryUri), "public.ecr.localhost/b"+testAccount; got != want {
		t.Errorf("registryUri %s, want %s", got, want)
	}
	if _, err := c.PutRegistryCatalogData(ctx, &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("Berth Inc.")}); err != nil {
		t.Fatalf("PutRegistryCatalogData: %v", err)
	}
	rc, err := c.GetRegistryCatalogData(ctx, &ecrpublic.GetRegistryCatalogDataInput{})
	if err != nil || aws.ToString(rc.RegistryCatalogData.DisplayName) != "Berth Inc." {
		t.Fatalf("GetRegistryCatalogData: %+v, %v", rc, err)
	}

	tok, err := c.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData.AuthorizationToken))
	if !strings.HasPrefix(string(raw), "AWS:") || tok.AuthorizationData.ExpiresAt == nil {
		t.Errorf("authorizationData %+v", tok.AuthorizationData)
	}

	if _, err := c.DeleteRepository(ctx, &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("team/web")}); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	_, err = c.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"team/web"}})
	ecrRepoError(t, err, "RepositoryNotFoundException")
}

func TestECRPublicBadInput(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECRPublic("us-east-1")
	for _, tc := range []struct {
		name  string
		in    *ecrpublic.CreateRepositoryInput
		code  string
		words []string
	}{
		{"one-character name", &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("a")}, "InvalidParameterException", []string{"repositoryName"}},
		{"oversize description", &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app"),
			CatalogData: &types.RepositoryCatalogDataInput{Description: aws.String(strings.Repeat("d", 1025))}}, "InvalidParameterException", []string{"description"}},
		{"oversize about text", &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app"),
			CatalogData: &types.RepositoryCatalogDataInput{AboutText: aws.String(strings.Repeat("a", 25601))}}, "InvalidParameterException", []string{"aboutText"}},
		{"logo not an image", &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app"),
			CatalogData: &types.RepositoryCatalogDataInput{LogoImageBlob: []byte("hello")}}, "InvalidParameterException", []string{"logoImageBlob", "PNG or JPEG"}},
	} {
		_, err := c.CreateRepository(ctx, tc.in)
		ecrRepoErrorMentions(t, err, tc.code, tc.words...)
	}
	if _, err := c.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := b.ECRPublic("eu-west-1").DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{})
	ecrRepoErrorMentions(t, err, "UnsupportedCommandException", "DescribeRepositories command is only supported in us-east-1")
	_, err = b.ECRPublic("us-west-2").GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
	ecrRepoErrorMentions(t, err, "UnsupportedCommandException", "GetAuthorizationToken command is only supported in us-east-1")
}
