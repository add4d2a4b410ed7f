package sqlite

import (
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Every data-plane request looks its repository up by name; under a
// manifest GET load that read was 15% of the server's CPU, and 6% of an
// 8-client image push. Repositories change rarely, and every change goes
// through this Store, which drops the cache then. The TTL bounds what a
// change made behind Berth's back (another process writing the file) can
// leave stale.
const (
	repoCacheTTL = 2 * time.Second
	repoCacheMax = 4096
)

type repoKey struct {
	account, region, name string
}

type repoEntry struct {
	r  meta.Repository
	at time.Time
}

// repoCache holds repositories found by name. A read that began before a
// change may finish after it; gen tells it not to store what it read.
type repoCache struct {
	mu  sync.Mutex
	m   map[repoKey]repoEntry
	gen uint64
	now func() time.Time
}

// get returns a copy of the cached repository, or the generation a read
// must present to put what it finds.
func (c *repoCache) get(k repoKey) (*meta.Repository, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && c.clock().Sub(e.at) < repoCacheTTL {
		return copyRepo(&e.r), c.gen
	}
	return nil, c.gen
}

func (c *repoCache) put(k repoKey, r *meta.Repository, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= repoCacheMax {
		c.m = make(map[repoKey]repoEntry)
	}
	c.m[k] = repoEntry{r: *copyRepo(r), at: c.clock()}
}

// drop forgets every repository: changes are rare, and a change by id does
// not name the key.
func (c *repoCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

func (c *repoCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func copyRepo(r *meta.Repository) *meta.Repository {
	cp := *r
	cp.Settings = append([]byte(nil), r.Settings...)
	if r.Settings == nil {
		cp.Settings = nil
	}
	return &cp
}
