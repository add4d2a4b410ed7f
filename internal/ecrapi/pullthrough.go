package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/pullthrough"
)

// ptcRuleOut is ECR's PullThroughCacheRule and the shape every rule
// operation answers with (each leaves out what its output lacks: the
// model's members only).
type ptcRuleOut struct {
	EcrRepositoryPrefix      string            `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string            `json:"upstreamRegistryUrl,omitempty"`
	CreatedAt                *awsapi.EpochTime `json:"createdAt,omitempty"`
	RegistryID               string            `json:"registryId"`
	CredentialARN            string            `json:"credentialArn,omitempty"`
	CustomRoleARN            string            `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string            `json:"upstreamRepositoryPrefix,omitempty"`
	UpstreamRegistry         string            `json:"upstreamRegistry,omitempty"`
	UpdatedAt                *awsapi.EpochTime `json:"updatedAt,omitempty"`
}

func ruleOut(r *pullthrough.Rule) ptcRuleOut {
	return ptcRuleOut{
		EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.UpstreamURL, CreatedAt: awsapi.NewEpochTime(r.CreatedAt),
		RegistryID: r.Registry.Account, CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN,
		UpstreamRepositoryPrefix: r.UpstreamPrefix, UpstreamRegistry: r.Upstream, UpdatedAt: awsapi.NewEpochTime(r.UpdatedAt),
	}
}

// ptcRef is how the rule operations name their rule.
type ptcRef struct {
	RegistryID          *string `json:"registryId"`
	EcrRepositoryPrefix string  `json:"ecrRepositoryPrefix"`
}

func (r ptcRef) registryID() *string { return r.RegistryID }

type namesRegistry interface{ registryID() *string }

// onRegistryOf authorizes a rule operation on the registry its input
// names (registryId, else the caller's): ECR's resource for registry-wide
// actions, every repository of it.
func onRegistryOf[In namesRegistry](_ context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
	return []awsapi.Check{onRepositoryOf(registryOf(c, (*in).registryID()), "*")}, nil
}

func (a *API) ptc() (*pullthrough.Service, error) {
	if a.pullThrough == nil {
		return nil, awsapi.Errorf("UnsupportedOperationException", "this Berth serves no pull through cache")
	}
	return a.pullThrough, nil
}

type createPTCRuleIn struct {
	ptcRef
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
	UpstreamRegistry         string `json:"upstreamRegistry"`
	CredentialARN            string `json:"credentialArn"`
	CustomRoleARN            string `json:"customRoleArn"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix"`
}

func (a *API) createPullThroughCacheRule(ctx context.Context, c *awsapi.Call, in *createPTCRuleIn) (*ptcRuleOut, error) {
	p, err := a.ptc()
	if err != nil {
		return nil, err
	}
	r, err := p.CreateRule(ctx, registryOf(c, in.RegistryID), pullthrough.NewRule{
		Prefix: in.EcrRepositoryPrefix, UpstreamURL: in.UpstreamRegistryURL, Upstream: in.UpstreamRegistry,
		UpstreamPrefix: in.UpstreamRepositoryPrefix, CredentialARN: in.CredentialARN, CustomRoleARN: in.CustomRoleARN,
	})
	if err != nil {
		return nil, err
	}
	out := ruleOut(r)
	out.UpdatedAt = nil
	return &out, nil
}

type describePTCRulesIn struct {
	RegistryID            *string  `json:"registryId"`
	EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
	NextToken             string   `json:"nextToken"`
	MaxResults            int      `json:"maxResults"`
}

func (in describePTCRulesIn) registryID() *string { return in.RegistryID }

type describePTCRulesOut struct {
	PullThroughCacheRules []ptcRuleOut `json:"pullThroughCacheRules"`
	NextToken             string       `json:"nextToken,omitempty"`
}

func (a *API) describePullThroughCacheRules(ctx context.Context, c *awsapi.Call, in *describePTCRulesIn) (*describePTCRulesOut, error) {
	p, err := a.ptc()
	if err != nil {
		return nil, err
	}
	rules, next, err := p.DescribeRules(ctx, registryOf(c, in.RegistryID), in.EcrRepositoryPrefixes, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &describePTCRulesOut{PullThroughCacheRules: []ptcRuleOut{}, NextToken: next}
	for _, r := range rules {
		out.PullThroughCacheRules = append(out.PullThroughCacheRules, ruleOut(r))
	}
	return out, nil
}

type updatePTCRuleIn struct {
	ptcRef
	CredentialARN string `json:"credentialArn"`
	CustomRoleARN string `json:"customRoleArn"`
}

type updatePTCRuleOut struct {
	EcrRepositoryPrefix      string            `json:"ecrRepositoryPrefix"`
	RegistryID               string            `json:"registryId"`
	UpdatedAt                *awsapi.EpochTime `json:"updatedAt,omitempty"`
	CredentialARN            string            `json:"credentialArn,omitempty"`
	CustomRoleARN            string            `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string            `json:"upstreamRepositoryPrefix,omitempty"`
}

func (a *API) updatePullThroughCacheRule(ctx context.Context, c *awsapi.Call, in *updatePTCRuleIn) (*updatePTCRuleOut, error) {
	p, err := a.ptc()
	if err != nil {
		return nil, err
	}
	r, err := p.UpdateRule(ctx, registryOf(c, in.RegistryID), in.EcrRepositoryPrefix, in.CredentialARN, in.CustomRoleARN)
	if err != nil {
		return nil, err
	}
	return &updatePTCRuleOut{EcrRepositoryPrefix: r.Prefix, RegistryID: r.Registry.Account, UpdatedAt: awsapi.NewEpochTime(r.UpdatedAt),
		CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN, UpstreamRepositoryPrefix: r.UpstreamPrefix}, nil
}

func (a *API) deletePullThroughCacheRule(ctx context.Context, c *awsapi.Call, in *ptcRef) (*ptcRuleOut, error) {
	p, err := a.ptc()
	if err != nil {
		return nil, err
	}
	r, err := p.DeleteRule(ctx, registryOf(c, in.RegistryID), in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	out := ruleOut(r)
	out.UpstreamRegistry, out.UpdatedAt = "", nil // not members of DeletePullThroughCacheRuleResponse
	return &out, nil
}

type validatePTCRuleOut struct {
	EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	RegistryID               string `json:"registryId"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
	CredentialARN            string `json:"credentialArn,omitempty"`
	CustomRoleARN            string `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
	IsValid                  bool   `json:"isValid"`
	Failure                  string `json:"failure,omitempty"`
}

func (a *API) validatePullThroughCacheRule(ctx context.Context, c *awsapi.Call, in *ptcRef) (*validatePTCRuleOut, error) {
	p, err := a.ptc()
	if err != nil {
		return nil, err
	}
	v, err := p.ValidateRule(ctx, registryOf(c, in.RegistryID), in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	r := v.Rule
	return &validatePTCRuleOut{EcrRepositoryPrefix: r.Prefix, RegistryID: r.Registry.Account, UpstreamRegistryURL: r.UpstreamURL,
		CredentialARN: r.CredentialARN, CustomRoleARN: r.CustomRoleARN, UpstreamRepositoryPrefix: r.UpstreamPrefix,
		IsValid: v.Valid, Failure: v.Failure}, nil
}
