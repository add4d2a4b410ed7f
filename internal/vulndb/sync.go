package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Keeping the data fresh where a network exists (berth serve
// --vulndb-sync): every node checks now and then whether an import is due —
// none was ever loaded, or the newest is older than the interval — and, if
// so, writes an import job keyed so that one waits at a time across nodes.
// Whichever node claims it imports; a failed import is retried by the job
// runner, and asked for again at a later check. The import replaces what it
// holds for every node at once (Import), and the data's version tells the
// scanners.

// QueueSync is the queue of scheduled imports.
const QueueSync = "vulndb-sync"

// syncJob is a QueueSync job's payload.
type syncJob struct {
	Sources []string `json:"sources"`
}

// SyncOptions schedule imports.
type SyncOptions struct {
	// Sources are Import's, usually one URL.
	Sources []string
	// Interval is how old the newest import may grow before another is due.
	Interval time.Duration
	// Check is how often a node looks; the loop looks at most hourly and
	// at least every Interval/24, so that a long interval is not missed by
	// much and a failing source is not asked every minute.
	Check time.Duration
	// Enqueue writes jobs to the outbox (meta.JobStore.EnqueueJobs with
	// the store's clock).
	Enqueue func(ctx context.Context, jobs []meta.NewJob) error
}

func (o SyncOptions) every() time.Duration {
	return min(max(o.Check, o.Interval/24), time.Hour)
}

// SyncLoop asks for an import of opts.Sources whenever one is due, until
// ctx ends.
func (db *DB) SyncLoop(ctx context.Context, opts SyncOptions) {
	for {
		due, err := db.syncDue(ctx, opts.Interval)
		if err == nil && due {
			err = db.askSync(ctx, opts)
		}
		if err != nil && ctx.Err() == nil {
			db.log.Warn("vulnerability data sync", "sources", opts.Sources, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(opts.every()):
		}
	}
}

// syncDue tells whether the newest import is older than interval, or
// there is none.
func (db *DB) syncDue(ctx context.Context, interval time.Duration) (bool, error) {
	ecos, err := db.Status(ctx)
	if err != nil {
		return false, err
	}
	var newest time.Time
	for _, e := range ecos {
		if e.LoadedAt.After(newest) {
			newest = e.LoadedAt
		}
	}
	return newest.IsZero() || db.now().Sub(newest) >= interval, nil
}

func (db *DB) askSync(ctx context.Context, opts SyncOptions) error {
	if opts.Enqueue == nil {
		return errors.New("no job writer")
	}
	payload, err := json.Marshal(syncJob{Sources: opts.Sources})
	if err != nil {
		return err
	}
	return opts.Enqueue(ctx, []meta.NewJob{{Queue: QueueSync, Key: "sync", Payload: payload}})
}

// RunSyncJob is QueueSync's job handler: it imports the job's sources.
func (db *DB) RunSyncJob(ctx context.Context, j *meta.Job) error {
	var p syncJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || len(p.Sources) == 0 {
		// Tried again a few times by the runner and then given up; the
		// next due check writes a good one.
		return fmt.Errorf("vulndb sync job %d: unreadable payload %q: %v", j.ID, j.Payload, err)
	}
	rep, err := db.Import(ctx, p.Sources...)
	if err != nil {
		return err
	}
	records := 0
	for _, e := range rep.Ecosystems {
		records += e.Records
	}
	db.log.Info("vulnerability data synced", "sources", p.Sources, "ecosystems", len(rep.Ecosystems), "records", records,
		"took", rep.Duration.Round(time.Millisecond))
	return nil
}
