// Package scan is image scanning, ECR's basic scanning done by Berth
// itself: the registry's and repositories' scanning configuration, scan
// requests (on push, by StartImageScan) with ECR's once-per-24-hours
// limit, scans run as background jobs on the outbox — an inventory of the
// image's packages (package inventory) matched against the vulnerability
// data (package vulndb) — and their findings.
//
// A scan belongs to an image digest and is shared by every repository and
// tag that holds it; a request belongs to a repository's image, and is what
// makes a scan status show in that repository (see meta.ScanStore).
package scan

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/scan/inventory"
	"github.com/berth-registry/berth/internal/vulndb"
)

const (
	// QueueScan is the queue of scans to run. A job's key is the image
	// digest: requests for a digest already waiting add no second scan.
	QueueScan = "image-scan"
	// QueuePushes receives the registry's image events (an ImageEventQueues
	// entry): a push to a repository scanned on push asks for a scan.
	QueuePushes = "scan-on-push"
	// manualLimit is ECR's: one scan request per image per 24 hours,
	// scans on push included.
	manualLimit = 24 * time.Hour
	// registryConfigSetting is the registry setting that holds its
	// scanning configuration, as JSON.
	registryConfigSetting = "scanningConfiguration"
)

// Store is what scanning keeps in the metadata store.
type Store interface {
	meta.ScanStore
	EnqueueJobs(ctx context.Context, jobs []meta.NewJob, now time.Time) error
	GetRegistrySetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error)
	PutRegistrySetting(ctx context.Context, reg meta.RegistryKey, name, value string) error
}

// Registry is what scanning asks the registry domain: repositories and
// their images.
type Registry interface {
	Repository(ctx context.Context, reg meta.RegistryKey, name string, create bool) (*meta.Repository, error)
	DescribeRepository(ctx context.Context, reg meta.RegistryKey, name string) (*registry.RepositoryInfo, error)
	Image(ctx context.Context, reg meta.RegistryKey, name string, id registry.ImageID) (*meta.Repository, *meta.Manifest, error)
	GetManifest(ctx context.Context, reg meta.RegistryKey, name, ref string) (*meta.Manifest, error)
}

// Options tune the service.
type Options struct {
	Logger *slog.Logger
	// Now is the clock requests are stamped with (the database's, on
	// several nodes); nil means time.Now.
	Now func() time.Time
	// ScratchDir is where inventories spool files; empty means the
	// system's temporary directory.
	ScratchDir string
	// EventQueues receive an Event job for each finished scan, written in
	// the scan's transaction.
	EventQueues []string
}

// Service runs image scanning.
type Service struct {
	store  Store
	reg    Registry
	blobs  inventory.Blobs
	vulns  *vulndb.DB
	log    *slog.Logger
	now    func() time.Time
	notify func()
	opts   Options
}

// New returns the scanning service.
func New(store Store, reg Registry, blobs inventory.Blobs, vulns *vulndb.DB, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, reg: reg, blobs: blobs, vulns: vulns, log: opts.Logger, now: opts.Now, opts: opts}
}

// RegisterJobs gives runner the scanning queues' handlers and has the
// service wake it when it writes jobs.
func (s *Service) RegisterJobs(runner *jobs.Runner) {
	s.notify = runner.Notify
	runner.Handle(QueueScan, s.runScanJob, jobs.QueueOptions{MaxAttempts: 3})
	runner.Handle(QueuePushes, s.runPushJob, jobs.QueueOptions{})
	runner.Handle(QueueRescans, s.runRescanJob, jobs.QueueOptions{})
}

func (s *Service) wake() {
	if s.notify != nil {
		s.notify()
	}
}

// ---- configuration ----

// RegistryConfig returns a registry's scanning configuration.
func (s *Service) RegistryConfig(ctx context.Context, reg meta.RegistryKey) (*RegistryConfig, error) {
	text, err := s.store.GetRegistrySetting(ctx, reg, registryConfigSetting)
	if errors.Is(err, meta.ErrNotFound) {
		return defaultRegistryConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("get scanning configuration: %w", err)
	}
	return decodeRegistryConfig(text)
}

// PutRegistryConfig validates and stores a registry's scanning
// configuration.
func (s *Service) PutRegistryConfig(ctx context.Context, reg meta.RegistryKey, c *RegistryConfig) (*RegistryConfig, error) {
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutRegistrySetting(ctx, reg, registryConfigSetting, string(b)); err != nil {
		return nil, fmt.Errorf("put scanning configuration: %w", err)
	}
	return c, nil
}

