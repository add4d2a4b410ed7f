package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestAdminGC: `berth admin gc` collects beside a running server: the
// layers of a deleted image go, those of a kept image stay and still pull.
func TestAdminGC(t *testing.T) {
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 2*time.Minute)
	opts := ggcrOpts(t, b, ctx)
	repo := ggcrRepo(t, b, "gc/app")
	keep, _ := random.Image(64*1024, 2)
	gone, _ := random.Image(64*1024, 3)
	if err := remote.Write(repo.Tag("keep"), keep, opts...); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("gone"), gone, opts...); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ECR().BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("gc/app"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("gone")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := runAdmin(t, "gc", "--data", b.DataDir, "--grace", "0s", "--output", "json")
	if err != nil {
		t.Fatalf("berth admin gc: %v", err)
	}
	var rep struct {
		Busy         bool
		LinksRemoved int
		BlobsDeleted int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	// gone's three layers and its config (random images have a config of
	// their own each) are unlinked and deleted.
	if rep.Busy || rep.LinksRemoved != 4 || rep.BlobsDeleted != 4 {
		t.Errorf("report %+v: want 4 links removed and 4 blobs deleted", rep)
	}
	img, err := remote.Image(repo.Tag("keep"), opts...)
	if err == nil {
		err = validate.Image(img)
	}
	if err != nil {
		t.Errorf("the kept image after collection: %v", err)
	}
}
