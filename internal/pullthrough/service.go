// Package pullthrough is ECR's pull through cache: the rules that map a
// repository prefix of a registry to an upstream registry
// (CreatePullThroughCacheRule and its kin), and the cache itself — a pull
// of <prefix>/<upstream repository> that finds nothing local, or a tag
// older than the refresh interval, asks the upstream, stores what it
// serves through the registry domain and streams it to the client as it
// arrives. The storing that the client's own requests do not finish (the
// manifest and its tag, the blobs the client already had) is an outbox
// job (Queue), so that it survives the node that started it.
package pullthrough

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/metrics"
	"github.com/berth-registry/berth/internal/pullthrough/upstream"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// Store is what the cache keeps in the metadata store.
type Store interface {
	meta.PullThroughStore
	EnqueueJobs(ctx context.Context, jobs []meta.NewJob, now time.Time) error
}

// Registry is what the cache needs of the registry domain: the local
// images, and the verified writes that store what the upstream sends.
type Registry interface {
	Repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, error)
	GetManifest(ctx context.Context, reg meta.RegistryKey, name, ref string) (*meta.Manifest, error)
	PutManifest(ctx context.Context, reg meta.RegistryKey, name, ref, contentType string, body []byte, extraTags []string) (*registry.PushedManifest, error)
	StatBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) (int64, error)
	PutBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, body io.Reader) error
}

// RepositoryCreator creates the repository a first pull caches into, with
// the registry's PULL_THROUGH_CACHE creation template; a repository
// created meanwhile by another request is returned, not an error.
type RepositoryCreator interface {
	CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, appliedFor string) (*meta.Repository, error)
}

// Options tune a Service.
type Options struct {
	// Refresh is how old a cached tag may be before a pull asks the
	// upstream where it points now (--pull-through-refresh); default 15m.
	Refresh time.Duration
	// Timeout bounds each upstream request's wait for an answer (a blob's
	// bytes then flow as long as they keep coming); default 30s.
	Timeout time.Duration
	// Upstream reaches the upstream registries; default
	// upstream.New(Timeout).
	Upstream *upstream.Client
	Secrets  SecretSource
	// Creator creates repositories; required.
	Creator RepositoryCreator
	Logger  *slog.Logger
	Metrics *metrics.Registry
	Now     func() time.Time
	// Notify wakes this node's job runner after an import is enqueued.
	Notify func()
	// ImportDelay holds an import job back a little, so that the blobs
	// the pulling client is fetching right now are stored by its own
	// requests rather than fetched twice; default 2s.
	ImportDelay time.Duration
}

// Service is the pull through cache.
type Service struct {
	store   Store
	reg     Registry
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	client  *upstream.Client
	secrets SecretSource
	m       *cacheMetrics

	// rules caches each registry's rules briefly: every manifest pull of
	// a registry asks which rule its name falls under. A change made here
	// drops the cache at once; one made on another node is seen within
	// rulesTTL.
	mu    sync.Mutex
	rules map[meta.RegistryKey]cachedRules
}

type cachedRules struct {
	rules []*Rule
	at    time.Time
}

const rulesTTL = 2 * time.Second

// New returns the pull through cache.
func New(store Store, reg Registry, opts Options) *Service {
	if opts.Refresh <= 0 {
		opts.Refresh = 15 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.ImportDelay <= 0 {
		opts.ImportDelay = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Secrets == nil {
		opts.Secrets = NoSecrets{}
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if opts.Upstream == nil {
		opts.Upstream = upstream.New(opts.Timeout)
	}
	return &Service{store: store, reg: reg, opts: opts, log: opts.Logger, now: opts.Now,
		client: opts.Upstream, secrets: opts.Secrets, m: newCacheMetrics(opts.Metrics),
		rules: map[meta.RegistryKey]cachedRules{}}
}

type cacheMetrics struct {
	fetches  *metrics.Counter
	stale    *metrics.Counter
	failures *metrics.Counter
	bytes    *metrics.Counter
}

func newCacheMetrics(r *metrics.Registry) *cacheMetrics {
	return &cacheMetrics{
		fetches:  r.Counter("berth_pull_through_fetches_total", "Manifests and blobs the pull through cache fetched from upstream registries.", "kind"),
		stale:    r.Counter("berth_pull_through_stale_served_total", "Pulls answered from the cache because the upstream could not be asked (the reason says why).", "reason"),
		failures: r.Counter("berth_pull_through_upstream_failures_total", "Upstream requests of the pull through cache that failed, by reason.", "reason"),
		bytes:    r.Counter("berth_pull_through_blob_bytes_total", "Blob bytes the pull through cache received from upstream registries."),
	}
}
