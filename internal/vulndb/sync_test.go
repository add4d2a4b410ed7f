package vulndb

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// TestSync: an import is due when none was loaded or the newest is older
// than the interval; the loop writes one keyed job for it, and the job
// imports its sources.
func TestSync(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	db, _ := newTestDB(t, Options{Now: func() time.Time { return now }})
	ctx := t.Context()

	var written []meta.NewJob
	opts := SyncOptions{Sources: []string{"testdata/osv/handwritten"}, Interval: time.Hour, Check: time.Millisecond,
		Enqueue: func(_ context.Context, js []meta.NewJob) error { written = append(written, js...); return nil }}
	due := func() bool {
		t.Helper()
		d, err := db.syncDue(ctx, opts.Interval)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if !due() {
		t.Fatal("no data loaded, and no sync due")
	}
	if err := db.askSync(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 || written[0].Queue != QueueSync || written[0].Key != "sync" {
		t.Fatalf("jobs written: %+v", written)
	}
	var p syncJob
	if err := json.Unmarshal(written[0].Payload, &p); err != nil || len(p.Sources) != 1 {
		t.Fatalf("payload %s: %v", written[0].Payload, err)
	}
	if err := db.RunSyncJob(ctx, &meta.Job{ID: 1, Queue: QueueSync, Payload: written[0].Payload}); err != nil {
		t.Fatalf("RunSyncJob: %v", err)
	}
	st, err := db.Status(ctx)
	if err != nil || len(st) == 0 {
		t.Fatalf("status after the sync: %+v, %v", st, err)
	}
	if due() {
		t.Error("a sync is due right after one")
	}
	now = now.Add(59 * time.Minute)
	if due() {
		t.Error("a sync is due before the interval passed")
	}
	now = now.Add(time.Minute)
	if !due() {
		t.Error("no sync due once the interval passed")
	}

	if err := db.RunSyncJob(ctx, &meta.Job{ID: 2, Queue: QueueSync, Payload: []byte(`{"sources":[]}`)}); err == nil {
		t.Error("a sync job without sources succeeded")
	}
	for _, tc := range []struct {
		check, interval, want time.Duration
	}{
		{time.Minute, 24 * time.Hour, time.Hour},
		{time.Minute, time.Hour, time.Minute * 5 / 2},
		{time.Minute, 10 * time.Second, time.Minute},
		{2 * time.Hour, 24 * time.Hour, time.Hour},
	} {
		if got := (SyncOptions{Check: tc.check, Interval: tc.interval}).every(); got != tc.want {
			t.Errorf("every(check %v, interval %v) = %v, want %v", tc.check, tc.interval, got, tc.want)
		}
	}
}
