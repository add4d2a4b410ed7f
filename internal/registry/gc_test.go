package registry

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/metrics"
)

const testGrace = time.Hour

// newGCService runs the domain over the real embedded stores, with a clock
// the test moves: link stamps come from the database's clock (now), so the
// test ages them by moving the service's clock past the grace period.
func newGCService(t *testing.T) (*Service, *testClock, string, *metrics.Registry) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sqlite.Open(filepath.Join(dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	reg := metrics.New()
	s := New(m, blobs, Options{AutoCreateRepositories: true, Metrics: reg, Logger: slog.New(slog.DiscardHandler)})
	clk := &testClock{t: time.Now()}
	s.now = clk.now
	return s, clk, filepath.Join(dir, "blobs", "blobs"), reg
}

// storeFiles lists the digests of the files in the blob store.
func storeFiles(t *testing.T, root string) []string {
	t.Helper()
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

func sortedStrings(ss ...string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

func collect(t *testing.T, s *Service) *GCReport {
	t.Helper()
	rep, err := s.CollectGarbage(context.Background(), testGrace)
	if err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	if rep.Busy {
		t.Fatal("CollectGarbage found the lease taken")
	}
	return rep
}

// configDigest is the config blob every imageManifest shares.
var configDigest = digest.FromBytes([]byte(`{"os":"linux","architecture":"amd64"}`)).String()

func layerDigest(seed string) string { return digest.FromBytes([]byte("layer of " + seed)).String() }

func TestGCRemovesWhatNothingReferences(t *testing.T) {
	ctx := context.Background()
	s, clk, root, reg := newGCService(t)
	start := clk.now()
	keep := pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "keep", ""), "keep")
	gone := pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "gone", ""), "gone")
	loose := pushBlob(t, s, "app", []byte("a layer whose manifest never came")).String()
	// The same layer in another repository, which references it.
	pushManifest(t, s, "other", MediaTypeOCIManifest, imageManifest(t, s, "other", "gone", ""), "mine")
	if _, _, err := s.BatchDeleteImage(ctx, testReg, "app", []ImageID{{Digest: gone}}); err != nil {
		t.Fatal(err)
	}
	all := sortedStrings(configDigest, layerDigest("keep"), layerDigest("gone"), loose)

	// Within the grace period nothing goes.
	rep := collect(t, s)
	if rep.LinksRemoved+rep.BlobsDeleted+rep.OrphansDeleted != 0 || !slices.Equal(storeFiles(t, root), all) {
		t.Fatalf("collection within the grace period removed things: %+v", rep)
	}
	if rep.StoreBlobs != 4 {
		t.Errorf("StoreBlobs = %d, want 4", rep.StoreBlobs)
	}

	clk.set(start.Add(testGrace + time.Minute))
	rep = collect(t, s)
	// app's links to gone's layer and to the loose blob go; the loose blob
	// goes, gone's layer stays for other.
	if rep.LinksRemoved != 2 || rep.BlobsDeleted != 1 || rep.OrphansDeleted != 0 {
		t.Errorf("report %+v: want 2 links removed, 1 blob deleted", rep)
	}
	if got, want := storeFiles(t, root), sortedStrings(configDigest, layerDigest("keep"), layerDigest("gone")); !slices.Equal(got, want) {
		t.Errorf("blob store holds %q, want %q", got, want)
	}
	for _, d := range []string{configDigest, layerDigest("keep")} {
		if _, err := s.StatBlob(ctx, testReg, "app", digest.Digest(d)); err != nil {
			t.Errorf("referenced blob %s: %v", d, err)
		}
	}
	for _, d := range []string{loose, layerDigest("gone")} {
		if _, err := s.StatBlob(ctx, testReg, "app", digest.Digest(d)); !errors.Is(err, ErrBlobUnknown) {
			t.Errorf("unreferenced blob %s still linked: %v", d, err)
		}
	}
	readBlob(t, s, "other", digest.Digest(layerDigest("gone")))
	if _, err := s.GetManifest(ctx, testReg, "app", keep); err != nil {
		t.Error(err)
	}

	// The report and the metrics.
	var b strings.Builder
	reg.WriteText(&b)
	for _, line := range []string{
		`berth_gc_referenced_bytes{registry="000000000000",region="us-east-1",repository="app"} `,
		`berth_gc_reclaimed_bytes_total{registry="000000000000",region="us-east-1",repository="app"} `,
		`berth_gc_deleted_blobs_total{kind="unreferenced"} 1`,
		`berth_gc_blob_store_blobs 3`,
		`berth_gc_runs_total{result="ok"} 2`,
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("metrics lack %q:\n%s", line, b.String())
		}
	}
	if rep.ReferencedBytes() == 0 || rep.ReclaimableBytes() != 0 {
		t.Errorf("referenced %d, reclaimable %d", rep.ReferencedBytes(), rep.ReclaimableBytes())
	}

	// Once the last image goes, and the grace period after it, so do its
	// blobs. (Back to real time: deleting the image stamps its links.)
	clk.set(time.Now())
	if _, _, err := s.BatchDeleteImage(ctx, testReg, "other", []ImageID{{Tag: "mine"}}); err != nil {
		t.Fatal(err)
	}
	collect(t, s)
	if got, want := storeFiles(t, root), sortedStrings(configDigest, layerDigest("keep"), layerDigest("gone")); !slices.Equal(got, want) {
		t.Errorf("blobs went before the grace period: %q", got)
	}
	clk.set(clk.now().Add(testGrace + time.Minute))
	collect(t, s)
	if got, want := storeFiles(t, root), sortedStrings(configDigest, layerDigest("keep")); !slices.Equal(got, want) {
		t.Errorf("blob store holds %q, want %q", got, want)
	}
}

