package awsapi

import (
	"context"
	"fmt"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

func init() {
	registerECR("PutLifecyclePolicy", putLifecyclePolicy)
	registerECR("GetLifecyclePolicy", getLifecyclePolicy)
	registerECR("DeleteLifecyclePolicy", deleteLifecyclePolicy)
	registerECR("StartLifecyclePolicyPreview", startLifecyclePolicyPreview)
	registerECR("GetLifecyclePolicyPreview", getLifecyclePolicyPreview)
}

// lifecycleErrors are the exceptions of the lifecycle operations, beside
// the shared table.
var lifecycleErrors = map[error]string{
	registry.ErrLifecyclePolicyInvalid:     "InvalidParameterException",
	registry.ErrLifecyclePolicyNotFound:    "LifecyclePolicyNotFoundException",
	registry.ErrLifecyclePreviewNotFound:   "LifecyclePolicyPreviewNotFoundException",
	registry.ErrLifecyclePreviewInProgress: "LifecyclePolicyPreviewInProgressException",
}

// defaultPreviewPage is GetLifecyclePolicyPreview's page without maxResults.
const defaultPreviewPage = 100

type lifecyclePolicyIn struct {
	RegistryID          *string `json:"registryId"`
	RepositoryName      string  `json:"repositoryName"`
	LifecyclePolicyText *string `json:"lifecyclePolicyText"`
}

type lifecyclePolicyOut struct {
	RegistryID          string     `json:"registryId"`
	RepositoryName      string     `json:"repositoryName"`
	LifecyclePolicyText string     `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *epochTime `json:"lastEvaluatedAt,omitempty"`
}

func policyOut(p *meta.LifecyclePolicy) lifecyclePolicyOut {
	return lifecyclePolicyOut{
		RegistryID:          p.Registry.Account,
		RepositoryName:      p.Repository,
		LifecyclePolicyText: p.Text,
		LastEvaluatedAt:     newEpoch(p.LastEvaluatedAt),
	}
}

func putLifecyclePolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in lifecyclePolicyIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:PutLifecyclePolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	p, err := e.reg.PutLifecyclePolicy(ctx, reg, in.RepositoryName, policyTextIn(in.LifecyclePolicyText))
	if err != nil {
		return nil, ecrError(err, lifecycleErrors)
	}
	return struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
	}{p.Registry.Account, p.Repository, p.Text}, nil
}

func getLifecyclePolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in lifecyclePolicyIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:GetLifecyclePolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	p, err := e.reg.GetLifecyclePolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, ecrError(err, lifecycleErrors)
	}
	return policyOut(p), nil
}

func deleteLifecyclePolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in lifecyclePolicyIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:DeleteLifecyclePolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	p, err := e.reg.DeleteLifecyclePolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, ecrError(err, lifecycleErrors)
	}
	return policyOut(p), nil
}

func startLifecyclePolicyPreview(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in lifecyclePolicyIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:StartLifecyclePolicyPreview", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	pv, err := e.reg.StartLifecyclePreview(ctx, reg, in.RepositoryName, policyTextIn(in.LifecyclePolicyText))
	if err != nil {
		return nil, ecrError(err, lifecycleErrors)
	}
	return struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
		Status              string `json:"status"`
	}{reg.Account, in.RepositoryName, pv.Text, pv.Status}, nil
}

type previewResultOut struct {
	ImageTags           []string         `json:"imageTags,omitempty"`
	ImageDigest         string           `json:"imageDigest"`
	ImagePushedAt       *epochTime       `json:"imagePushedAt,omitempty"`
	Action              previewActionOut `json:"action"`
	AppliedRulePriority int              `json:"appliedRulePriority,omitempty"`
	StorageClass        string           `json:"storageClass,omitempty"`
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

func getLifecyclePolicyPreview(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string           `json:"registryId"`
		RepositoryName string            `json:"repositoryName"`
		ImageIDs       []imageIdentifier `json:"imageIds"`
		NextToken      *string           `json:"nextToken"`
		MaxResults     *int              `json:"maxResults"`
		Filter         *struct {
			TagStatus string `json:"tagStatus"`
		} `json:"filter"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:GetLifecyclePolicyPreview", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if len(in.ImageIDs) > 0 {
		switch {
		case in.MaxResults != nil:
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'maxResults': it cannot be used when imageIds are given")
		case in.NextToken != nil:
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'nextToken': it cannot be used when imageIds are given")
		}
	}
	if err := checkMaxResults(in.MaxResults, defaultPreviewPage); err != nil {
		return nil, err
	}
	status := meta.TagStatusAny
	if in.Filter != nil && in.Filter.TagStatus != "" {
		switch s := meta.TagStatus(in.Filter.TagStatus); s {
		case meta.TagStatusAny, meta.TagStatusTagged, meta.TagStatusUntagged:
			status = s
		default:
			return nil, errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'filter.tagStatus': %q is not one of TAGGED, UNTAGGED, ANY", truncate(in.Filter.TagStatus, 100)))
		}
	}
	scope := pageToken{Op: c.Operation, Registry: registryScope(reg), Repo: in.RepositoryName, Filter: string(status)}
	after := ""
	if in.NextToken != nil {
		p, err := e.openPage(*in.NextToken, scope)
		if err != nil {
			return nil, err
		}
		after = p.After
	}
	ids := make([]registry.ImageID, len(in.ImageIDs))
	for i, id := range in.ImageIDs {
		ids[i] = id.domain()
	}
	pv, err := e.reg.GetLifecyclePreview(ctx, reg, in.RepositoryName, ids, status)
	if err != nil {
		return nil, ecrError(err, lifecycleErrors)
	}
	var out struct {
		RegistryID          string             `json:"registryId"`
		RepositoryName      string             `json:"repositoryName"`
		LifecyclePolicyText string             `json:"lifecyclePolicyText"`
		Status              string             `json:"status"`
		NextToken           *string            `json:"nextToken,omitempty"`
		PreviewResults      []previewResultOut `json:"previewResults"`
		Summary             *previewSummaryOut `json:"summary,omitempty"`
	}
	out.RegistryID, out.RepositoryName, out.LifecyclePolicyText, out.Status = reg.Account, in.RepositoryName, pv.Text, pv.Status
	out.PreviewResults = []previewResultOut{}
	if pv.Status != meta.PreviewComplete {
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
			out.NextToken = e.sealPage(p)
			break
		}
		out.PreviewResults = append(out.PreviewResults, previewResultOut{
			ImageTags:           r.Tags,
			ImageDigest:         r.Digest,
			ImagePushedAt:       newEpoch(r.PushedAt),
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
