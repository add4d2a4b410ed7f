package e2e

// Lifecycle policies through the ECR API with aws-sdk-go-v2: the five
// operations, their errors, the preview, and the periodic run of a stored
// policy (started with a short --lifecycle-interval) deleting what the
// preview listed.

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/opencontainers/go-digest"
)

const lcPolicy = `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "Keep the two newest releases",
      "selection": {"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 2},
      "action": {"type": "expire"}
    },
    {
      "rulePriority": 2,
      "description": "Keep one untagged image",
      "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
      "action": {"type": "expire"}
    }
  ]
}
`

// lcWaitPreview polls GetLifecyclePolicyPreview until the preview is no
// longer IN_PROGRESS.
func lcWaitPreview(t *testing.T, ctx context.Context, c *ecr.Client, in *ecr.GetLifecyclePolicyPreviewInput) *ecr.GetLifecyclePolicyPreviewOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.GetLifecyclePolicyPreview(ctx, in)
		if err != nil {
			t.Fatalf("GetLifecyclePolicyPreview: %v", err)
		}
		if out.Status != ecrtypes.LifecyclePolicyPreviewStatusInProgress {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatal("the preview stayed IN_PROGRESS")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lcResults names preview results as name:ACTION@priority, in name order.
func lcResults(rs []ecrtypes.LifecyclePolicyPreviewResult, names map[string]string) []string {
	var out []string
	for _, r := range rs {
		out = append(out, names[aws.ToString(r.ImageDigest)]+":"+string(r.Action.Type)+"@"+
			strconv.Itoa(int(aws.ToInt32(r.AppliedRulePriority))))
	}
	slices.Sort(out)
	return out
}

func lcWantMessage(t *testing.T, err error, code, message string) {
	t.Helper()
	wantImgAPIError(t, err, code)
	if got := imgErrMessage(err); got != message {
		t.Errorf("%s message\n got %q\nwant %q", code, got, message)
	}
}

func TestLifecyclePolicyAPI(t *testing.T) {
	b := startBerth(t, "", "--lifecycle-interval", "2s")
	ctx := withTimeout(t, 3*time.Minute)
	c := b.ECR()
	repo := "lifecycle/app"
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}

	// Without a policy.
	notFound := "Lifecycle policy does not exist for the repository with name 'lifecycle/app' in the registry with id '000000000000'"
	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	lcWantMessage(t, err, "LifecyclePolicyNotFoundException", notFound)
	_, err = c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	lcWantMessage(t, err, "LifecyclePolicyNotFoundException", notFound)
	_, err = c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)})
	lcWantMessage(t, err, "LifecyclePolicyNotFoundException", notFound)
	_, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)})
	wantImgAPIError(t, err, "LifecyclePolicyPreviewNotFoundException", "lifecycle/app")
	_, err = c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("lifecycle/missing"), LifecyclePolicyText: aws.String(lcPolicy)})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "lifecycle/missing")
	_, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("lifecycle/missing")})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "lifecycle/missing")

	// An invalid policy, in ECR's envelope.
	invalid := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	for name, call := range map[string]func() error{
		"PutLifecyclePolicy": func() error {
			_, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(invalid)})
			return err
		},
		"StartLifecyclePolicyPreview": func() error {
			_, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(invalid)})
			return err
		},
	} {
		err := call()
		wantImgAPIError(t, err, "InvalidParameterException")
		msg := imgErrMessage(err)
		if !strings.HasPrefix(msg, "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ") ||
			!strings.Contains(msg, "tagStatus=TAGGED") {
			t.Errorf("%s with an invalid policy: %q", name, msg)
		}
	}

	// Four releases and two untagged images, pushed in this order.
	config, layer := imgBaseLayers(t, ctx, c, repo)
	names := map[string]string{}
	digests := map[string]string{}
	for _, name := range []string{"v1", "v2", "v3", "v4", "u1", "u2"} {
		tag := name
		if strings.HasPrefix(name, "u") {
			tag = ""
		}
		m := imgManifest(config, name, layer)
		imgPut(t, ctx, c, repo, m, tag)
		d := digest.FromBytes(m).String()
		names[d], digests[name] = name, d
		time.Sleep(5 * time.Millisecond)
	}

	// Preview the policy before putting it.
	st, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(lcPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != ecrtypes.LifecyclePolicyPreviewStatusInProgress || aws.ToString(st.LifecyclePolicyText) != lcPolicy ||
		aws.ToString(st.RepositoryName) != repo || aws.ToString(st.RegistryId) != testAccount {
		t.Errorf("StartLifecyclePolicyPreview = %+v", st)
	}
	pv := lcWaitPreview(t, ctx, c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)})
	want := []string{"u1:EXPIRE@2", "v1:EXPIRE@1", "v2:EXPIRE@1"}
	if pv.Status != ecrtypes.LifecyclePolicyPreviewStatusComplete || aws.ToString(pv.LifecyclePolicyText) != lcPolicy {
		t.Fatalf("preview = %s, text %q", pv.Status, aws.ToString(pv.LifecyclePolicyText))
	}
	if got := lcResults(pv.PreviewResults, names); !slices.Equal(got, want) {
		t.Errorf("preview results %q, want %q", got, want)
	}
	for _, r := range pv.PreviewResults {
		name := names[aws.ToString(r.ImageDigest)]
		wantTags := []string{name}
		if strings.HasPrefix(name, "u") {
			wantTags = nil
		}
		if r.StorageClass != ecrtypes.LifecyclePolicyStorageClassStandard || r.ImagePushedAt == nil ||
			time.Since(*r.ImagePushedAt) > time.Minute || !slices.Equal(r.ImageTags, wantTags) || r.Action.TargetStorageClass != "" {
			t.Errorf("preview result %s: %+v (action %+v)", name, r, *r.Action)
		}
	}
	if pv.Summary == nil || aws.ToInt32(pv.Summary.ExpiringImageTotalCount) != 3 || len(pv.Summary.TransitioningImageTotalCounts) != 0 {
		t.Errorf("summary %+v", pv.Summary)
	}

	// Pages, filters, image ids.
	var paged []ecrtypes.LifecyclePolicyPreviewResult
	in := &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(2)}
	for pages := 0; ; pages++ {
		out, err := c.GetLifecyclePolicyPreview(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.PreviewResults) > 2 || pages > 3 {
			t.Fatalf("page of %d results", len(out.PreviewResults))
		}
		paged = append(paged, out.PreviewResults...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if got := lcResults(paged, names); !slices.Equal(got, want) {
		t.Errorf("paged results %q, want %q", got, want)
	}
	out, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		Filter: &ecrtypes.LifecyclePolicyPreviewFilter{TagStatus: ecrtypes.TagStatusUntagged}})
	if err != nil || !slices.Equal(lcResults(out.PreviewResults, names), []string{"u1:EXPIRE@2"}) || aws.ToInt32(out.Summary.ExpiringImageTotalCount) != 3 {
		t.Errorf("UNTAGGED filter: %v, %v", lcResults(out.PreviewResults, names), err)
	}
	out, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v2")}, {ImageDigest: aws.String(digests["v4"])}}})
	if err != nil || !slices.Equal(lcResults(out.PreviewResults, names), []string{"v2:EXPIRE@1"}) {
		t.Errorf("imageIds filter: %v, %v", lcResults(out.PreviewResults, names), err)
	}
	_, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v2")}}, MaxResults: aws.Int32(5)})
	wantImgAPIError(t, err, "InvalidParameterException", "maxResults")
	_, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), NextToken: aws.String("forged")})
	wantImgAPIError(t, err, "InvalidParameterException", "nextToken")

	// Archiving is previewed as ECR does; Berth does not archive.
	const archivePolicy = `{"rules":[{"rulePriority":1,"description":"Archive all but the five newest","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"transition","targetStorageClass":"archive"}}]}`
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(archivePolicy)}); err != nil {
		t.Fatal(err)
	}
	apv := lcWaitPreview(t, ctx, c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)})
	if got := lcResults(apv.PreviewResults, names); !slices.Equal(got, []string{"v1:TRANSITION@1"}) {
		t.Errorf("archive preview %q", got)
	} else if apv.PreviewResults[0].Action.TargetStorageClass != ecrtypes.LifecyclePolicyTargetStorageClassArchive {
		t.Errorf("archive action %+v", *apv.PreviewResults[0].Action)
	}
	if s := apv.Summary; s == nil || aws.ToInt32(s.ExpiringImageTotalCount) != 0 || len(s.TransitioningImageTotalCounts) != 1 ||
		s.TransitioningImageTotalCounts[0].TargetStorageClass != ecrtypes.LifecyclePolicyTargetStorageClassArchive ||
		aws.ToInt32(s.TransitioningImageTotalCounts[0].ImageTotalCount) != 1 {
		t.Errorf("archive summary %+v", apv.Summary)
	}

	// Put the policy: the periodic run (every 2s) deletes what the preview
	// listed, and nothing else.
	put, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(repo), LifecyclePolicyText: aws.String(lcPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.LifecyclePolicyText) != lcPolicy || aws.ToString(put.RepositoryName) != repo || aws.ToString(put.RegistryId) != testAccount {
		t.Errorf("PutLifecyclePolicy = %+v", put)
	}
	got, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	if err != nil || aws.ToString(got.LifecyclePolicyText) != lcPolicy {
		t.Fatalf("GetLifecyclePolicy = %+v, %v", got, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var left []string
	for {
		ids, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo)})
		if err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, id := range ids.ImageIds {
			left = append(left, names[aws.ToString(id.ImageDigest)])
		}
		slices.Sort(left)
		got, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 3 && got.LastEvaluatedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy did not run: images %q, lastEvaluatedAt %v", left, got.LastEvaluatedAt)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !slices.Equal(left, []string{"u2", "v3", "v4"}) {
		t.Errorf("images left %q, want u2 v3 v4", left)
	}
	if since := time.Since(*got.LastEvaluatedAt); since < 0 || since > time.Minute {
		t.Errorf("lastEvaluatedAt %v", got.LastEvaluatedAt)
	}
	for _, name := range []string{"v1", "v2", "u1"} {
		if !strings.Contains(b.Log(), "digest="+digests[name]) {
			t.Errorf("no log line for the expiry of %s", name)
		}
	}

	// The stored policy previews to nothing more.
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	if pv := lcWaitPreview(t, ctx, c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)}); len(pv.PreviewResults) != 0 ||
		aws.ToInt32(pv.Summary.ExpiringImageTotalCount) != 0 || aws.ToString(pv.LifecyclePolicyText) != lcPolicy {
		t.Errorf("preview after the run: %+v", pv)
	}

	del, err := c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.LifecyclePolicyText) != lcPolicy || del.LastEvaluatedAt == nil || aws.ToString(del.RepositoryName) != repo {
		t.Errorf("DeleteLifecyclePolicy = %+v", del)
	}
	_, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)})
	lcWantMessage(t, err, "LifecyclePolicyNotFoundException", notFound)
	// The last preview stays readable.
	if _, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Errorf("GetLifecyclePolicyPreview after the policy's deletion: %v", err)
	}
}
