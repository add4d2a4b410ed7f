package registry

// Online garbage collection, while pushes and pulls go on. One run:
//
//  1. finishes the blob deletions a collector that stopped left half done;
//  2. removes the links of repositories to blobs that no manifest of the
//     repository references, once the link is older than the grace period
//     (a link is stamped when made, made again, and when the last manifest
//     of the repository referencing the blob is deleted: a push in flight
//     links its blobs before its manifest arrives, and the grace period is
//     how long it has to send it);
//  3. deletes the blobs no repository links and no manifest references,
//     pushed longer ago than the grace period: first their metadata record,
//     in a transaction that checks all of that again and marks the digest
//     as being deleted, then their bytes, then it marks the deletion done;
//  4. deletes the files of the blob store that have no metadata record and
//     are older than the grace period: what a crash between an upload's
//     commit and its metadata write leaves behind; and, on a store that can
//     (an object store's multipart uploads), aborts the writes of blobs a
//     crash left unfinished, once they are older than the grace period and
//     a day (a blob's single write can take hours; none takes a day);
//  5. reports what the repositories hold, referenced and not.
//
// An upload in flight never loses its blob: its bytes stay in staging
// (which the collector never touches) until finish; finish first records
// on the upload session the digest it is about to commit (reserveBlob),
// which the collector's claim checks, then commits the bytes, then
// CompleteUpload deletes the session and records and links the blob in one
// transaction. If the collector claimed the digest first, reserveBlob waits
// for the deletion to end, and the commit then writes the bytes anew. A
// commit onto bytes that are already there is a no-op: without the
// reservation, the collector could delete those bytes between the commit
// and CompleteUpload.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/metrics"
)

const (
	gcLease = "gc"
	// gcLeaseTTL bounds how long a node that died mid-run keeps the others
	// from collecting; a live node renews it while it collects.
	gcLeaseTTL = 2 * time.Minute
	gcPage     = 500
	// deletionStaleAfter is when a claimed deletion that never finished is
	// taken to be abandoned: the collector deletes one blob's bytes right
	// after claiming it.
	deletionStaleAfter = time.Minute
	// commitWait bounds how long an upload waits for a deletion of its
	// digest to finish.
	commitWait = 30 * time.Second
	// partialWriteMinAge is the least age of an unfinished blob write that
	// the collector aborts, whatever the grace period: a write in progress
	// on another node may be slow, never this slow.
	partialWriteMinAge = 24 * time.Hour
)

// GCReport is what one garbage collection run did and found.
type GCReport struct {
	StartedAt time.Time
	Duration  time.Duration
	// Busy is set when another node was collecting: this run did nothing.
	Busy bool
	// Links removed, and the sizes of their blobs.
	LinksRemoved     int
	LinkBytesRemoved int64
	// Blobs deleted because nothing links or references them.
	BlobsDeleted     int
	BlobBytesDeleted int64
	// Files deleted because they had no metadata record.
	OrphansDeleted     int
	OrphanBytesDeleted int64
	// Unfinished writes of blobs aborted (S3 multipart uploads a crash
	// left behind).
	PartialWritesAborted int
	// What the blob store holds after the run (when it can be walked).
	StoreBlobs int
	StoreBytes int64
	// What each repository links after the run.
	Usage []meta.RepositoryUsage
}

// ReferencedBytes and ReclaimableBytes sum Usage.
func (r *GCReport) ReferencedBytes() int64 {
	var n int64
	for _, u := range r.Usage {
		n += u.ReferencedBytes
	}
	return n
}

func (r *GCReport) ReclaimableBytes() int64 {
	var n int64
	for _, u := range r.Usage {
		n += u.UnreferencedBytes
	}
	return n
}

// CollectGarbage runs garbage collection once, with the given grace period.
func (s *Service) CollectGarbage(ctx context.Context, grace time.Duration) (*GCReport, error) {
	unlock := s.jobLocks.lock(gcLease)
	defer unlock()
	rep := &GCReport{StartedAt: s.now().UTC()}
	release, got, err := s.holdLease(ctx, gcLease, s.node, gcLeaseTTL)
	if err != nil {
		s.gm.runs.Inc("error")
		return nil, fmt.Errorf("gc lease: %w", err)
	}
	if !got {
		s.gm.runs.Inc("busy")
		rep.Busy = true
		return rep, nil
	}
	defer release()
	start := time.Now()
	if err := s.collect(ctx, grace, rep); err != nil {
		s.gm.runs.Inc("error")
		return nil, err
	}
	rep.Duration = time.Since(start)
	s.gm.runs.Inc("ok")
	s.gm.lastRun.Set(float64(rep.StartedAt.UnixMilli()) / 1000)
	s.gm.lastDuration.Set(rep.Duration.Seconds())
	s.log.InfoContext(ctx, "garbage collection",
		"links_removed", rep.LinksRemoved, "link_bytes_removed", rep.LinkBytesRemoved,
		"blobs_deleted", rep.BlobsDeleted, "blob_bytes_deleted", rep.BlobBytesDeleted,
		"orphans_deleted", rep.OrphansDeleted, "orphan_bytes_deleted", rep.OrphanBytesDeleted,
		"partial_writes_aborted", rep.PartialWritesAborted,
		"referenced_bytes", rep.ReferencedBytes(), "reclaimable_bytes", rep.ReclaimableBytes(),
		"store_blobs", rep.StoreBlobs, "store_bytes", rep.StoreBytes,
		"grace", grace, "duration", rep.Duration)
	return rep, nil
}

