package awsapi

import (
	"context"
)

func init() {
	registerECR("SetRepositoryPolicy", setRepositoryPolicy)
	registerECR("GetRepositoryPolicy", getRepositoryPolicy)
	registerECR("DeleteRepositoryPolicy", deleteRepositoryPolicy)
	registerECR("PutRegistryPolicy", putRegistryPolicy)
	registerECR("GetRegistryPolicy", getRegistryPolicy)
	registerECR("DeleteRegistryPolicy", deleteRegistryPolicy)
}

type repositoryPolicyInput struct {
	RegistryID     *string `json:"registryId"`
	RepositoryName string  `json:"repositoryName"`
	PolicyText     string  `json:"policyText"`
	// Force skips ECR's check that the policy does not lock the caller
	// out; Berth makes no such check, so it changes nothing.
	Force bool `json:"force"`
}

type repositoryPolicyOutput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText,omitempty"`
}

func setRepositoryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in repositoryPolicyInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:SetRepositoryPolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if _, err := e.reg.SetRepositoryPolicy(ctx, reg, in.RepositoryName, in.PolicyText); err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return repositoryPolicyOutput{reg.Account, in.RepositoryName, in.PolicyText}, nil
}

func getRepositoryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in repositoryPolicyInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:GetRepositoryPolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	text, err := e.reg.RepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	return repositoryPolicyOutput{reg.Account, in.RepositoryName, text}, nil
}

func deleteRepositoryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in repositoryPolicyInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:DeleteRepositoryPolicy", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	text, err := e.reg.DeleteRepositoryPolicy(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return repositoryPolicyOutput{reg.Account, in.RepositoryName, text}, nil
}

type registryPolicyOutput struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText,omitempty"`
}

func putRegistryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		PolicyText string `json:"policyText"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:PutRegistryPolicy", reg, "*"); err != nil {
		return nil, err
	}
	if err := e.reg.PutRegistryPolicy(ctx, reg, in.PolicyText); err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return registryPolicyOutput{reg.Account, in.PolicyText}, nil
}

func getRegistryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:GetRegistryPolicy", reg, "*"); err != nil {
		return nil, err
	}
	text, err := e.reg.RegistryPolicy(ctx, reg)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	return registryPolicyOutput{reg.Account, text}, nil
}

func deleteRegistryPolicy(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:DeleteRegistryPolicy", reg, "*"); err != nil {
		return nil, err
	}
	text, err := e.reg.DeleteRegistryPolicy(ctx, reg)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	e.s.policiesChanged()
	return registryPolicyOutput{reg.Account, text}, nil
}
