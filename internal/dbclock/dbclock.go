// Package dbclock keeps a node's reading of its database's clock, so that
// the nodes of a deployment measure leases (GC, lifecycle, jobs, upload
// locks) by one clock even when their own clocks disagree. It reads the
// database now and then and serves this node's clock corrected by the
// offset it measured, without a round trip per reading.
package dbclock

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Source is a clock to follow: meta.LeaseStore's Now.
type Source interface {
	Now(ctx context.Context) (time.Time, error)
}

// Clock is this node's clock plus the offset last measured to the source.
type Clock struct {
	src    Source
	log    *slog.Logger
	offset atomic.Int64 // nanoseconds to add to the local clock
	local  func() time.Time
}

// New measures the offset once and returns the clock; Run keeps it up to
// date. A source that cannot be read now leaves the offset at zero (the
// local clock) until it can.
func New(ctx context.Context, src Source, log *slog.Logger) *Clock {
	if log == nil {
		log = slog.Default()
	}
	c := &Clock{src: src, log: log, local: time.Now}
	if err := c.Measure(ctx); err != nil {
		log.WarnContext(ctx, "read the database's clock; using this node's until it can be read", "err", err)
	}
	return c
}

// Now is the source's time, as this node best knows it.
func (c *Clock) Now() time.Time {
	return c.local().Add(time.Duration(c.offset.Load()))
}

// Offset is what Now adds to this node's clock.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Measure reads the source once and takes the offset from the middle of
// the round trip, which puts it within half the round trip of the truth.
func (c *Clock) Measure(ctx context.Context) error {
	before := c.local()
	remote, err := c.src.Now(ctx)
	if err != nil {
		return err
	}
	after := c.local()
	mid := before.Add(after.Sub(before) / 2)
	c.offset.Store(int64(remote.Sub(mid)))
	return nil
}

// Run measures the offset every interval until ctx ends.
func (c *Clock) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.Measure(ctx); err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "read the database's clock; keeping the last offset", "err", err, "offset", c.Offset())
		}
	}
}