// GCLoop collects garbage every interval, until ctx ends.
func (s *Service) GCLoop(ctx context.Context, every, grace time.Duration) {
	for {
		if _, err := s.CollectGarbage(ctx, grace); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "garbage collection failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (s *Service) collect(ctx context.Context, grace time.Duration, rep *GCReport) error {
	now := s.now()
	before := now.Add(-grace)

	pending, err := s.meta.PendingBlobDeletions(ctx, now.Add(-deletionStaleAfter))
	if err != nil {
		return fmt.Errorf("pending blob deletions: %w", err)
	}
	for _, d := range pending {
		if err := s.deleteClaimed(ctx, d); err != nil {
			return err
		}
	}

	if err := s.removeStaleLinks(ctx, before, rep); err != nil {
		return err
	}
	if err := s.deleteUnreferencedBlobs(ctx, before, rep); err != nil {
		return err
	}
	if err := s.deleteOrphans(ctx, before, rep); err != nil {
		return err
	}
	s.abortPartialWrites(ctx, now.Add(-max(grace, partialWriteMinAge)), rep)
	if _, err := s.meta.PruneBlobDeletions(ctx, before); err != nil {
		return fmt.Errorf("prune blob deletions: %w", err)
	}

	usage, err := s.meta.BlobUsage(ctx)
	if err != nil {
		return fmt.Errorf("blob usage: %w", err)
	}
	rep.Usage = usage
	s.gm.referenced.Replace(func(set func(float64, ...string)) {
		for _, u := range usage {
			set(float64(u.ReferencedBytes), u.Registry.Account, u.Registry.Region, u.Repository)
		}
	})
	s.gm.reclaimable.Replace(func(set func(float64, ...string)) {
		for _, u := range usage {
			set(float64(u.UnreferencedBytes), u.Registry.Account, u.Registry.Region, u.Repository)
		}
	})
	return nil
}

// abortPartialWrites removes what unfinished blob writes begun before
// before left in the store, where the store can. A failure is logged, not
// returned: it costs storage, never correctness, and some S3-compatible
// servers do not list multipart uploads at all.
func (s *Service) abortPartialWrites(ctx context.Context, before time.Time, rep *GCReport) {
	sw, ok := s.blobs.(blob.PartialWriteSweeper)
	if !ok {
		return
	}
	n, err := sw.AbortPartialWrites(ctx, before)
	rep.PartialWritesAborted = n
	if err != nil {
		s.log.WarnContext(ctx, "gc: abort unfinished blob writes", "err", err, "aborted", n)
		return
	}
	if n > 0 {
		s.log.InfoContext(ctx, "gc: aborted unfinished blob writes a crash left", "count", n, "begun_before", before)
	}
}

func (s *Service) removeStaleLinks(ctx context.Context, before time.Time, rep *GCReport) error {
	var afterRepo int64
	afterDigest := ""
	for {
		links, err := s.meta.StaleBlobLinks(ctx, before, afterRepo, afterDigest, gcPage)
		if err != nil {
			return fmt.Errorf("stale blob links: %w", err)
		}
		for _, l := range links {
			ok, err := s.meta.RemoveStaleBlobLink(ctx, l.RepoID, l.Digest, before)
			if err != nil {
				return fmt.Errorf("remove link of %s to %s: %w", l.Repository, l.Digest, err)
			}
			if !ok {
				continue // linked again, or referenced, since it was listed
			}
			rep.LinksRemoved++
			rep.LinkBytesRemoved += l.Size
			s.gm.reclaimed.Add(float64(l.Size), l.Registry.Account, l.Registry.Region, l.Repository)
			s.log.DebugContext(ctx, "gc: removed stale blob link", "registry", l.Registry.Account, "region", l.Registry.Region,
				"repository", l.Repository, "digest", l.Digest, "size", l.Size, "linked_at", l.LinkedAt)
		}
		if len(links) < gcPage {
			return nil
		}
		afterRepo, afterDigest = links[len(links)-1].RepoID, links[len(links)-1].Digest
	}
}

func (s *Service) deleteUnreferencedBlobs(ctx context.Context, before time.Time, rep *GCReport) error {
	after := ""
	for {
		blobs, err := s.meta.UnreferencedBlobs(ctx, before, after, gcPage)
		if err != nil {
			return fmt.Errorf("unreferenced blobs: %w", err)
		}
		ds := make([]string, len(blobs))
		for i, b := range blobs {
			ds[i] = b.Digest
		}
		deleted, err := s.deleteBlobs(ctx, ds)
		if err != nil {
			return err
		}
		for i, b := range blobs {
			if deleted[i] {
				rep.BlobsDeleted++
				rep.BlobBytesDeleted += b.Size
				s.gm.deleted.Inc("unreferenced")
				s.gm.deletedBytes.Add(float64(b.Size), "unreferenced")
			}
		}
		if len(blobs) < gcPage {
			return nil
		}
		after = blobs[len(blobs)-1].Digest
	}
}

// deleteOrphans walks the blob store for files without a metadata record,
// a batch at a time. A store that cannot tell a file's age keeps them.
func (s *Service) deleteOrphans(ctx context.Context, before time.Time, rep *GCReport) error {
	type file struct {
		d    digest.Digest
		size int64
	}
	mt, canAge := s.blobs.(blob.ModTimer)
	var batch []file
	flush := func() error {
		defer func() { batch = batch[:0] }()
		if !canAge || len(batch) == 0 {
			return nil
		}
		digests := make([]string, len(batch))
		for i, f := range batch {
			digests[i] = f.d.String()
		}
		known, err := s.meta.RecordedBlobs(ctx, digests)
		if err != nil {
			return fmt.Errorf("recorded blobs: %w", err)
		}
		for _, f := range batch {
			if known[f.d.String()] {
				continue
			}
			written, err := mt.ModTime(ctx, f.d)
			if errors.Is(err, blob.ErrNotFound) {
				rep.StoreBlobs--
				rep.StoreBytes -= f.size
				continue
			}
			if err != nil {
				return fmt.Errorf("age of %s: %w", f.d, err)
			}
			if !written.Before(before) {
				continue
			}
			ok, err := s.deleteBlob(ctx, f.d.String())
			if err != nil {
				return err
			}
			if !ok {
				continue // recorded, linked or committing since
			}
			rep.OrphansDeleted++
			rep.OrphanBytesDeleted += f.size
			rep.StoreBlobs--
			rep.StoreBytes -= f.size
			s.gm.deleted.Inc("orphan")
			s.gm.deletedBytes.Add(float64(f.size), "orphan")
			s.log.InfoContext(ctx, "gc: deleted a blob file that had no metadata record", "digest", f.d, "size", f.size, "written", written)
		}
		return nil
	}
	err := s.blobs.Walk(ctx, func(d digest.Digest, size int64) error {
		rep.StoreBlobs++
		rep.StoreBytes += size
		batch = append(batch, file{d, size})
		if len(batch) < gcPage {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("walk blob store: %w", err)
	}
	s.gm.storeBlobs.Set(float64(rep.StoreBlobs))
	s.gm.storeBytes.Set(float64(rep.StoreBytes))
	return nil
}

// deleteBlobs deletes a page of blobs as deleteBlob does, each claimed
// first; a store that can (blob.BatchDeleter) deletes the claimed ones'
// bytes in one batch. It reports which it deleted. A claim holds back a
// push of the same digest until the deletion is recorded, so a batch is
// one page (gcPage), quick to delete.
func (s *Service) deleteBlobs(ctx context.Context, ds []string) ([]bool, error) {
	deleted := make([]bool, len(ds))
	bd, batch := s.blobs.(blob.BatchDeleter)
	if !batch {
		for i, d := range ds {
			ok, err := s.deleteBlob(ctx, d)
			if err != nil {
				return deleted, err
			}
			deleted[i] = ok
		}
		return deleted, nil
	}
	var claimed []digest.Digest
	for i, d := range ds {
		ok, err := s.meta.ClaimBlobDeletion(ctx, d, s.now())
		if err != nil {
			// Those claimed stay claimed until the next run finishes them
			// (PendingBlobDeletions).
			return deleted, fmt.Errorf("claim deletion of %s: %w", d, err)
		}
		if ok {
			claimed = append(claimed, digest.Digest(d))
			deleted[i] = true
		}
	}
	if len(claimed) == 0 {
		return deleted, nil
	}
	// Once claimed the bytes go, even if the context ends.
	wctx := context.WithoutCancel(ctx)
	if err := bd.DeleteBlobs(wctx, claimed); err != nil {
		return make([]bool, len(ds)), fmt.Errorf("delete %d blobs: %w", len(claimed), err)
	}
	for _, d := range claimed {
		if err := s.meta.FinishBlobDeletion(wctx, d.String()); err != nil {
			return deleted, fmt.Errorf("record deletion of %s: %w", d, err)
		}
	}
	return deleted, nil
}

// deleteBlob claims a blob's deletion, then deletes its bytes. It reports
// false when the claim found the blob in use.
func (s *Service) deleteBlob(ctx context.Context, d string) (bool, error) {
	ok, err := s.meta.ClaimBlobDeletion(ctx, d, s.now())
	if err != nil {
		return false, fmt.Errorf("claim deletion of %s: %w", d, err)
	}
	if !ok {
		return false, nil
	}
	return true, s.deleteClaimed(ctx, d)
}

// deleteClaimed deletes the bytes of a claimed digest and records it. Once
// claimed, nothing links the digest and no upload commits it until the
// deletion is recorded, so the bytes go even if the context ends.
func (s *Service) deleteClaimed(ctx context.Context, d string) error {
	ctx = context.WithoutCancel(ctx)
	if err := s.blobs.Delete(ctx, digest.Digest(d)); err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	if err := s.meta.FinishBlobDeletion(ctx, d); err != nil {
		return fmt.Errorf("record deletion of %s: %w", d, err)
	}
	return nil
}

// reserveBlob records on upload id that it is about to commit d, so that
// garbage collection leaves d alone until CompleteUpload. While the
// collector is deleting d's bytes, it waits for the deletion to end.
func (s *Service) reserveBlob(ctx context.Context, id string, d digest.Digest) error {
	deadline := time.Now().Add(commitWait)
	delay := 5 * time.Millisecond
	for {
		err := s.meta.BeginBlobCommit(ctx, id, d.String())
		switch {
		case err == nil:
			return nil
		case errors.Is(err, meta.ErrUploadUnknown):
			return uploadUnknown(id)
		case !errors.Is(err, meta.ErrBlobDeleting):
			return fmt.Errorf("reserve blob %s: %w", d, err)
		case time.Now().After(deadline):
			return fmt.Errorf("blob %s: garbage collection has been deleting its old bytes for %v: %w", d, commitWait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// gcMetrics are garbage collection's metrics on the /metrics page.
type gcMetrics struct {
	runs         *metrics.Counter
	referenced   *metrics.Gauge
	reclaimable  *metrics.Gauge
	reclaimed    *metrics.Counter
	deleted      *metrics.Counter
	deletedBytes *metrics.Counter
	storeBlobs   *metrics.Gauge
	storeBytes   *metrics.Gauge
	lastRun      *metrics.Gauge
	lastDuration *metrics.Gauge
}

func newGCMetrics(reg *metrics.Registry) *gcMetrics {
	repo := []string{"registry", "region", "repository"}
	return &gcMetrics{
		runs: reg.Counter("berth_gc_runs_total",
			"Garbage collection runs, by result: ok, error, or busy (another node was collecting).", "result"),
		referenced: reg.Gauge("berth_gc_referenced_bytes",
			"Bytes of the blobs a repository links that its manifests reference, at the last garbage collection.", repo...),
		reclaimable: reg.Gauge("berth_gc_reclaimable_bytes",
			"Bytes of the blobs a repository links that none of its manifests reference, at the last garbage collection: collected once older than the grace period.", repo...),
		reclaimed: reg.Counter("berth_gc_reclaimed_bytes_total",
			"Bytes of the blob links garbage collection removed from a repository.", repo...),
		deleted: reg.Counter("berth_gc_deleted_blobs_total",
			"Blobs garbage collection deleted from the blob store, by kind: unreferenced (no link, no manifest), orphan (a file with no metadata record).", "kind"),
		deletedBytes: reg.Counter("berth_gc_deleted_bytes_total",
			"Bytes garbage collection deleted from the blob store, by kind (see berth_gc_deleted_blobs_total).", "kind"),
		storeBlobs: reg.Gauge("berth_gc_blob_store_blobs",
			"Blobs in the blob store after the last garbage collection."),
		storeBytes: reg.Gauge("berth_gc_blob_store_bytes",
			"Bytes in the blob store after the last garbage collection."),
		lastRun: reg.Gauge("berth_gc_last_run_timestamp_seconds",
			"When the last garbage collection that ran started, in seconds since the epoch."),
		lastDuration: reg.Gauge("berth_gc_last_run_duration_seconds",
			"How long the last garbage collection that ran took."),
	}
}
