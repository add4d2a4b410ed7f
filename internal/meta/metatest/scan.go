package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// The image scan part of the suite (meta.ScanStore).

// day is ECR's limit window for a manual scan.
const day = 24 * time.Hour

func putImageScan(t *testing.T, s meta.Store, sc *meta.ImageScan) {
	t.Helper()
	if err := s.PutImageScan(t.Context(), sc, nil); err != nil {
		t.Fatalf("PutImageScan(%s): %v", sc.Digest, err)
	}
}

func getImageScan(t *testing.T, s meta.Store, digest string) *meta.ImageScan {
	t.Helper()
	sc, err := s.ImageScan(t.Context(), digest)
	if err != nil {
		t.Fatalf("ImageScan(%s): %v", digest, err)
	}
	return sc
}

func imageScans(t *testing.T, s meta.Store, digests ...string) map[string]*meta.ImageScan {
	t.Helper()
	got, err := s.ImageScans(t.Context(), digests)
	if err != nil {
		t.Fatalf("ImageScans(%v): %v", digests, err)
	}
	if got == nil {
		t.Fatalf("ImageScans(%v) = nil, want a map", digests)
	}
	return got
}

// checkImageScan compares a scan read back with the one put; findings says
// whether the read returns them.
func checkImageScan(t *testing.T, what string, got, want *meta.ImageScan, findings bool) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %+v", what, want)
		return
	}
	if got.Digest != want.Digest || got.Status != want.Status || got.Description != want.Description ||
		got.VulnVersion != want.VulnVersion || !maps.Equal(got.SeverityCounts, want.SeverityCounts) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	checkTime(t, what+" StartedAt", got.StartedAt, want.StartedAt)
	checkTime(t, what+" CompletedAt", got.CompletedAt, want.CompletedAt)
	checkTime(t, what+" VulnUpdatedAt", got.VulnUpdatedAt, want.VulnUpdatedAt)
	switch {
	case !findings && got.Findings != nil:
		t.Errorf("%s has %d bytes of findings, want none", what, len(got.Findings))
	case findings && !bytes.Equal(got.Findings, want.Findings):
		t.Errorf("%s has %d bytes of findings, want the %d put", what, len(got.Findings), len(want.Findings))
	}
}

