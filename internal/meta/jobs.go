package meta

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The outbox: background work a change asks for (an event to send, an image
// to scan, a preview to compute) is a job row written in the change's own
// transaction, so the work is recorded if and only if the change commits.
// Workers on any node claim jobs with a lease; a worker that dies lets its
// lease lapse and another takes the job over. Package jobs runs them.

// ErrJobLost is returned to a worker that no longer holds the job it names:
// its lease lapsed and another worker claimed the job, or the job ended.
// Whatever the worker did meanwhile may be done again by the new holder.
var ErrJobLost = errors.New("meta: job lease lost")

// CheckJobs refuses jobs a store must not write; a backend calls it before
// writing any, so that a change asking for such a job fails as a whole.
func CheckJobs(jobs []NewJob) error {
	for i, j := range jobs {
		if j.Queue == "" {
			return fmt.Errorf("meta: job %d has no queue", i)
		}
	}
	return nil
}

// JobState is where a job is in its life.
type JobState string

const (
	// JobPending jobs wait for RunAfter, then for a worker.
	JobPending JobState = "pending"
	// JobRunning jobs are held by a worker until LeaseUntil.
	JobRunning JobState = "running"
	// JobSucceeded and JobFailed are final; PruneJobs removes them.
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// NewJob is work a change asks for.
type NewJob struct {
	// Queue names the consumer ("events", "lifecycle-preview", ...); it must
	// not be empty.
	Queue string
	// Key, when set, is unique among the queue's unfinished (pending or
	// running) jobs: enqueuing a job whose key is taken does nothing. A
	// finished job frees its key.
	Key string
	// Payload is the consumer's, opaque to the store (JSON by convention).
	Payload []byte
	// RunAfter holds the job back until then; the zero time runs it at once.
	RunAfter time.Time
}

// Job is a stored job.
type Job struct {
	ID      int64
	Queue   string
	Key     string
	Payload []byte
	State   JobState
	// Attempts counts the claims of the job, the current one included.
	Attempts int
	// RunAfter is when a pending job becomes ready; zero means at once.
	RunAfter time.Time
	// Holder and LeaseUntil name the worker that last claimed the job and
	// how long its claim lasts; they mean something while it runs.
	Holder     string
	LeaseUntil time.Time
	// LastError is the error of the last failed attempt.
	LastError string
	// CreatedAt is EnqueueJobs' now, or the store's clock for a job written
	// by a change. UpdatedAt is the time of the last state change.
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

// JobQuery selects jobs for ListJobs; empty fields select all.
type JobQuery struct {
	Queue string
	State JobState
	// After is exclusive: the list starts after this ID.
	After int64
	// Limit <= 0 means no limit.
	Limit int
}

// JobStore keeps the outbox. A job is ready when it is pending with
// RunAfter at or before now, or running with LeaseUntil at or before now
// (its worker died). Ready jobs are claimed by the time they became due,
// then by ID: RunAfter (the zero time, "at once", first) or, for a lapsed
// lease, LeaseUntil. Jobs asked for at once thus run in the order they were
// written, and a retry waits behind them.
//
// Jobs are also written by the changes that ask for them: PutManifest.Jobs,
// and the jobs parameter of DeleteManifest, DeleteTag,
// DeleteUntaggedManifest, DeleteManifestIf and StartLifecyclePreview.
type JobStore interface {
	// EnqueueJobs writes jobs in a transaction of their own.
	EnqueueJobs(ctx context.Context, jobs []NewJob, now time.Time) error
	// ClaimJob leases the first ready job of the queues to holder until
	// now+lease, moves it to running and counts an attempt. It fails with
	// ErrNotFound when no job is ready.
	ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*Job, error)
	// ExtendJobLease moves the lease of a job holder holds to until. It
	// fails with ErrJobLost unless the job is running under holder.
	ExtendJobLease(ctx context.Context, id int64, holder string, until time.Time) error
	// CompleteJob ends a job holder holds as succeeded, or fails with
	// ErrJobLost.
	CompleteJob(ctx context.Context, id int64, holder string, now time.Time) error
	// FailJob records errMsg as the job's LastError. With a non-zero
	// retryAt the job becomes pending again until retryAt (Attempts is
	// kept); with a zero retryAt it ends as failed. It fails with
	// ErrJobLost unless holder holds the job.
	FailJob(ctx context.Context, id int64, holder, errMsg string, retryAt, now time.Time) error
	// GetJob fails with ErrNotFound for an unknown (or pruned) job.
	GetJob(ctx context.Context, id int64) (*Job, error)
	// ListJobs returns the jobs q selects, in ID order.
	ListJobs(ctx context.Context, q JobQuery) ([]*Job, error)
	// PruneJobs deletes the succeeded and failed jobs that finished before
	// finishedBefore, and returns how many it deleted.
	PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error)
}
