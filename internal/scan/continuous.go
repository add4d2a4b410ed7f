package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// Continuous scanning: when the vulnerability data changes, the images of
// repositories scanned continuously (CONTINUOUS_SCAN) are scanned again.
//
// Every node checks the data's version now and then (ContinuousLoop); when
// it sees one it has not asked about, it writes a walk job keyed by that
// version, so that nodes seeing the same import at once ask for one walk.
// A walk job reads one page of the scans the data has moved past
// (meta.ScanStore.StaleImageScans, in digest order), writes a scan job for
// each whose image a continuously scanned repository still holds, and
// writes the walk's next page as another job, in the same transaction: a
// node that dies mid-walk leaves the page's job to be taken over, and the
// walk goes on where it was. Paging by digest rather than taking the
// oldest few means that stale scans nothing rescans (of repositories
// scanned on push or by hand) never stand in the way of those that are.
//
// Nothing here depends on a node's memory: a node that restarts asks for a
// walk again, which finds the scans already rescanned up to date and those
// being rescanned keyed by their digest (a second scan job is dropped).

const (
	// QueueRescans is the queue of continuous scanning's walks.
	QueueRescans = "continuous-scan"
	// rescanPage is how many stale scans a walk job reads.
	rescanPage = 200
)

// rescanJob is a QueueRescans job's payload: a walk of the scans behind
// version, from after on.
type rescanJob struct {
	Version int64  `json:"version"`
	After   string `json:"after,omitempty"`
}

func rescanJobOf(p rescanJob) (meta.NewJob, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return meta.NewJob{}, err
	}
	return meta.NewJob{Queue: QueueRescans, Key: strconv.FormatInt(p.Version, 10) + "/" + p.After, Payload: b}, nil
}

// ContinuousLoop asks for a walk of the stale scans whenever the
// vulnerability data's version is one this node has not asked about, checking
// every interval, until ctx ends.
func (s *Service) ContinuousLoop(ctx context.Context, every time.Duration) {
	asked := int64(-1)
	for {
		v, err := s.vulns.Version(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "continuous scanning: read the vulnerability data's version", "err", err)
			}
		case v.Version != asked && v.Version > 0:
			if err := s.askRescans(ctx, v.Version); err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "continuous scanning: ask for a walk of the stale scans", "version", v.Version, "err", err)
				}
				break
			}
			asked = v.Version
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// askRescans writes the first page of a walk of the scans behind version.
func (s *Service) askRescans(ctx context.Context, version int64) error {
	j, err := rescanJobOf(rescanJob{Version: version})
	if err != nil {
		return err
	}
	if err := s.store.EnqueueJobs(ctx, []meta.NewJob{j}, s.now().UTC()); err != nil {
		return err
	}
	s.wake()
	return nil
}

// runRescanJob walks one page of the stale scans.
func (s *Service) runRescanJob(ctx context.Context, j *meta.Job) error {
	var p rescanJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("continuous scan job %d: %w", j.ID, err))
	}
	// The data may have changed again since the walk was asked for: the
	// newest version decides what is stale.
	v, err := s.vulns.Version(ctx)
	if err != nil {
		return err
	}
	version := max(v.Version, p.Version)
	page, err := s.store.StaleImageScans(ctx, version, p.After, rescanPage)
	if err != nil {
		return err
	}
	configs := map[meta.RegistryKey]*RegistryConfig{}
	var (
		out     []meta.NewJob
		rescans int
	)
	for _, sc := range page {
		r, err := s.continuousHolder(ctx, sc.Digest, configs)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		job, err := scanJobOf(r.Registry, r.Repository, sc.Digest, "continuous")
		if err != nil {
			return err
		}
		out = append(out, job)
		rescans++
	}
	if len(page) == rescanPage {
		next, err := rescanJobOf(rescanJob{Version: p.Version, After: page[len(page)-1].Digest})
		if err != nil {
			return err
		}
		out = append(out, next)
	}
	if len(out) == 0 {
		return nil
	}
	if err := s.store.EnqueueJobs(ctx, out, s.now().UTC()); err != nil {
		return fmt.Errorf("continuous scanning: write the rescans: %w", err)
	}
	if rescans > 0 {
		s.log.InfoContext(ctx, "continuous scanning: images to scan again", "count", rescans, "version", version)
	}
	s.wake()
	return nil
}

// continuousHolder returns a request for digest by a repository scanned
// continuously that still holds the image, or nil when there is none.
// configs caches the registries' configurations for the page.
func (s *Service) continuousHolder(ctx context.Context, digest string, configs map[meta.RegistryKey]*RegistryConfig) (*meta.ScanRequested, error) {
	reqs, err := s.store.RequestsForDigest(ctx, digest)
	if err != nil {
		return nil, err
	}
	for i := range reqs {
		r := &reqs[i]
		c, ok := configs[r.Registry]
		if !ok {
			if c, err = s.RegistryConfig(ctx, r.Registry); err != nil {
				return nil, err
			}
			configs[r.Registry] = c
		}
		// Only a registry rule makes a repository continuous; its own
		// scanOnPush does not matter here.
		if c.repositoryConfig(r.Repository, false).ScanFrequency != FrequencyContinuous {
			continue
		}
		_, err := s.reg.GetManifest(ctx, r.Registry, r.Repository, digest)
		if errors.Is(err, registry.ErrManifestUnknown) || errors.Is(err, registry.ErrNameUnknown) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, nil
}
