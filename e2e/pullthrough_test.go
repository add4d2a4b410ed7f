package e2e

// The pull through cache against a real upstream: CNCF Distribution on
// loopback behind a counting proxy, pulled through Berth with
// go-containerregistry (crane's library), rules made with aws-sdk-go-v2.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pushUpstream pushes img (or an index) to the upstream directly.
func pushUpstream(t *testing.T, ctx context.Context, up *distUpstream, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(up.Direct+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithContext(ctx)); err != nil {
		t.Fatalf("push %s upstream: %v", ref, err)
	}
	d, _ := img.Digest()
	return d
}

// pullThrough pulls ref from b with every layer read to its end, and
// returns the image's digest.
func pullThrough(t *testing.T, ctx context.Context, b *berth, ref string, opts ...remote.Option) (v1.Hash, error) {
	t.Helper()
	r, err := name.ParseReference(b.Host+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, append(ggcrOpts(t, b, ctx), opts...)...)
	if err != nil {
		return v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	if _, err := img.RawConfigFile(); err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc) // ggcr verifies the digest at EOF
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	return img.Digest()
}

// waitImported waits until the tag is stored in Berth (the import job
// ran) pointing at want.
func waitImported(t *testing.T, ctx context.Context, b *berth, repo, tag string, want v1.Hash) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
			ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}}})
		if err == nil && len(out.ImageDetails) == 1 && aws.ToString(out.ImageDetails[0].ImageDigest) == want.String() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:%s was not imported as %s within a minute (last: %v)\n%s", repo, tag, want, err, tail(b.Log(), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPullThroughCache(t *testing.T) {
	ctx := withTimeout(t, 4*time.Minute)
	up := startDistribution(t, "")
	const refresh = 4 * time.Second
	b := startBerth(t, "", "--pull-through-refresh", refresh.String())
	c := b.ECR()

	v1img, _ := random.Image(300*1024, 3)
	v1digest := pushUpstream(t, ctx, up, "team/app:v1", v1img)

	rule, err := c.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("up"), UpstreamRegistryUrl: aws.String(up.URL)})
	if err != nil {
		t.Fatalf("CreatePullThroughCacheRule: %v", err)
	}
	if aws.ToString(rule.UpstreamRegistryUrl) != up.URL || rule.UpstreamRegistry != "" || aws.ToString(rule.RegistryId) != testAccount ||
		aws.ToString(rule.UpstreamRepositoryPrefix) != "ROOT" || rule.CreatedAt == nil {
		t.Errorf("created rule: %+v", rule)
	}
	desc, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil || len(desc.PullThroughCacheRules) != 1 || aws.ToString(desc.PullThroughCacheRules[0].EcrRepositoryPrefix) != "up" {
		t.Fatalf("DescribePullThroughCacheRules: %+v, %v", desc, err)
	}
	v, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("up")})
	if err != nil || !v.IsValid {
		t.Fatalf("ValidatePullThroughCacheRule of a reachable upstream: %+v, %v", v, err)
	}

	t.Run("FirstPullFetches", func(t *testing.T) {
		before := up.Counts()
		got, err := pullThrough(t, ctx, b, "up/team/app:v1")
		if err != nil {
			t.Fatalf("first pull: %v\n%s", err, tail(b.Log(), 30))
		}
		if got != v1digest {
			t.Fatalf("first pull: digest %s, want upstream's %s", got, v1digest)
		}
		after := up.Counts()
		if after["manifest"] == before["manifest"] || after["blob"]-before["blob"] < 4 {
			t.Errorf("first pull asked the upstream for %d manifests and %d blobs, want the manifest and 4 blobs",
				after["manifest"]-before["manifest"], after["blob"]-before["blob"])
		}
		waitImported(t, ctx, b, "up/team/app", "v1", v1digest)
	})

	t.Run("SecondPullIsLocal", func(t *testing.T) {
		before := up.Counts()
		got, err := pullThrough(t, ctx, b, "up/team/app:v1")
		if err != nil || got != v1digest {
			t.Fatalf("second pull: %s, %v", got, err)
		}
		after := up.Counts()
		if after["manifest"] != before["manifest"] || after["blob"] != before["blob"] {
			t.Errorf("second pull within the refresh interval asked the upstream: %v → %v", before, after)
		}
	})

	v2img, _ := random.Image(200*1024, 2)
	var v2digest v1.Hash
	t.Run("TagMovedUpstream", func(t *testing.T) {
		v2digest = pushUpstream(t, ctx, up, "team/app:v1", v2img)
		start := time.Now()
		// Within the refresh interval the cached digest is still served...
		if got, err := pullThrough(t, ctx, b, "up/team/app:v1"); err != nil || (got != v1digest && time.Since(start) < refresh/2) {
			t.Fatalf("pull right after the tag moved: %s, %v; want the cached %s", got, err, v1digest)
		}
		// ... and after it the new one.
		time.Sleep(refresh)
		got, err := pullThrough(t, ctx, b, "up/team/app:v1")
		if err != nil || got != v2digest {
			t.Fatalf("pull after the refresh interval: %s, %v; want the moved tag's %s", got, err, v2digest)
		}
		waitImported(t, ctx, b, "up/team/app", "v1", v2digest)
	})

	t.Run("UpstreamDown", func(t *testing.T) {
		up.SetDown(true)
		defer up.SetDown(false)
		time.Sleep(refresh) // the tag is due a check, which fails
		got, err := pullThrough(t, ctx, b, "up/team/app:v1")
		if err != nil || got != v2digest {
			t.Fatalf("pull with the upstream down: %s, %v; want the cached %s\n%s", got, err, v2digest, tail(b.Log(), 20))
		}
		if !strings.Contains(b.Log(), "pull through cache serves its cached image") {
			t.Errorf("no log line says the cached image was served:\n%s", tail(b.Log(), 20))
		}
		// What was never cached fails, saying why.
		_, err = pullThrough(t, ctx, b, "up/team/never:v1")
		if err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
			t.Errorf("pull of an uncached image with the upstream down: %v, want UNAVAILABLE", err)
		}
	})

	t.Run("MultiArchOnePlatform", func(t *testing.T) {
		amd, _ := random.Image(100*1024, 2)
		arm, _ := random.Image(100*1024, 2)
		idx := mutate.AppendManifests(empty.Index,
			mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
			mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
		r, _ := name.ParseReference(up.Direct+"/team/multi:latest", name.Insecure)
		if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
		idxDigest, _ := idx.Digest()
		armDigest, _ := arm.Digest()
		got, err := pullThrough(t, ctx, b, "up/team/multi:latest", remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
		if err != nil || got != armDigest {
			t.Fatalf("pull of linux/arm64 through the index: %s, %v; want %s", got, err, armDigest)
		}
		waitImported(t, ctx, b, "up/team/multi", "latest", idxDigest)
	})

	t.Run("NotUnderARule", func(t *testing.T) {
		_, err := pullThrough(t, ctx, b, "other/team/app:v1")
		if err == nil || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
			t.Errorf("pull of a name under no rule: %v, want NAME_UNKNOWN", err)
		}
	})
}

