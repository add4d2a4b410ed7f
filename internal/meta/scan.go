package meta

import (
	"context"
	"errors"
	"time"
)

// Image scans. A scan belongs to an image digest, not to a repository: the
// same bytes have the same packages, so one scan serves every repository
// and tag that holds the digest. What belongs to a repository is the
// request: a push that asked for a scan (scan on push), a StartImageScan,
// a continuous rescan. ECR shows an image's scan status only where a scan
// was requested for it, and allows one request per image per 24 hours; the
// request records carry both.

// ScanStatus is where an image's scan stands, in ECR's words.
type ScanStatus string

const (
	ScanInProgress       ScanStatus = "IN_PROGRESS"
	ScanComplete         ScanStatus = "COMPLETE"
	ScanFailed           ScanStatus = "FAILED"
	ScanUnsupportedImage ScanStatus = "UNSUPPORTED_IMAGE"
)

// ErrScanLimit is returned by RequestScan when the repository's image had a
// scan requested within the limit's window.
var ErrScanLimit = errors.New("meta: scan limit exceeded")

// ImageScan is the latest scan of an image digest.
type ImageScan struct {
	Digest      string
	Status      ScanStatus
	Description string
	// StartedAt is when the scan was asked for; CompletedAt when it ended
	// (zero while in progress).
	StartedAt   time.Time
	CompletedAt time.Time
	// VulnVersion is the vulnerability data version the findings were
	// matched against (VulnVersion.Version), so that continuous scanning
	// knows which scans the data has moved past; VulnUpdatedAt is that
	// data's last change (ECR's vulnerabilitySourceUpdatedAt).
	VulnVersion   int64
	VulnUpdatedAt time.Time
	// SeverityCounts is the number of findings per ECR severity.
	SeverityCounts map[string]int
	// Findings is the domain's encoding of the findings, opaque to the
	// store. ImageScans leaves it nil.
	Findings []byte
}

// ScanRequest is a repository asking for a scan of one of its images.
type ScanRequest struct {
	RepoID int64
	Digest string
	At     time.Time
	// Trigger says who asked: "push", "manual" or "continuous".
	Trigger string
	// LimitWindow, when positive, refuses the request with ErrScanLimit if
	// a request for the same repository and digest was recorded less than
	// LimitWindow before At (ECR's once per image per 24 hours).
	LimitWindow time.Duration
}

// ScanRequested is the latest request of a repository's image.
type ScanRequested struct {
	RepoID  int64
	Digest  string
	At      time.Time
	Trigger string
	// Registry and Repository name the repository; RequestsForDigest sets
	// them (its callers know only the digest), ScanRequests does not.
	Registry   RegistryKey
	Repository string
}

// StaleScan is a finished scan the vulnerability data has moved past.
type StaleScan struct {
	Digest      string
	VulnVersion int64
}

// ScanStore keeps image scans and the requests for them.
type ScanStore interface {
	// RequestScan records req and writes jobs in one transaction; with a
	// LimitWindow it first checks the window (ErrScanLimit, nothing
	// written). The repository must exist (ErrRepositoryUnknown). A
	// request replaces the repository's earlier one for the digest. req.At
	// must be set. The jobs are written as a change's are (see JobStore):
	// checked with CheckJobs, stamped with the store's clock, a job whose
	// Key is taken dropped.
	RequestScan(ctx context.Context, req ScanRequest, jobs []NewJob) error
	// ScanRequests returns the latest request of each of digests in
	// repository repoID that has one, by digest (an empty map when none
	// has).
	ScanRequests(ctx context.Context, repoID int64, digests []string) (map[string]ScanRequested, error)
	// RequestsForDigest returns every repository's latest request for
	// digest (continuous scanning asks which repositories hold it), in
	// RepoID order, with the repositories' names. A deleted repository's
	// requests go with it.
	RequestsForDigest(ctx context.Context, digest string) ([]ScanRequested, error)

	// PutImageScan records the scan of s.Digest, replacing the one before,
	// and writes jobs in the same transaction (a finished scan's event),
	// as RequestScan writes its jobs; s.Digest must be set.
	PutImageScan(ctx context.Context, s *ImageScan, jobs []NewJob) error
	// ImageScan returns the scan of digest with its findings, or
	// ErrNotFound.
	ImageScan(ctx context.Context, digest string) (*ImageScan, error)
	// ImageScans returns the scans of digests that have one, by digest,
	// without their findings (an empty map when none has).
	ImageScans(ctx context.Context, digests []string) (map[string]*ImageScan, error)
	// StaleImageScans returns up to limit finished scans matched against
	// vulnerability data older than version, in digest order, starting
	// after the digest after ("" starts at the first): a walk page by page
	// sees every stale scan once, however many of them nothing rescans.
	// Finished means COMPLETE or FAILED: an UNSUPPORTED_IMAGE scan stays
	// unsupported whatever the data, and one IN_PROGRESS is not finished.
	// A limit <= 0 means no limit.
	StaleImageScans(ctx context.Context, version int64, after string, limit int) ([]StaleScan, error)
}
