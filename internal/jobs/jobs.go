// Package jobs runs the outbox: the jobs that changes write into the
// metadata store (meta.JobStore) in their own transactions. A Runner on
// each node claims ready jobs of the queues it has handlers for, keeps
// their leases alive while the handlers run, and records the outcome:
// success, a retry after a backoff, or failure for good. A node that dies
// leaves its jobs to lapse; another node's Runner takes them over, so a
// handler must cope with running a job again.
package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Handler does a job. An error retries it later, unless it is Permanent or
// the job has had its attempts. ctx ends when the runner stops or the job's
// lease is lost (context.Cause is then meta.ErrJobLost).
type Handler func(ctx context.Context, j *meta.Job) error

// Permanent marks a handler's error as one a retry cannot mend (a payload
// it cannot read, a thing that is gone): the job fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Store is what a Runner needs of the metadata store.
type Store interface {
	ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error)
	ExtendJobLease(ctx context.Context, id int64, holder string, until time.Time) error
	CompleteJob(ctx context.Context, id int64, holder string, now time.Time) error
	FailJob(ctx context.Context, id int64, holder, errMsg string, retryAt, now time.Time) error
	PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error)
}

// Options tune a Runner; zero values take the defaults.
type Options struct {
	// Holder names this node in the jobs it holds; every claim adds a
	// number of its own. Default: the host name and a random suffix.
	Holder string
	Logger *slog.Logger
	// PollInterval is how often idle workers look for jobs that no Notify
	// announced (another node's, retries come due, leases lapsed).
	// Default 1s.
	PollInterval time.Duration
	// Lease is how long a claim lasts without renewal: how long a dead
	// node's job waits before another takes it. Default 1m.
	Lease time.Duration
	// LeaseRenewal is how often a running job's lease is extended.
	// Default Lease/3.
	LeaseRenewal time.Duration
	// Retention is how long finished jobs are kept before pruning; a
	// negative Retention keeps them. Default 24h.
	Retention time.Duration
	// Now is the clock jobs are claimed, leased and retried by. Default
	// time.Now.
	Now func() time.Time
}

// QueueOptions tune the handling of one queue; zero values take the
// defaults.
type QueueOptions struct {
	// MaxAttempts is how many times a job runs before it fails for good.
	// Default 10.
	MaxAttempts int
	// A retry waits BackoffBase, doubled for each attempt so far, up to
	// BackoffMax, less up to a half at random. Defaults 1s and 10m.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Concurrency is how many of the queue's jobs this runner runs at
	// once. Default 1.
	Concurrency int
}

// pruneEvery is how often a runner prunes finished jobs. Every node
// prunes; deleting what another node deleted costs nothing.
const pruneEvery = 10 * time.Minute

// maxErrorLen bounds the error text kept with a job.
const maxErrorLen = 2048

// Runner runs the jobs of the queues it has handlers for.
type Runner struct {
	store  Store
	opts   Options
	log    *slog.Logger
	notify chan struct{}
	claims atomic.Uint64

	mu      sync.Mutex
	queues  map[string]*queue
	names   []string // the queues' names, in the order Handle was called
	started bool
}

type queue struct {
	h    Handler
	opts QueueOptions
	busy int // jobs running; guarded by Runner.mu
}

// New returns a Runner; give it handlers with Handle, then Run it.
func New(store Store, opts Options) *Runner {
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = host + "-" + rand.Text()[:8]
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.LeaseRenewal <= 0 {
		opts.LeaseRenewal = opts.Lease / 3
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{store: store, opts: opts, log: opts.Logger.With("holder", opts.Holder),
		notify: make(chan struct{}, 1), queues: map[string]*queue{}}
}

// Handle has the runner do the jobs of the named queue with h. It must be called
// before Run, once per queue.
func (r *Runner) Handle(name string, h Handler, opts QueueOptions) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 10 * time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Handle called after Run")
	}
	if _, ok := r.queues[name]; ok {
		panic(fmt.Sprintf("jobs: queue %s handled twice", name))
	}
	r.queues[name] = &queue{h: h, opts: opts}
	r.names = append(r.names, name)
}

// Notify wakes the runner to look for jobs now, rather than at its next
// poll: for a node that has just written jobs.
func (r *Runner) Notify() {
	select {
	case r.notify <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// backoff is the wait before the retry that follows attempt n: base doubled
// n-1 times, at most ceiling, less jitter (in [0, 1)) times half of it, so
// that jobs that failed together do not all come back together.
func backoff(n int, base, ceiling time.Duration, jitter float64) time.Duration {
	d := min(base, ceiling)
	for i := 1; i < n && d < ceiling; i++ {
		d = min(2*d, ceiling)
	}
	return d - time.Duration(jitter*float64(d/2))
}

// errorText is what is kept of a handler's error.
func errorText(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
	}
	return s
}

// isPermanent reports whether a handler's error must not be retried.
func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
