package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/opencontainers/go-digest"
)

var testReg = meta.RegistryKey{Account: "000000000000", Region: "us-east-1"}

// newTestService runs the domain over the real embedded stores.
func newTestService(t *testing.T, autoCreate bool) (*Service, *fs.Store) {
	t.Helper()
	m, blobs := newTestStores(t)
	return New(m, blobs, Options{AutoCreateRepositories: autoCreate}), blobs
}

// newTestStores opens the embedded stores in a temporary directory.
func newTestStores(t *testing.T) (*sqlite.Store, *fs.Store) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.New(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sqlite.Open(dir + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, blobs
}

func readBlob(t *testing.T, s *Service, name string, d digest.Digest) []byte {
	t.Helper()
	rc, _, err := s.OpenBlob(context.Background(), testReg, name, d)
	if err != nil {
		t.Fatalf("OpenBlob(%s): %v", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChunkedUpload(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		t.Run(string(alg), func(t *testing.T) {
			s, _ := newTestService(t, true)
			data := bytes.Repeat([]byte("berth "), 50000)
			d := alg.FromBytes(data)
			u, err := s.StartUpload(ctx, testReg, "app")
			if err != nil {
				t.Fatal(err)
			}
			cut := []int{0, 1000, 100000, len(data)}
			for i := 0; i+1 < len(cut); i++ {
				got, err := s.AppendUpload(ctx, testReg, "app", u.ID, int64(cut[i]), bytes.NewReader(data[cut[i]:cut[i+1]]))
				if err != nil || got.Offset != int64(cut[i+1]) {
					t.Fatalf("AppendUpload chunk %d: %+v, %v", i, got, err)
				}
			}
			// A chunk that does not start where the upload ends is refused and
			// changes nothing.
			if _, err := s.AppendUpload(ctx, testReg, "app", u.ID, 5, strings.NewReader("x")); !errors.Is(err, ErrRangeInvalid) {
				t.Fatalf("out-of-order chunk: %v, want ErrRangeInvalid", err)
			}
			if err := s.CompleteUpload(ctx, testReg, "app", u.ID, -1, strings.NewReader(""), d); err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			if got := readBlob(t, s, "app", d); !bytes.Equal(got, data) {
				t.Fatal("blob bytes differ from what was uploaded")
			}
			if _, err := s.UploadStatus(ctx, testReg, "app", u.ID); !errors.Is(err, ErrBlobUploadUnknown) {
				t.Fatalf("completed upload still reported: %v", err)
			}
		})
	}
}

func TestDigestMismatchDiscardsUpload(t *testing.T) {
	ctx := context.Background()
	s, blobs := newTestService(t, true)
	wrong := digest.FromString("something else")
	err := s.PutBlob(ctx, testReg, "app", wrong, strings.NewReader("actual bytes"))
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrDigestInvalid) || !strings.Contains(de.Message, wrong.String()) {
		t.Fatalf("PutBlob with wrong digest: %v", err)
	}
	if _, err := blobs.Stat(ctx, wrong); err == nil {
		t.Fatal("blob stored after digest mismatch")
	}
	if ids, _ := blobs.Uploads(ctx); len(ids) != 0 {
		t.Fatalf("staging left behind: %v", ids)
	}
	// The refused push does not leave its auto-created repository behind.
	if _, err := s.Repository(ctx, testReg, "app", false); !errors.Is(err, ErrNameUnknown) {
		t.Fatalf("repository kept after refused push: %v", err)
	}
}

func TestExpireUploads(t *testing.T) {
	ctx := context.Background()
	s, blobs := newTestService(t, true)
	stale, err := s.StartUpload(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendUpload(ctx, testReg, "app", stale.ID, 0, strings.NewReader("some bytes")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.now = func() time.Time { return start.Add(2 * time.Hour) }
	fresh, err := s.StartUpload(ctx, testReg, "app")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.ExpireUploads(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("ExpireUploads = %d, %v; want 1", n, err)
	}
	if _, err := s.UploadStatus(ctx, testReg, "app", stale.ID); !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("stale upload survived: %v", err)
	}
	if _, err := s.UploadStatus(ctx, testReg, "app", fresh.ID); err != nil {
		t.Fatalf("fresh upload expired: %v", err)
	}
	if ids, _ := blobs.Uploads(ctx); len(ids) != 0 {
		// The fresh upload has no bytes yet, so it has no staging object.
		t.Fatalf("staging of the expired upload left behind: %v", ids)
	}
}

func TestPushToMissingRepository(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService(t, false)
	_, err := s.StartUpload(ctx, testReg, "team/app")
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrNameUnknown) ||
		de.Message != "The repository with name 'team/app' does not exist in the registry with id '000000000000'" {
		t.Fatalf("StartUpload on a missing repository: %v", err)
	}
}
