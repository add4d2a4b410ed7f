package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// recordTimeout bounds recording an outcome, which goes on after Run's
// context ends so that a stopping node hands its jobs back.
const recordTimeout = 30 * time.Second

// Run claims and runs jobs until ctx ends, then waits for the running
// handlers to return. One loop claims, for every queue with a free worker,
// until nothing is ready; then it sleeps until a poll, a Notify, or a
// handler returning.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		panic("jobs: Run called twice")
	}
	r.started = true
	r.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	freed := make(chan struct{}, 1)
	var pruned time.Time
	for {
		pruned = r.prune(ctx, pruned)
		for ctx.Err() == nil {
			j, q := r.claim(ctx)
			if j == nil {
				break
			}
			wg.Go(func() {
				r.execute(ctx, q, j)
				r.mu.Lock()
				q.busy--
				r.mu.Unlock()
				select {
				case freed <- struct{}{}:
				default:
				}
			})
		}
		poll := time.NewTimer(r.opts.PollInterval)
		select {
		case <-ctx.Done():
			poll.Stop()
			return
		case <-r.notify:
		case <-freed:
		case <-poll.C:
		}
		poll.Stop()
	}
}

// claim claims a job of a queue that has a free worker, and takes the
// worker; it returns nil when no job is ready or no worker is free.
func (r *Runner) claim(ctx context.Context) (*meta.Job, *queue) {
	r.mu.Lock()
	var free []string
	for _, name := range r.names {
		if q := r.queues[name]; q.busy < q.opts.Concurrency {
			free = append(free, name)
		}
	}
	r.mu.Unlock()
	if len(free) == 0 {
		return nil, nil
	}
	// A holder of its own for every claim: should this node still run a
	// job whose lease lapsed when it claims the job again, the first run's
	// calls must fail with ErrJobLost, not pass for the second's.
	holder := r.opts.Holder + "/" + strconv.FormatUint(r.claims.Add(1), 10)
	j, err := r.store.ClaimJob(ctx, free, holder, r.opts.Now(), r.opts.Lease)
	switch {
	case errors.Is(err, meta.ErrNotFound):
		return nil, nil
	case err != nil:
		if ctx.Err() == nil {
			r.log.WarnContext(ctx, "claim job", "queues", free, "err", err)
		}
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[j.Queue]
	if q == nil {
		// The store gave a job of a queue not asked for: leave it to lapse
		// rather than run it without its handler.
		r.log.ErrorContext(ctx, "claimed a job of a queue not asked for", "queue", j.Queue, "job", j.ID)
		return nil, nil
	}
	q.busy++
	return j, q
}

// execute runs a claimed job's handler while keeping its lease, and
// records the outcome.
func (r *Runner) execute(ctx context.Context, q *queue, j *meta.Job) {
	log := r.log.With("queue", j.Queue, "job", j.ID, "attempt", j.Attempts)
	log.DebugContext(ctx, "job started")
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	var keeper sync.WaitGroup
	keeper.Go(func() { r.keepLease(hctx, cancel, j, stop, log) })
	err := call(hctx, q.h, j, log)
	close(stop)
	keeper.Wait()
	if errors.Is(context.Cause(hctx), meta.ErrJobLost) {
		log.WarnContext(ctx, "job lease lost while it ran; its new holder runs it", "err", err)
		return
	}
	r.record(ctx, q, j, err, log)
}

// keepLease extends the job's lease every LeaseRenewal until stop closes,
// and cancels the handler with meta.ErrJobLost if the job was taken over.
// A failed extension is otherwise tried again: the lease may well outlast
// a short outage of the store.
func (r *Runner) keepLease(ctx context.Context, cancel context.CancelCauseFunc, j *meta.Job, stop <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(r.opts.LeaseRenewal)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.store.ExtendJobLease(ctx, j.ID, j.Holder, r.opts.Now().Add(r.opts.Lease))
		switch {
		case errors.Is(err, meta.ErrJobLost):
			cancel(meta.ErrJobLost)
			return
		case err != nil && ctx.Err() == nil:
			log.WarnContext(ctx, "extend job lease", "err", err)
		}
	}
}

// call runs the handler, turning a panic into an error.
func call(ctx context.Context, h Handler, j *meta.Job, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "job handler panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// record stores the outcome of a run: done, a retry after a backoff, or
// failed for good. A run cut short because the runner is stopping is handed
// back at once, for another node to pick up.
func (r *Runner) record(ctx context.Context, q *queue, j *meta.Job, err error, log *slog.Logger) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := r.opts.Now()
	var rerr error
	switch {
	case err == nil:
		rerr = r.store.CompleteJob(rctx, j.ID, j.Holder, now)
		log.DebugContext(ctx, "job done")
	case isPermanent(err):
		rerr = r.store.FailJob(rctx, j.ID, j.Holder, errorText(err), time.Time{}, now)
		log.ErrorContext(ctx, "job failed for good", "err", err, "permanent", true)
	case ctx.Err() != nil:
		rerr = r.store.FailJob(rctx, j.ID, j.Holder, "interrupted: "+errorText(err), now, now)
		log.InfoContext(ctx, "job interrupted by shutdown; handed back", "err", err)
	case j.Attempts >= q.opts.MaxAttempts:
		rerr = r.store.FailJob(rctx, j.ID, j.Holder, errorText(err), time.Time{}, now)
		log.ErrorContext(ctx, "job failed for good", "err", err, "attempts", j.Attempts)
	default:
		retryAt := now.Add(backoff(j.Attempts, q.opts.BackoffBase, q.opts.BackoffMax, rand.Float64()))
		rerr = r.store.FailJob(rctx, j.ID, j.Holder, errorText(err), retryAt, now)
		log.WarnContext(ctx, "job failed; will retry", "err", err, "retry_at", retryAt)
	}
	if rerr != nil {
		// ErrJobLost: the lease lapsed before the outcome was recorded, and
		// the job runs again. Anything else: the lease will lapse.
		log.ErrorContext(ctx, "record job outcome", "err", rerr)
	}
}

// prune deletes finished jobs past their retention, if the last prune (at
// last) was pruneEvery ago, and returns when it last pruned.
func (r *Runner) prune(ctx context.Context, last time.Time) time.Time {
	now := r.opts.Now()
	if r.opts.Retention < 0 || !last.IsZero() && now.Sub(last) < pruneEvery || ctx.Err() != nil {
		return last
	}
	n, err := r.store.PruneJobs(ctx, now.Add(-r.opts.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.WarnContext(ctx, "prune jobs", "err", err)
	case n > 0:
		r.log.DebugContext(ctx, "pruned finished jobs", "jobs", n)
	}
	return now
}
