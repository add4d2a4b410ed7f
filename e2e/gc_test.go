package e2e

// Lifecycle expiry and online garbage collection running in a loop (every
// second, with a two-second grace period) while clients push and pull.
// Afterwards every image a push acknowledged is either still there and
// pulls completely, or was expired by the policy; and once the grace period
// has passed, the blob store holds exactly the blobs the remaining images
// reference.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/opencontainers/go-digest"
)

// gcImage is an image a push acknowledged.
type gcImage struct {
	repo   string
	tag    string
	digest digest.Digest
	blobs  []digest.Digest
}

type gcLedger struct {
	mu     sync.Mutex
	images []gcImage
}

func (l *gcLedger) add(im gcImage) {
	l.mu.Lock()
	l.images = append(l.images, im)
	l.mu.Unlock()
}

func (l *gcLedger) pick(rng *rand.Rand) (gcImage, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.images) == 0 {
		return gcImage{}, false
	}
	// Mostly recent images, which are still there.
	n := len(l.images)
	i := n - 1 - rng.IntN(min(n, 40))
	return l.images[i], true
}

// gcPush pushes one image: every blob uploaded (a push in flight links its
// blobs before its manifest), then the manifest under a tag of its own.
func gcPush(ctx context.Context, c *httpReg, rng *rand.Rand, shared, occasional [][]byte, repo, tag string) (gcImage, error) {
	im := gcImage{repo: repo, tag: tag}
	var layers []crDescriptor
	picked := [][]byte{shared[rng.IntN(len(shared))]}
	if rng.IntN(2) == 0 {
		picked = append(picked, occasional[rng.IntN(len(occasional))])
	}
	for _, data := range picked {
		d := digest.FromBytes(data)
		layers = append(layers, crDescriptor{mtOCILayer, d, int64(len(data))})
		if err := c.pushMonolithic(ctx, repo, data, d); err != nil {
			return im, err
		}
	}
	own, d := crRandomBlob(rng, 512+rng.IntN(8192))
	if err := c.pushMonolithic(ctx, repo, own, d); err != nil {
		return im, err
	}
	layers = append(layers, crDescriptor{mtOCILayer, d, int64(len(own))})
	config := crImageConfig(repo+":"+tag, layers)
	cd := digest.FromBytes(config)
	if err := c.pushMonolithic(ctx, repo, config, cd); err != nil {
		return im, err
	}
	manifest := crImageManifest(crDescriptor{mtOCIConfig, cd, int64(len(config))}, layers)
	md, err := c.putManifest(ctx, repo, tag, mtOCIManifest, manifest)
	if err != nil {
		return im, err
	}
	im.digest = md
	im.blobs = append(im.blobs, cd)
	for _, l := range layers {
		im.blobs = append(im.blobs, l.Digest)
	}
	return im, nil
}