// TestGCOrphanFiles removes blob files without a metadata record once they
// are older than the grace period.
func TestGCOrphanFiles(t *testing.T) {
	ctx := context.Background()
	s, _, root, _ := newGCService(t)
	commit := func(data string) digest.Digest {
		d := digest.FromString(data)
		if _, err := s.blobs.Append(ctx, "orphan", 0, strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := s.blobs.Commit(ctx, "orphan", int64(len(data)), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A recorded blob, as old as the orphans, stays.
	kept := pushBlob(t, s, "app", []byte("recorded and linked"))
	pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "keeps", ""), "v1")
	past := time.Now().Add(-2 * testGrace)
	age := func(d digest.Digest) {
		enc := d.Encoded()
		if err := os.Chtimes(filepath.Join(root, "sha256", enc[:2], enc), past, past); err != nil {
			t.Fatal(err)
		}
	}
	age(kept)
	age(commit("left behind by a crash long ago"))
	age(commit("and by another"))
	young := commit("left behind a moment ago, or about to be recorded")
	before := storeFiles(t, root)
	rep := collect(t, s)
	if rep.OrphansDeleted != 2 || rep.OrphanBytesDeleted != int64(len("left behind by a crash long ago")+len("and by another")) {
		t.Errorf("report %+v: want the two old orphans deleted", rep)
	}
	want := slices.DeleteFunc(before, func(d string) bool {
		return d == digest.FromString("left behind by a crash long ago").String() || d == digest.FromString("and by another").String()
	})
	if got := storeFiles(t, root); !slices.Equal(got, want) || !slices.Contains(got, young.String()) || !slices.Contains(got, kept.String()) {
		t.Errorf("blob store holds %q, want %q", got, want)
	}
	if rep.StoreBlobs != len(want) {
		t.Errorf("StoreBlobs = %d, want %d", rep.StoreBlobs, len(want))
	}
}

// TestGCLeavesUploadsInFlight: staged bytes are never touched, and a blob
// linked by an upload but not yet by a manifest keeps its grace period.
func TestGCLeavesUploadsInFlight(t *testing.T) {
	ctx := context.Background()
	s, clk, root, _ := newGCService(t)
	data := []byte("a layer on its way")
	d := digest.FromBytes(data)
	up, err := s.StartUpload(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendUpload(ctx, testReg, "app", up.ID, 0, strings.NewReader(string(data[:5]))); err != nil {
		t.Fatal(err)
	}
	clk.set(clk.now().Add(10 * testGrace))
	collect(t, s)
	if err := s.CompleteUpload(ctx, testReg, "app", up.ID, 5, strings.NewReader(string(data[5:])), d); err != nil {
		t.Fatalf("CompleteUpload after a collection: %v", err)
	}
	// The link is stamped now, by the database's clock: within the grace
	// period of the service's real time.
	clk.set(time.Now())
	collect(t, s)
	if got := readBlob(t, s, "app", d); string(got) != string(data) {
		t.Fatal("uploaded blob lost")
	}
	if got := storeFiles(t, root); !slices.Equal(got, []string{d.String()}) {
		t.Errorf("blob store holds %q", got)
	}
}

// TestGCUploadWaitsForDeletion: an upload of a blob whose old bytes the
// collector is deleting waits for the deletion, then commits its bytes
// anew; a commit onto the old bytes would have been lost with them.
func TestGCUploadWaitsForDeletion(t *testing.T) {
	ctx := context.Background()
	s, _, root, _ := newGCService(t)
	data := "bytes pushed twice"
	d := pushBlob(t, s, "app", []byte(data))
	if err := s.DeleteBlob(ctx, testReg, "app", d); err != nil {
		t.Fatal(err)
	}
	// The collector claims the digest and is slow to delete the bytes.
	if ok, err := s.meta.ClaimBlobDeletion(ctx, d.String(), time.Now()); !ok || err != nil {
		t.Fatalf("ClaimBlobDeletion = %v, %v", ok, err)
	}
	// A mount that found the blob in its source just before cannot link it.
	other := pushBlob(t, s, "src", []byte("something"))
	real := s.meta
	s.meta = &staleSourceStore{Store: real, srcID: repoID(t, s, "src"), blob: meta.Blob{Digest: d.String(), Size: int64(len(data))}}
	if ok, err := s.MountBlob(ctx, testReg, "app", d, "src"); ok || err != nil {
		t.Errorf("MountBlob of a blob being deleted = %v, %v", ok, err)
	}
	s.meta = real
	done := make(chan error, 1)
	go func() { done <- s.PutBlob(ctx, testReg, "app", d, strings.NewReader(data)) }()
	select {
	case err := <-done:
		t.Fatalf("the upload completed during the deletion: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := s.deleteClaimed(ctx, d.String()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("PutBlob after the deletion: %v", err)
	}
	if got := readBlob(t, s, "app", d); string(got) != data {
		t.Fatalf("blob reads %q", got)
	}
	if got := storeFiles(t, root); !slices.Equal(got, sortedStrings(d.String(), other.String())) {
		t.Errorf("blob store holds %q", got)
	}
}

// staleSourceStore answers that the source repository of a mount still
// links a blob, as it did a moment before.
type staleSourceStore struct {
	Store
	srcID int64
	blob  meta.Blob
}

func (s *staleSourceStore) GetBlob(ctx context.Context, repoID int64, d string) (meta.Blob, error) {
	if repoID == s.srcID && d == s.blob.Digest {
		return s.blob, nil
	}
	return s.Store.GetBlob(ctx, repoID, d)
}

// TestGCFinishesAbandonedDeletions: a deletion claimed by a collector that
// stopped is finished by the next run.
func TestGCFinishesAbandonedDeletions(t *testing.T) {
	ctx := context.Background()
	s, _, root, _ := newGCService(t)
	d := pushBlob(t, s, "app", []byte("claimed, never deleted"))
	if err := s.DeleteBlob(ctx, testReg, "app", d); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.meta.ClaimBlobDeletion(ctx, d.String(), time.Now().Add(-time.Hour)); !ok || err != nil {
		t.Fatalf("ClaimBlobDeletion = %v, %v", ok, err)
	}
	collect(t, s)
	if got := storeFiles(t, root); len(got) != 0 {
		t.Errorf("blob store holds %q", got)
	}
	if pending, _ := s.meta.PendingBlobDeletions(ctx, time.Now().Add(time.Hour)); len(pending) != 0 {
		t.Errorf("deletions still pending: %q", pending)
	}
	// The bytes can be pushed again.
	pushBlob(t, s, "app", []byte("claimed, never deleted"))
	readBlob(t, s, "app", d)
}

// TestGCLease: while another node collects, a run here does nothing.
func TestGCLease(t *testing.T) {
	ctx := context.Background()
	s, clk, _, _ := newGCService(t)
	if ok, err := s.meta.AcquireLease(ctx, gcLease, "another-node", clk.now(), time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	rep, err := s.CollectGarbage(ctx, testGrace)
	if err != nil || !rep.Busy {
		t.Fatalf("CollectGarbage under another node's lease = %+v, %v", rep, err)
	}
	clk.set(clk.now().Add(2 * time.Minute))
	collect(t, s)
}

// TestGCWithLifecycle expires images with a policy, then collects: the
// blob store ends up holding exactly what the remaining images reference.
func TestGCWithLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clk, root, _ := newGCService(t)
	var left []string
	for i := range 5 {
		seed := "v" + string(rune('0'+i))
		pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", seed, ""), seed)
		if i >= 3 {
			left = append(left, layerDigest(seed))
		}
		clk.set(clk.now().Add(time.Second))
	}
	if _, err := s.PutLifecyclePolicy(ctx, testReg, "app", `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunLifecyclePolicy(ctx, testReg, "app")
	if err != nil || len(run.Expired) != 3 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	clk.set(time.Now().Add(testGrace + time.Minute))
	collect(t, s)
	if got, want := storeFiles(t, root), sortedStrings(append(left, configDigest)...); !slices.Equal(got, want) {
		t.Errorf("blob store holds %q, want %q", got, want)
	}
	for _, seed := range []string{"v3", "v4"} {
		_, err := s.GetManifest(ctx, testReg, "app", seed)
		if err != nil {
			t.Fatal(err)
		}
		readBlob(t, s, "app", digest.Digest(layerDigest(seed)))
	}
}