func testImageScanPutGet(t *testing.T, s meta.Store) {
	ctx := t.Context()
	d1, d2, d3 := digestOf([]byte("image 1")), digestOf([]byte("image 2")), digestOf([]byte("image 3"))
	if _, err := s.ImageScan(ctx, d1); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("ImageScan of a digest never scanned: %v, want ErrNotFound", err)
	}
	if got := imageScans(t, s, d1, d2); len(got) != 0 {
		t.Fatalf("ImageScans in an empty store = %v", got)
	}
	if got := imageScans(t, s); len(got) != 0 {
		t.Fatalf("ImageScans of no digests = %v", got)
	}

	// In progress: no completion, no counts, no findings.
	running := &meta.ImageScan{Digest: d1, Status: meta.ScanInProgress, StartedAt: at(0)}
	putImageScan(t, s, running)
	checkImageScan(t, "ImageScan in progress", getImageScan(t, s, d1), running, true)

	// Replaced by the finished scan, with findings of a few MB.
	big := bytes.Repeat([]byte("finding \x00\xff "), 300_000)
	done := &meta.ImageScan{
		Digest: d1, Status: meta.ScanComplete, Description: "The scan was completed successfully.",
		StartedAt: at(0), CompletedAt: at(5), VulnVersion: 7, VulnUpdatedAt: at(-3600),
		SeverityCounts: map[string]int{"CRITICAL": 1, "HIGH": 12, "UNDEFINED": 3},
		Findings:       big,
	}
	putImageScan(t, s, done)
	checkImageScan(t, "ImageScan complete", getImageScan(t, s, d1), done, true)

	failed := &meta.ImageScan{Digest: d2, Status: meta.ScanFailed, Description: "layer unreadable",
		StartedAt: at(1), CompletedAt: at(2), VulnVersion: 7, VulnUpdatedAt: at(-3600)}
	unsupported := &meta.ImageScan{Digest: d3, Status: meta.ScanUnsupportedImage,
		Description: "The operating system and/or package manager are not supported.",
		StartedAt:   at(1), CompletedAt: at(1)}
	putImageScan(t, s, failed)
	putImageScan(t, s, unsupported)
	checkImageScan(t, "ImageScan failed", getImageScan(t, s, d2), failed, true)

	// Many at once, without findings; unknown and repeated digests are
	// no trouble.
	got := imageScans(t, s, d3, "sha256:unknown", d1, d2, d1)
	if len(got) != 3 {
		t.Fatalf("ImageScans = %d scans (%v), want 3", len(got), slices.Sorted(maps.Keys(got)))
	}
	for _, want := range []*meta.ImageScan{done, failed, unsupported} {
		checkImageScan(t, "ImageScans["+want.Digest+"]", got[want.Digest], want, false)
	}

	// Replacing a scan replaces all of it: what the new one lacks is gone.
	rescan := &meta.ImageScan{Digest: d1, Status: meta.ScanInProgress, StartedAt: at(10)}
	putImageScan(t, s, rescan)
	checkImageScan(t, "ImageScan replaced", getImageScan(t, s, d1), rescan, true)
	checkImageScan(t, "ImageScans replaced", imageScans(t, s, d1)[d1], rescan, false)

	if err := s.PutImageScan(ctx, &meta.ImageScan{Status: meta.ScanComplete}, nil); err == nil {
		t.Error("PutImageScan without a digest succeeded")
	}

	// A finished scan's event is written with it, or not at all.
	finished := &meta.ImageScan{Digest: d1, Status: meta.ScanComplete, StartedAt: at(10), CompletedAt: at(11), VulnVersion: 4}
	if err := s.PutImageScan(ctx, finished, []meta.NewJob{job("scan-events", "finished")}); err != nil {
		t.Fatalf("PutImageScan with a job: %v", err)
	}
	checkImageScan(t, "ImageScan put with a job", getImageScan(t, s, d1), finished, true)
	if got := payloads(listJobs(t, s, meta.JobQuery{Queue: "scan-events"})); !slices.Equal(got, []string{"finished"}) {
		t.Errorf("jobs written with the scan = %q", got)
	}
	refused := &meta.ImageScan{Digest: d1, Status: meta.ScanFailed, StartedAt: at(12), CompletedAt: at(13)}
	if err := s.PutImageScan(ctx, refused, []meta.NewJob{{Payload: []byte("no queue")}}); err == nil {
		t.Error("PutImageScan with a job without a queue succeeded")
	}
	checkImageScan(t, "ImageScan after a refused put", getImageScan(t, s, d1), finished, true)
}

func requestScan(t *testing.T, s meta.Store, req meta.ScanRequest, jobs ...meta.NewJob) {
	t.Helper()
	if err := s.RequestScan(t.Context(), req, jobs); err != nil {
		t.Fatalf("RequestScan(%d, %s, %s at %v): %v", req.RepoID, req.Digest, req.Trigger, req.At, err)
	}
}

func scanRequests(t *testing.T, s meta.Store, repoID int64, digests ...string) map[string]meta.ScanRequested {
	t.Helper()
	got, err := s.ScanRequests(t.Context(), repoID, digests)
	if err != nil {
		t.Fatalf("ScanRequests(%d, %v): %v", repoID, digests, err)
	}
	if got == nil {
		t.Fatalf("ScanRequests(%d, %v) = nil, want a map", repoID, digests)
	}
	return got
}

func requestsForDigest(t *testing.T, s meta.Store, digest string) []meta.ScanRequested {
	t.Helper()
	got, err := s.RequestsForDigest(t.Context(), digest)
	if err != nil {
		t.Fatalf("RequestsForDigest(%s): %v", digest, err)
	}
	return got
}

