package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/lifecycle"
	"github.com/berth-registry/berth/internal/meta"
)

// lcNow is the instant the lifecycle tests evaluate at.
var lcNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testClock is the Service's clock in a test, moved by the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func newClockedService(t *testing.T) (*Service, *testClock) {
	t.Helper()
	s, _ := newTestService(t, true)
	clk := &testClock{t: lcNow}
	s.now = clk.now
	s.log = slog.New(slog.DiscardHandler)
	runJobs(t, s)
	return s, clk
}

// runJobs runs a job runner for the service's queues until the test ends,
// as the server does.
func runJobs(t *testing.T, s *Service) {
	t.Helper()
	r := jobs.New(s.meta.(jobs.Store), jobs.Options{PollInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	s.RegisterJobs(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// finishedPreview waits for the repository's preview to leave IN_PROGRESS.
func finishedPreview(t *testing.T, s *Service, name string) *LifecyclePreview {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pv, err := s.GetLifecyclePreview(context.Background(), testReg, name, nil, "")
		if err != nil {
			t.Fatalf("GetLifecyclePreview: %v", err)
		}
		if pv.Status != meta.PreviewInProgress {
			return pv
		}
		if time.Now().After(deadline) {
			t.Fatalf("the preview of %s is still in progress", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pushBlob pushes bytes as a blob of the repository.
func pushBlob(t *testing.T, s *Service, repo string, data []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(data)
	if err := s.PutBlob(context.Background(), testReg, repo, d, strings.NewReader(string(data))); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	return d
}

// pushManifest pushes a manifest, tagged with tags (by digest when none).
func pushManifest(t *testing.T, s *Service, repo, mediaType string, m []byte, tags ...string) string {
	t.Helper()
	d := digest.FromBytes(m).String()
	ref := d
	if len(tags) > 0 {
		ref = tags[0]
	}
	if _, err := s.PutManifest(context.Background(), testReg, repo, ref, mediaType, m, tags); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	return d
}

// imageManifest is an OCI image over a shared config and a layer of its
// own, seed making it unique; subject, when set, makes it a referrer.
func imageManifest(t *testing.T, s *Service, repo, seed, subject string) []byte {
	t.Helper()
	config := []byte(`{"os":"linux","architecture":"amd64"}`)
	cd := pushBlob(t, s, repo, config)
	layer := []byte("layer of " + seed)
	ld := pushBlob(t, s, repo, layer)
	sub := ""
	if subject != "" {
		sub = fmt.Sprintf(`,"subject":{"mediaType":%q,"digest":%q,"size":1}`, MediaTypeOCIManifest, subject)
	}
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}],"annotations":{"seed":%q}%s}`,
		MediaTypeOCIManifest, cd, len(config), ld, len(layer), seed, sub)
}

// pushAged pushes an image pushed the given time before lcNow.
func pushAged(t *testing.T, s *Service, clk *testClock, repo, seed string, ago time.Duration, tags ...string) string {
	t.Helper()
	clk.set(lcNow.Add(-ago))
	defer clk.set(lcNow)
	return pushManifest(t, s, repo, MediaTypeOCIManifest, imageManifest(t, s, repo, seed, ""), tags...)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// pullAt records a pull of digest at the given time before lcNow.
func pullAt(t *testing.T, s *Service, clk *testClock, repo, d string, ago time.Duration) {
	t.Helper()
	clk.set(lcNow.Add(-ago))
	s.RecordPull(testReg, repo, d)
	s.FlushPulls(context.Background())
	clk.set(lcNow)
}

// exampleImage is one image of a published example: a name, its age in
// days, its tags and, when pulled >= 0, days since its last pull. newer
// pushes it that much after the others of the same age.
type exampleImage struct {
	name   string
	days   int
	tags   []string
	pulled int
	newer  time.Duration
}

func img(name string, days int, tags ...string) exampleImage {
	return exampleImage{name: name, days: days, tags: tags, pulled: -1}
}

// outcomesOf names results as name:action@priority, in name order.
func outcomesOf[T any](items []T, names map[string]string, f func(T) (string, string, int)) []string {
	var out []string
	for _, it := range items {
		d, action, prio := f(it)
		out = append(out, fmt.Sprintf("%s:%s@%d", names[d], action, prio))
	}
	slices.Sort(out)
	return out
}

// runExample pushes the images into a fresh repository, puts the policy,
// previews it and runs it, and checks that the preview and the run agree
// with each other and with the published outcome: want lists
// name:expire@priority and name:archive@priority. Archiving is not
// supported, so an image to archive stays.
func runExample(t *testing.T, policy string, images []exampleImage, want ...string) {
	t.Helper()
	ctx := context.Background()
	s, clk := newClockedService(t)
	names := map[string]string{}
	for _, im := range images {
		d := pushAged(t, s, clk, "app", im.name, days(im.days)-im.newer, im.tags...)
		names[d] = im.name
		if im.pulled >= 0 {
			pullAt(t, s, clk, "app", d, days(im.pulled))
		}
	}
	if _, err := s.PutLifecyclePolicy(ctx, testReg, "app", policy); err != nil {
		t.Fatalf("PutLifecyclePolicy: %v", err)
	}
	slices.Sort(want)

	pv := previewOf(t, s, "")
	preview := outcomesOf(pv.Results, names, func(r meta.PreviewResult) (string, string, int) {
		return r.Digest, actionName(r.Action), r.RulePriority
	})
	if !slices.Equal(preview, want) {
		t.Errorf("preview:\n got %q\nwant %q", preview, want)
	}

	run, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil {
		t.Fatalf("RunLifecyclePolicy: %v", err)
	}
	if len(run.Skipped) > 0 || run.Busy {
		t.Errorf("run skipped %d images (busy %v)", len(run.Skipped), run.Busy)
	}
	ran := outcomesOf(append(slices.Clone(run.Expired), run.Unsupported...), names,
		func(r lifecycle.Result) (string, string, int) {
			return r.Digest, actionName(string(r.Action.Type)), r.AppliedRulePriority
		})
	if !slices.Equal(ran, preview) {
		t.Errorf("run and preview differ:\n run %q\n preview %q", ran, preview)
	}

	// What is left is everything but the expired.
	left, err := s.meta.ListImages(ctx, repoID(t, s, "app"), meta.ImageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var gotLeft, wantLeft []string
	for _, m := range left {
		gotLeft = append(gotLeft, names[m.Digest])
	}
	for _, im := range images {
		if !slices.ContainsFunc(want, func(w string) bool { return strings.HasPrefix(w, im.name+":expire@") }) {
			wantLeft = append(wantLeft, im.name)
		}
	}
	slices.Sort(gotLeft)
	slices.Sort(wantLeft)
	if !slices.Equal(gotLeft, wantLeft) {
		t.Errorf("images left %q, want %q", gotLeft, wantLeft)
	}
	p, err := s.GetLifecyclePolicy(ctx, testReg, "app")
	if err != nil || !p.LastEvaluatedAt.Equal(lcNow) {
		t.Errorf("lastEvaluatedAt = %v, %v; want %v", p.LastEvaluatedAt, err, lcNow)
	}
}

func actionName(a string) string {
	if a == "TRANSITION" {
		return "archive"
	}
	return strings.ToLower(a)
}

func repoID(t *testing.T, s *Service, name string) int64 {
	t.Helper()
	r, err := s.Repository(context.Background(), testReg, name, false)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// previewOf starts a preview (of text, or of the stored policy) and waits
// for it to finish.
func previewOf(t *testing.T, s *Service, text string) *LifecyclePreview {
	t.Helper()
	ctx := context.Background()
	started, err := s.StartLifecyclePreview(ctx, testReg, "app", text)
	if err != nil {
		t.Fatalf("StartLifecyclePreview: %v", err)
	}
	if started.Status != meta.PreviewInProgress {
		t.Errorf("started preview status %s", started.Status)
	}
	pv := finishedPreview(t, s, "app")
	if pv.Status != meta.PreviewComplete {
		t.Fatalf("preview status %s (%s)", pv.Status, pv.Reason)
	}
	return pv
}

// Each test below is one example of the ECR User Guide's "Examples of
// lifecycle policies in Amazon ECR", its policy as published (see package
// lifecycle's examples_test.go for the sources), pushed and run end to end.

func TestLifecycleExampleImageAge(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Expire images older than 14 days",
		"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":14},
		"action":{"type":"expire"}}]}`,
		[]exampleImage{
			img("old-prod", 20, "prod-1"),
			img("old-production", 15, "production-team1"),
			img("new-prod", 10, "prod-2"),
			img("just-14-days", 14, "prod-3"),
			img("old-dev", 30, "dev-1"),
			img("old-untagged", 30),
		},
		"old-prod:expire@1", "old-production:expire@1")
}

func TestLifecycleExampleImageAgeUntagged(t *testing.T) {
	runExample(t, `{"rules": [{"rulePriority": 1, "description": "Expire images older than 14 days",
		"selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
		"action": {"type": "expire"}}]}`,
		[]exampleImage{img("old", 15), img("new", 13), img("old-tagged", 30, "v1")},
		"old:expire@1")
}

func TestLifecycleExampleImageCount(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Keep only one untagged image, expire all others",
		"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
		[]exampleImage{img("untagged-3", 3), img("untagged-2", 2), img("untagged-1", 1), img("tagged-5", 5, "v1")},
		"untagged-3:expire@1", "untagged-2:expire@1")
}

func multipleRulesImages() []exampleImage {
	return []exampleImage{img("A", 10, "beta-1", "prod-1"), img("B", 9, "beta-2", "prod-2"), img("C", 8, "beta-3")}
}

func TestLifecycleExampleMultipleRulesA(t *testing.T) {
	for name, policy := range map[string]string{
		"tagPatternList": `{"rules":[
			{"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
		"tagPrefixList": `{"rules":[
			{"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			runExample(t, policy, multipleRulesImages(), "A:expire@1")
		})
	}
}

func TestLifecycleExampleMultipleRulesB(t *testing.T) {
	runExample(t, `{"rules":[
		{"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPatternList":["beta*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
		multipleRulesImages(), "A:expire@1", "B:expire@1")
}

func TestLifecycleExampleMultipleTagsA(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Rule 1",
		"selection":{"tagStatus":"tagged","tagPatternList":["alpha*","beta*"],"countType":"sinceImagePushed","countNumber":5,"countUnit":"days"},
		"action":{"type":"expire"}}]}`,
		[]exampleImage{
			img("A", 12, "alpha-1"), img("B", 11, "beta-1"), img("C", 10, "alpha-2", "beta-2"),
			img("D", 4, "alpha-3"), img("E", 3, "beta-3"), img("F", 2, "alpha-4", "beta-4"),
		},
		"C:expire@1")
}

func TestLifecycleExampleMultipleTagsB(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Rule 1",
		"selection":{"tagStatus":"tagged","tagPatternList":["alpha*","beta*"],"countType":"imageCountMoreThan","countNumber":1},
		"action":{"type":"expire"}}]}`,
		[]exampleImage{img("A", 10, "alpha-1", "beta-1", "gamma-1"), img("B", 9, "alpha-2", "beta-2"), img("C", 8, "alpha-3", "beta-3", "gamma-2")},
		"A:expire@1", "B:expire@1")
}

func TestLifecycleExampleAllImagesA(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Rule 1",
		"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
		[]exampleImage{img("A", 4, "alpha-1"), img("B", 3, "beta-1"), img("C", 2), img("D", 1, "alpha-2")},
		"A:expire@1", "B:expire@1", "C:expire@1")
}

// The published repository has D and E both "Pushed: 1 day ago" and keeps
// E: here E is pushed a second later, so that the outcome does not hang on
// the order of their digests. The published tag "git hash" is not a valid
// tag; "git-hash" stands for it.
func TestLifecycleExampleAllImagesB(t *testing.T) {
	e := img("E", 1)
	e.newer = time.Second
	runExample(t, `{"rules":[
		{"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPatternList":["alpha*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":3,"description":"Rule 3","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
		[]exampleImage{img("A", 4, "alpha-1", "beta-1"), img("B", 3), img("C", 2, "alpha-2"), img("D", 1, "git-hash"), e},
		"A:expire@1", "B:expire@2", "D:expire@3")
}

// The archive examples: Berth has no archive storage class, so the images a
// policy archives are reported (preview, run) and stay where they are.

func TestLifecycleExampleLastPulledTime(t *testing.T) {
	pulledLongAgo := img("pulled-100-days-ago", 300, "v1")
	pulledLongAgo.pulled = 100
	pulledRecently := img("pulled-10-days-ago", 300, "v2")
	pulledRecently.pulled = 10
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Archive images not pulled in 90 days",
		"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},
		"action":{"type":"transition","targetStorageClass":"archive"}}]}`,
		[]exampleImage{pulledLongAgo, pulledRecently, img("never-pulled-old", 120), img("never-pulled-new", 30)},
		"pulled-100-days-ago:archive@1", "never-pulled-old:archive@1")
}

func TestLifecycleExampleArchiveOlderThan(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Archive production images older than 30 days",
		"selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},
		"action":{"type":"transition","targetStorageClass":"archive"}}]}`,
		[]exampleImage{img("prod-old", 31, "prod-1"), img("prod-new", 29, "prod-2"), img("dev-old", 90, "dev-1")},
		"prod-old:archive@1")
}

