package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/berth-registry/berth/internal/meta"
)

// requestScanQuery records a request unless the same repository's request
// for the digest came after $5 (the request's time less its window; NULL
// for no window). The upsert's WHERE is the check, in one statement: of
// two requests at once, the second waits for the first's row and then
// evaluates the WHERE on it, so one window lets only one through. A
// request it refuses returns no row and changes nothing.
const requestScanQuery = `
	INSERT INTO scan_requests (repo_id, digest, requested_at, trigger) VALUES ($1, $2, $3, $4)
	ON CONFLICT (repo_id, digest) DO UPDATE SET requested_at = excluded.requested_at, trigger = excluded.trigger
		WHERE $5::timestamptz IS NULL OR scan_requests.requested_at <= $5::timestamptz
	RETURNING 1`

// RequestScan holds the repository FOR KEY SHARE (see lockRepo): a
// DeleteRepository waits for the request, whose row then goes with the
// repository's.
func (s *Store) RequestScan(ctx context.Context, req meta.ScanRequest, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return wrap(ctx, "request scan", err)
	}
	if req.At.IsZero() {
		return errors.New("meta/postgres: request scan: no time given")
	}
	var after time.Time
	if req.LimitWindow > 0 {
		after = req.At.Add(-req.LimitWindow)
	}
	return s.write(ctx, "request scan of "+req.Digest, func(tx pgx.Tx) error {
		ok, err := lockRepo(ctx, tx, req.RepoID)
		if err != nil {
			return err
		}
		if !ok {
			return meta.ErrRepositoryUnknown
		}
		wrote, err := exists(ctx, tx, requestScanQuery, req.RepoID, req.Digest, req.At, req.Trigger, ts(after))
		if err != nil {
			return err
		}
		if !wrote {
			return meta.ErrScanLimit
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

func scanRequested(row pgx.CollectableRow) (meta.ScanRequested, error) {
	var r meta.ScanRequested
	err := row.Scan(&r.RepoID, &r.Digest, &r.At, &r.Trigger)
	r.At = r.At.UTC()
	return r, err
}

const scanRequestsQuery = `
	SELECT repo_id, digest, requested_at, trigger FROM scan_requests WHERE repo_id = $1 AND digest = ANY($2)`

func (s *Store) ScanRequests(ctx context.Context, repoID int64, digests []string) (map[string]meta.ScanRequested, error) {
	out := map[string]meta.ScanRequested{}
	if len(digests) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, scanRequestsQuery, repoID, digests)
	reqs, err := pgx.CollectRows(rows, scanRequested)
	if err != nil {
		return nil, wrap(ctx, "scan requests", err)
	}
	for _, r := range reqs {
		out[r.Digest] = r
	}
	return out, nil
}

const requestsForDigestQuery = `
	SELECT q.repo_id, q.digest, q.requested_at, q.trigger, r.account, r.region, r.name
	FROM scan_requests q JOIN repositories r ON r.id = q.repo_id
	WHERE q.digest = $1 ORDER BY q.repo_id`

func (s *Store) RequestsForDigest(ctx context.Context, digest string) ([]meta.ScanRequested, error) {
	rows, _ := s.pool.Query(ctx, requestsForDigestQuery, digest)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (meta.ScanRequested, error) {
		var r meta.ScanRequested
		err := row.Scan(&r.RepoID, &r.Digest, &r.At, &r.Trigger, &r.Registry.Account, &r.Registry.Region, &r.Repository)
		r.At = r.At.UTC()
		return r, err
	})
	if err != nil {
		return nil, wrap(ctx, "scan requests for "+digest, err)
	}
	return out, nil
}

func (s *Store) PutImageScan(ctx context.Context, sc *meta.ImageScan, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/postgres: put image scan: %w", err)
	}
	if sc.Digest == "" {
		return errors.New("meta/postgres: put image scan: no digest")
	}
	counts, err := severityCounts(sc.SeverityCounts)
	if err != nil {
		return fmt.Errorf("meta/postgres: put image scan of %s: %w", sc.Digest, err)
	}
	return s.write(ctx, "put image scan of "+sc.Digest, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, putImageScanQuery,
			sc.Digest, string(sc.Status), sc.Description, ts(sc.StartedAt), ts(sc.CompletedAt),
			sc.VulnVersion, ts(sc.VulnUpdatedAt), counts, nullBytes(sc.Findings)); err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

const putImageScanQuery = `
		INSERT INTO image_scans (digest, status, description, started_at, completed_at,
			vuln_version, vuln_updated_at, severity_counts, findings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (digest) DO UPDATE SET status = excluded.status, description = excluded.description,
			started_at = excluded.started_at, completed_at = excluded.completed_at,
			vuln_version = excluded.vuln_version, vuln_updated_at = excluded.vuln_updated_at,
			severity_counts = excluded.severity_counts, findings = excluded.findings`

// severityCounts stores no counts as NULL.
func severityCounts(m map[string]int) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// imageScanColumns are a scan's columns but its findings.
const imageScanColumns = `digest, status, description, started_at, completed_at, vuln_version, vuln_updated_at, severity_counts`

// scanImageScan reads imageScanColumns, then the extra columns into extra.
func scanImageScan(row scanner, extra ...any) (*meta.ImageScan, error) {
	var (
		sc                          meta.ImageScan
		status                      string
		started, completed, updated pgtype.Timestamptz
		counts                      pgtype.Text
	)
	dest := append([]any{&sc.Digest, &status, &sc.Description, &started, &completed, &sc.VulnVersion, &updated, &counts}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	sc.Status = meta.ScanStatus(status)
	sc.StartedAt, sc.CompletedAt, sc.VulnUpdatedAt = fromTS(started), fromTS(completed), fromTS(updated)
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &sc.SeverityCounts); err != nil {
			return nil, fmt.Errorf("severity counts: %w", err)
		}
	}
	return &sc, nil
}