// RepositoryConfig returns how a repository is scanned.
func (s *Service) RepositoryConfig(ctx context.Context, reg meta.RegistryKey, name string) (*registry.RepositoryInfo, RepositoryConfig, error) {
	ri, err := s.reg.DescribeRepository(ctx, reg, name)
	if err != nil {
		return nil, RepositoryConfig{}, err
	}
	c, err := s.RegistryConfig(ctx, reg)
	if err != nil {
		return nil, RepositoryConfig{}, err
	}
	return ri, c.repositoryConfig(ri.Name, ri.Config.ScanOnPush), nil
}

// ---- requests ----

// scanJob is a QueueScan job's payload.
type scanJob struct {
	Account    string `json:"account"`
	Region     string `json:"region"`
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Trigger    string `json:"trigger"`
}

// scanJobOf is the job that scans digest, reading it from a repository
// that holds it.
func scanJobOf(reg meta.RegistryKey, repository, dg, trigger string) (meta.NewJob, error) {
	payload, err := json.Marshal(scanJob{Account: reg.Account, Region: reg.Region, Repository: repository, Digest: dg, Trigger: trigger})
	if err != nil {
		return meta.NewJob{}, err
	}
	return meta.NewJob{Queue: QueueScan, Key: dg, Payload: payload}, nil
}

func (s *Service) request(ctx context.Context, r *meta.Repository, dg, trigger string, limit time.Duration) error {
	job, err := scanJobOf(r.Registry, r.Name, dg, trigger)
	if err != nil {
		return err
	}
	req := meta.ScanRequest{RepoID: r.ID, Digest: dg, At: s.now().UTC(), Trigger: trigger, LimitWindow: limit}
	if err := s.store.RequestScan(ctx, req, []meta.NewJob{job}); err != nil {
		if errors.Is(err, meta.ErrScanLimit) {
			return errorf(ErrScanLimit, "The scan quota per image has been exceeded. Wait and try again: an image can be scanned once every 24 hours, a scan on push included.")
		}
		return fmt.Errorf("request a scan of %s: %w", dg, err)
	}
	s.wake()
	return nil
}

// StartScan asks for a scan of an image (StartImageScan): once per image
// per 24 hours. It returns the image's digest.
func (s *Service) StartScan(ctx context.Context, reg meta.RegistryKey, name string, id registry.ImageID) (*meta.Manifest, error) {
	r, m, err := s.reg.Image(ctx, reg, name, id)
	if err != nil {
		return nil, err
	}
	if err := scannable(m); err != nil {
		return nil, err
	}
	if err := s.request(ctx, r, m.Digest, "manual", manualLimit); err != nil {
		return nil, err
	}
	return m, nil
}