func TestLifecycleExampleArchiveTransitionTime(t *testing.T) {
	runExample(t, `{"rules":[{"rulePriority":1,"description":"Expire images archived for more than 365 days",
		"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},
		"action":{"type":"expire"}}]}`,
		[]exampleImage{img("standard-old", 1000, "v3")})
}

func TestLifecycleExampleCombiningArchiveAndExpire(t *testing.T) {
	runExample(t, `{"rules":[
		{"rulePriority":1,"description":"Archive images older than 30 days","selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}},
		{"rulePriority":2,"description":"Expire images archived for more than 365 days","selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}}]}`,
		[]exampleImage{img("standard-40-days", 40, "v3"), img("standard-10-days", 10)},
		"standard-40-days:archive@1")
}

// TestLifecyclePullTimeCounts checks that recorded pulls feed
// sinceImagePulled (which ECR allows with archiving only).
func TestLifecyclePullTimeCounts(t *testing.T) {
	recent := img("pulled-recently", 100, "v1")
	recent.pulled = 5
	stale := img("pulled-long-ago", 100, "v2")
	stale.pulled = 40
	runExample(t, `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}}]}`,
		[]exampleImage{recent, stale, img("never-pulled", 100, "v3"), img("new", 10, "v4")},
		"pulled-long-ago:archive@1", "never-pulled:archive@1")
}