func TestPullThroughRulesBadInput(t *testing.T) {
	ctx := withTimeout(t, 2*time.Minute)
	b := startBerth(t, "")
	c := b.ECR()
	create := func(prefix, url string, mod ...func(*ecr.CreatePullThroughCacheRuleInput)) error {
		in := &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String(url)}
		for _, m := range mod {
			m(in)
		}
		_, err := c.CreatePullThroughCacheRule(ctx, in)
		return err
	}
	want := func(what string, err error, code, words string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error, want %s", what, code)
			return
		}
		gotCode, msg := apiErrorCode(t, err)
		if gotCode != code || !strings.Contains(msg, words) {
			t.Errorf("%s: %s: %s; want %s mentioning %q", what, gotCode, msg, code, words)
		}
	}
	cred := func(arn string) func(*ecr.CreatePullThroughCacheRuleInput) {
		return func(in *ecr.CreatePullThroughCacheRuleInput) { in.CredentialArn = aws.String(arn) }
	}
	want("prefix with capitals", create("Hub", "public.ecr.aws"), "InvalidParameterException", "ecrRepositoryPrefix")
	want("prefix too short", create("h", "public.ecr.aws"), "InvalidParameterException", "ecrRepositoryPrefix")
	want("prefix with a leading slash", create("/hub", "public.ecr.aws"), "InvalidParameterException", "ecrRepositoryPrefix")
	want("secret with the wrong name prefix", create("hub", "registry-1.docker.io",
		cred("arn:aws:secretsmanager:us-east-1:"+testAccount+":secret:dockerhub-creds-AbCdEf")), "InvalidParameterException", "credentialArn")
	want("missing secret", create("hub", "registry-1.docker.io",
		cred("arn:aws:secretsmanager:us-east-1:"+testAccount+":secret:ecr-pullthroughcache/dockerhub-AbCdEf")), "SecretNotFoundException", "ecr-pullthroughcache/dockerhub")
	want("Docker Hub without credentials", create("hub", "registry-1.docker.io"), "InvalidParameterException", "credentialArn")
	want("not a URL", create("hub", "ftp://example.com/x"), "UnsupportedUpstreamRegistryException", "upstreamRegistryUrl")
	want("upstreamRegistry that does not match", create("hub", "quay.io", func(in *ecr.CreatePullThroughCacheRuleInput) {
		in.UpstreamRegistry = ecrtypes.UpstreamRegistryK8s
	}), "InvalidParameterException", "quay")

	if err := create("ecr-public", "public.ecr.aws"); err != nil {
		t.Fatalf("a valid rule: %v", err)
	}
	want("the same prefix again", create("ecr-public/", "quay.io"), "PullThroughCacheRuleAlreadyExistsException", "ecr-public")
	for i := 1; i < 50; i++ {
		if err := create(fmt.Sprintf("r%02d", i), "quay.io"); err != nil {
			t.Fatalf("rule %d of 50: %v", i+1, err)
		}
	}
	want("a 51st rule", create("r51", "quay.io"), "LimitExceededException", "50")

	_, err := c.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"nope"}})
	want("describe an unknown prefix", err, "PullThroughCacheRuleNotFoundException", "nope")
	_, err = c.DeletePullThroughCacheRule(ctx, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("nope")})
	want("delete an unknown prefix", err, "PullThroughCacheRuleNotFoundException", "nope")
	pages, n := ecr.NewDescribePullThroughCacheRulesPaginator(c, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(7)}), 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.PullThroughCacheRules)
	}
	if n != 50 {
		t.Errorf("paged through %d rules, want 50", n)
	}

	// An unreachable upstream: Validate answers isValid false and why.
	if _, err := c.DeletePullThroughCacheRule(ctx, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("r01")}); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("http://127.0.0.1:%d", freeTCPPort(t))
	if err := create("dead", dead); err != nil {
		t.Fatal(err)
	}
	v, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("dead")})
	if err != nil || v.IsValid || !strings.Contains(aws.ToString(v.Failure), "refused") {
		t.Errorf("Validate of an unreachable upstream: %+v, %v; want isValid false saying the connection was refused", v, err)
	}
	var nf *ecrtypes.PullThroughCacheRuleNotFoundException
	if _, err := c.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("r01")}); !errors.As(err, &nf) {
		t.Errorf("Validate of a deleted rule: %v, want PullThroughCacheRuleNotFoundException", err)
	}
}