func checkRequests(t *testing.T, what string, got, want []meta.ScanRequested) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
		return
	}
	for i := range got {
		checkRequest(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

func checkRequest(t *testing.T, what string, got, want meta.ScanRequested) {
	t.Helper()
	if got.RepoID != want.RepoID || got.Digest != want.Digest || got.Trigger != want.Trigger ||
		got.Registry != want.Registry || got.Repository != want.Repository {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	checkTime(t, what+" At", got.At, want.At)
}

func testScanRequests(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a, b := newRepo(t, s, reg1, "a"), newRepo(t, s, reg1, "b")
	d1, d2 := digestOf([]byte("image 1")), digestOf([]byte("image 2"))
	if got := scanRequests(t, s, a.ID, d1, d2); len(got) != 0 {
		t.Fatalf("ScanRequests before any = %v", got)
	}
	if got := requestsForDigest(t, s, d1); len(got) != 0 {
		t.Fatalf("RequestsForDigest before any = %v", got)
	}

	requestScan(t, s, meta.ScanRequest{RepoID: b.ID, Digest: d1, At: at(0), Trigger: "push"})
	requestScan(t, s, meta.ScanRequest{RepoID: a.ID, Digest: d1, At: at(1), Trigger: "push"})
	requestScan(t, s, meta.ScanRequest{RepoID: a.ID, Digest: d2, At: at(2), Trigger: "manual", LimitWindow: day})

	got := scanRequests(t, s, a.ID, d2, d1, "sha256:unknown", d1)
	if len(got) != 2 {
		t.Fatalf("ScanRequests(a) = %+v, want d1's and d2's", got)
	}
	checkRequest(t, "ScanRequests(a)[d1]", got[d1], meta.ScanRequested{RepoID: a.ID, Digest: d1, At: at(1), Trigger: "push"})
	checkRequest(t, "ScanRequests(a)[d2]", got[d2], meta.ScanRequested{RepoID: a.ID, Digest: d2, At: at(2), Trigger: "manual"})
	if got := scanRequests(t, s, b.ID, d2); len(got) != 0 {
		t.Errorf("ScanRequests(b, d2) = %+v, want none: a's request is a's", got)
	}
	if got := scanRequests(t, s, a.ID); len(got) != 0 {
		t.Errorf("ScanRequests of no digests = %+v", got)
	}
	checkRequests(t, "RequestsForDigest(d1)", requestsForDigest(t, s, d1), []meta.ScanRequested{
		{RepoID: a.ID, Digest: d1, At: at(1), Trigger: "push", Registry: reg1, Repository: "a"},
		{RepoID: b.ID, Digest: d1, At: at(0), Trigger: "push", Registry: reg1, Repository: "b"},
	})

	// A later request replaces the earlier one; without a window, however
	// soon it comes.
	requestScan(t, s, meta.ScanRequest{RepoID: a.ID, Digest: d1, At: at(3), Trigger: "continuous"})
	checkRequests(t, "RequestsForDigest(d1) replaced", requestsForDigest(t, s, d1), []meta.ScanRequested{
		{RepoID: a.ID, Digest: d1, At: at(3), Trigger: "continuous", Registry: reg1, Repository: "a"},
		{RepoID: b.ID, Digest: d1, At: at(0), Trigger: "push", Registry: reg1, Repository: "b"},
	})

	// A request needs its repository, and a time.
	err := s.RequestScan(ctx, meta.ScanRequest{RepoID: b.ID + 1000, Digest: d1, At: at(4), Trigger: "manual"}, nil)
	wantErr(t, "RequestScan in a missing repository", err, meta.ErrRepositoryUnknown)
	if err := s.RequestScan(ctx, meta.ScanRequest{RepoID: a.ID, Digest: d1, Trigger: "manual"}, nil); err == nil {
		t.Error("RequestScan without a time succeeded")
	}
	if got := requestsForDigest(t, s, d1); len(got) != 2 || !got[0].At.Equal(at(3)) {
		t.Errorf("RequestsForDigest(d1) after refused requests = %+v", got)
	}

	// A deleted repository takes its requests along; the scan of the
	// digest, which other repositories share, stays.
	putImageScan(t, s, &meta.ImageScan{Digest: d2, Status: meta.ScanComplete, StartedAt: at(2), CompletedAt: at(3)})
	pushImage(t, s, a.ID, "content")
	if err := s.DeleteRepository(ctx, a.ID, true); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	checkRequests(t, "RequestsForDigest(d1) after a's deletion", requestsForDigest(t, s, d1), []meta.ScanRequested{
		{RepoID: b.ID, Digest: d1, At: at(0), Trigger: "push", Registry: reg1, Repository: "b"},
	})
	if got := requestsForDigest(t, s, d2); len(got) != 0 {
		t.Errorf("RequestsForDigest(d2) after a's deletion = %+v", got)
	}
	if got := scanRequests(t, s, a.ID, d1, d2); len(got) != 0 {
		t.Errorf("ScanRequests of a deleted repository = %+v", got)
	}
	getImageScan(t, s, d2)
	// A repository of the same name is a new one, with no requests.
	again := newRepo(t, s, reg1, "a")
	if got := scanRequests(t, s, again.ID, d1, d2); len(got) != 0 {
		t.Errorf("ScanRequests of a new repository of a deleted one's name = %+v", got)
	}
	if err := s.DeleteRepository(ctx, b.ID, false); err != nil {
		t.Fatalf("DeleteRepository(b) holding only requests: %v", err)
	}
	if got := requestsForDigest(t, s, d1); len(got) != 0 {
		t.Errorf("RequestsForDigest(d1) after both deletions = %+v", got)
	}
}

// testScanLimit checks ECR's one manual scan per image per 24 hours: within
// the window a request is refused and writes nothing, its jobs included;
// from the window's end it is taken.
func testScanLimit(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a, b := newRepo(t, s, reg1, "a"), newRepo(t, s, reg1, "b")
	d1, d2 := digestOf([]byte("image 1")), digestOf([]byte("image 2"))
	manual := func(repoID int64, digest string, when time.Time) meta.ScanRequest {
		return meta.ScanRequest{RepoID: repoID, Digest: digest, At: when, Trigger: "manual", LimitWindow: day}
	}
	request := func(step string, req meta.ScanRequest, want error) {
		t.Helper()
		err := s.RequestScan(ctx, req, []meta.NewJob{{Queue: "scan", Payload: []byte(step)}})
		wantErr(t, step, err, want)
		var found bool
		for _, j := range listJobs(t, s, meta.JobQuery{Queue: "scan"}) {
			found = found || string(j.Payload) == step
		}
		if found != (want == nil) {
			t.Errorf("%s: a job written: %v, want %v", step, found, want == nil)
		}
	}
	check := func(step string, repoID int64, digest string, want meta.ScanRequested) {
		t.Helper()
		checkRequest(t, step, scanRequests(t, s, repoID, digest)[digest], want)
	}

	request("first", manual(a.ID, d1, at(0)), nil)
	request("an hour later", manual(a.ID, d1, at(3600)), meta.ErrScanLimit)
	request("a microsecond before a day", manual(a.ID, d1, at(0).Add(day-time.Microsecond)), meta.ErrScanLimit)
	check("after refusals", a.ID, d1, meta.ScanRequested{RepoID: a.ID, Digest: d1, At: at(0), Trigger: "manual"})

	// The limit is per repository and image.
	request("another image", manual(a.ID, d2, at(3600)), nil)
	request("another repository", manual(b.ID, d1, at(3600)), nil)

	// A request without a window (a push's) is taken within the window,
	// and is the one the next manual request is measured from.
	pushed := meta.ScanRequest{RepoID: a.ID, Digest: d1, At: at(7200), Trigger: "push"}
	if err := s.RequestScan(ctx, pushed, nil); err != nil {
		t.Fatalf("a push's request within the window: %v", err)
	}
	request("a day after the first, within a day of the push", manual(a.ID, d1, at(0).Add(day)), meta.ErrScanLimit)
	check("after the push", a.ID, d1, meta.ScanRequested{RepoID: a.ID, Digest: d1, At: at(7200), Trigger: "push"})

	// From a day after the last request, the next is taken.
	request("a day after the push", manual(a.ID, d1, at(7200).Add(day)), nil)
	check("after the window", a.ID, d1, meta.ScanRequested{RepoID: a.ID, Digest: d1, At: at(7200).Add(day), Trigger: "manual"})
	request("the same time again", manual(a.ID, d1, at(7200).Add(day)), meta.ErrScanLimit)
}

// testScanRequestJobs checks that a request's jobs are written with it, as
// a change's are: stamped with the store's clock, a key taken by an
// unfinished job dropped, and a job the store refuses refusing the request.
func testScanRequestJobs(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	d := digestOf([]byte("image"))
	keyed := func(payload string) meta.NewJob {
		return meta.NewJob{Queue: "scan", Key: d, Payload: []byte(payload)}
	}
	requestScan(t, s, meta.ScanRequest{RepoID: r.ID, Digest: d, At: at(0), Trigger: "push"},
		keyed("first"), job("events", "scan requested"))
	js := listJobs(t, s, meta.JobQuery{})
	if got := payloads(js); !slices.Equal(got, []string{"first", "scan requested"}) {
		t.Fatalf("jobs after a request = %q", got)
	}
	for _, j := range js {
		if j.State != meta.JobPending || j.CreatedAt.IsZero() || j.CreatedAt.Location() != time.UTC || !j.RunAfter.IsZero() {
			t.Errorf("job written with a request: %+v", j)
		}
	}
	if js[0].Key != d {
		t.Errorf("job key = %q, want %q", js[0].Key, d)
	}

	// The scan is still to do: a second request's job of that key is
	// dropped, and the request is recorded all the same.
	requestScan(t, s, meta.ScanRequest{RepoID: r.ID, Digest: d, At: at(1), Trigger: "continuous"}, keyed("second"))
	if got := payloads(listJobs(t, s, meta.JobQuery{Queue: "scan"})); !slices.Equal(got, []string{"first"}) {
		t.Errorf("scan jobs after a second request while the first is pending = %q", got)
	}
	if got := scanRequests(t, s, r.ID, d)[d]; got.Trigger != "continuous" {
		t.Errorf("request after its job was dropped = %+v", got)
	}

	// Once the job is done, its key is free.
	j := claim(t, s, []string{"scan"}, "worker", at(2), "first")
	if err := s.CompleteJob(ctx, j.ID, "worker", at(3)); err != nil {
		t.Fatalf("CompleteJob: %v", err)
	}
	requestScan(t, s, meta.ScanRequest{RepoID: r.ID, Digest: d, At: at(4), Trigger: "manual"}, keyed("third"))
	if got := payloads(listJobs(t, s, meta.JobQuery{Queue: "scan", State: meta.JobPending})); !slices.Equal(got, []string{"third"}) {
		t.Errorf("pending scan jobs after the first finished = %q", got)
	}

	// A job without a queue refuses the request.
	err := s.RequestScan(ctx, meta.ScanRequest{RepoID: r.ID, Digest: d, At: at(5), Trigger: "manual"},
		[]meta.NewJob{job("scan", "fourth"), {Payload: []byte("no queue")}})
	if err == nil {
		t.Error("RequestScan with a job without a queue succeeded")
	}
	if got := scanRequests(t, s, r.ID, d)[d]; !got.At.Equal(at(4)) {
		t.Errorf("request after a refused one = %+v, want the one at %v", got, at(4))
	}
	// Neither are jobs written for a missing repository.
	err = s.RequestScan(ctx, meta.ScanRequest{RepoID: r.ID + 1000, Digest: d, At: at(5), Trigger: "manual"},
		[]meta.NewJob{job("scan", "nowhere")})
	wantErr(t, "RequestScan in a missing repository", err, meta.ErrRepositoryUnknown)
	if n := len(listJobs(t, s, meta.JobQuery{})); n != 3 {
		t.Errorf("%d jobs in all, want 3", n)
	}
}

func staleImageScans(t *testing.T, s meta.Store, version int64, after string, limit int) []string {
	t.Helper()
	got, err := s.StaleImageScans(t.Context(), version, after, limit)
	if err != nil {
		t.Fatalf("StaleImageScans(%d, %q, %d): %v", version, after, limit, err)
	}
	out := make([]string, len(got))
	for i, sc := range got {
		if sc.VulnVersion >= version {
			t.Errorf("StaleImageScans(%d) gave %s at version %d", version, sc.Digest, sc.VulnVersion)
		}
		out[i] = sc.Digest
	}
	return out
}

func testStaleImageScans(t *testing.T, s meta.Store) {
	if got := staleImageScans(t, s, 10, "", 0); len(got) != 0 {
		t.Fatalf("StaleImageScans in an empty store = %q", got)
	}
	scan := func(name string, status meta.ScanStatus, version int64, completed time.Time) string {
		d := digestOf([]byte(name))
		putImageScan(t, s, &meta.ImageScan{Digest: d, Status: status, StartedAt: at(0), CompletedAt: completed,
			VulnVersion: version, Findings: []byte(name)})
		return d
	}
	v1a := scan("v1 a", meta.ScanComplete, 1, at(1))
	failed := scan("failed", meta.ScanFailed, 2, at(2))
	v1b := scan("v1 b", meta.ScanComplete, 1, at(4))
	current := scan("current", meta.ScanComplete, 3, at(0))
	scan("running", meta.ScanInProgress, 0, time.Time{})
	scan("unsupported", meta.ScanUnsupportedImage, 0, at(0))
	v2 := scan("v2", meta.ScanComplete, 2, at(3))
	sorted := func(ds ...string) []string { return slices.Sorted(slices.Values(ds)) }

	for _, tc := range []struct {
		version int64
		after   string
		limit   int
		want    []string
	}{
		{3, "", 0, sorted(v1a, failed, v1b, v2)},
		{3, "", -1, sorted(v1a, failed, v1b, v2)},
		{3, "", 3, sorted(v1a, failed, v1b, v2)[:3]},
		{2, "", 0, sorted(v1a, v1b)},
		{4, "", 0, sorted(current, v1a, failed, v1b, v2)},
		{4, "", 1, sorted(current, v1a, failed, v1b, v2)[:1]},
		{1, "", 0, nil},
		{4, sorted(current, v1a, failed, v1b, v2)[2], 0, sorted(current, v1a, failed, v1b, v2)[3:]},
		{4, "sha256:~", 0, nil},
	} {
		if got := staleImageScans(t, s, tc.version, tc.after, tc.limit); !sameStrings(got, tc.want) {
			t.Errorf("StaleImageScans(%d, %q, %d) = %q, want %q", tc.version, tc.after, tc.limit, got, tc.want)
		}
	}

	// A walk page by page sees each stale scan once.
	var walked []string
	for after := ""; ; {
		page := staleImageScans(t, s, 4, after, 2)
		walked = append(walked, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if want := sorted(current, v1a, failed, v1b, v2); !sameStrings(walked, want) {
		t.Errorf("walk of StaleImageScans(4) by twos = %q, want %q", walked, want)
	}

	// A rescan under way is not stale; once complete with the current
	// data, it is done.
	putImageScan(t, s, &meta.ImageScan{Digest: v1a, Status: meta.ScanInProgress, StartedAt: at(5), VulnVersion: 1})
	if got := staleImageScans(t, s, 3, "", 0); !sameStrings(got, sorted(failed, v1b, v2)) {
		t.Errorf("StaleImageScans(3) with one rescanning = %q", got)
	}
	putImageScan(t, s, &meta.ImageScan{Digest: v1a, Status: meta.ScanComplete, StartedAt: at(5), CompletedAt: at(6), VulnVersion: 3})
	if got := staleImageScans(t, s, 3, "", 0); !sameStrings(got, sorted(failed, v1b, v2)) {
		t.Errorf("StaleImageScans(3) after a rescan = %q", got)
	}
	if got := staleImageScans(t, s, 4, "", 0); !sameStrings(got, sorted(current, failed, v1b, v2, v1a)) {
		t.Errorf("StaleImageScans(4) after a rescan = %q", got)
	}
}

// testConcurrentScanRequests has several clients ask for a manual scan of
// one image at once, as StartImageScan retried by impatient clients does:
// the 24 hours let exactly one through, with its job.
func testConcurrentScanRequests(t *testing.T, s meta.Store) {
	const workers, rounds = 8, 5
	r := newRepo(t, s, reg1, "app")
	for round := range rounds {
		d := digestOf(fmt.Appendf(nil, "image %d", round))
		queue := fmt.Sprint("scan-", round)
		var (
			mu  sync.Mutex
			won []int
		)
		parallel(workers, func(w int) {
			req := meta.ScanRequest{RepoID: r.ID, Digest: d, At: at(w), Trigger: "manual", LimitWindow: day}
			err := s.RequestScan(t.Context(), req, []meta.NewJob{job(queue, fmt.Sprint(w))})
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, w)
				mu.Unlock()
			case !errors.Is(err, meta.ErrScanLimit):
				t.Errorf("round %d, worker %d: RequestScan: %v", round, w, err)
			}
		})
		if len(won) != 1 {
			t.Fatalf("round %d: requests taken from workers %v, want exactly one", round, won)
		}
		got := scanRequests(t, s, r.ID, d)[d]
		checkRequest(t, fmt.Sprint("round ", round), got, meta.ScanRequested{RepoID: r.ID, Digest: d, At: at(won[0]), Trigger: "manual"})
		if js := payloads(listJobs(t, s, meta.JobQuery{Queue: queue})); !slices.Equal(js, []string{fmt.Sprint(won[0])}) {
			t.Errorf("round %d: jobs %q, want only the winner's (%d)", round, js, won[0])
		}
	}
}
