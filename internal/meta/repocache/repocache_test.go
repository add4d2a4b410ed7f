package repocache_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/metatest"
	"github.com/berth-registry/berth/internal/meta/repocache"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

func openSQLite(t *testing.T) meta.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSuite: the cache in front of a store changes nothing the shared suite
// can see.
func TestSuite(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		return repocache.New(openSQLite(t), time.Minute)
	})
}

// TestCache checks that GetRepository never answers from before a change
// made through the cache, and that a change made behind its back shows once
// the TTL has passed or Invalidate is called.
func TestCache(t *testing.T) {
	inner := openSQLite(t)
	t.Cleanup(func() { inner.Close() })
	const ttl = 2 * time.Second
	s := repocache.New(inner, ttl)
	ctx := t.Context()
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	reg := meta.RegistryKey{Account: "123456789012", Region: "us-east-1"}
	get := func(step string) *meta.Repository {
		t.Helper()
		r, err := s.GetRepository(ctx, reg, "app")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return r
	}
	if err := s.CreateRepository(ctx, &meta.Repository{Registry: reg, Name: "app", CreatedAt: now, TagMutability: "MUTABLE"}); err != nil {
		t.Fatal(err)
	}
	r := get("first read")
	r.TagMutability = "CHANGED BY THE CALLER"
	r.Settings = []byte(`{"caller":true}`)
	if got := get("after the caller changed its copy"); got.TagMutability != "MUTABLE" || got.Settings != nil {
		t.Fatalf("the cache handed out its own copy: %+v", got)
	}

	r = get("before update")
	r.TagMutability = "IMMUTABLE"
	if err := s.UpdateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := get("after UpdateRepository"); got.TagMutability != "IMMUTABLE" {
		t.Errorf("after UpdateRepository: %s", got.TagMutability)
	}
	if err := s.ModifyRepository(ctx, r.ID, func(r *meta.Repository) error {
		r.Settings = []byte(`{"scanOnPush":true}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := get("after ModifyRepository"); string(got.Settings) != `{"scanOnPush":true}` {
		t.Errorf("after ModifyRepository: settings %s", got.Settings)
	}

	// Behind the cache's back (another node): stale until the TTL has
	// passed, or until Invalidate.
	behind := func(mutability string) {
		t.Helper()
		cur := get("before a change behind the cache's back")
		cur.TagMutability = mutability
		if err := inner.UpdateRepository(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
	behind("MUTABLE")
	if got := get("right after an outside change"); got.TagMutability != "IMMUTABLE" {
		t.Errorf("an outside change was seen at once: the cache is not in use (%s)", got.TagMutability)
	}
	now = now.Add(ttl)
	if got := get("a TTL after an outside change"); got.TagMutability != "MUTABLE" {
		t.Errorf("a TTL after an outside change: %s", got.TagMutability)
	}
	behind("IMMUTABLE")
	s.Invalidate()
	if got := get("after Invalidate"); got.TagMutability != "IMMUTABLE" {
		t.Errorf("after Invalidate: %s", got.TagMutability)
	}

	if err := s.DeleteRepository(ctx, r.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRepository(ctx, reg, "app"); !errors.Is(err, meta.ErrRepositoryUnknown) {
		t.Fatalf("after DeleteRepository: %v", err)
	}
	again := &meta.Repository{Registry: reg, Name: "app", CreatedAt: now, TagMutability: "IMMUTABLE"}
	if err := s.CreateRepository(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got := get("after re-creating"); got.ID != again.ID || got.TagMutability != "IMMUTABLE" {
		t.Errorf("after re-creating: id %d mutability %s, want id %d IMMUTABLE", got.ID, got.TagMutability, again.ID)
	}
}
