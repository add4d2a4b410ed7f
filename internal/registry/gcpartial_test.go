package registry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/blob"
)

// sweepingStore notes the cutoffs garbage collection asks it to abort
// unfinished writes before, and answers with aborted and err.
type sweepingStore struct {
	blob.Store
	cutoffs []time.Time
	aborted int
	err     error
}

func (s *sweepingStore) AbortPartialWrites(ctx context.Context, before time.Time) (int, error) {
	s.cutoffs = append(s.cutoffs, before)
	return s.aborted, s.err
}

// TestGCAbortsPartialWrites: a collection asks a store that can for the
// unfinished writes begun a day ago, or a grace period ago when that is
// longer, reports how many it aborted, and goes on when the store cannot
// list them.
func TestGCAbortsPartialWrites(t *testing.T) {
	ctx := context.Background()
	s, clk, _, _ := newGCService(t)
	sw := &sweepingStore{Store: s.blobs, aborted: 2}
	s.blobs = sw
	now := clk.now()

	for _, tc := range []struct {
		grace time.Duration
		want  time.Time
	}{
		{testGrace, now.Add(-24 * time.Hour)},
		{0, now.Add(-24 * time.Hour)},
		{72 * time.Hour, now.Add(-72 * time.Hour)},
	} {
		sw.cutoffs = nil
		rep, err := s.CollectGarbage(ctx, tc.grace)
		if err != nil {
			t.Fatalf("grace %v: %v", tc.grace, err)
		}
		if len(sw.cutoffs) != 1 || !sw.cutoffs[0].Equal(tc.want) {
			t.Errorf("grace %v: asked to abort writes begun before %v, want once before %v", tc.grace, sw.cutoffs, tc.want)
		}
		if rep.PartialWritesAborted != 2 {
			t.Errorf("grace %v: report says %d partial writes aborted, want 2", tc.grace, rep.PartialWritesAborted)
		}
	}

	sw.aborted, sw.err = 0, errors.New("NotImplemented")
	pushBlob(t, s, "app", []byte("loose"))
	clk.set(now.Add(testGrace + time.Minute))
	rep, err := s.CollectGarbage(ctx, testGrace)
	if err != nil {
		t.Fatalf("a store that cannot list its unfinished writes fails the collection: %v", err)
	}
	if rep.BlobsDeleted != 1 {
		t.Fatalf("report %+v: want the loose blob deleted all the same", rep)
	}
}
