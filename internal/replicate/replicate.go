// Package replicate is ECR's private image replication: a registry's
// replication configuration (PutReplicationConfiguration, DescribeRegistry),
// replication of every image pushed to the destinations of the rules that
// match its repository, and the state of each image's replication to each
// destination (DescribeImageReplicationStatus).
//
// Replication follows the registry's image events with a queue of its own
// (QueueImageEvents): a push's event asks, in one transaction, for a job
// per destination (QueueCopy) and records the image's status there as
// IN_PROGRESS. A job copies the manifest, an index's children and the
// image's referrers (signatures, SBOMs). Within a deployment blobs are
// shared, so a replica links its source's blobs with its manifest and
// copies no byte (registry.PutReplica); a remote destination (another
// Berth, any OCI registry) is written over the distribution API with the
// credentials of a secret (remote.go). A failed attempt records FAILED with
// its reason and is retried with backoff; the status turns COMPLETE when a
// retry succeeds. A replica is not replicated again.
package replicate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

// The queues replication runs.
const (
	// QueueImageEvents receives the registry's image events
	// (registry.Options.ImageEventQueues).
	QueueImageEvents = "replication"
	// QueueCopy copies one image to one destination.
	QueueCopy = "replicate-image"
)

// configSetting is where a registry's configuration is kept among its
// settings; account settings have upper-case names, so it cannot clash.
const configSetting = "berth:replication-configuration"

// Store is what replication keeps in the metadata store.
type Store interface {
	GetRegistrySetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error)
	PutRegistrySetting(ctx context.Context, reg meta.RegistryKey, name, value string) error
	meta.ReplicationStore
}

// Registry is what replication needs of the registry domain.
type Registry interface {
	Repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, error)
	Image(ctx context.Context, reg meta.RegistryKey, name string, id registry.ImageID) (*meta.Repository, *meta.Manifest, error)
	GetManifest(ctx context.Context, reg meta.RegistryKey, name, ref string) (*meta.Manifest, error)
	Referrers(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest, artifactType string) ([]meta.Referrer, error)
	OpenBlob(ctx context.Context, reg meta.RegistryKey, name string, d digest.Digest) (io.ReadSeekCloser, int64, error)
	PutReplica(ctx context.Context, reg meta.RegistryKey, name string, src meta.RegistryKey, srcName string,
		mediaType string, body []byte, tags []string) (*registry.PushedManifest, error)
	RegistryPolicy(ctx context.Context, reg meta.RegistryKey) (string, error)
	AccountSetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error)
	// CreateRepositoryFromTemplate returns the repository, creating it
	// with the registry's creation template for appliedFor (REPLICATION)
	// when it is missing.
	CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, appliedFor string) (*meta.Repository, error)
}

// Options tune a Service; zero values take the defaults.
type Options struct {
	// Secrets holds the credentials of remote destinations (remote.go);
	// nil makes every destination a registry of this deployment.
	Secrets Secrets
	// Transport carries requests to remote destinations; nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
	Logger    *slog.Logger
	Now       func() time.Time
	// Retry is how copies that failed are retried: at most MaxAttempts
	// times, waiting from BackoffBase (doubling) up to BackoffMax.
	// Defaults: 30 attempts, 2s, 5m — a destination down for an hour is
	// still caught up.
	Retry jobs.QueueOptions
}

// Service is image replication.
type Service struct {
	store  Store
	reg    Registry
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	notify func()
}

// New returns the replication service.
func New(store Store, reg Registry, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Retry.MaxAttempts <= 0 {
		opts.Retry.MaxAttempts = 30
	}
	if opts.Retry.BackoffBase <= 0 {
		opts.Retry.BackoffBase = 2 * time.Second
	}
	if opts.Retry.BackoffMax <= 0 {
		opts.Retry.BackoffMax = 5 * time.Minute
	}
	if opts.Retry.Concurrency <= 0 {
		opts.Retry.Concurrency = 2
	}
	return &Service{store: store, reg: reg, opts: opts, log: opts.Logger, now: opts.Now, notify: func() {}}
}

// RegisterJobs gives runner the handlers of replication's queues.
func (s *Service) RegisterJobs(runner *jobs.Runner) {
	s.notify = runner.Notify
	runner.Handle(QueueImageEvents, s.runImageEvent, jobs.QueueOptions{})
	runner.Handle(QueueCopy, s.runCopy, s.opts.Retry)
}

// Configuration returns a registry's replication configuration: no rules
// when it never put one, as ECR answers.
func (s *Service) Configuration(ctx context.Context, reg meta.RegistryKey) (rules.Config, error) {
	c := rules.Config{Rules: []rules.Rule{}}
	text, err := s.store.GetRegistrySetting(ctx, reg, configSetting)
	if errors.Is(err, meta.ErrNotFound) || (err == nil && text == "") {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("get replication configuration: %w", err)
	}
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return c, fmt.Errorf("replication configuration of %s in %s is not readable: %w", reg.Account, reg.Region, err)
	}
	if c.Rules == nil {
		c.Rules = []rules.Rule{}
	}
	return c, nil
}

// PutConfiguration validates and stores a registry's replication
// configuration, replacing the one before. Images pushed from then on
// replicate by it; images pushed before are not replicated, as in ECR.
func (s *Service) PutConfiguration(ctx context.Context, reg meta.RegistryKey, c rules.Config) (rules.Config, error) {
	if c.Rules == nil {
		c.Rules = []rules.Rule{}
	}
	if err := rules.Validate(c, rules.Destination{Region: reg.Region, RegistryID: reg.Account}); err != nil {
		return c, &Error{Kind: ErrConfigInvalid, Message: err.Error()}
	}
	text, err := json.Marshal(c)
	if err != nil {
		return c, fmt.Errorf("encode replication configuration: %w", err)
	}
	if err := s.store.PutRegistrySetting(ctx, reg, configSetting, string(text)); err != nil {
		return c, fmt.Errorf("put replication configuration: %w", err)
	}
	return c, nil
}

// Statuses returns the replication statuses of an image (by tag or
// digest), with the image's digest: one per destination it was replicated
// to, none for an image that matched no rule when it was pushed.
func (s *Service) Statuses(ctx context.Context, reg meta.RegistryKey, repo string, id registry.ImageID) (string, []meta.ReplicationStatus, error) {
	r, m, err := s.reg.Image(ctx, reg, repo, id)
	if err != nil {
		return "", nil, err
	}
	sts, err := s.store.ReplicationStatuses(ctx, r.ID, m.Digest)
	if err != nil {
		return "", nil, fmt.Errorf("replication statuses of %s: %w", m.Digest, err)
	}
	return m.Digest, sts, nil
}

// tagFilter is the registry's tag filter (Berth's extension); an
// unreadable setting filters nothing, and says so in the log.
func (s *Service) tagFilter(ctx context.Context, reg meta.RegistryKey) rules.TagFilter {
	v, err := s.reg.AccountSetting(ctx, reg, registry.SettingReplicationTagFilter)
	if err != nil {
		s.log.WarnContext(ctx, "replication: read the tag filter", "registry", reg.Account, "region", reg.Region, "err", err)
		return rules.TagFilter{}
	}
	f, err := rules.ParseTagFilter(v)
	if err != nil {
		s.log.WarnContext(ctx, "replication: the stored tag filter does not parse", "registry", reg.Account, "region", reg.Region, "err", err)
		return rules.TagFilter{}
	}
	return f
}
