package registry

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

// batchingStore deletes through DeleteBlobs, noting each batch, and
// refuses single deletes so that a collection that forgets to batch fails.
type batchingStore struct {
	blob.Store
	mu      sync.Mutex
	batches [][]digest.Digest
	singles int
}

func (b *batchingStore) DeleteBlobs(ctx context.Context, ds []digest.Digest) error {
	b.mu.Lock()
	b.batches = append(b.batches, slices.Clone(ds))
	b.mu.Unlock()
	for _, d := range ds {
		if err := b.Store.Delete(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchingStore) Delete(ctx context.Context, d digest.Digest) error {
	b.mu.Lock()
	b.singles++
	b.mu.Unlock()
	return b.Store.Delete(ctx, d)
}

// TestGCDeletesInBatches: with a store that deletes many blobs in one
// request, a collection deletes a page of unreferenced blobs as one batch,
// and only them.
func TestGCDeletesInBatches(t *testing.T) {
	ctx := context.Background()
	s, clk, root, _ := newGCService(t)
	bs := &batchingStore{Store: s.blobs}
	s.blobs = bs
	start := clk.now()
	keep := pushManifest(t, s, "app", MediaTypeOCIManifest, imageManifest(t, s, "app", "keep", ""), "keep")
	var loose []string
	for i := range 5 {
		loose = append(loose, pushBlob(t, s, "app", []byte{'l', byte(i)}).String())
	}
	clk.set(start.Add(testGrace + time.Minute))
	rep := collect(t, s)
	if rep.BlobsDeleted != 5 {
		t.Fatalf("report %+v: want 5 blobs deleted", rep)
	}
	if len(bs.batches) != 1 || len(bs.batches[0]) != 5 || bs.singles != 0 {
		t.Fatalf("deleted in batches %v and %d single deletes; want one batch of 5", bs.batches, bs.singles)
	}
	got := make([]string, len(bs.batches[0]))
	for i, d := range bs.batches[0] {
		got[i] = d.String()
	}
	if slices.Sort(got); !slices.Equal(got, sortedStrings(loose...)) {
		t.Errorf("the batch held %q, want %q", got, sortedStrings(loose...))
	}
	if files := storeFiles(t, root); !slices.Equal(files, sortedStrings(configDigest, layerDigest("keep"))) {
		t.Errorf("the store holds %q", files)
	}
	if m, err := s.GetManifest(ctx, testReg, "app", "keep"); err != nil || m.Digest != keep {
		t.Errorf("the kept image: %v", err)
	}
}
