package scan

import (
	"context"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

// TestImageStatuses: what a repository shows of an image's scan, from its
// request and the digest's scan, on the embedded store.
func TestImageStatuses(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	repo := &meta.Repository{Registry: meta.RegistryKey{Account: "000000000000", Region: "us-east-1"}, Name: "app",
		CreatedAt: time.Now().UTC(), TagMutability: "MUTABLE"}
	if err := store.CreateRepository(ctx, repo); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	s := &Service{store: store}
	const (
		none      = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
		pending   = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		done      = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		again     = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
		pushShare = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	)
	request := func(d, trigger string, at time.Time) {
		t.Helper()
		if err := store.RequestScan(ctx, meta.ScanRequest{RepoID: repo.ID, Digest: d, At: at, Trigger: trigger}, nil); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(d string, started, ended time.Time) {
		t.Helper()
		if err := store.PutImageScan(ctx, &meta.ImageScan{Digest: d, Status: meta.ScanComplete, StartedAt: started, CompletedAt: ended,
			SeverityCounts: map[string]int{"HIGH": 2}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	request(pending, "push", now)
	request(done, "push", now.Add(-time.Minute))
	complete(done, now.Add(-time.Minute), now.Add(-50*time.Second))
	// Scanned a while ago, asked for again by hand: in progress until the
	// new scan ends.
	complete(again, now.Add(-2*time.Hour), now.Add(-2*time.Hour))
	request(again, "manual", now)
	// Scanned for another repository; pushed here later: that scan shows.
	complete(pushShare, now.Add(-time.Hour), now.Add(-time.Hour))
	request(pushShare, "push", now)

	got, err := s.ImageStatuses(ctx, repo.ID, []string{none, pending, done, again, pushShare})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]meta.ScanStatus{pending: meta.ScanInProgress, done: meta.ScanComplete, again: meta.ScanInProgress, pushShare: meta.ScanComplete}
	if _, ok := got[none]; ok {
		t.Errorf("an image with no request has a status: %v", got[none])
	}
	for d, st := range want {
		if got[d].Status != st {
			t.Errorf("%s…: %v, want %s", d[:12], got[d], st)
		}
	}
	if sum := got[done].Summary; sum == nil || sum.SeverityCounts["HIGH"] != 2 {
		t.Errorf("summary of a completed scan: %+v", sum)
	}
	if got[again].Summary != nil {
		t.Errorf("a scan asked for again shows the old summary: %+v", got[again].Summary)
	}

	// Once the new scan ends, it shows.
	complete(again, now.Add(time.Second), now.Add(2*time.Second))
	got, err = s.ImageStatuses(ctx, repo.ID, []string{again})
	if err != nil || got[again].Status != meta.ScanComplete {
		t.Errorf("after the rescan: %v, %v", got[again], err)
	}
}
