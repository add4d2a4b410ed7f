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
	// Now is the store's clock: the database server's, for a store that
	// several nodes share, so that they measure leases by one clock
	// whatever their own clocks say (package dbclock keeps a node's
	// reading of it).
	Now(ctx context.Context) (time.Time, error)
}
