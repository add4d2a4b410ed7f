package meta

import (
	"context"
	"time"
)

// ReplicationState is where one image's replication to one destination
// is, in ECR's words (DescribeImageReplicationStatus).
type ReplicationState string

const (
	ReplicationInProgress ReplicationState = "IN_PROGRESS"
	ReplicationComplete   ReplicationState = "COMPLETE"
	ReplicationFailed     ReplicationState = "FAILED"
)

// ReplicationStatus is the state of one image's replication to one
// destination registry.
type ReplicationStatus struct {
	// RepoID and Digest name the source image.
	RepoID int64
	Digest string
	// Destination is the registry the image is replicated to.
	Destination RegistryKey
	State       ReplicationState
	// Failure says why the last attempt failed: set with
	// ReplicationFailed, empty otherwise.
	Failure   string
	UpdatedAt time.Time
}

// ReplicationStore keeps the state of images' replications. A status
// belongs to its image: it goes when the manifest is deleted, and one for
// a manifest that is not in its repository is not written.
type ReplicationStore interface {
	// StartReplications records statuses and writes jobs in one
	// transaction: the jobs that will replicate an image exist if and only
	// if its statuses say so. Statuses of manifests that are gone are
	// skipped; the jobs are written all the same (a job finds the image
	// gone and ends).
	StartReplications(ctx context.Context, statuses []ReplicationStatus, jobs []NewJob) error
	// PutReplicationStatus records one status, replacing the destination's
	// previous one; it does nothing when the manifest is gone.
	PutReplicationStatus(ctx context.Context, st ReplicationStatus) error
	// ReplicationStatuses returns an image's statuses, ordered by the
	// destination's region, then account.
	ReplicationStatuses(ctx context.Context, repoID int64, digest string) ([]ReplicationStatus, error)
}
