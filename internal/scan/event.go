package scan

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// Event is a finished scan, as Options.EventQueues receive it: what ECR
// reports to EventBridge as an "ECR Image Scan" event per repository.
type Event struct {
	Digest         string            `json:"digest"`
	Status         meta.ScanStatus   `json:"status"`
	SeverityCounts map[string]int    `json:"severityCounts,omitempty"`
	CompletedAt    time.Time         `json:"completedAt"`
	Repositories   []EventRepository `json:"repositories"`
}

// EventRepository is a repository whose image the scan was for: one that
// asked for a scan of the digest and holds it, with the image's tags
// there when the scan ended.
type EventRepository struct {
	Account string   `json:"account"`
	Region  string   `json:"region"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags,omitempty"`
}

// eventJobs are the jobs that report a finished scan: one per event
// queue, each naming the repositories whose image it is. The repositories
// are read before the scan is recorded; one that asks for the digest in
// between sees the scan in DescribeImages but gets no event for it.
func (s *Service) eventJobs(ctx context.Context, p scanJob, sc *meta.ImageScan) ([]meta.NewJob, error) {
	if len(s.opts.EventQueues) == 0 {
		return nil, nil
	}
	ev := Event{Digest: sc.Digest, Status: sc.Status, SeverityCounts: sc.SeverityCounts, CompletedAt: sc.CompletedAt}
	reqs, err := s.store.RequestsForDigest(ctx, sc.Digest)
	if err != nil {
		return nil, err
	}
	job := meta.ScanRequested{Registry: meta.RegistryKey{Account: p.Account, Region: p.Region}, Repository: p.Repository}
	if !containsRepository(reqs, job) {
		// A continuous rescan reads the image from a repository that asked
		// before; this covers a request deleted since.
		reqs = append(reqs, job)
	}
	for _, r := range reqs {
		m, err := s.reg.GetManifest(ctx, r.Registry, r.Repository, sc.Digest)
		if errors.Is(err, registry.ErrManifestUnknown) || errors.Is(err, registry.ErrNameUnknown) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ev.Repositories = append(ev.Repositories, EventRepository{Account: r.Registry.Account, Region: r.Registry.Region,
			Name: r.Repository, Tags: m.Tags})
	}
	if len(ev.Repositories) == 0 {
		return nil, nil // deleted everywhere: nobody to tell
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	out := make([]meta.NewJob, len(s.opts.EventQueues))
	for i, q := range s.opts.EventQueues {
		out[i] = meta.NewJob{Queue: q, Payload: payload}
	}
	return out, nil
}

func containsRepository(reqs []meta.ScanRequested, r meta.ScanRequested) bool {
	for _, q := range reqs {
		if q.Registry == r.Registry && q.Repository == r.Repository {
			return true
		}
	}
	return false
}
