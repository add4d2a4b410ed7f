package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// insertJobQuery stamps a job with $5, or with the database's clock when $5
// is NULL (a change's jobs: the change methods take no time). now() is the
// transaction's start, the same for every job of a change and for both
// columns. A key taken by an unfinished job of the queue hits jobs_key, and
// the job is dropped as a duplicate; of two transactions enqueuing one key,
// the second waits for the first and then drops its own.
const insertJobQuery = `
	INSERT INTO jobs (queue, key, payload, state, run_after, created_at, updated_at)
	VALUES ($1, $2, $3, 'pending', $4, COALESCE($5, now()), COALESCE($5, now()))
	ON CONFLICT DO NOTHING`

// insertJobs writes jobs in tx, the transaction of the change that asks for
// them, in one round trip, in the order given (their ids, and so the order
// they run, follow it). Callers have checked the jobs with meta.CheckJobs.
// No jobs, no statement: the push path stays as it was.
func insertJobs(ctx context.Context, tx pgx.Tx, jobs []meta.NewJob, created time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, j := range jobs {
		b.Queue(insertJobQuery, j.Queue, j.Key, nullBytes(j.Payload), ts(j.RunAfter), ts(created))
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return nil
}

func (s *Store) EnqueueJobs(ctx context.Context, jobs []meta.NewJob, now time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, "enqueue jobs", err)
	}
	if now.IsZero() {
		return errors.New("meta/postgres: enqueue jobs: no time given")
	}
	return s.write(ctx, "enqueue jobs", func(tx pgx.Tx) error {
		return insertJobs(ctx, tx, jobs, now)
	})
}

const jobColumns = `id, queue, key, payload, state, attempts, run_after, holder, lease_until,
	last_error, created_at, updated_at, finished_at`

func scanJob(row scanner) (*meta.Job, error) {
	var (
		j                                 meta.Job
		state                             string
		after, lease, created, updated, f pgtype.Timestamptz
	)
	err := row.Scan(&j.ID, &j.Queue, &j.Key, &j.Payload, &state, &j.Attempts, &after, &j.Holder, &lease,
		&j.LastError, &created, &updated, &f)
	if err != nil {
		return nil, err
	}
	j.State = meta.JobState(state)
	j.RunAfter, j.LeaseUntil = fromTS(after), fromTS(lease)
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = fromTS(created), fromTS(updated), fromTS(f)
	return &j, nil
}

// claimJobQuery picks and takes the first ready job in one statement. The
// pick walks jobs_due in claiming order (due, then id) and skips the rows
// other claimers hold locked: two workers never get one job, and neither
// waits for the other.
const claimJobQuery = `
	UPDATE jobs SET state = 'running', attempts = attempts + 1, holder = $2, lease_until = $3, updated_at = $4
	WHERE id = (
		SELECT id FROM jobs
		WHERE state IN ('pending', 'running') AND due <= $4 AND queue = ANY ($1)
		ORDER BY due, id
		LIMIT 1
		FOR UPDATE SKIP LOCKED)
	RETURNING ` + jobColumns

func (s *Store) ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error) {
	if holder == "" || lease <= 0 {
		return nil, fmt.Errorf("meta/postgres: claim job: holder %q, lease %v: need both", holder, lease)
	}
	var j *meta.Job
	err := s.retry(ctx, "claim job", func() error {
		var err error
		j, err = scanJob(s.pool.QueryRow(ctx, claimJobQuery, queues, holder, now.Add(lease), now))
		if errors.Is(err, pgx.ErrNoRows) {
			return meta.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// The state changes of a held job are each one UPDATE whose WHERE is the
// check that holder still holds it: against a claim taking the job over,
// PostgreSQL evaluates it again on the row the claim wrote.
const heldJob = `WHERE id = $1 AND state = 'running' AND holder = $2`

func (s *Store) ExtendJobLease(ctx context.Context, id int64, holder string, until time.Time) error {
	return s.exec(ctx, fmt.Sprintf("extend lease of job %d", id), meta.ErrJobLost,
		`UPDATE jobs SET lease_until = $3 `+heldJob, id, holder, until)
}

func (s *Store) CompleteJob(ctx context.Context, id int64, holder string, now time.Time) error {
	return s.exec(ctx, fmt.Sprintf("complete job %d", id), meta.ErrJobLost, `
		UPDATE jobs SET state = 'succeeded', lease_until = NULL, updated_at = $3, finished_at = $3 `+heldJob,
		id, holder, now)
}

func (s *Store) FailJob(ctx context.Context, id int64, holder, errMsg string, retryAt, now time.Time) error {
	op := fmt.Sprintf("fail job %d", id)
	if retryAt.IsZero() {
		return s.exec(ctx, op, meta.ErrJobLost, `
			UPDATE jobs SET state = 'failed', last_error = $3, lease_until = NULL, updated_at = $4, finished_at = $4 `+heldJob,
			id, holder, errMsg, now)
	}
	return s.exec(ctx, op, meta.ErrJobLost, `
		UPDATE jobs SET state = 'pending', last_error = $3, run_after = $4, lease_until = NULL, updated_at = $5 `+heldJob,
		id, holder, errMsg, retryAt, now)
}

func (s *Store) GetJob(ctx context.Context, id int64) (*meta.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, fmt.Sprintf("get job %d", id), err)
	}
	return j, nil
}

// ListJobs is for operators and tests: it walks the jobs in ID order,
// filtering as it goes.
func (s *Store) ListJobs(ctx context.Context, q meta.JobQuery) ([]*meta.Job, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT `+jobColumns+` FROM jobs
		WHERE id > $1 AND ($2 = '' OR queue = $2) AND ($3 = '' OR state = $3)
		ORDER BY id LIMIT $4`,
		q.After, q.Queue, string(q.State), sqlLimit(q.Limit))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.Job, error) { return scanJob(row) })
	if err != nil {
		return nil, wrap(ctx, "list jobs", err)
	}
	return out, nil
}

// pruneJobsQuery repeats jobs_finished's condition, so that the planner
// sees the partial index applies.
const pruneJobsQuery = `DELETE FROM jobs WHERE state IN ('succeeded', 'failed') AND finished_at < $1`

func (s *Store) PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error) {
	if finishedBefore.IsZero() {
		return 0, nil // nothing finished before the zero time
	}
	var n int64
	err := s.retry(ctx, "prune jobs", func() error {
		tag, err := s.pool.Exec(ctx, pruneJobsQuery, finishedBefore)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
