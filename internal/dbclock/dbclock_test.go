package dbclock

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// skewed is a database whose clock runs ahead by skew, answering after a
// round trip of rtt.
type skewed struct {
	skew, rtt time.Duration
	err       error
}

func (s skewed) Now(context.Context) (time.Time, error) {
	if s.err != nil {
		return time.Time{}, s.err
	}
	time.Sleep(s.rtt / 2)
	t := time.Now().Add(s.skew)
	time.Sleep(s.rtt / 2)
	return t, nil
}

func TestClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, skew := range []time.Duration{0, 90 * time.Second, -2 * time.Hour} {
		c := New(t.Context(), skewed{skew: skew, rtt: 20 * time.Millisecond}, log)
		// Within half the round trip, and a margin for a busy machine.
		if d := c.Now().Sub(time.Now().Add(skew)); d < -50*time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("skew %v: Now is %v off the database's clock", skew, d)
		}
	}
	c := New(t.Context(), skewed{err: errors.New("down")}, log)
	if c.Offset() != 0 {
		t.Errorf("a source that cannot be read: offset %v, want the local clock", c.Offset())
	}
	// Run takes up a change of the source's clock.
	c = New(t.Context(), skewed{skew: time.Minute}, log)
	c.src = skewed{skew: 2 * time.Minute}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { c.Run(ctx, time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for c.Offset() < 2*time.Minute-time.Second && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if c.Offset() < 2*time.Minute-time.Second {
		t.Errorf("after Run: offset %v, want about 2m", c.Offset())
	}
}
