package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// TestWriteStatementsPrepared checks that a write transaction's statements
// are prepared after their first use and that later transactions run them
// prepared with their own arguments, including one that fails midway.
func TestWriteStatementsPrepared(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	repo := &meta.Repository{Registry: meta.RegistryKey{Account: "123456789012", Region: "us-east-1"}, Name: "app", CreatedAt: time.Now()}
	if err := s.CreateRepository(ctx, repo); err != nil {
		t.Fatal(err)
	}
	prepared := func() int {
		s.wst.mu.Lock()
		defer s.wst.mu.Unlock()
		return len(s.wst.stmts)
	}
	before := prepared()
	now := time.Now().UTC()
	for i, id := range []string{"u1", "u2", "u3"} {
		u := &meta.Upload{ID: id, RepoID: repo.ID, Offset: int64(i), HashState: []byte{byte(i + 1)}, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if got := prepared(); got <= before {
				t.Fatalf("after the first CreateUpload %d statements prepared, want more than %d", got, before)
			}
			before = prepared()
		}
	}
	if got := prepared(); got != before {
		t.Errorf("repeating CreateUpload prepared %d more statements", got-before)
	}
	for i, id := range []string{"u1", "u2", "u3"} {
		u, err := s.GetUpload(ctx, repo.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Offset != int64(i) || len(u.HashState) != 1 || u.HashState[0] != byte(i+1) {
			t.Errorf("upload %s = offset %d state %v, want %d [%d]", id, u.Offset, u.HashState, i, i+1)
		}
	}
	// The prepared INSERT meets a duplicate key: the transaction fails and
	// the writer stays usable.
	dup := &meta.Upload{ID: "u1", RepoID: repo.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUpload(ctx, dup); err == nil {
		t.Fatal("duplicate upload id accepted")
	}
	if err := s.CreateUpload(ctx, &meta.Upload{ID: "u4", RepoID: repo.ID + 99, CreatedAt: now, UpdatedAt: now}); !errors.Is(err, meta.ErrRepositoryUnknown) {
		t.Fatalf("upload into a missing repository: %v, want ErrRepositoryUnknown", err)
	}
	if err := s.DeleteUpload(ctx, "u2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUpload(ctx, repo.ID, "u2"); !errors.Is(err, meta.ErrUploadUnknown) {
		t.Errorf("deleted upload: %v", err)
	}
}