// TestLifecyclePreviewEqualsRun previews and then runs a policy over a
// repository with indexes, their children and referrers, with no change in
// between: the run deletes exactly what the preview listed, indexes before
// their children.
func TestLifecyclePreviewEqualsRun(t *testing.T) {
	ctx := context.Background()
	s, clk := newClockedService(t)
	var all []string
	push := func(d string) string { all = append(all, d); return d }
	for i := range 6 {
		push(pushAged(t, s, clk, "app", fmt.Sprint("release-", i), days(60-i), fmt.Sprintf("v%d", i)))
	}
	for i := range 4 {
		push(pushAged(t, s, clk, "app", fmt.Sprint("untagged-", i), days(30-i)))
	}
	// A multi-platform image: an old tagged index over two untagged images,
	// and a newer one that shares a child.
	clk.set(lcNow.Add(-days(50)))
	c1 := push(pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "amd64", "")))
	c2 := push(pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "arm64", "")))
	c3 := push(pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "s390x", "")))
	oldIdx := push(pushManifest(t, s, "app", MediaTypeOCIIndex, indexManifest(c1, c2), "multi-old"))
	clk.set(lcNow.Add(-days(1)))
	newIdx := push(pushManifest(t, s, "app", MediaTypeOCIIndex, indexManifest(c2, c3), "multi-new"))
	// A signature of the oldest release, and one of the newest.
	sigOld := push(pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "sig-old", all[0])))
	sigNew := push(pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "sig-new", all[5])))
	clk.set(lcNow)

	const policy = `{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["v*"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}},
		{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":3,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":40},"action":{"type":"expire"}}]}`
	if _, err := s.PutLifecyclePolicy(ctx, testReg, "app", policy); err != nil {
		t.Fatal(err)
	}
	pv := previewOf(t, s, "")
	var previewed []string
	for _, r := range pv.Results {
		if r.Action != "EXPIRE" {
			t.Errorf("preview result %+v is not an expiry", r)
		}
		previewed = append(previewed, r.Digest)
	}
	if pv.Summary.ExpiringImageTotalCount != len(previewed) {
		t.Errorf("summary %+v, %d results", pv.Summary, len(previewed))
	}
	// The old index goes, and with it c1 (listed by it only) but not c2
	// (the new index lists it); the old release's signature goes with it.
	for _, d := range []string{oldIdx, c1, sigOld, all[0], all[1], all[2]} {
		if !slices.Contains(previewed, d) {
			t.Errorf("preview keeps %s", d)
		}
	}
	for _, d := range []string{newIdx, c2, c3, sigNew, all[3], all[4], all[5]} {
		if slices.Contains(previewed, d) {
			t.Errorf("preview expires %s", d)
		}
	}

	run, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	var expired []string
	for _, r := range run.Expired {
		expired = append(expired, r.Digest)
	}
	slices.Sort(expired)
	if !slices.Equal(expired, previewed) || len(run.Skipped) > 0 {
		t.Errorf("run expired %d images (skipped %d), preview listed %d:\nrun     %q\npreview %q",
			len(expired), len(run.Skipped), len(previewed), expired, previewed)
	}
	left, _ := s.meta.ListImages(ctx, repoID(t, s, "app"), meta.ImageQuery{})
	for _, m := range left {
		if slices.Contains(expired, m.Digest) {
			t.Errorf("expired image %s is still there", m.Digest)
		}
	}
	if len(left)+len(expired) != len(all) {
		t.Errorf("%d left + %d expired != %d pushed", len(left), len(expired), len(all))
	}

	// A second run finds nothing more: the policy's outcome is stable.
	again, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil || len(again.Expired) != 0 {
		t.Errorf("second run expired %d, %v", len(again.Expired), err)
	}
}

