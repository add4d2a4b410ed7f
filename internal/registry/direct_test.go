package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/fs"
)

// verifiedFS is the filesystem store with blob.VerifiedPutter, built from
// its own staging: it lets the domain's direct path run over real stores
// and counts its calls.
type verifiedFS struct {
	*fs.Store
	puts int
}

func (v *verifiedFS) PutVerified(ctx context.Context, d digest.Digest, r io.Reader, verify func() error) (int64, error) {
	v.puts++
	id := "direct-" + d.Encoded()[:16]
	n, err := v.Append(ctx, id, 0, r)
	if err == nil {
		err = verify()
	}
	if err == nil {
		err = v.Commit(ctx, id, n, d)
	}
	if err != nil {
		v.Abort(ctx, id)
	}
	return n, err
}

var _ blob.VerifiedPutter = (*verifiedFS)(nil)

func newDirectService(t *testing.T, opts Options) (*Service, *verifiedFS) {
	t.Helper()
	m, fsStore := newTestStores(t)
	v := &verifiedFS{Store: fsStore}
	opts.AutoCreateRepositories = true
	return New(m, v, opts), v
}

// TestDirectPut: a blob whose bytes all come with the request naming its
// digest goes straight to a store that can verify-and-put; a chunked push,
// a bad digest and an oversized body behave as on the staging path.
func TestDirectPut(t *testing.T) {
	ctx := context.Background()
	data := []byte(strings.Repeat("direct ", 1000))
	d := digest.FromBytes(data)

	t.Run("POST then PUT with the body", func(t *testing.T) {
		s, v := newDirectService(t, Options{})
		u, err := s.StartUpload(ctx, testReg, "app")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteUpload(ctx, testReg, "app", u.ID, -1, bytes.NewReader(data), d); err != nil {
			t.Fatal(err)
		}
		if v.puts != 1 {
			t.Errorf("PutVerified called %d times, want once", v.puts)
		}
		if got := readBlob(t, s, "app", d); !bytes.Equal(got, data) {
			t.Error("blob differs")
		}
		if _, err := s.UploadStatus(ctx, testReg, "app", u.ID); !errors.Is(err, ErrBlobUploadUnknown) {
			t.Errorf("session after completion: %v, want unknown", err)
		}
	})
	t.Run("POST with the digest", func(t *testing.T) {
		s, v := newDirectService(t, Options{})
		if err := s.PutBlob(ctx, testReg, "app", d, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if v.puts != 1 || !bytes.Equal(readBlob(t, s, "app", d), data) {
			t.Errorf("PutVerified called %d times, or the blob differs", v.puts)
		}
	})
	t.Run("chunked push stages", func(t *testing.T) {
		s, v := newDirectService(t, Options{})
		u, err := s.StartUpload(ctx, testReg, "app")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendUpload(ctx, testReg, "app", u.ID, 0, bytes.NewReader(data[:100])); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteUpload(ctx, testReg, "app", u.ID, 100, bytes.NewReader(data[100:]), d); err != nil {
			t.Fatal(err)
		}
		if v.puts != 0 || !bytes.Equal(readBlob(t, s, "app", d), data) {
			t.Errorf("PutVerified called %d times for a chunked push, or the blob differs", v.puts)
		}
	})
	t.Run("wrong digest", func(t *testing.T) {
		s, _ := newDirectService(t, Options{})
		u, err := s.StartUpload(ctx, testReg, "app")
		if err != nil {
			t.Fatal(err)
		}
		wrong := digest.FromString("something else")
		err = s.CompleteUpload(ctx, testReg, "app", u.ID, -1, bytes.NewReader(data), wrong)
		if !errors.Is(err, ErrDigestInvalid) {
			t.Fatalf("CompleteUpload with a wrong digest: %v, want digest invalid", err)
		}
		if _, err := s.UploadStatus(ctx, testReg, "app", u.ID); !errors.Is(err, ErrBlobUploadUnknown) {
			t.Errorf("session after a wrong digest: %v, want it discarded", err)
		}
		if _, _, err := s.OpenBlob(ctx, testReg, "app", wrong); err == nil {
			t.Error("a blob is at the wrong digest")
		}
	})
	t.Run("too large", func(t *testing.T) {
		s, _ := newDirectService(t, Options{MaxBlobSize: 100})
		err := s.PutBlob(ctx, testReg, "app", d, bytes.NewReader(data))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("PutBlob of %d bytes over a 100-byte limit: %v, want too large", len(data), err)
		}
		if _, _, err := s.OpenBlob(ctx, testReg, "app", d); err == nil {
			t.Error("the oversized blob is visible")
		}
	})
}
