package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// putReplicationStatusQuery writes a status if its manifest exists: the
// SELECT finds no row for a manifest that is gone, and nothing is written.
const putReplicationStatusQuery = `
	INSERT INTO replication_statuses (repo_id, digest, dest_region, dest_account, state, failure, updated_at)
	SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM manifests WHERE repo_id = ?1 AND digest = ?2)
	ON CONFLICT (repo_id, digest, dest_region, dest_account) DO UPDATE
		SET state = excluded.state, failure = excluded.failure, updated_at = excluded.updated_at`

func putReplicationStatus(ctx context.Context, tx *wtx, st meta.ReplicationStatus) error {
	if st.UpdatedAt.IsZero() {
		return fmt.Errorf("replication status of %s: no time given", st.Digest)
	}
	_, err := tx.ExecContext(ctx, putReplicationStatusQuery, st.RepoID, st.Digest,
		st.Destination.Region, st.Destination.Account, string(st.State), st.Failure, st.UpdatedAt.UnixNano())
	return err
}

func (s *Store) StartReplications(ctx context.Context, statuses []meta.ReplicationStatus, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: start replications: %w", err)
	}
	return s.write(ctx, "start replications", func(tx *wtx) error {
		for _, st := range statuses {
			if err := putReplicationStatus(ctx, tx, st); err != nil {
				return err
			}
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func (s *Store) PutReplicationStatus(ctx context.Context, st meta.ReplicationStatus) error {
	return s.write(ctx, "put replication status of "+st.Digest, func(tx *wtx) error {
		return putReplicationStatus(ctx, tx, st)
	})
}

func (s *Store) ReplicationStatuses(ctx context.Context, repoID int64, digest string) ([]meta.ReplicationStatus, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT dest_region, dest_account, state, failure, updated_at FROM replication_statuses
		WHERE repo_id = ? AND digest = ? ORDER BY dest_region, dest_account`, repoID, digest)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: replication statuses of %s: %w", digest, err)
	}
	defer rows.Close()
	var out []meta.ReplicationStatus
	for rows.Next() {
		st := meta.ReplicationStatus{RepoID: repoID, Digest: digest}
		var (
			state string
			at    int64
		)
		if err := rows.Scan(&st.Destination.Region, &st.Destination.Account, &state, &st.Failure, &at); err != nil {
			return nil, fmt.Errorf("meta/sqlite: replication statuses of %s: %w", digest, err)
		}
		st.State, st.UpdatedAt = meta.ReplicationState(state), time.Unix(0, at).UTC()
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: replication statuses of %s: %w", digest, err)
	}
	return out, nil
}