// gcPull pulls an image by digest: its manifest, then every blob, checking
// each digest. gone reports an image that is no longer there.
func gcPull(ctx context.Context, c *httpReg, im gcImage) (gone bool, err error) {
	resp, body, err := c.do(ctx, "GET", "/v2/"+im.repo+"/manifests/"+im.digest.String(),
		http.Header{"Accept": {mtOCIManifest}}, nil)
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return true, nil
	}
	if resp.StatusCode != http.StatusOK || digest.FromBytes(body) != im.digest {
		return false, fmt.Errorf("GET manifest %s@%s: %d", im.repo, im.digest, resp.StatusCode)
	}
	var m struct {
		Config crDescriptor   `json:"config"`
		Layers []crDescriptor `json:"layers"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return false, err
	}
	for _, desc := range append([]crDescriptor{m.Config}, m.Layers...) {
		got, n, err := c.getBlobDigest(ctx, im.repo, desc.Digest)
		if err != nil {
			return false, fmt.Errorf("image %s@%s: %w", im.repo, im.digest, err)
		}
		if got != desc.Digest || n != desc.Size {
			return false, fmt.Errorf("image %s@%s: blob %s came as %s (%d bytes)", im.repo, im.digest, desc.Digest, got, n)
		}
	}
	return false, nil
}

// gcStoreFiles lists the blobs in <data>/blobs/blobs.
func gcStoreFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	root := filepath.Join(dataDir, "blobs", "blobs")
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(rel, string(filepath.Separator))
		out = append(out, parts[0]+":"+parts[len(parts)-1])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

var gcRunRE = regexp.MustCompile(`msg="?garbage collection"? .*blobs_deleted=(\d+)`)

var gcExpiredRE = regexp.MustCompile(`lifecycle expired image"? .*repository=(\S+) digest=(\S+)`)

func TestGCConcurrentWithPushesAndExpiry(t *testing.T) {
	const (
		clients  = 8
		keep     = 5
		duration = 20 * time.Second
	)
	if testing.Short() {
		t.Skip("runs for about half a minute")
	}
	b := startBerth(t, "", "--gc-interval", "1s", "--gc-grace", "2s", "--lifecycle-interval", "1s")
	ctx := withTimeout(t, 5*time.Minute)
	api := b.ECR()
	repos := []string{"gc/one", "gc/two", "gc/three", "gc/four"}
	policy := fmt.Sprintf(`{"rules":[{"rulePriority":1,"description":"Keep the %d newest images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":%d},"action":{"type":"expire"}}]}`, keep, keep)
	for _, r := range repos {
		if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(r), LifecyclePolicyText: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	// Layers every repository shares, some in most images, some now and
	// then: those are collected once no image uses them, and pushed again
	// later, while the collector runs.
	seed := rand.New(rand.NewPCG(1, 2))
	var shared, occasional [][]byte
	for range 3 {
		data, _ := crRandomBlob(seed, 4096+seed.IntN(4096))
		shared = append(shared, data)
	}
	for range 40 {
		data, _ := crRandomBlob(seed, 1024+seed.IntN(4096))
		occasional = append(occasional, data)
	}

	c := newHTTPReg(t, b)
	defer c.close()
	var ledger gcLedger
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var pushes, pulls, gonePulls int
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for i := 0; time.Now().Before(stop); i++ {
				if rng.IntN(10) < 6 {
					repo := repos[rng.IntN(len(repos))]
					im, err := gcPush(ctx, c, rng, shared, occasional, repo, fmt.Sprintf("c%d-%d", w, i))
					if err != nil {
						fail("push %s: %v", repo, err)
						continue
					}
					ledger.add(im)
					mu.Lock()
					pushes++
					mu.Unlock()
					continue
				}
				im, ok := ledger.pick(rng)
				if !ok {
					continue
				}
				gone, err := gcPull(ctx, c, im)
				if err != nil {
					// Expired between the manifest and a blob is fine; a
					// failure of an image that is still there is not.
					if g, _ := gcPull(ctx, c, im); !g {
						fail("pull: %v", err)
					}
				}
				mu.Lock()
				pulls++
				if gone {
					gonePulls++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d pushes, %d pulls (%d of expired images)", pushes, pulls, gonePulls)
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... %d failures in all", len(failures))
			break
		}
		t.Error(f)
	}
	if pushes < 50 {
		t.Fatalf("only %d pushes in %v", pushes, duration)
	}

	// Let the policy catch up: at most keep images per repository.
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range repos {
		for {
			out, err := api.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(r)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.ImageIds) <= keep {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still has %d images", r, len(out.ImageIds))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Every acknowledged image is there and pulls completely, or the
	// policy expired it (and said so in the log).
	expired := map[string]bool{}
	readExpired := func() {
		for _, m := range gcExpiredRE.FindAllStringSubmatch(b.Log(), -1) {
			expired[m[1]+"@"+m[2]] = true
		}
	}
	// wasExpired allows for the log line of a deletion still on its way.
	wasExpired := func(key string) bool {
		for range 20 {
			if readExpired(); expired[key] {
				return true
			}
			time.Sleep(100 * time.Millisecond)
		}
		return false
	}
	readExpired()
	referenced := map[string]bool{}
	present := 0
	for _, im := range ledger.images {
		gone, err := gcPull(ctx, c, im)
		switch {
		case err != nil:
			t.Errorf("acknowledged image does not pull: %v", err)
		case gone && !expired[im.repo+"@"+im.digest.String()] && !wasExpired(im.repo+"@"+im.digest.String()):
			t.Errorf("image %s:%s (%s) is gone, but no lifecycle run expired it", im.repo, im.tag, im.digest)
		case !gone:
			present++
			for _, d := range im.blobs {
				referenced[d.String()] = true
			}
		}
	}
	if present == 0 || present > keep*len(repos) || len(expired) == 0 {
		t.Errorf("%d images left, %d expired", present, len(expired))
	}
	want := make([]string, 0, len(referenced))
	for d := range referenced {
		want = append(want, d)
	}
	slices.Sort(want)

	// Once the grace period has passed, the blob store holds exactly what
	// the remaining images reference.
	var got []string
	deadline = time.Now().Add(30 * time.Second)
	for {
		got = gcStoreFiles(t, b.DataDir)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			extra, missing := gcDiff(got, want)
			t.Fatalf("the blob store holds %d blobs, the images reference %d: %d extra %q, %d missing %q",
				len(got), len(want), len(extra), extra, len(missing), missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
	collected, runs := 0, 0
	for _, m := range gcRunRE.FindAllStringSubmatch(b.Log(), -1) {
		n, _ := strconv.Atoi(m[1])
		collected += n
		runs++
	}
	t.Logf("%d images left, %d expired, %d blobs in the store; %d collections deleted %d blobs", present, len(expired), len(got), runs, collected)

	// And the metadata agrees: every blob it knows has its file.
	crCheckMetaDB(t, b.DataDir)
	resp, body, err := c.do(ctx, "GET", "/metrics", nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", resp, err)
	}
	for _, line := range []string{
		`berth_gc_referenced_bytes{registry="000000000000",region="us-east-1",repository="gc/one"}`,
		`berth_lifecycle_expired_images_total{registry="000000000000",region="us-east-1",repository="gc/two"}`,
		`berth_gc_deleted_blobs_total{kind="unreferenced"}`,
		fmt.Sprintf("berth_gc_blob_store_blobs %d", len(got)),
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

func gcDiff(got, want []string) (extra, missing []string) {
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	return extra, missing
}
