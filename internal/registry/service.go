// Package registry is Berth's domain: repositories, blobs, uploads,
// manifests, tags and referrers. Both front doors (the OCI data plane and the
// ECR API) call it; it never sees HTTP and never writes SQL.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/metrics"
)

// Options tune a Service.
type Options struct {
	// AutoCreateRepositories creates a repository on its first push instead
	// of answering that it does not exist (ECR never does this).
	AutoCreateRepositories bool
	// MaxManifestSize bounds a manifest's bytes.
	MaxManifestSize int64
	// MaxBlobSize bounds a blob's bytes.
	MaxBlobSize int64
	Logger      *slog.Logger
	// Metrics receives the lifecycle and garbage collection metrics; nil
	// keeps them in a registry of the service's own.
	Metrics *metrics.Registry
	// Changes is told of every committed change that makes cached
	// authorization decisions stale; nil tells no one.
	Changes changes.Notifier
	// ImageEventQueues are the job queues that receive every ImageEvent,
	// each as a job written in the transaction of the change.
	ImageEventQueues []string
	// AfterPush, when set, is called with the event of every push once it
	// has committed, before the push is answered: what must be visible to
	// the pusher at once (a scan on push's status) is done there, and the
	// event's job, written in the push's own transaction, makes sure it
	// is done even if this node dies first.
	AfterPush func(ctx context.Context, ev ImageEvent)
	// RedirectBlobs answers blob downloads with a URL of the blob store
	// itself when the store can make one (blob.Redirector).
	RedirectBlobs bool
	// LeaseClock is the clock leases are measured by: the database's on
	// shared stores (package dbclock); nil is the service's own clock.
	LeaseClock func() time.Time
	// SharedStores says that other nodes share the metadata and blob
	// stores: the locks that guard data (an upload being appended to) are
	// then taken in the database, not only in this process.
	SharedStores bool
}

const (
	DefaultMaxManifestSize = 4 << 20
	// ECR's documented maximum layer size is 52,000 MiB.
	DefaultMaxBlobSize = 52000 << 20
)

// Store is what the registry domain keeps in the metadata store: every part
// of it but IAM's.
type Store interface {
	meta.RepositoryStore
	meta.BlobLinkStore
	meta.UploadStore
	meta.ManifestStore
	meta.LifecycleStore
	meta.GCStore
	meta.LeaseStore
	meta.TemplateStore
	meta.PublicStore
}

// Service implements the registry domain over a metadata store and a blob
// store.
type Service struct {
	meta  Store
	blobs blob.Store
	opts  Options
	log   *slog.Logger
	// changes is opts.Changes.
	changes changes.Notifier
	// notify wakes this node's job runner (RegisterJobs).
	notify func()
	now    func() time.Time

	// uploadLocks serialises requests on one upload session within this
	// process, so that two PATCHes cannot write the same staging offset.
	uploadLocks keyedMutex
	pullRec     *pullRecorder

	// node names this process in leases (lifecycle.go, gc.go); jobLocks
	// runs one job of a name at a time here.
	node     string
	jobLocks keyedMutex
	lm       *lifecycleMetrics
	gm       *gcMetrics
}

// New returns a Service.
func New(m Store, b blob.Store, opts Options) *Service {
	if opts.MaxManifestSize <= 0 {
		opts.MaxManifestSize = DefaultMaxManifestSize
	}
	if opts.MaxBlobSize <= 0 {
		opts.MaxBlobSize = DefaultMaxBlobSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	if opts.Changes == nil {
		opts.Changes = changes.Discard
	}
	return &Service{meta: m, blobs: b, opts: opts, log: opts.Logger, changes: opts.Changes, now: time.Now, pullRec: newPullRecorder(),
		node: newUploadID(), lm: newLifecycleMetrics(opts.Metrics), gm: newGCMetrics(opts.Metrics)}
}

// MaxManifestSize is the largest manifest the service accepts.
func (s *Service) MaxManifestSize() int64 { return s.opts.MaxManifestSize }

// Repository returns a repository, creating it when create is set and the
// service auto-creates repositories.
func (s *Service) Repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, error) {
	r, _, err := s.repository(ctx, reg, name, create)
	return r, err
}

// repositoryForPush is Repository for a push that may still be refused: the
// returned undo removes a repository this call auto-created, so that a
// rejected push leaves nothing behind.
func (s *Service) repositoryForPush(ctx context.Context, reg meta.RegistryKey, name string) (*meta.Repository, func(), error) {
	r, created, err := s.repository(ctx, reg, name, true)
	undo := func() {}
	if created {
		undo = func() {
			if err := s.meta.DeleteRepository(context.WithoutCancel(ctx), r.ID, false); err != nil {
				s.log.WarnContext(ctx, "remove repository created by a refused push", "repository", name, "err", err)
			}
		}
	}
	return r, undo, err
}

func (s *Service) repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, bool, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return nil, false, err
	}
	r, err := s.meta.GetRepository(ctx, reg, name)
	if err == nil {
		return r, false, nil
	}
	if !errors.Is(err, meta.ErrRepositoryUnknown) {
		return nil, false, fmt.Errorf("get repository %s: %w", name, err)
	}
	if !create || !s.opts.AutoCreateRepositories {
		return nil, false, repositoryNotFound(name, reg.Account)
	}
	r = &meta.Repository{Registry: reg, Name: name, CreatedAt: s.now().UTC(), TagMutability: "MUTABLE"}
	if err := s.meta.CreateRepository(ctx, r); err != nil {
		if errors.Is(err, meta.ErrRepositoryExists) {
			r, err = s.meta.GetRepository(ctx, reg, name)
			return r, false, err
		}
		return nil, false, fmt.Errorf("create repository %s: %w", name, err)
	}
	s.changes.Changed(ctx, changes.Policies, changes.Repositories)
	s.log.InfoContext(ctx, "repository created on first push", "registry", reg.Account, "region", reg.Region, "repository", name)
	return r, true, nil
}

// CreateRepository creates an empty repository.
func (s *Service) CreateRepository(ctx context.Context, r *meta.Repository) error {
	if err := ValidateRepositoryName(r.Name); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now().UTC()
	}
	if r.TagMutability == "" {
		r.TagMutability = "MUTABLE"
	}
	return s.meta.CreateRepository(ctx, r)
}

type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*refMutex{}
	}
	m := k.locks[key]
	if m == nil {
		m = &refMutex{}
		k.locks[key] = m
	}
	m.refs++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
