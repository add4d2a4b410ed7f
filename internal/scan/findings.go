package scan

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

// Status is an image's scan as a repository shows it: ECR's
// imageScanStatus, and imageScanFindingsSummary once the scan completed.
type Status struct {
	Status      meta.ScanStatus
	Description string
	// Summary is set for a completed scan.
	Summary *Summary
}

// Summary is ECR's imageScanFindingsSummary.
type Summary struct {
	CompletedAt    time.Time
	VulnUpdatedAt  time.Time
	SeverityCounts map[string]int
}

// Attribute is one of a finding's key/value attributes.
type Attribute struct {
	Key   string
	Value string
}

// Finding is one finding as ECR's API gives it.
type Finding struct {
	Name        string
	Description string
	URI         string
	Severity    string
	Attributes  []Attribute
}

// Findings is a page of an image's scan findings.
type Findings struct {
	Repository *meta.Repository
	Image      *meta.Manifest
	Status
	Findings []Finding
	// Next is the offset of the next page, 0 when this is the last.
	Next int
}

func statusOf(sc *meta.ImageScan) Status {
	st := Status{Status: sc.Status, Description: sc.Description}
	if sc.Status == meta.ScanInProgress && st.Description == "" {
		st.Description = "The scan is in progress."
	}
	if sc.Status == meta.ScanComplete {
		counts := sc.SeverityCounts
		if counts == nil {
			counts = map[string]int{}
		}
		st.Summary = &Summary{CompletedAt: sc.CompletedAt, VulnUpdatedAt: sc.VulnUpdatedAt, SeverityCounts: counts}
	}
	return st
}

// pendingStatus is an image whose request is recorded but whose scan has
// not started (its job waits for a worker).
var pendingStatus = Status{Status: meta.ScanInProgress, Description: "The scan is waiting to start."}

// ImageStatuses returns the scan status of each of a repository's images
// (by digest) that had a scan requested; the others have none.
func (s *Service) ImageStatuses(ctx context.Context, repoID int64, digests []string) (map[string]Status, error) {
	reqs, err := s.store.ScanRequests(ctx, repoID, digests)
	if err != nil || len(reqs) == 0 {
		return nil, err
	}
	asked := make([]string, 0, len(reqs))
	for d := range reqs {
		asked = append(asked, d)
	}
	scans, err := s.store.ImageScans(ctx, asked)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Status, len(reqs))
	for d, req := range reqs {
		sc, ok := scans[d]
		switch {
		case !ok:
			out[d] = pendingStatus
		case req.Trigger == "manual" && sc.Status != meta.ScanInProgress && req.At.After(sc.CompletedAt):
			// Asked for again after the last scan ended: the new scan is
			// in progress as far as the asker is concerned, from the
			// request on (both times are the same clock's). A scan on
			// push of a digest already scanned shows that scan.
			out[d] = pendingStatus
		default:
			out[d] = statusOf(sc)
		}
	}
	return out, nil
}

// FindingsPage returns an image's scan findings from offset on, at most max
// of them (DescribeImageScanFindings).
func (s *Service) FindingsPage(ctx context.Context, reg meta.RegistryKey, name string, id registry.ImageID, offset, max int) (*Findings, error) {
	r, m, err := s.reg.Image(ctx, reg, name, id)
	if err != nil {
		return nil, err
	}
	notFound := errorf(ErrScanNotFound, "Image scan does not exist for the image with '{imageDigest:'%s', imageTag:'%s'}' in the repository with name '%s' in the registry with id '%s'",
		orNull(id.Digest), orNull(id.Tag), r.Name, r.Registry.Account)
	st, err := s.ImageStatuses(ctx, r.ID, []string{m.Digest})
	if err != nil {
		return nil, err
	}
	status, ok := st[m.Digest]
	if !ok {
		return nil, notFound
	}
	out := &Findings{Repository: r, Image: m, Status: status}
	if status.Status != meta.ScanComplete {
		return out, nil
	}
	sc, err := s.store.ImageScan(ctx, m.Digest)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	all, err := decodeFindings(sc.Findings)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > len(all) {
		return nil, errorf(ErrTokenInvalid, "Invalid parameter at 'nextToken': the scan it was issued for has been replaced by a newer one; list again from the start")
	}
	end := min(len(all), offset+max)
	for _, f := range all[offset:end] {
		out.Findings = append(out.Findings, f.api())
	}
	if end < len(all) {
		out.Next = end
	}
	return out, nil
}

// api is the finding in ECR's shape: its package and CVSS as attributes,
// as ECR's basic scanning gives them, and what Berth knows beyond them
// (the ecosystem, the fixed version, the platforms of an index).
func (f findingRecord) api() Finding {
	out := Finding{Name: f.Name, Description: f.Description, URI: f.URI, Severity: f.Severity}
	add := func(k, v string) {
		if v != "" {
			out.Attributes = append(out.Attributes, Attribute{Key: k, Value: v})
		}
	}
	add("package_name", f.Package)
	add("package_version", f.Version)
	seen := map[string]bool{}
	for _, c := range f.CVSS {
		major := strings.SplitN(c.Version, ".", 2)[0]
		if seen[major] {
			continue
		}
		seen[major] = true
		add("CVSS"+major+"_VECTOR", c.Vector)
		add("CVSS"+major+"_SCORE", strconv.FormatFloat(c.Score, 'f', -1, 64))
	}
	add("ecosystem", f.Ecosystem)
	add("fixed_in_version", f.FixedIn)
	add("vulnerability_id", idIfNotName(f))
	add("platforms", strings.Join(f.Platforms, ","))
	return out
}

func idIfNotName(f findingRecord) string {
	if f.ID == f.Name {
		return ""
	}
	return f.ID
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// String is for logs.
func (st Status) String() string { return fmt.Sprintf("%s (%s)", st.Status, st.Description) }

// ImageStatusesIn is ImageStatuses for a repository named in a registry.
func (s *Service) ImageStatusesIn(ctx context.Context, reg meta.RegistryKey, name string, digests []string) (map[string]Status, error) {
	r, err := s.reg.Repository(ctx, reg, name, false)
	if err != nil {
		return nil, err
	}
	return s.ImageStatuses(ctx, r.ID, digests)
}
