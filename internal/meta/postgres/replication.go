package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-registry/berth/internal/meta"
)

// putReplicationStatusQuery writes a status if its manifest exists, and
// holds the manifest FOR KEY SHARE meanwhile (the foreign key's check): a
// concurrent delete of the manifest either comes first, and nothing is
// written, or waits and takes the status with it.
const putReplicationStatusQuery = `
	INSERT INTO replication_statuses (repo_id, digest, dest_region, dest_account, state, failure, updated_at)
	SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2)
	ON CONFLICT (repo_id, digest, dest_region, dest_account) DO UPDATE
		SET state = excluded.state, failure = excluded.failure, updated_at = excluded.updated_at`

func putReplicationStatus(ctx context.Context, tx pgx.Tx, st meta.ReplicationStatus) error {
	if st.UpdatedAt.IsZero() {
		return fmt.Errorf("replication status of %s: no time given", st.Digest)
	}
	_, err := tx.Exec(ctx, putReplicationStatusQuery, st.RepoID, st.Digest,
		st.Destination.Region, st.Destination.Account, string(st.State), st.Failure, st.UpdatedAt)
	return err
}

func (s *Store) StartReplications(ctx context.Context, statuses []meta.ReplicationStatus, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, "start replications", err)
	}
	return s.write(ctx, "start replications", func(tx pgx.Tx) error {
		for _, st := range statuses {
			if err := putReplicationStatus(ctx, tx, st); err != nil {
				return err
			}
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func (s *Store) PutReplicationStatus(ctx context.Context, st meta.ReplicationStatus) error {
	return s.write(ctx, "put replication status of "+st.Digest, func(tx pgx.Tx) error {
		return putReplicationStatus(ctx, tx, st)
	})
}

func (s *Store) ReplicationStatuses(ctx context.Context, repoID int64, digest string) ([]meta.ReplicationStatus, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT dest_region, dest_account, state, failure, updated_at FROM replication_statuses
		WHERE repo_id = $1 AND digest = $2 ORDER BY dest_region, dest_account`, repoID, digest)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.ReplicationStatus, error) {
		st := meta.ReplicationStatus{RepoID: repoID, Digest: digest}
		var (
			state string
			at    time.Time
		)
		err := row.Scan(&st.Destination.Region, &st.Destination.Account, &state, &st.Failure, &at)
		st.State, st.UpdatedAt = meta.ReplicationState(state), at.UTC()
		return st, err
	})
	if err != nil {
		return nil, wrap(ctx, "replication statuses of "+digest, err)
	}
	return out, nil
}
