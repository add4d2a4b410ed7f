package fs

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
)

func TestModTime(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	d := digest.FromString("bytes")
	if _, err := s.ModTime(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("ModTime(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Append(ctx, "u", 0, strings.NewReader("bytes")); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "u", 5, d); err != nil {
		t.Fatal(err)
	}
	mt, err := s.ModTime(ctx, d)
	if err != nil || time.Since(mt) > time.Minute || time.Until(mt) > time.Minute {
		t.Fatalf("ModTime = %v, %v; want about now", mt, err)
	}
	old := time.Now().Add(-48 * time.Hour)
	p, _ := s.blobPath(d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if mt, err := s.ModTime(ctx, d); err != nil || !mt.Equal(old) {
		t.Fatalf("ModTime after Chtimes = %v, %v; want %v", mt, err, old)
	}
	if _, err := s.ModTime(ctx, digest.Digest("sha256:nothex")); err == nil {
		t.Fatal("ModTime accepted an invalid digest")
	}
}
