package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// insertJobQuery stamps a job with ?5, or with the database's clock when ?5
// is NULL (a change's jobs: the change methods take no time). 'now' is the
// same for both columns within one statement. A key taken by an unfinished
// job of the queue hits jobs_key, and the job is dropped as a duplicate.
const insertJobQuery = `
	INSERT INTO jobs (queue, key, payload, state, run_after, created_at, updated_at)
	VALUES (?1, ?2, ?3, 'pending', ?4, COALESCE(?5, ` + nowNanos + `), COALESCE(?5, ` + nowNanos + `))
	ON CONFLICT DO NOTHING`

// insertJobs writes jobs in tx, the transaction of the change that asks for
// them, through its prepared statements. Callers have checked the jobs with
// meta.CheckJobs. No jobs, no statement: the push path stays as it was.
func insertJobs(ctx context.Context, tx *wtx, jobs []meta.NewJob, created time.Time) error {
	for _, j := range jobs {
		_, err := tx.ExecContext(ctx, insertJobQuery,
			j.Queue, j.Key, nullBytes(j.Payload), runAfter(j.RunAfter), nanos(created))
		if err != nil {
			return fmt.Errorf("job for queue %s: %w", j.Queue, err)
		}
	}
	return nil
}

// runAfter stores the zero time as 0: at once, before any claim's now.
func runAfter(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (s *Store) EnqueueJobs(ctx context.Context, jobs []meta.NewJob, now time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: enqueue jobs: %w", err)
	}
	if now.IsZero() {
		return errors.New("meta/sqlite: enqueue jobs: no time given")
	}
	return s.write(ctx, "enqueue jobs", func(tx *wtx) error {
		return insertJobs(ctx, tx, jobs, now)
	})
}

