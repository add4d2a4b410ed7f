package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// TestRepositoryCache checks that GetRepository never answers from before
// a change made through the store, and that a change made behind its back
// shows once the TTL has passed.
func TestRepositoryCache(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	now := time.Now()
	s.repos.now = func() time.Time { return now }
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

	// Behind the store's back: stale until the TTL has passed.
	if _, err := s.w.ExecContext(ctx, `UPDATE repositories SET tag_mutability = 'MUTABLE' WHERE id = ?`, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := get("right after an outside change"); got.TagMutability != "IMMUTABLE" {
		t.Errorf("an outside change was seen at once: the cache is not in use (%s)", got.TagMutability)
	}
	now = now.Add(repoCacheTTL)
	if got := get("a TTL after an outside change"); got.TagMutability != "MUTABLE" {
		t.Errorf("a TTL after an outside change: %s", got.TagMutability)
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

// TestRepositoryCacheRace: a read that began before a change and ends
// after it must not be cached.
func TestRepositoryCacheRace(t *testing.T) {
	var c repoCache
	k := repoKey{"1", "r", "n"}
	_, gen := c.get(k)
	c.drop() // a change commits while the read is running
	c.put(k, &meta.Repository{Name: "n", TagMutability: "OLD"}, gen)
	if r, _ := c.get(k); r != nil {
		t.Fatalf("cached a read from before the change: %+v", r)
	}
	_, gen = c.get(k)
	c.put(k, &meta.Repository{Name: "n", TagMutability: "NEW"}, gen)
	if r, _ := c.get(k); r == nil || r.TagMutability != "NEW" {
		t.Fatalf("a read after the change was not cached: %+v", r)
	}
}
