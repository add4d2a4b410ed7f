package repocache

import (
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// TestReadAcrossChange: a read that began before a change and ends after
// it must not be cached.
func TestReadAcrossChange(t *testing.T) {
	c := New(nil, 0)
	k := key{"1", "r", "n"}
	_, gen := c.get(k)
	c.Invalidate() // a change commits while the read is running
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
