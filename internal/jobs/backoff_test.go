package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt   int
		base, max time.Duration
		jitter    float64
		want      time.Duration
	}{
		{1, time.Second, 10 * time.Minute, 0, time.Second},
		{2, time.Second, 10 * time.Minute, 0, 2 * time.Second},
		{5, time.Second, 10 * time.Minute, 0, 16 * time.Second},
		{10, time.Second, 10 * time.Minute, 0, 512 * time.Second},
		{11, time.Second, 10 * time.Minute, 0, 10 * time.Minute},
		{1000, time.Second, 10 * time.Minute, 0, 10 * time.Minute}, // no overflow
		{1, time.Second, 10 * time.Minute, 0.5, 750 * time.Millisecond},
		{3, time.Second, 10 * time.Minute, 0.999, 2002 * time.Millisecond},
		{1, time.Hour, time.Minute, 0, time.Minute}, // base above the ceiling
		{0, time.Second, time.Minute, 0, time.Second},
	} {
		t.Run(fmt.Sprintf("%d/%v/%v/%v", tc.attempt, tc.base, tc.max, tc.jitter), func(t *testing.T) {
			if got := backoff(tc.attempt, tc.base, tc.max, tc.jitter); got != tc.want {
				t.Errorf("backoff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad payload")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"plain", base, false},
		{"permanent", Permanent(base), true},
		{"wrapped permanent", fmt.Errorf("scan: %w", Permanent(base)), true},
	} {
		if got := isPermanent(tc.err); got != tc.want {
			t.Errorf("%s: isPermanent = %v, want %v", tc.name, got, tc.want)
		}
		if !errors.Is(tc.err, base) {
			t.Errorf("%s: the cause is lost", tc.name)
		}
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
}
