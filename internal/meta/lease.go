package meta

import (
	"context"
	"time"
)

// LeaseStore lets one node at a time do a job across a deployment.
type LeaseStore interface {
	// AcquireLease takes, or renews, lease name for holder until now+ttl,
	// unless another holder has it until after now; it reports whether
	// holder has it.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives up holder's lease; one not held is not an error.
	ReleaseLease(ctx context.Context, name, holder string) error
}