const jobColumns = `id, queue, key, payload, state, attempts, run_after, holder, lease_until,
	last_error, created_at, updated_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*meta.Job, error) {
	var (
		j                          meta.Job
		state                      string
		after                      int64
		lease, created, updated, f sql.NullInt64
	)
	err := row.Scan(&j.ID, &j.Queue, &j.Key, &j.Payload, &state, &j.Attempts, &after, &j.Holder, &lease,
		&j.LastError, &created, &updated, &f)
	if err != nil {
		return nil, err
	}
	j.State = meta.JobState(state)
	if after != 0 {
		j.RunAfter = time.Unix(0, after).UTC()
	}
	j.LeaseUntil, j.CreatedAt, j.UpdatedAt, j.FinishedAt = fromNanos(lease), fromNanos(created), fromNanos(updated), fromNanos(f)
	return &j, nil
}

// readyJobQuery finds a queue's first ready job: the pending job ready the
// longest, by jobs_ready, or the running job whose lease lapsed the
// longest ago (a queue has few running jobs, one per busy worker).
const readyJobQuery = `
	SELECT id, due FROM (
		SELECT * FROM (
			SELECT id, run_after AS due FROM jobs
			WHERE queue = ?1 AND state = 'pending' AND run_after <= ?2
			ORDER BY run_after, id LIMIT 1)
		UNION ALL
		SELECT * FROM (
			SELECT id, lease_until AS due FROM jobs
			WHERE queue = ?1 AND state = 'running' AND lease_until <= ?2
			ORDER BY lease_until, id LIMIT 1))
	ORDER BY due, id LIMIT 1`

const claimJobQuery = `
	UPDATE jobs SET state = 'running', attempts = attempts + 1, holder = ?2, lease_until = ?3, updated_at = ?4
	WHERE id = ?1
	RETURNING ` + jobColumns

// ClaimJob picks and takes the job in one write transaction. The store has
// one writer connection, so no other claim can run between the pick and the
// update: two workers never get one job. The pick asks each queue apart, so
// that each is one seek on jobs_ready however long the backlog.
//
// PostgreSQL, with many writers, picks in one statement over all the queues
// with FOR UPDATE SKIP LOCKED, which gives the same semantics without making
// concurrent claimers wait on each other's row:
//
//	SELECT id FROM jobs
//	WHERE queue = ANY($1) AND (state = 'pending' AND run_after <= $2
//		OR state = 'running' AND lease_until <= $2)
//	ORDER BY CASE state WHEN 'pending' THEN run_after ELSE lease_until END, id
//	LIMIT 1 FOR UPDATE SKIP LOCKED
func (s *Store) ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error) {
	if holder == "" || lease <= 0 {
		return nil, fmt.Errorf("meta/sqlite: claim job: holder %q, lease %v: need both", holder, lease)
	}
	var j *meta.Job
	err := s.write(ctx, "claim job", func(tx *wtx) error {
		var (
			id       int64
			firstDue int64
		)
		for _, q := range queues {
			var qid, due int64
			err := tx.QueryRowContext(ctx, readyJobQuery, q, now.UnixNano()).Scan(&qid, &due)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("queue %s: %w", q, err)
			}
			if id == 0 || due < firstDue || due == firstDue && qid < id {
				id, firstDue = qid, due
			}
		}
		if id == 0 {
			return meta.ErrNotFound
		}
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, claimJobQuery, id, holder, now.Add(lease).UnixNano(), now.UnixNano()))
		return err
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// heldJob matches a job only while holder holds it.
const heldJob = `WHERE id = ? AND state = 'running' AND holder = ?`

func (s *Store) ExtendJobLease(ctx context.Context, id int64, holder string, until time.Time) error {
	return s.write(ctx, fmt.Sprintf("extend lease of job %d", id), func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrJobLost,
			`UPDATE jobs SET lease_until = ? `+heldJob, until.UnixNano(), id, holder)
	})
}

func (s *Store) CompleteJob(ctx context.Context, id int64, holder string, now time.Time) error {
	return s.write(ctx, fmt.Sprintf("complete job %d", id), func(tx *wtx) error {
		return execAffect(ctx, tx, meta.ErrJobLost, `
			UPDATE jobs SET state = 'succeeded', lease_until = NULL, updated_at = ?1, finished_at = ?1 `+heldJob,
			now.UnixNano(), id, holder)
	})
}

func (s *Store) FailJob(ctx context.Context, id int64, holder, errMsg string, retryAt, now time.Time) error {
	return s.write(ctx, fmt.Sprintf("fail job %d", id), func(tx *wtx) error {
		if retryAt.IsZero() {
			return execAffect(ctx, tx, meta.ErrJobLost, `
				UPDATE jobs SET state = 'failed', last_error = ?1, lease_until = NULL, updated_at = ?2, finished_at = ?2 `+heldJob,
				errMsg, now.UnixNano(), id, holder)
		}
		return execAffect(ctx, tx, meta.ErrJobLost, `
			UPDATE jobs SET state = 'pending', last_error = ?1, run_after = ?2, lease_until = NULL, updated_at = ?3 `+heldJob,
			errMsg, retryAt.UnixNano(), now.UnixNano(), id, holder)
	})
}

func (s *Store) GetJob(ctx context.Context, id int64) (*meta.Job, error) {
	j, err := scanJob(s.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: get job %d: %w", id, err)
	}
	return j, nil
}

// ListJobs is for operators and tests: it walks the jobs in ID order,
// filtering as it goes.
func (s *Store) ListJobs(ctx context.Context, q meta.JobQuery) ([]*meta.Job, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+jobColumns+` FROM jobs
		WHERE id > ?1 AND (?2 = '' OR queue = ?2) AND (?3 = '' OR state = ?3)
		ORDER BY id LIMIT ?4`,
		q.After, q.Queue, string(q.State), sqlLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: list jobs: %w", err)
	}
	defer rows.Close()
	var out []*meta.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: list jobs: %w", err)
	}
	return out, nil
}

// pruneJobsQuery repeats jobs_finished's condition, so that SQLite sees
// the partial index applies.
const pruneJobsQuery = `DELETE FROM jobs WHERE state IN ('succeeded', 'failed') AND finished_at < ?`

func (s *Store) PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error) {
	if finishedBefore.IsZero() {
		return 0, nil // nothing finished before the zero time
	}
	var n int64
	err := s.write(ctx, "prune jobs", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, pruneJobsQuery, finishedBefore.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
