package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// requestScanQuery records a request unless the same repository's request
// for the digest came after ?5 (the request's time less its window; NULL
// for no window). The upsert's WHERE is the check: a request it refuses
// returns no row and changes nothing.
const requestScanQuery = `
	INSERT INTO scan_requests (repo_id, digest, requested_at, trigger) VALUES (?1, ?2, ?3, ?4)
	ON CONFLICT (repo_id, digest) DO UPDATE SET requested_at = excluded.requested_at, trigger = excluded.trigger
		WHERE ?5 IS NULL OR scan_requests.requested_at <= ?5
	RETURNING 1`

func (s *Store) RequestScan(ctx context.Context, req meta.ScanRequest, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: request scan: %w", err)
	}
	if req.At.IsZero() {
		return errors.New("meta/sqlite: request scan: no time given")
	}
	var after sql.NullInt64
	if req.LimitWindow > 0 {
		after = sql.NullInt64{Int64: req.At.Add(-req.LimitWindow).UnixNano(), Valid: true}
	}
	return s.write(ctx, "request scan of "+req.Digest, func(tx *wtx) error {
		if err := repoExists(ctx, tx, req.RepoID); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, requestScanQuery, req.RepoID, req.Digest, req.At.UnixNano(), req.Trigger, after).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return meta.ErrScanLimit
		}
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

// scanRequested reads a request's columns, then the extra columns into
// extra.
func scanRequested(row interface{ Scan(...any) error }, extra ...any) (meta.ScanRequested, error) {
	var (
		r  meta.ScanRequested
		at int64
	)
	err := row.Scan(append([]any{&r.RepoID, &r.Digest, &at, &r.Trigger}, extra...)...)
	r.At = time.Unix(0, at).UTC()
	return r, err
}

// scanRequestsQuery reads a repository's requests for the digests in ?2, a
// JSON array: one parameter however many digests, so SQLite's limit on
// parameters never applies, and one seek each.
const scanRequestsQuery = `
	SELECT repo_id, digest, requested_at, trigger FROM scan_requests
	WHERE repo_id = ?1 AND digest IN (SELECT value FROM json_each(?2))`

func (s *Store) ScanRequests(ctx context.Context, repoID int64, digests []string) (map[string]meta.ScanRequested, error) {
	out := map[string]meta.ScanRequested{}
	if len(digests) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(digests)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: scan requests: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, scanRequestsQuery, repoID, string(arg))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: scan requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRequested(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: scan requests: %w", err)
		}
		out[r.Digest] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: scan requests: %w", err)
	}
	return out, nil
}

const requestsForDigestQuery = `
	SELECT q.repo_id, q.digest, q.requested_at, q.trigger, r.account, r.region, r.name
	FROM scan_requests q JOIN repositories r ON r.id = q.repo_id
	WHERE q.digest = ? ORDER BY q.repo_id`

func (s *Store) RequestsForDigest(ctx context.Context, digest string) ([]meta.ScanRequested, error) {
	rows, err := s.r.QueryContext(ctx, requestsForDigestQuery, digest)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: scan requests for %s: %w", digest, err)
	}
	defer rows.Close()
	var (
		out []meta.ScanRequested
		r0  meta.ScanRequested
	)
	for rows.Next() {
		r, err := scanRequested(rows, &r0.Registry.Account, &r0.Registry.Region, &r0.Repository)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: scan requests for %s: %w", digest, err)
		}
		r.Registry, r.Repository = r0.Registry, r0.Repository
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: scan requests for %s: %w", digest, err)
	}
	return out, nil
}

