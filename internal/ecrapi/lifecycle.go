package ecrapi

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

// defaultPreviewPage is GetLifecyclePolicyPreview's page without maxResults.
const defaultPreviewPage = 100

type lifecyclePolicyIn struct {
	repoRef
	LifecyclePolicyText *string `json:"lifecyclePolicyText"`
}

type lifecyclePolicyOut struct {
	RegistryID          string            `json:"registryId"`
	RepositoryName      string            `json:"repositoryName"`
	LifecyclePolicyText string            `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *awsapi.EpochTime `json:"lastEvaluatedAt,omitempty"`
}

func policyOut(p *registry.LifecyclePolicy) *lifecyclePolicyOut {
	return &lifecyclePolicyOut{
		RegistryID:          p.Registry.Account,
		RepositoryName:      p.Repository,
		LifecyclePolicyText: p.Text,
		LastEvaluatedAt:     awsapi.NewEpochTime(p.LastEvaluatedAt),
	}
}

type putLifecyclePolicyOut struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
}

func (a *API) putLifecyclePolicy(ctx context.Context, c *awsapi.Call, in *lifecyclePolicyIn) (*putLifecyclePolicyOut, error) {
	p, err := a.reg.PutLifecyclePolicy(ctx, in.registry(c), in.RepositoryName, policyTextIn(in.LifecyclePolicyText))
	if err != nil {
		return nil, err
	}
	return &putLifecyclePolicyOut{p.Registry.Account, p.Repository, p.Text}, nil
}

func (a *API) getLifecyclePolicy(ctx context.Context, c *awsapi.Call, in *lifecyclePolicyIn) (*lifecyclePolicyOut, error) {
	p, err := a.reg.GetLifecyclePolicy(ctx, in.registry(c), in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return policyOut(p), nil
}

func (a *API) deleteLifecyclePolicy(ctx context.Context, c *awsapi.Call, in *lifecyclePolicyIn) (*lifecyclePolicyOut, error) {
	p, err := a.reg.DeleteLifecyclePolicy(ctx, in.registry(c), in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return policyOut(p), nil
}

type startLifecyclePolicyPreviewOut struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
	Status              string `json:"status"`
}

func (a *API) startLifecyclePolicyPreview(ctx context.Context, c *awsapi.Call, in *lifecyclePolicyIn) (*startLifecyclePolicyPreviewOut, error) {
	reg := in.registry(c)
	pv, err := a.reg.StartLifecyclePreview(ctx, reg, in.RepositoryName, policyTextIn(in.LifecyclePolicyText))
	if err != nil {
		return nil, err
	}
	return &startLifecyclePolicyPreviewOut{reg.Account, in.RepositoryName, pv.Text, pv.Status}, nil
}

type previewResultOut struct {
	ImageTags           []string          `json:"imageTags,omitempty"`
	ImageDigest         string            `json:"imageDigest"`
	ImagePushedAt       *awsapi.EpochTime `json:"imagePushedAt,omitempty"`
	Action              previewActionOut  `json:"action"`
	AppliedRulePriority int               `json:"appliedRulePriority,omitempty"`
	StorageClass        string            `json:"storageClass,omitempty"`
}

type previewActionOut struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

type previewSummaryOut struct {
	ExpiringImageTotalCount       int                  `json:"expiringImageTotalCount"`
	TransitioningImageTotalCounts []transitionCountOut `json:"transitioningImageTotalCounts,omitempty"`
}

type transitionCountOut struct {
	TargetStorageClass string `json:"targetStorageClass"`
	ImageTotalCount    int    `json:"imageTotalCount"`
}

type getLifecyclePolicyPreviewIn struct {
	repoRef
	ImageIDs   []imageIdentifier `json:"imageIds"`
	NextToken  *string           `json:"nextToken"`
	MaxResults *int              `json:"maxResults"`
	Filter     *struct {
		TagStatus string `json:"tagStatus"`
	} `json:"filter"`
}

type getLifecyclePolicyPreviewOut struct {
	RegistryID          string             `json:"registryId"`
	RepositoryName      string             `json:"repositoryName"`
	LifecyclePolicyText string             `json:"lifecyclePolicyText"`
	Status              string             `json:"status"`
	NextToken           *string            `json:"nextToken,omitempty"`
	PreviewResults      []previewResultOut `json:"previewResults"`
	Summary             *previewSummaryOut `json:"summary,omitempty"`
}

func (a *API) getLifecyclePolicyPreview(ctx context.Context, c *awsapi.Call, in *getLifecyclePolicyPreviewIn) (*getLifecyclePolicyPreviewOut, error) {
	reg := in.registry(c)
	if err := notWithImageIDs(in.ImageIDs, in.MaxResults, in.NextToken); err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults, defaultPreviewPage); err != nil {
		return nil, err
	}
	status := registry.TagStatusAny
	if in.Filter != nil && in.Filter.TagStatus != "" {
		switch s := registry.TagStatus(in.Filter.TagStatus); s {
		case registry.TagStatusAny, registry.TagStatusTagged, registry.TagStatusUntagged:
			status = s
		default:
			return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'filter.tagStatus': %q is not one of TAGGED, UNTAGGED, ANY", awsapi.Truncate(in.Filter.TagStatus, 100)))
		}
	}
	scope := pageScope(c, reg, in.RepositoryName, string(status))
	page, err := a.openPage(in.NextToken, scope)
	if err != nil {
		return nil, err
	}
	after := page.After
	pv, err := a.reg.GetLifecyclePreview(ctx, reg, in.RepositoryName, domainImageIDs(in.ImageIDs), status)
	if err != nil {
		return nil, err
	}
	out := &getLifecyclePolicyPreviewOut{}
	out.RegistryID, out.RepositoryName, out.LifecyclePolicyText, out.Status = reg.Account, in.RepositoryName, pv.Text, pv.Status
	out.PreviewResults = []previewResultOut{}
	if pv.Status != registry.PreviewComplete {
		return out, nil
	}
	sum := &previewSummaryOut{ExpiringImageTotalCount: pv.Summary.ExpiringImageTotalCount}
	for _, t := range pv.Summary.TransitioningImageTotalCounts {
		sum.TransitioningImageTotalCounts = append(sum.TransitioningImageTotalCounts,
			transitionCountOut{TargetStorageClass: string(t.TargetStorageClass), ImageTotalCount: t.ImageTotalCount})
	}
	out.Summary = sum
	// With imageIds there are no pages.
	n := pageSize(in.MaxResults, defaultPreviewPage)
	if len(in.ImageIDs) > 0 {
		n = max(len(pv.Results), 1)
	}
	for _, r := range pv.Results {
		if r.Digest <= after {
			continue
		}
		if len(out.PreviewResults) == n {
			p := scope
			p.After = out.PreviewResults[n-1].ImageDigest
			out.NextToken = a.sealPage(p)
			break
		}
		out.PreviewResults = append(out.PreviewResults, previewResultOut{
			ImageTags:           r.Tags,
			ImageDigest:         r.Digest,
			ImagePushedAt:       awsapi.NewEpochTime(r.PushedAt),
			Action:              previewActionOut{Type: r.Action, TargetStorageClass: r.TargetStorageClass},
			AppliedRulePriority: r.RulePriority,
			StorageClass:        r.StorageClass,
		})
	}
	return out, nil
}

func policyTextIn(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
