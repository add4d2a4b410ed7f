// Package pullrate limits the public host's anonymous pulls per source
// address with fixed-window counters kept in the metadata store, so that
// every node sharing the store counts together: a source cannot multiply
// its allowance by the number of nodes behind the load balancer.
package pullrate

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Counter adds one to a key's counter in a numbered window and returns the
// new count, atomically across nodes (meta.PublicStore).
type Counter interface {
	CountPublicPull(ctx context.Context, key string, window int64) (int64, error)
}

// Limiter allows each source burst pulls per window of burst/rate seconds:
// rate pulls a second on average, burst at once. Fixed windows are one row
// per source and window, at the cost of letting a source pull up to twice
// burst across the boundary of two windows.
type Limiter struct {
	counter Counter
	limit   int64
	window  time.Duration
	now     func() time.Time
}

// New returns a limiter of rate pulls a second with bursts of burst (at
// least one; a burst below one is rate rounded up), reading time from now
// (the database's clock, so that nodes agree on the windows). A rate of
// zero or less limits nothing: New returns nil.
func New(counter Counter, rate float64, burst int, now func() time.Time) *Limiter {
	if rate <= 0 {
		return nil
	}
	limit := int64(burst)
	if limit < 1 {
		limit = int64(math.Ceil(rate))
	}
	window := time.Duration(float64(limit) / rate * float64(time.Second))
	window = max(window, time.Millisecond)
	return &Limiter{counter: counter, limit: limit, window: window, now: now}
}

// Key is the counter a source address counts against: the address itself,
// or for IPv6 its /64, which one host or home network is given whole.
func Key(ip netip.Addr) string {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// Allow counts one pull from source and reports whether it is within the
// limit; when it is not, also how long until the next window.
func (l *Limiter) Allow(ctx context.Context, source netip.Addr) (bool, time.Duration, error) {
	now := l.now()
	win := now.UnixNano() / int64(l.window)
	n, err := l.counter.CountPublicPull(ctx, Key(source), win)
	if err != nil {
		return false, 0, fmt.Errorf("pull rate: %w", err)
	}
	if n <= l.limit {
		return true, 0, nil
	}
	return false, time.Duration((win+1)*int64(l.window) - now.UnixNano()), nil
}