func (s *Store) PutImageScan(ctx context.Context, sc *meta.ImageScan, jobs []meta.NewJob) error {
	if err := meta.CheckJobs(jobs); err != nil {
		return fmt.Errorf("meta/sqlite: put image scan: %w", err)
	}
	if sc.Digest == "" {
		return errors.New("meta/sqlite: put image scan: no digest")
	}
	counts, err := severityCounts(sc.SeverityCounts)
	if err != nil {
		return fmt.Errorf("meta/sqlite: put image scan of %s: %w", sc.Digest, err)
	}
	return s.write(ctx, "put image scan of "+sc.Digest, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO image_scans (digest, status, description, started_at, completed_at,
				vuln_version, vuln_updated_at, severity_counts, findings)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (digest) DO UPDATE SET status = excluded.status, description = excluded.description,
				started_at = excluded.started_at, completed_at = excluded.completed_at,
				vuln_version = excluded.vuln_version, vuln_updated_at = excluded.vuln_updated_at,
				severity_counts = excluded.severity_counts, findings = excluded.findings`,
			sc.Digest, string(sc.Status), sc.Description, nanos(sc.StartedAt), nanos(sc.CompletedAt),
			sc.VulnVersion, nanos(sc.VulnUpdatedAt), counts, nullBytes(sc.Findings))
		if err != nil {
			return err
		}
		return insertJobs(ctx, tx, jobs, time.Time{})
	})
}

// severityCounts stores no counts as NULL.
func severityCounts(m map[string]int) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// imageScanColumns are a scan's columns but its findings.
const imageScanColumns = `digest, status, description, started_at, completed_at, vuln_version, vuln_updated_at, severity_counts`

// scanImageScan reads imageScanColumns, then the extra columns into extra.
func scanImageScan(row interface{ Scan(...any) error }, extra ...any) (*meta.ImageScan, error) {
	var (
		sc                          meta.ImageScan
		status                      string
		started, completed, updated sql.NullInt64
		counts                      sql.NullString
	)
	dest := append([]any{&sc.Digest, &status, &sc.Description, &started, &completed, &sc.VulnVersion, &updated, &counts}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	sc.Status = meta.ScanStatus(status)
	sc.StartedAt, sc.CompletedAt, sc.VulnUpdatedAt = fromNanos(started), fromNanos(completed), fromNanos(updated)
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &sc.SeverityCounts); err != nil {
			return nil, fmt.Errorf("severity counts: %w", err)
		}
	}
	return &sc, nil
}

const imageScanQuery = `SELECT ` + imageScanColumns + `, findings FROM image_scans WHERE digest = ?`

func (s *Store) ImageScan(ctx context.Context, digest string) (*meta.ImageScan, error) {
	var findings []byte
	sc, err := scanImageScan(s.queryRow(ctx, imageScanQuery, digest), &findings)
	if errors.Is(err, sql.ErrNoRows) {
		err = meta.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: image scan of %s: %w", digest, err)
	}
	if len(findings) > 0 {
		sc.Findings = findings
	}
	return sc, nil
}

// imageScansQuery reads the scans of the digests in ?1, a JSON array, as
// scanRequestsQuery does.
const imageScansQuery = `
	SELECT ` + imageScanColumns + ` FROM image_scans WHERE digest IN (SELECT value FROM json_each(?1))`

func (s *Store) ImageScans(ctx context.Context, digests []string) (map[string]*meta.ImageScan, error) {
	out := map[string]*meta.ImageScan{}
	if len(digests) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(digests)
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: image scans: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, imageScansQuery, string(arg))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: image scans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sc, err := scanImageScan(rows)
		if err != nil {
			return nil, fmt.Errorf("meta/sqlite: image scans: %w", err)
		}
		out[sc.Digest] = sc
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: image scans: %w", err)
	}
	return out, nil
}

// staleImageScansQuery repeats image_scans_stale's condition, so that
// SQLite sees the partial index applies.
const staleImageScansQuery = `
	SELECT digest, vuln_version FROM image_scans
	WHERE status IN ('COMPLETE', 'FAILED') AND digest > ?2 AND vuln_version < ?1
	ORDER BY digest LIMIT ?3`

func (s *Store) StaleImageScans(ctx context.Context, version int64, after string, limit int) ([]meta.StaleScan, error) {
	rows, err := s.r.QueryContext(ctx, staleImageScansQuery, version, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale image scans: %w", err)
	}
	defer rows.Close()
	var out []meta.StaleScan
	for rows.Next() {
		var sc meta.StaleScan
		if err := rows.Scan(&sc.Digest, &sc.VulnVersion); err != nil {
			return nil, fmt.Errorf("meta/sqlite: stale image scans: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meta/sqlite: stale image scans: %w", err)
	}
	return out, nil
}
