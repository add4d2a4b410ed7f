package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// replicationRegion is the other region of the same-deployment tests.
const replicationRegion = "us-west-2"

// pushReplicable pushes a two-platform index tagged tag to repo of b, then
// a signature whose subject is the index, and returns the index's digest,
// its children's and the signature's.
func pushReplicable(t *testing.T, ctx context.Context, b *berth, repo, tag string) (index string, children []string, sig string) {
	t.Helper()
	opts := ggcrOpts(t, b, ctx)
	r := ggcrRepo(t, b, repo)
	var adds []mutate.IndexAddendum
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}} {
		img := ociImage(t, p, 1)
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, d.String())
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	if err := remote.WriteIndex(r.Tag(tag), idx, opts...); err != nil {
		t.Fatalf("remote.WriteIndex: %v\nserver log:\n%s", err, b.Log())
	}
	id, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	size, _ := idx.Size()
	// The signature comes after the image, as cosign's does.
	signature := marshalManifest(t, ociManifest{
		SchemaVersion: 2,
		MediaType:     string(types.OCIManifestSchema1),
		ArtifactType:  sigType,
		Config:        pushBlob(t, ctx, b, r, []byte("{}"), emptyConfigMediaType),
		Layers:        []ociDescriptor{pushBlob(t, ctx, b, r, []byte("signature of "+id.String()), "application/octet-stream")},
		Subject:       &ociDescriptor{MediaType: string(types.OCIImageIndex), Digest: id.String(), Size: size},
	})
	sd := signature.mustDigest(t)
	if err := remote.Put(r.Digest(sd.String()), signature, opts...); err != nil {
		t.Fatalf("remote.Put signature: %v", err)
	}
	return id.String(), children, sd.String()
}

// replicationStatus waits until the status of the image's replication to
// (region, account) is want, and returns it.
func waitReplication(t *testing.T, ctx context.Context, c *ecr.Client, repo, digest, region, account string, want ecrtypes.ReplicationStatus) ecrtypes.ImageReplicationStatus {
	t.Helper()
	var last ecrtypes.ImageReplicationStatus
	for {
		out, err := c.DescribeImageReplicationStatus(ctx, &ecr.DescribeImageReplicationStatusInput{
			RepositoryName: aws.String(repo), ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)}})
		if err != nil {
			t.Fatalf("DescribeImageReplicationStatus: %v", err)
		}
		for _, st := range out.ReplicationStatuses {
			if aws.ToString(st.Region) == region && aws.ToString(st.RegistryId) == account {
				last = st
			}
		}
		if last.Status == want {
			return last
		}
		select {
		case <-ctx.Done():
			t.Fatalf("replication of %s to %s in %s: status %q (%s), want %s; all: %+v", digest, account, region,
				last.Status, aws.ToString(last.FailureCode), want, out.ReplicationStatuses)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// imageDigests lists the digests describe-images shows in a repository.
func imageDigests(t *testing.T, ctx context.Context, c *ecr.Client, repo string) map[string][]string {
	t.Helper()
	out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("DescribeImages(%s): %v", repo, err)
	}
	got := map[string][]string{}
	for _, d := range out.ImageDetails {
		got[aws.ToString(d.ImageDigest)] = d.ImageTags
	}
	return got
}

func checkReplica(t *testing.T, ctx context.Context, c *ecr.Client, repo, tag, index string, children []string, sig string) {
	t.Helper()
	got := imageDigests(t, ctx, c, repo)
	if tags, ok := got[index]; !ok || !slices.Equal(tags, []string{tag}) {
		t.Errorf("the replica of the index: %v in %v", tags, got)
	}
	for _, d := range append(slices.Clone(children), sig) {
		if _, ok := got[d]; !ok {
			t.Errorf("describe-images in the destination lacks %s: %v", d, got)
		}
	}
	refs, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
		SubjectId: &ecrtypes.SubjectIdentifier{ImageDigest: aws.String(index)}})
	if err != nil {
		t.Fatalf("ListImageReferrers: %v", err)
	}
	if len(refs.Referrers) != 1 || aws.ToString(refs.Referrers[0].Digest) != sig {
		t.Errorf("referrers of the replica = %+v, want the signature %s", refs.Referrers, sig)
	}
}

