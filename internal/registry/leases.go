package registry

import (
	"context"
	"time"
)

// Leases let one node at a time do a job across a deployment (a GC run, a
// repository's lifecycle run, an append to an upload). They are measured
// by the lease clock (Options.LeaseClock: the database's, on shared
// stores) and renewed while the job runs, so that a short TTL bounds how
// long a node that died keeps the others waiting, however long a job of a
// live node takes.

// leaseNow is the time leases are measured by.
func (s *Service) leaseNow() time.Time {
	if s.opts.LeaseClock != nil {
		return s.opts.LeaseClock()
	}
	return s.now()
}

// holdLease takes lease name for holder, and keeps renewing it every ttl/3
// until release is called. ok is false, with no error, when another holder
// has it.
func (s *Service) holdLease(ctx context.Context, name, holder string, ttl time.Duration) (release func(), ok bool, err error) {
	ok, err = s.meta.AcquireLease(ctx, name, holder, s.leaseNow(), ttl)
	if err != nil || !ok {
		return nil, ok, err
	}
	stop, renewed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := s.meta.AcquireLease(context.WithoutCancel(ctx), name, holder, s.leaseNow(), ttl); err != nil {
					s.log.WarnContext(ctx, "renew lease", "lease", name, "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-renewed
		if err := s.meta.ReleaseLease(context.WithoutCancel(ctx), name, holder); err != nil {
			s.log.WarnContext(ctx, "release lease", "lease", name, "err", err)
		}
	}, true, nil
}