// scannable refuses what has no image to scan, as ECR does before it
// accepts a request: an artifact (a Helm chart, a signature, an SBOM) or a
// manifest without layers. What the inventory finds later is its own check.
func scannable(m *meta.Manifest) error {
	var doc struct {
		MediaType string `json:"mediaType"`
		Config    *struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
		Layers    []json.RawMessage `json:"layers"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(m.Content, &doc); err != nil {
		return errorf(ErrUnsupportedImage, "The image type is not supported for scanning: its manifest is not JSON")
	}
	if doc.Manifests != nil {
		if len(doc.Manifests) == 0 {
			return errorf(ErrUnsupportedImage, "The image type is not supported for scanning: the index lists no images")
		}
		return nil
	}
	switch {
	case doc.Config == nil:
		return errorf(ErrUnsupportedImage, "The image type is not supported for scanning: the manifest has no config")
	case !inventory.IsImageConfig(doc.Config.MediaType):
		return errorf(ErrUnsupportedImage, "The image type is not supported for scanning: its config is %s, not a container image's (an artifact has no packages to scan)", doc.Config.MediaType)
	case len(doc.Layers) == 0:
		return errorf(ErrUnsupportedImage, "The image type is not supported for scanning: the image has no layers")
	}
	return nil
}

// AfterPush asks for the scan of a push to a repository scanned on push
// while the push is answered (registry.Options.AfterPush), so that a
// client that asks right away finds the scan in progress. Should it fail,
// the push's event job asks again (runPushJob).
func (s *Service) AfterPush(ctx context.Context, ev registry.ImageEvent) {
	if err := s.onPush(ctx, ev); err != nil {
		s.log.WarnContext(ctx, "scan on push: the request waits for the push's event job", "repository", ev.Repository, "digest", ev.Digest, "err", err)
	}
}

// runPushJob reads an image event and, for a push to a repository scanned
// on push (by its own scanOnPush or a registry rule), asks for a scan,
// unless AfterPush already did.
func (s *Service) runPushJob(ctx context.Context, j *meta.Job) error {
	var ev registry.ImageEvent
	if err := json.Unmarshal(j.Payload, &ev); err != nil {
		return jobs.Permanent(fmt.Errorf("image event job %d: %w", j.ID, err))
	}
	return s.onPush(ctx, ev)
}

func (s *Service) onPush(ctx context.Context, ev registry.ImageEvent) error {
	if ev.Action != registry.ImagePushed || ev.Digest == "" {
		return nil
	}
	reg := meta.RegistryKey{Account: ev.Account, Region: ev.Region}
	ri, cfg, err := s.RepositoryConfig(ctx, reg, ev.Repository)
	if errors.Is(err, registry.ErrNameUnknown) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	if cfg.ScanFrequency == FrequencyManual {
		return nil
	}
	m, err := s.reg.GetManifest(ctx, reg, ev.Repository, ev.Digest)
	if errors.Is(err, registry.ErrManifestUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if scannable(m) != nil {
		return nil // ECR scans images only; artifacts are pushed without a scan
	}
	// A tag pushed again onto an image scanned within the day is not a
	// new request, nor is the event job of a push AfterPush took care of:
	// the limit refuses them quietly.
	err = s.request(ctx, ri.Repository, ev.Digest, "push", manualLimit)
	if errors.Is(err, ErrScanLimit) {
		return nil
	}
	return err
}

// ---- running scans ----

// findingRecord is one finding as a scan stores it.
type findingRecord struct {
	Name        string   `json:"name"`
	ID          string   `json:"id"`
	Description string   `json:"description,omitempty"`
	URI         string   `json:"uri,omitempty"`
	Severity    string   `json:"severity"`
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	Ecosystem   string   `json:"ecosystem"`
	FixedIn     string   `json:"fixedIn,omitempty"`
	CVSS        []cvss   `json:"cvss,omitempty"`
	Platforms   []string `json:"platforms,omitempty"`
}

type cvss struct {
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
}

func (s *Service) runScanJob(ctx context.Context, j *meta.Job) error {
	var p scanJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("scan job %d: %w", j.ID, err))
	}
	reg := meta.RegistryKey{Account: p.Account, Region: p.Region}
	started := s.now().UTC()
	version, err := s.vulns.Version(ctx)
	if err != nil {
		return err
	}
	done := func(sc *meta.ImageScan) error {
		sc.Digest, sc.StartedAt, sc.VulnVersion, sc.VulnUpdatedAt = p.Digest, started, version.Version, version.ChangedAt
		return s.finish(ctx, p, sc)
	}
	m, err := s.reg.GetManifest(ctx, reg, p.Repository, p.Digest)
	if errors.Is(err, registry.ErrManifestUnknown) || errors.Is(err, registry.ErrNameUnknown) {
		return done(&meta.ImageScan{Status: meta.ScanFailed, Description: "The image was deleted before it could be scanned."})
	}
	if err != nil {
		return err
	}
	if p.Trigger != "manual" {
		// The digest's scan is shared: pushed to another repository and
		// scanned against the same data, or rescanned already by an
		// earlier walk, it is not scanned again. A manual request always
		// scans.
		prev, err := s.store.ImageScan(ctx, p.Digest)
		if err == nil && upToDate(prev, p.Trigger, version.Version) {
			if prev.Status == meta.ScanComplete {
				return s.attachSharedSBOM(ctx, reg, p.Repository, m, prev)
			}
			return nil
		}
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return err
		}
	}
	if err := s.store.PutImageScan(ctx, &meta.ImageScan{Digest: p.Digest, Status: meta.ScanInProgress, StartedAt: started}, nil); err != nil {
		return err
	}
	inv, err := s.takeInventory(ctx, reg, p.Repository, m)
	var layerErr *inventory.LayerError
	switch {
	case errors.Is(err, inventory.ErrUnsupportedImage):
		return done(&meta.ImageScan{Status: meta.ScanUnsupportedImage, Description: "The image type is not supported for scanning: " + err.Error()})
	case errors.As(err, &layerErr):
		return done(&meta.ImageScan{Status: meta.ScanFailed, Description: "The image could not be scanned: " + err.Error()})
	case err != nil:
		return fmt.Errorf("inventory of %s: %w", p.Digest, err)
	}
	findings, err := s.match(ctx, inv)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, f := range findings {
		counts[f.Severity]++
	}
	data, err := encodeFindings(findings)
	if err != nil {
		return err
	}
	if err := s.attachSBOMs(ctx, p, m, started, inv); err != nil {
		return err
	}
	return done(&meta.ImageScan{Status: meta.ScanComplete, Description: "The scan was completed successfully.",
		SeverityCounts: counts, Findings: data})
}

// takeInventory takes the inventory of image m, reading it (an index's
// images included) through repository repo, so that every blob read is one
// the repository holds. Its errors are inventory.Take's.
func (s *Service) takeInventory(ctx context.Context, reg meta.RegistryKey, repo string, m *meta.Manifest) (*inventory.Result, error) {
	src := inventory.Source{Blobs: s.blobs, Manifests: inventory.ManifestFunc(func(ctx context.Context, d digest.Digest) ([]byte, string, error) {
		m, err := s.reg.GetManifest(ctx, reg, repo, d.String())
		if err != nil {
			return nil, "", err
		}
		return m.Content, m.MediaType, nil
	})}
	if s.opts.ScratchDir != "" {
		if err := os.MkdirAll(s.opts.ScratchDir, 0o700); err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
	}
	return inventory.Take(ctx, src, m.Content, m.MediaType, inventory.Options{ScratchDir: s.opts.ScratchDir, Logger: s.log})
}

// upToDate tells whether a scan on push or a continuous rescan can stand
// on the digest's previous scan. A scan on push stands on a complete scan
// matched against the current data. A continuous rescan stands on any
// finished scan of the current data: it is there for the data's change,
// and a failed scan is tried again at the next one (or by hand).
func upToDate(prev *meta.ImageScan, trigger string, version int64) bool {
	if prev.VulnVersion < version {
		return false
	}
	switch prev.Status {
	case meta.ScanComplete:
		return true
	case meta.ScanFailed, meta.ScanUnsupportedImage:
		return trigger == "continuous"
	}
	return false
}

// finish records a finished scan, and its event.
func (s *Service) finish(ctx context.Context, p scanJob, sc *meta.ImageScan) error {
	sc.CompletedAt = s.now().UTC()
	evJobs, err := s.eventJobs(ctx, p, sc)
	if err != nil {
		return err
	}
	if err := s.store.PutImageScan(ctx, sc, evJobs); err != nil {
		return fmt.Errorf("record the scan of %s: %w", sc.Digest, err)
	}
	s.log.InfoContext(ctx, "image scan", "digest", sc.Digest, "status", sc.Status, "findings", sc.SeverityCounts,
		"took", sc.CompletedAt.Sub(sc.StartedAt).Round(time.Millisecond))
	return nil
}

// match matches every image's packages; a finding found on several
// platforms of an index is one finding naming them.
func (s *Service) match(ctx context.Context, inv *inventory.Result) ([]findingRecord, error) {
	type key struct{ id, pkg, version, eco string }
	byKey := map[key]*findingRecord{}
	var order []key
	for _, img := range inv.Images {
		pkgs := make([]vulndb.Package, 0, len(img.Packages))
		for _, p := range img.Packages {
			if p.Ecosystem == "" || p.Version == "" {
				continue
			}
			pkgs = append(pkgs, vulndb.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version, Source: p.SourceName})
		}
		found, err := s.vulns.Match(ctx, pkgs)
		if err != nil {
			return nil, err
		}
		platform := img.Platform.String()
		for _, f := range found {
			k := key{f.ID, f.Package.Name, f.Package.Version, f.Package.Ecosystem}
			rec := byKey[k]
			if rec == nil {
				rec = &findingRecord{Name: f.Name, ID: f.ID, Description: f.Description, URI: f.URI, Severity: string(f.Severity),
					Package: f.Package.Name, Version: f.Package.Version, Ecosystem: f.Package.Ecosystem, FixedIn: f.FixedIn}
				for _, c := range f.CVSS {
					rec.CVSS = append(rec.CVSS, cvss{Version: c.Version, Vector: c.Vector, Score: c.Score})
				}
				byKey[k] = rec
				order = append(order, k)
			}
			if len(inv.Images) > 1 && !slices.Contains(rec.Platforms, platform) {
				rec.Platforms = append(rec.Platforms, platform)
			}
		}
	}
	out := make([]findingRecord, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	// The worst first, as ECR lists them; then by name and package.
	slices.SortStableFunc(out, func(a, b findingRecord) int {
		return cmp.Or(cmp.Compare(severityRank(b.Severity), severityRank(a.Severity)),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Package, b.Package), cmp.Compare(a.Version, b.Version))
	})
	return out, nil
}

func severityRank(s string) int {
	switch vulndb.SeverityLevel(s) {
	case vulndb.Critical:
		return 5
	case vulndb.High:
		return 4
	case vulndb.Medium:
		return 3
	case vulndb.Low:
		return 2
	case vulndb.Informational:
		return 1
	}
	return 0
}

// Findings are stored gzipped: a large image has thousands, mostly
// repeated words.
func encodeFindings(fs []findingRecord) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(fs); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeFindings(data []byte) ([]findingRecord, error) {
	if len(data) == 0 {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("stored findings: %w", err)
	}
	defer zr.Close()
	var fs []findingRecord
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&fs); err != nil {
		return nil, fmt.Errorf("stored findings: %w", err)
	}
	return fs, nil
}
