package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

// redirecting is a blob store that can hand out URLs of its blobs.
type redirecting struct {
	blob.Store
}

func (redirecting) RedirectURL(_ context.Context, d digest.Digest, ttl time.Duration) (string, error) {
	return "https://store.example/" + d.Encoded() + "?ttl=" + ttl.String(), nil
}

func TestBlobRedirect(t *testing.T) {
	ctx := context.Background()
	base, blobs := newTestService(t, true)
	d := pushBlob(t, base, "app", []byte("layer"))

	for _, tc := range []struct {
		name     string
		store    blob.Store
		redirect bool
		want     bool
	}{
		{"a store that can, asked to", redirecting{blobs}, true, true},
		{"a store that can, not asked to", redirecting{blobs}, false, false},
		{"a store that cannot", blobs, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(base.meta, tc.store, Options{RedirectBlobs: tc.redirect})
			url, ok, err := s.BlobRedirect(ctx, testReg, "app", d)
			if err != nil || ok != tc.want || (ok && url != "https://store.example/"+d.Encoded()+"?ttl="+blobRedirectTTL.String()) {
				t.Fatalf("BlobRedirect = %q, %v, %v; want ok=%v", url, ok, err, tc.want)
			}
			// Knowing a digest is never enough: another repository's blob is
			// not redirected to.
			if _, ok, err := s.BlobRedirect(ctx, testReg, "elsewhere", d); tc.want && (ok || !errors.Is(err, ErrNameUnknown)) {
				t.Errorf("a repository that does not exist: %v, %v", ok, err)
			}
			if _, ok, err := s.BlobRedirect(ctx, testReg, "app", digest.FromString("never pushed")); tc.want && (ok || !errors.Is(err, ErrBlobUnknown)) {
				t.Errorf("a blob the repository does not hold: %v, %v", ok, err)
			}
		})
	}
}