const imageScanQuery = `SELECT ` + imageScanColumns + `, findings FROM image_scans WHERE digest = $1`

func (s *Store) ImageScan(ctx context.Context, digest string) (*meta.ImageScan, error) {
	var findings []byte
	sc, err := scanImageScan(s.pool.QueryRow(ctx, imageScanQuery, digest), &findings)
	if errors.Is(err, pgx.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "image scan of "+digest, err)
	}
	if len(findings) > 0 {
		sc.Findings = findings
	}
	return sc, nil
}

const imageScansQuery = `SELECT ` + imageScanColumns + ` FROM image_scans WHERE digest = ANY($1)`

func (s *Store) ImageScans(ctx context.Context, digests []string) (map[string]*meta.ImageScan, error) {
	out := map[string]*meta.ImageScan{}
	if len(digests) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, imageScansQuery, digests)
	scans, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*meta.ImageScan, error) {
		return scanImageScan(row)
	})
	if err != nil {
		return nil, wrap(ctx, "image scans", err)
	}
	for _, sc := range scans {
		out[sc.Digest] = sc
	}
	return out, nil
}

// staleImageScansQuery repeats image_scans_stale's condition, so that the
// planner sees the partial index applies.
const staleImageScansQuery = `
	SELECT digest, vuln_version FROM image_scans
	WHERE status IN ('COMPLETE', 'FAILED') AND digest > $2 AND vuln_version < $1
	ORDER BY digest LIMIT $3`

func (s *Store) StaleImageScans(ctx context.Context, version int64, after string, limit int) ([]meta.StaleScan, error) {
	rows, _ := s.pool.Query(ctx, staleImageScansQuery, version, after, sqlLimit(limit))
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[meta.StaleScan])
	if err != nil {
		return nil, wrap(ctx, "stale image scans", err)
	}
	return out, nil
}
