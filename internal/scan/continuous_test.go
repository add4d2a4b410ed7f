package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/vulndb"
)

// holdings is a Registry that knows which repositories hold which digests.
type holdings map[string]bool // "repository@digest"

func (h holdings) GetManifest(_ context.Context, _ meta.RegistryKey, name, ref string) (*meta.Manifest, error) {
	if !h[name+"@"+ref] {
		return nil, registry.ErrManifestUnknown
	}
	return &meta.Manifest{Digest: ref}, nil
}

func (holdings) Repository(context.Context, meta.RegistryKey, string, bool) (*meta.Repository, error) {
	return nil, errors.New("not used")
}

func (holdings) DescribeRepository(context.Context, meta.RegistryKey, string) (*registry.RepositoryInfo, error) {
	return nil, errors.New("not used")
}

func (holdings) Image(context.Context, meta.RegistryKey, string, registry.ImageID) (*meta.Repository, *meta.Manifest, error) {
	return nil, nil, errors.New("not used")
}

// TestContinuousWalk walks more stale scans than a page holds, on the
// embedded store: every image a continuously scanned repository holds gets
// one rescan job, whatever the scans of other repositories around it, and
// the images deleted since get none.
func TestContinuousWalk(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := meta.RegistryKey{Account: "000000000000", Region: "us-east-1"}
	repos := map[string]*meta.Repository{}
	for _, name := range []string{"live/app", "pushed/app"} {
		r := &meta.Repository{Registry: reg, Name: name, CreatedAt: time.Now().UTC(), TagMutability: "MUTABLE"}
		if err := store.CreateRepository(ctx, r); err != nil {
			t.Fatal(err)
		}
		repos[name] = r
	}
	cfg := `{"scanType":"BASIC","rules":[{"scanFrequency":"CONTINUOUS_SCAN","repositoryFilters":[{"filter":"live/*","filterType":"WILDCARD"}]}]}`
	if err := store.PutRegistrySetting(ctx, reg, registryConfigSetting, cfg); err != nil {
		t.Fatal(err)
	}
	// 2.5 pages of stale scans: a third in live/app, the rest in
	// pushed/app (most of the first page, so that a walk taking the first
	// few only would find little); some of live/app's deleted since.
	held := holdings{}
	want := map[string]bool{}
	now := time.Now().UTC()
	for i := range rescanPage*5/2 + 1 {
		d := fmt.Sprintf("sha256:%064x", i)
		name := "pushed/app"
		if i%3 == 0 && i > rescanPage/2 {
			name = "live/app"
		}
		deleted := i%7 == 0
		if !deleted {
			held[name+"@"+d] = true
		}
		if name == "live/app" && !deleted {
			want[d] = true
		}
		if err := store.RequestScan(ctx, meta.ScanRequest{RepoID: repos[name].ID, Digest: d, At: now, Trigger: "push"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := store.PutImageScan(ctx, &meta.ImageScan{Digest: d, Status: meta.ScanComplete, StartedAt: now, CompletedAt: now, VulnVersion: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	s := New(store, held, nil, vulndb.New(store, vulndb.Options{}), Options{Logger: slog.New(slog.DiscardHandler)})

	// Two nodes see version 2 at once: one walk.
	for range 2 {
		if err := s.askRescans(ctx, 2); err != nil {
			t.Fatal(err)
		}
	}
	walks := 0
	for {
		j, err := store.ClaimJob(ctx, []string{QueueRescans}, "test", time.Now(), time.Minute)
		if errors.Is(err, meta.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.runRescanJob(ctx, j); err != nil {
			t.Fatalf("walk page %d: %v", walks, err)
		}
		if err := store.CompleteJob(ctx, j.ID, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		walks++
	}
	if walks != 3 {
		t.Errorf("%d walk jobs ran, want 3 pages", walks)
	}
	scans, err := store.ListJobs(ctx, meta.JobQuery{Queue: QueueScan})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, j := range scans {
		var p scanJob
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Trigger != "continuous" || p.Repository != "live/app" || p.Account != reg.Account || j.Key != p.Digest || got[p.Digest] {
			t.Errorf("rescan job %+v (key %s)", p, j.Key)
		}
		got[p.Digest] = true
	}
	if len(got) != len(want) {
		t.Errorf("%d rescans, want %d", len(got), len(want))
	}
	for d := range want {
		if !got[d] {
			t.Errorf("no rescan of %s", d)
		}
	}
}

func TestUpToDate(t *testing.T) {
	for _, tc := range []struct {
		status  meta.ScanStatus
		version int64
		trigger string
		want    bool
	}{
		{meta.ScanComplete, 3, "push", true},
		{meta.ScanComplete, 3, "continuous", true},
		{meta.ScanComplete, 2, "push", false},
		{meta.ScanComplete, 2, "continuous", false},
		{meta.ScanFailed, 3, "push", false}, // a new push tries again
		{meta.ScanFailed, 3, "continuous", true},
		{meta.ScanFailed, 2, "continuous", false},
		{meta.ScanUnsupportedImage, 3, "continuous", true},
		{meta.ScanInProgress, 3, "continuous", false},
	} {
		if got := upToDate(&meta.ImageScan{Status: tc.status, VulnVersion: tc.version}, tc.trigger, 3); got != tc.want {
			t.Errorf("upToDate(%s at %d, %s) = %v, want %v", tc.status, tc.version, tc.trigger, got, tc.want)
		}
	}
}
