package ecrapi

import (
	"context"
	"fmt"
	"strconv"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/scan"
)

// Image scanning: the registry's scanning configuration, the scanning
// configuration each repository ends up with, scans asked for, and their
// findings. The scan domain (package scan) does the work.

type scanningRule struct {
	ScanFrequency     string       `json:"scanFrequency"`
	RepositoryFilters []scanFilter `json:"repositoryFilters"`
}

type scanFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type registryScanningConfig struct {
	ScanType string         `json:"scanType"`
	Rules    []scanningRule `json:"rules"`
}

func (c registryScanningConfig) domain() *scan.RegistryConfig {
	out := &scan.RegistryConfig{ScanType: c.ScanType, Rules: []scan.Rule{}}
	for _, r := range c.Rules {
		dr := scan.Rule{ScanFrequency: r.ScanFrequency, RepositoryFilters: []scan.Filter{}}
		for _, f := range r.RepositoryFilters {
			dr.RepositoryFilters = append(dr.RepositoryFilters, scan.Filter{Filter: f.Filter, FilterType: f.FilterType})
		}
		out.Rules = append(out.Rules, dr)
	}
	return out
}

func registryScanningConfigOut(c *scan.RegistryConfig) registryScanningConfig {
	out := registryScanningConfig{ScanType: c.ScanType, Rules: []scanningRule{}}
	for _, r := range c.Rules {
		out.Rules = append(out.Rules, scanningRule{ScanFrequency: r.ScanFrequency, RepositoryFilters: filtersOut(r.RepositoryFilters)})
	}
	return out
}

func filtersOut(fs []scan.Filter) []scanFilter {
	out := []scanFilter{}
	for _, f := range fs {
		out = append(out, scanFilter{Filter: f.Filter, FilterType: f.FilterType})
	}
	return out
}

type putRegistryScanningConfigurationIn struct {
	ScanType string         `json:"scanType"`
	Rules    []scanningRule `json:"rules"`
}

type putRegistryScanningConfigurationOut struct {
	RegistryScanningConfiguration registryScanningConfig `json:"registryScanningConfiguration"`
}

func (a *API) putRegistryScanningConfiguration(ctx context.Context, c *awsapi.Call, in *putRegistryScanningConfigurationIn) (*putRegistryScanningConfigurationOut, error) {
	cfg := registryScanningConfig{ScanType: in.ScanType, Rules: in.Rules}
	if cfg.ScanType == "" {
		cfg.ScanType = scan.ScanTypeBasic
	}
	got, err := a.scans.PutRegistryConfig(ctx, registryOf(c, nil), cfg.domain())
	if err != nil {
		return nil, err
	}
	return &putRegistryScanningConfigurationOut{registryScanningConfigOut(got)}, nil
}

type getRegistryScanningConfigurationIn struct{}

type getRegistryScanningConfigurationOut struct {
	RegistryID            string                 `json:"registryId"`
	ScanningConfiguration registryScanningConfig `json:"scanningConfiguration"`
}

func (a *API) getRegistryScanningConfiguration(ctx context.Context, c *awsapi.Call, _ *getRegistryScanningConfigurationIn) (*getRegistryScanningConfigurationOut, error) {
	reg := registryOf(c, nil)
	got, err := a.scans.RegistryConfig(ctx, reg)
	if err != nil {
		return nil, err
	}
	return &getRegistryScanningConfigurationOut{RegistryID: reg.Account, ScanningConfiguration: registryScanningConfigOut(got)}, nil
}

type batchGetRepositoryScanningConfigurationIn struct {
	RepositoryNames []string `json:"repositoryNames"`
}

type repositoryScanningConfig struct {
	RepositoryArn      string       `json:"repositoryArn"`
	RepositoryName     string       `json:"repositoryName"`
	ScanOnPush         bool         `json:"scanOnPush"`
	ScanFrequency      string       `json:"scanFrequency"`
	AppliedScanFilters []scanFilter `json:"appliedScanFilters"`
}

type repositoryScanningFailure struct {
	RepositoryName string `json:"repositoryName"`
	FailureCode    string `json:"failureCode"`
	FailureReason  string `json:"failureReason"`
}