func indexManifest(children ...string) []byte {
	var ms []string
	for _, c := range children {
		ms = append(ms, fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":100,"platform":{"os":"linux","architecture":"amd64"}}`, MediaTypeOCIManifest, c))
	}
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, MediaTypeOCIIndex, strings.Join(ms, ","))
}

// hookStore runs a hook after a lifecycle evaluation lists the images, to
// change the repository between evaluation and deletion.
type hookStore struct {
	Store
	afterList func()
}

func (h *hookStore) ManifestChildren(ctx context.Context, repoID int64) (map[string][]string, error) {
	out, err := h.Store.ManifestChildren(ctx, repoID)
	if h.afterList != nil {
		h.afterList()
	}
	return out, err
}

// TestLifecycleSkipsChangedImages re-tags, pulls and re-pushes images
// between the evaluation and the deletions: none of them is deleted.
func TestLifecycleSkipsChangedImages(t *testing.T) {
	ctx := context.Background()
	s, clk := newClockedService(t)
	retagged := pushAged(t, s, clk, "app", "retagged", days(10), "a")
	pulled := pushAged(t, s, clk, "app", "pulled", days(9), "b")
	untouched := pushAged(t, s, clk, "app", "untouched", days(8), "c")
	pushAged(t, s, clk, "app", "newest", days(1), "d")
	if _, err := s.PutLifecyclePolicy(ctx, testReg, "app", `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`); err != nil {
		t.Fatal(err)
	}
	s.meta = &hookStore{Store: s.meta, afterList: func() {
		m, err := s.GetManifest(ctx, testReg, "app", retagged)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := s.PutManifest(ctx, testReg, "app", "keep-me", m.MediaType, m.Content, nil); err != nil {
			t.Error(err)
		}
		s.RecordPull(testReg, "app", pulled)
		s.FlushPulls(ctx)
	}}
	run, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	var expired, skipped []string
	for _, r := range run.Expired {
		expired = append(expired, r.Digest)
	}
	for _, r := range run.Skipped {
		skipped = append(skipped, r.Digest)
	}
	slices.Sort(skipped)
	wantSkipped := []string{retagged, pulled}
	slices.Sort(wantSkipped)
	if !slices.Equal(expired, []string{untouched}) || !slices.Equal(skipped, wantSkipped) {
		t.Errorf("expired %q skipped %q; want expired [untouched] and skipped [retagged pulled]", expired, skipped)
	}
	for _, d := range []string{retagged, pulled} {
		if _, err := s.GetManifest(ctx, testReg, "app", d); err != nil {
			t.Errorf("changed image %s deleted: %v", d, err)
		}
	}
}

