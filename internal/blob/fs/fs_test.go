package fs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/blobtest"
	"github.com/berth-registry/berth/internal/blob/fs"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, t.TempDir()) })
}

func TestConformancePageCacheOnly(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := fs.NewPageCacheOnly(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two stores on one directory are what two processes would open.
func TestTwoHandles(t *testing.T) {
	blobtest.RunTwoHandles(t, func(t *testing.T) (blob.Store, blob.Store) {
		root := t.TempDir()
		return newStore(t, root), newStore(t, root)
	})
}

func newStore(t testing.TB, root string) *fs.Store {
	t.Helper()
	s, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newStore(t, root)
	if _, err := s.Append(ctx, "up1", 0, strings.NewReader("layer")); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(root, "uploads", "up1")
	if _, err := os.Stat(staging); err != nil {
		t.Errorf("staging file: %v", err)
	}
	d := digest.FromString("layer")
	if err := s.Commit(ctx, "up1", 5, d); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(root, "blobs", "sha256", d.Encoded()[:2], d.Encoded())
	if b, err := os.ReadFile(final); err != nil || string(b) != "layer" {
		t.Errorf("blob file: got (%q, %v), want \"layer\"", b, err)
	}
	if _, err := os.Stat(staging); !os.IsNotExist(err) {
		t.Errorf("staging file after Commit: got %v, want not exist", err)
	}

	// Reopening the root finds the blob.
	if size, err := newStore(t, root).Stat(ctx, d); err != nil || size != 5 {
		t.Errorf("Stat after reopen: got (%d, %v), want 5", size, err)
	}
}

func TestOpenReturnsFile(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, t.TempDir())
	if _, err := s.Append(ctx, "u", 0, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("x")
	if err := s.Commit(ctx, "u", 1, d); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(*os.File); !ok {
		t.Errorf("Open returned %T, want *os.File for sendfile", rc)
	}
}

// A crash mid-write leaves a staging file longer than the session's offset.
func TestTornStagingFile(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newStore(t, root)
	if _, err := s.Append(ctx, "torn", 0, strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(root, "uploads", "torn"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\x00\x00garbage")
	f.Close()

	// After a restart the session resumes at the offset it recorded.
	s = newStore(t, root)
	if ids, err := s.Uploads(ctx); err != nil || !slices.Equal(ids, []string{"torn"}) {
		t.Fatalf("Uploads: got (%q, %v)", ids, err)
	}
	if _, err := s.Append(ctx, "torn", 5, strings.NewReader(" world")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("hello world")
	if err := s.Commit(ctx, "torn", 11, d); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "hello world" {
		t.Errorf("blob: got %q", b)
	}
}

func TestInvalidIDs(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	s := newStore(t, root)
	for _, id := range []string{
		"", ".", "..", "../escape", "../../escape", "a/b", `a\b`, "/abs", "a b",
		"a.b", "a\x00b", "ü", strings.Repeat("a", 129),
	} {
		if _, err := s.Append(ctx, id, 0, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "invalid upload id") {
			t.Errorf("Append(%q): got %v, want invalid upload id", id, err)
		}
		if rc, err := s.OpenUpload(ctx, id, 0); err == nil {
			rc.Close()
			t.Errorf("OpenUpload(%q): got nil error", id)
		}
		if err := s.Commit(ctx, id, 0, digest.FromString("")); err == nil {
			t.Errorf("Commit(%q): got nil error", id)
		}
		if err := s.Abort(ctx, id); err == nil {
			t.Errorf("Abort(%q): got nil error", id)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 1 {
		t.Errorf("files created next to the root: %v", entries)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "uploads")); len(entries) != 0 {
		t.Errorf("files created in uploads/: %v", entries)
	}

	longest := strings.Repeat("aZ09-_", 21) + "xy" // 128 characters
	if _, err := s.Append(ctx, longest, 0, strings.NewReader("x")); err != nil {
		t.Errorf("Append with a 128-character id: %v", err)
	}
}

func TestWalkAndUploadsSkipJunk(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newStore(t, root)
	if _, err := s.Append(ctx, "real", 0, strings.NewReader("real")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("real")
	if err := s.Commit(ctx, "real", 4, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "pending", 0, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}

	other := digest.FromString("other").Encoded()
	junkFiles := []string{
		"blobs/README",
		"blobs/sha256/README",
		"blobs/sha256/" + other,                         // missing prefix dir
		"blobs/sha256/" + d.Encoded()[:2] + "/" + other, // wrong prefix dir
		"blobs/sha256/" + d.Encoded()[:2] + "/not-a-digest",
		"blobs/sha256/" + d.Encoded()[:2] + "/" + strings.ToUpper(d.Encoded()),
		"blobs/sha256/abc/" + "abc" + other[3:],
		"blobs/md5/d4/d41d8cd98f00b204e9800998ecf8427e",
		"uploads/.hidden",
		"uploads/with.dot",
	}
	for _, name := range junkFiles {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory named like a blob or an upload is not one.
	for _, name := range []string{"blobs/sha256/" + other[:2] + "/" + other, "uploads/dir"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(name)), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	var got []digest.Digest
	err := s.Walk(ctx, func(d digest.Digest, size int64) error {
		got = append(got, d)
		return nil
	})
	if err != nil || !slices.Equal(got, []digest.Digest{d}) {
		t.Errorf("Walk: got (%v, %v), want only %s", got, err, d)
	}
	if ids, err := s.Uploads(ctx); err != nil || !slices.Equal(ids, []string{"pending"}) {
		t.Errorf("Uploads: got (%q, %v), want [pending]", ids, err)
	}
}

// BenchmarkAppendCommit measures one 64 MiB push: a streamed Append and the
// fsync + rename of Commit.
func BenchmarkAppendCommit(b *testing.B) {
	const size = 64 << 20
	ctx := b.Context()
	s := newStore(b, b.TempDir())
	data := bytes.Repeat([]byte("berth-bench-data"), size/16)
	// The store does not verify digests; a fixed one is enough here.
	d := digest.FromString("bench")

	b.SetBytes(size)
	for b.Loop() {
		// Hide WriterTo: a request body is a plain reader.
		r := struct{ io.Reader }{bytes.NewReader(data)}
		if _, err := s.Append(ctx, "bench", 0, r); err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx, "bench", size, d); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