type batchGetRepositoryScanningConfigurationOut struct {
	ScanningConfigurations []repositoryScanningConfig  `json:"scanningConfigurations"`
	Failures               []repositoryScanningFailure `json:"failures"`
}

// onRepositories authorizes the operation on each repository the input
// names.
func onRepositories(_ context.Context, c *awsapi.Call, in *batchGetRepositoryScanningConfigurationIn) ([]awsapi.Check, error) {
	reg := registryOf(c, nil)
	checks := make([]awsapi.Check, 0, len(in.RepositoryNames))
	for _, n := range in.RepositoryNames {
		checks = append(checks, onRepositoryOf(reg, n))
	}
	return checks, nil
}

func (a *API) batchGetRepositoryScanningConfiguration(ctx context.Context, c *awsapi.Call, in *batchGetRepositoryScanningConfigurationIn) (*batchGetRepositoryScanningConfigurationOut, error) {
	reg := registryOf(c, nil)
	out := &batchGetRepositoryScanningConfigurationOut{ScanningConfigurations: []repositoryScanningConfig{}, Failures: []repositoryScanningFailure{}}
	for _, name := range in.RepositoryNames {
		ri, cfg, err := a.scans.RepositoryConfig(ctx, reg, name)
		if kind, msg, _, ok := registry.KindOf(err); ok && kind == registry.ErrNameUnknown {
			out.Failures = append(out.Failures, repositoryScanningFailure{RepositoryName: name, FailureCode: "REPOSITORY_NOT_FOUND", FailureReason: msg})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.ScanningConfigurations = append(out.ScanningConfigurations, repositoryScanningConfig{
			RepositoryArn:      authz.RepositoryARN(reg.Region, reg.Account, ri.Name),
			RepositoryName:     ri.Name,
			ScanOnPush:         cfg.ScanOnPush,
			ScanFrequency:      cfg.ScanFrequency,
			AppliedScanFilters: filtersOut(cfg.AppliedFilters),
		})
	}
	return out, nil
}

type imageScanStatus struct {
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

type startImageScanIn struct {
	repoRef
	ImageID imageIdentifier `json:"imageId"`
}

type startImageScanOut struct {
	RegistryID      string          `json:"registryId"`
	RepositoryName  string          `json:"repositoryName"`
	ImageID         imageIdentifier `json:"imageId"`
	ImageScanStatus imageScanStatus `json:"imageScanStatus"`
}

func (a *API) startImageScan(ctx context.Context, c *awsapi.Call, in *startImageScanIn) (*startImageScanOut, error) {
	reg := in.registry(c)
	m, err := a.scans.StartScan(ctx, reg, in.RepositoryName, in.ImageID.domain())
	if err != nil {
		return nil, err
	}
	return &startImageScanOut{
		RegistryID: reg.Account, RepositoryName: in.RepositoryName,
		ImageID:         imageIdentifier{ImageDigest: m.Digest, ImageTag: in.ImageID.ImageTag},
		ImageScanStatus: imageScanStatus{Status: "IN_PROGRESS", Description: "The scan is in progress."},
	}, nil
}

type describeImageScanFindingsIn struct {
	repoRef
	ImageID    imageIdentifier `json:"imageId"`
	NextToken  *string         `json:"nextToken"`
	MaxResults *int            `json:"maxResults"`
}

type findingAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

type imageScanFinding struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	URI         string             `json:"uri,omitempty"`
	Severity    string             `json:"severity"`
	Attributes  []findingAttribute `json:"attributes"`
}

type imageScanFindings struct {
	ImageScanCompletedAt         *awsapi.EpochTime  `json:"imageScanCompletedAt,omitempty"`
	VulnerabilitySourceUpdatedAt *awsapi.EpochTime  `json:"vulnerabilitySourceUpdatedAt,omitempty"`
	FindingSeverityCounts        map[string]int     `json:"findingSeverityCounts,omitempty"`
	Findings                     []imageScanFinding `json:"findings"`
}

type describeImageScanFindingsOut struct {
	RegistryID        string             `json:"registryId"`
	RepositoryName    string             `json:"repositoryName"`
	ImageID           imageIdentifier    `json:"imageId"`
	ImageScanStatus   imageScanStatus    `json:"imageScanStatus"`
	ImageScanFindings *imageScanFindings `json:"imageScanFindings,omitempty"`
	NextToken         *string            `json:"nextToken,omitempty"`
}

// maxFindingsPage is the model's bound on maxResults; defaultFindingsPage
// is ECR's page when none is asked for.
const (
	maxFindingsPage     = 1000
	defaultFindingsPage = 100
)

func (a *API) describeImageScanFindings(ctx context.Context, c *awsapi.Call, in *describeImageScanFindingsIn) (*describeImageScanFindingsOut, error) {
	if err := checkMaxResults(in.MaxResults, maxFindingsPage); err != nil {
		return nil, err
	}
	reg := in.registry(c)
	scope := pageScope(c, reg, in.RepositoryName, in.ImageID.ImageDigest+"@"+in.ImageID.ImageTag)
	at, err := a.openPage(in.NextToken, scope)
	if err != nil {
		return nil, err
	}
	offset := 0
	if at.After != "" {
		if offset, err = strconv.Atoi(at.After); err != nil || offset < 0 {
			return nil, invalidParameter("Invalid parameter at 'nextToken': list again from the start")
		}
	}
	page, err := a.scans.FindingsPage(ctx, reg, in.RepositoryName, in.ImageID.domain(), offset, pageSize(in.MaxResults, defaultFindingsPage))
	if err != nil {
		return nil, err
	}
	out := &describeImageScanFindingsOut{
		RegistryID: reg.Account, RepositoryName: page.Repository.Name,
		ImageID:         imageIdentifier{ImageDigest: page.Image.Digest, ImageTag: in.ImageID.ImageTag},
		ImageScanStatus: imageScanStatus{Status: string(page.Status.Status), Description: page.Status.Description},
	}
	if page.Summary != nil {
		f := &imageScanFindings{
			ImageScanCompletedAt:         awsapi.NewEpochTime(page.Summary.CompletedAt),
			VulnerabilitySourceUpdatedAt: awsapi.NewEpochTime(page.Summary.VulnUpdatedAt),
			FindingSeverityCounts:        page.Summary.SeverityCounts,
			Findings:                     []imageScanFinding{},
		}
		for _, fd := range page.Findings {
			attrs := []findingAttribute{}
			for _, at := range fd.Attributes {
				attrs = append(attrs, findingAttribute{Key: at.Key, Value: at.Value})
			}
			f.Findings = append(f.Findings, imageScanFinding{Name: fd.Name, Description: fd.Description, URI: fd.URI, Severity: fd.Severity, Attributes: attrs})
		}
		out.ImageScanFindings = f
	}
	if page.Next > 0 {
		p := scope
		p.After = fmt.Sprint(page.Next)
		out.NextToken = a.sealPage(p)
	}
	return out, nil
}

type imageScanFindingsSummary struct {
	ImageScanCompletedAt         *awsapi.EpochTime `json:"imageScanCompletedAt,omitempty"`
	VulnerabilitySourceUpdatedAt *awsapi.EpochTime `json:"vulnerabilitySourceUpdatedAt,omitempty"`
	FindingSeverityCounts        map[string]int    `json:"findingSeverityCounts,omitempty"`
}

// addScanStatus fills in the scan status and summary of the images of a
// DescribeImages answer that had a scan requested.
func (a *API) addScanStatus(ctx context.Context, reg registry.Key, repo string, details []imageDetail) error {
	if a.scans == nil || len(details) == 0 {
		return nil
	}
	digests := make([]string, len(details))
	for i, d := range details {
		digests[i] = d.ImageDigest
	}
	st, err := a.scans.ImageStatusesIn(ctx, reg, repo, digests)
	if err != nil {
		return err
	}
	for i := range details {
		s, ok := st[details[i].ImageDigest]
		if !ok {
			continue
		}
		details[i].ImageScanStatus = &imageScanStatus{Status: string(s.Status), Description: s.Description}
		if s.Summary != nil {
			details[i].ImageScanFindingsSummary = &imageScanFindingsSummary{
				ImageScanCompletedAt:         awsapi.NewEpochTime(s.Summary.CompletedAt),
				VulnerabilitySourceUpdatedAt: awsapi.NewEpochTime(s.Summary.VulnUpdatedAt),
				FindingSeverityCounts:        s.Summary.SeverityCounts,
			}
		}
	}
	return nil
}
