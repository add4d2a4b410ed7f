package registry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/repocache"
)

// TestImmutabilityAcrossNodes: a node whose repository cache still says
// MUTABLE cannot move a tag that another node has just made immutable —
// the store refuses a push decided on a stale reading, and the push is
// decided again on a fresh one.
func TestImmutabilityAcrossNodes(t *testing.T) {
	ctx := context.Background()
	base, blobs := newTestService(t, false)
	store := base.meta.(meta.Store)
	a := New(repocache.New(store, time.Hour), blobs, Options{})
	b := New(repocache.New(store, time.Hour), blobs, Options{})

	if _, err := a.CreateRepositoryWith(ctx, testReg, RepositorySpec{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	first := pushTestImage(t, a, "app", "one", "v1") // a reads, and caches, app
	if _, err := b.SetTagMutability(ctx, testReg, "app", TagImmutable, nil); err != nil {
		t.Fatal(err)
	}
	config := digest.FromBytes([]byte(`{"os":"linux"}`)) // pushTestImage's
	other := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":14},"layers":[]}`,
		MediaTypeOCIManifest, config)
	if _, err := a.PutManifest(ctx, testReg, "app", "v1", MediaTypeOCIManifest, other, nil); !errors.Is(err, ErrTagImmutable) {
		t.Fatalf("moving v1 through the node with a stale cache: %v, want ErrTagImmutable", err)
	}
	if ms, err := b.DescribeImagesByID(ctx, testReg, "app", []ImageID{{Tag: "v1"}}); err != nil || len(ms) != 1 || ms[0].Digest != first {
		t.Fatalf("v1 moved: %+v, %v", ms, err)
	}
	// A new tag still goes through the stale node, decided afresh.
	if _, err := a.PutManifest(ctx, testReg, "app", "v2", MediaTypeOCIManifest, other, nil); err != nil {
		t.Fatalf("a new tag through the node with a stale cache: %v", err)
	}
}
