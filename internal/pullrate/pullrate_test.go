package pullrate

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

type memCounter map[string]int64

func (m memCounter) CountPublicPull(_ context.Context, key string, window int64) (int64, error) {
	k := key + "@" + time.Duration(window).String()
	m[k]++
	return m[k], nil
}

func TestLimiter(t *testing.T) {
	start := time.Unix(1_200_000, 0) // a multiple of every window below
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	type pull struct {
		at        time.Duration // after start
		from      netip.Addr
		ok        bool
		retryWant time.Duration
	}
	for _, tc := range []struct {
		name  string
		rate  float64
		burst int
		pulls []pull
	}{
		{"one a second, bursts of two: two-second windows", 1, 2, []pull{
			{0, a, true, 0}, {0, a, true, 0}, {500 * time.Millisecond, a, false, 1500 * time.Millisecond},
			{0, b, true, 0}, // another source has its own allowance
			{2 * time.Second, a, true, 0},
		}},
		{"no burst: rate rounded up per second", 2.5, 0, []pull{
			{0, a, true, 0}, {0, a, true, 0}, {0, a, true, 0}, {0, a, false, 1200 * time.Millisecond},
		}},
		{"ten a second, bursts of one", 10, 1, []pull{
			{0, a, true, 0}, {50 * time.Millisecond, a, false, 50 * time.Millisecond}, {100 * time.Millisecond, a, true, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Time
			l := New(memCounter{}, tc.rate, tc.burst, func() time.Time { return now })
			for i, p := range tc.pulls {
				now = start.Add(p.at)
				ok, retry, err := l.Allow(t.Context(), p.from)
				if err != nil || ok != p.ok || retry != p.retryWant {
					t.Errorf("pull %d: %v, retry after %v, %v; want %v, %v", i, ok, retry, err, p.ok, p.retryWant)
				}
			}
		})
	}
	if New(memCounter{}, 0, 10, time.Now) != nil {
		t.Error("a rate of 0 limits something")
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := Key(netip.MustParseAddr(in)); got != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
}