// TestLifecycleLease: while another node runs a repository's policy, a run
// here does nothing.
func TestLifecycleLease(t *testing.T) {
	ctx := context.Background()
	s, clk := newClockedService(t)
	pushAged(t, s, clk, "app", "old", days(10))
	pushAged(t, s, clk, "app", "new", days(1))
	if _, err := s.PutLifecyclePolicy(ctx, testReg, "app", `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`); err != nil {
		t.Fatal(err)
	}
	lease := fmt.Sprintf("lifecycle/%d", repoID(t, s, "app"))
	if ok, err := s.meta.AcquireLease(ctx, lease, "another-node", lcNow, time.Minute); !ok || err != nil {
		t.Fatalf("AcquireLease: %v, %v", ok, err)
	}
	run, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil || !run.Busy || len(run.Expired) != 0 {
		t.Fatalf("run under another node's lease = %+v, %v", run, err)
	}
	if n, err := s.RunLifecyclePolicies(ctx); err != nil || n != 1 {
		t.Fatalf("RunLifecyclePolicies = %d, %v", n, err)
	}
	clk.set(lcNow.Add(2 * time.Minute)) // the other node's lease lapsed
	run, err = s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil || run.Busy || len(run.Expired) != 1 {
		t.Fatalf("run after the lease lapsed = %+v, %v", run, err)
	}
}

func TestLifecyclePolicyErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := newClockedService(t)
	pushTestImage(t, s, "app", "x", "v1")

	_, err := s.PutLifecyclePolicy(ctx, testReg, "app", `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`)
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrLifecyclePolicyInvalid) ||
		!strings.HasPrefix(de.Message, "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ") ||
		!strings.HasSuffix(de.Message, "'") {
		t.Errorf("invalid policy: %v", err)
	}
	for name, call := range map[string]func() error{
		"Get":    func() error { _, err := s.GetLifecyclePolicy(ctx, testReg, "app"); return err },
		"Delete": func() error { _, err := s.DeleteLifecyclePolicy(ctx, testReg, "app"); return err },
		"Run":    func() error { _, err := s.RunLifecyclePolicy(ctx, testReg, "app"); return err },
		"Preview": func() error {
			_, err := s.StartLifecyclePreview(ctx, testReg, "app", "")
			return err
		},
	} {
		err := call()
		if !errors.Is(err, ErrLifecyclePolicyNotFound) || err.Error() !=
			"Lifecycle policy does not exist for the repository with name 'app' in the registry with id '000000000000'" {
			t.Errorf("%s without a policy: %v", name, err)
		}
	}
	if _, err := s.GetLifecyclePreview(ctx, testReg, "app", nil, ""); !errors.Is(err, ErrLifecyclePreviewNotFound) {
		t.Errorf("GetLifecyclePreview without one: %v", err)
	}
	if _, err := s.GetLifecyclePolicy(ctx, testReg, "missing"); !errors.Is(err, ErrNameUnknown) {
		t.Errorf("GetLifecyclePolicy(missing repository): %v", err)
	}

	// A preview of given text needs no stored policy; while it runs, no
	// other starts.
	const text = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`
	started := make(chan struct{})
	release := make(chan struct{})
	s.meta = &hookStore{Store: s.meta, afterList: func() {
		close(started)
		<-release
	}}
	if _, err := s.StartLifecyclePreview(ctx, testReg, "app", text); err != nil {
		t.Fatal(err)
	}
	<-started
	if _, err := s.StartLifecyclePreview(ctx, testReg, "app", text); !errors.Is(err, ErrLifecyclePreviewInProgress) {
		t.Errorf("second preview: %v", err)
	}
	if pv, err := s.GetLifecyclePreview(ctx, testReg, "app", nil, ""); err != nil || pv.Status != meta.PreviewInProgress {
		t.Errorf("preview while running: %+v, %v", pv, err)
	}
	close(release)
	if pv := finishedPreview(t, s, "app"); pv.Status != meta.PreviewComplete || pv.Text != text {
		t.Errorf("finished preview: %+v", pv)
	}
	s.meta = s.meta.(*hookStore).Store
}

// TestLifecyclePreviewFilter narrows a preview's results by image id and
// tag status; the summary still counts them all.
func TestLifecyclePreviewFilter(t *testing.T) {
	ctx := context.Background()
	s, clk := newClockedService(t)
	a := pushAged(t, s, clk, "app", "a", days(5), "a1", "a2")
	b := pushAged(t, s, clk, "app", "b", days(4))
	pushAged(t, s, clk, "app", "c", days(1), "c1")
	previewOf(t, s, `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`)
	for _, tc := range []struct {
		name   string
		ids    []ImageID
		status meta.TagStatus
		want   []string
	}{
		{"all", nil, meta.TagStatusAny, []string{a, b}},
		{"tagged", nil, meta.TagStatusTagged, []string{a}},
		{"untagged", nil, meta.TagStatusUntagged, []string{b}},
		{"by tag", []ImageID{{Tag: "a2"}}, "", []string{a}},
		{"by digest", []ImageID{{Digest: b}}, "", []string{b}},
		{"tag and digest that disagree", []ImageID{{Digest: b, Tag: "a1"}}, "", nil},
		{"not expiring", []ImageID{{Tag: "c1"}}, "", nil},
	} {
		pv, err := s.GetLifecyclePreview(ctx, testReg, "app", tc.ids, tc.status)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range pv.Results {
			got = append(got, r.Digest)
		}
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) || pv.Summary.ExpiringImageTotalCount != 2 {
			t.Errorf("%s: results %q (summary %+v), want %q", tc.name, got, pv.Summary, want)
		}
	}
}
