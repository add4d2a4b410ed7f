package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
)

type repositoryPolicyIn struct {
	repoRef
	PolicyText string `json:"policyText"`
	// Force skips ECR's check that the policy does not lock the caller
	// out; Berth makes no such check, so it changes nothing.
	Force bool `json:"force"`
}

type repositoryPolicyOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText,omitempty"`
}

func (a *API) setRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repositoryPolicyIn) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	if _, err := a.reg.SetRepositoryPolicy(ctx, reg, in.RepositoryName, in.PolicyText); err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, in.PolicyText}, nil
}

func (a *API) getRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repositoryPolicyIn) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	text, err := a.reg.RepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, text}, nil
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, c *awsapi.Call, in *repositoryPolicyIn) (*repositoryPolicyOut, error) {
	reg := in.registry(c)
	text, err := a.reg.DeleteRepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &repositoryPolicyOut{reg.Account, in.RepositoryName, text}, nil
}

type registryPolicy struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText,omitempty"`
}

func (a *API) putRegistryPolicy(ctx context.Context, c *awsapi.Call, in *registryPolicy) (*registryPolicy, error) {
	reg := registryOf(c, nil)
	if err := a.reg.PutRegistryPolicy(ctx, reg, in.PolicyText); err != nil {
		return nil, err
	}
	return &registryPolicy{reg.Account, in.PolicyText}, nil
}

func (a *API) getRegistryPolicy(ctx context.Context, c *awsapi.Call, _ *struct{}) (*registryPolicy, error) {
	reg := registryOf(c, nil)
	text, err := a.reg.RegistryPolicy(ctx, reg)
	if err != nil {
		return nil, err
	}
	return &registryPolicy{reg.Account, text}, nil
}

func (a *API) deleteRegistryPolicy(ctx context.Context, c *awsapi.Call, _ *struct{}) (*registryPolicy, error) {
	reg := registryOf(c, nil)
	text, err := a.reg.DeleteRegistryPolicy(ctx, reg)
	if err != nil {
		return nil, err
	}
	return &registryPolicy{reg.Account, text}, nil
}