// TestReplicationSameDeployment replicates to another region of the same
// account and to another account of the same deployment, through the
// registry policy ECR asks for across accounts.
func TestReplicationSameDeployment(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 3*time.Minute)
	const other = "222222222222"
	out, err := runAdmin(t, "create-account", "--data", b.DataDir, "--account-id", other, "--output", "json")
	if err != nil {
		t.Fatalf("create-account: %v", err)
	}
	var creds struct{ AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &creds); err != nil {
		t.Fatal(err)
	}
	src := b.ECR()
	west := ecr.NewFromConfig(b.awsConfig(replicationRegion, testAccessKeyID, testSecretAccessKey))
	dst := ecr.NewFromConfig(b.awsConfig(testRegion, creds.AccessKeyID, creds.SecretAccessKey))

	cfg := &ecrtypes.ReplicationConfiguration{Rules: []ecrtypes.ReplicationRule{{
		Destinations: []ecrtypes.ReplicationDestination{
			{Region: aws.String(replicationRegion), RegistryId: aws.String(testAccount)},
			{Region: aws.String(testRegion), RegistryId: aws.String(other)},
		},
		RepositoryFilters: []ecrtypes.RepositoryFilter{{Filter: aws.String("team/"), FilterType: ecrtypes.RepositoryFilterTypePrefixMatch}},
	}}}
	if _, err := src.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: cfg}); err != nil {
		t.Fatalf("PutReplicationConfiguration: %v", err)
	}
	reg, err := src.DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
	if err != nil || len(reg.ReplicationConfiguration.Rules) != 1 || len(reg.ReplicationConfiguration.Rules[0].Destinations) != 2 ||
		aws.ToString(reg.ReplicationConfiguration.Rules[0].RepositoryFilters[0].Filter) != "team/" {
		t.Fatalf("DescribeRegistry = %+v, %v", reg, err)
	}
	// The other region has a rule back: a replica is not replicated again.
	back := &ecrtypes.ReplicationConfiguration{Rules: []ecrtypes.ReplicationRule{{
		Destinations: []ecrtypes.ReplicationDestination{{Region: aws.String(testRegion), RegistryId: aws.String(testAccount)}},
	}}}
	if _, err := west.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: back}); err != nil {
		t.Fatalf("PutReplicationConfiguration(back): %v", err)
	}

	const repo = "team/app"
	if _, err := src.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	// An image outside the filter stays where it is.
	if _, err := src.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("solo/app")}); err != nil {
		t.Fatal(err)
	}
	solo, _, _ := pushReplicable(t, ctx, b, "solo/app", "v1")
	index, children, sig := pushReplicable(t, ctx, b, repo, "v1")

	// Another region of the same account: no policy needed.
	waitReplication(t, ctx, src, repo, index, replicationRegion, testAccount, ecrtypes.ReplicationStatusComplete)
	waitReplication(t, ctx, src, repo, sig, replicationRegion, testAccount, ecrtypes.ReplicationStatusComplete)
	checkReplica(t, ctx, west, repo, "v1", index, children, sig)

	// Another account: FAILED, with ECR's reason, until its registry
	// policy allows this account to replicate (and to create the
	// repository, which does not exist there).
	failed := waitReplication(t, ctx, src, repo, index, testRegion, other, ecrtypes.ReplicationStatusFailed)
	if fc := aws.ToString(failed.FailureCode); !strings.HasPrefix(fc, "REGISTRY_POLICY_DENIED: ") || !strings.Contains(fc, "ecr:ReplicateImage") {
		t.Errorf("failureCode = %q, want the registry policy's refusal of ecr:ReplicateImage", fc)
	}
	if _, err := dst.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}}); err == nil {
		t.Error("the refused replication created the destination repository")
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"ReplicationAccessCrossAccount","Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],
		"Resource":"arn:aws:ecr:%s:%s:repository/*"}]}`, testAccount, testRegion, other)
	if _, err := dst.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(policy)}); err != nil {
		t.Fatalf("PutRegistryPolicy: %v", err)
	}
	waitReplication(t, ctx, src, repo, index, testRegion, other, ecrtypes.ReplicationStatusComplete)
	waitReplication(t, ctx, src, repo, sig, testRegion, other, ecrtypes.ReplicationStatusComplete)
	checkReplica(t, ctx, dst, repo, "v1", index, children, sig)

	// The replica in the other region was not replicated back.
	st, err := west.DescribeImageReplicationStatus(ctx, &ecr.DescribeImageReplicationStatusInput{
		RepositoryName: aws.String(repo), ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("v1")}})
	if err != nil || len(st.ReplicationStatuses) != 0 || aws.ToString(st.ImageId.ImageDigest) != index {
		t.Errorf("replication status of the replica = %+v, %v; want none", st, err)
	}
	// Nothing was replicated outside the filter.
	st, err = src.DescribeImageReplicationStatus(ctx, &ecr.DescribeImageReplicationStatusInput{
		RepositoryName: aws.String("solo/app"), ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(solo)}})
	if err != nil || len(st.ReplicationStatuses) != 0 {
		t.Errorf("replication status outside the filter = %+v, %v", st, err)
	}
	if _, err := west.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"solo/app"}}); err == nil {
		t.Error("solo/app was replicated")
	}
}

// TestReplicationBadInput: what ECR refuses, ECR's exceptions and words.
func TestReplicationBadInput(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	c := b.ECR()
	dest := func(region, account string) ecrtypes.ReplicationDestination {
		return ecrtypes.ReplicationDestination{Region: aws.String(region), RegistryId: aws.String(account)}
	}
	var many []ecrtypes.ReplicationDestination
	for i := range 26 {
		many = append(many, dest(fmt.Sprintf("region-%d", i), "111111111111"))
	}
	rules := func(n int) []ecrtypes.ReplicationRule {
		return slices.Repeat([]ecrtypes.ReplicationRule{{Destinations: []ecrtypes.ReplicationDestination{dest("us-west-2", testAccount)}}}, n)
	}
	for _, tc := range []struct {
		name  string
		rules []ecrtypes.ReplicationRule
		code  string
		msg   string
	}{
		{"more rules than ECR allows", rules(11), "", "rules"},
		{"26 destinations", []ecrtypes.ReplicationRule{{Destinations: many}}, "InvalidParameterException", "at most 25 unique destinations"},
		{"to itself", []ecrtypes.ReplicationRule{{Destinations: []ecrtypes.ReplicationDestination{dest(testRegion, testAccount)}}}, "InvalidParameterException", "cannot be replicated to its own registry"},
		{"no destination", []ecrtypes.ReplicationRule{{Destinations: []ecrtypes.ReplicationDestination{}}}, "InvalidParameterException", "at least one destination"},
		{"bad prefix", []ecrtypes.ReplicationRule{{Destinations: []ecrtypes.ReplicationDestination{dest("us-west-2", testAccount)},
			RepositoryFilters: []ecrtypes.RepositoryFilter{{Filter: aws.String("Team/*"), FilterType: ecrtypes.RepositoryFilterTypePrefixMatch}}}}, "", "filter"},
	} {
		_, err := c.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{
			ReplicationConfiguration: &ecrtypes.ReplicationConfiguration{Rules: tc.rules}})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if tc.code != "" {
			wantAPIErrorCode(t, tc.name, err, tc.code, 400)
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want a message with %q", tc.name, err, tc.msg)
		}
	}
	// An image that is not there, and a bad tag filter.
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DescribeImageReplicationStatus(ctx, &ecr.DescribeImageReplicationStatusInput{
		RepositoryName: aws.String("app"), ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("nope")}})
	wantAPIErrorCode(t, "status of a missing image", err, "ImageNotFoundException", 400)
	_, err = c.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BERTH_REPLICATION_TAG_FILTER"), Value: aws.String("release/*")})
	wantAPIErrorCode(t, "a bad tag filter", err, "InvalidParameterException", 400)
}
