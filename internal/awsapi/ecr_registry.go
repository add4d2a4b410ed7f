package awsapi

import (
	"context"
)

func init() {
	registerECR("DescribeRegistry", describeRegistry)
	registerECR("GetAccountSetting", getAccountSetting)
	registerECR("PutAccountSetting", putAccountSetting)
}

type ecrReplicationConfiguration struct {
	// Rules is always present, if empty: the model requires it.
	Rules []ecrReplicationRule `json:"rules"`
}

type ecrReplicationRule struct {
	Destinations      []ecrReplicationDestination `json:"destinations"`
	RepositoryFilters []ecrRepositoryFilter       `json:"repositoryFilters,omitempty"`
}

type ecrReplicationDestination struct {
	Region     string `json:"region"`
	RegistryID string `json:"registryId"`
}

type ecrRepositoryFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

// describeRegistry describes the caller's registry in the call's region.
// Berth does not replicate yet, so the replication configuration has no
// rules, as for an ECR registry that never set one.
func describeRegistry(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:DescribeRegistry", reg, "*"); err != nil {
		return nil, err
	}
	return struct {
		RegistryID               string                      `json:"registryId"`
		ReplicationConfiguration ecrReplicationConfiguration `json:"replicationConfiguration"`
	}{reg.Account, ecrReplicationConfiguration{Rules: []ecrReplicationRule{}}}, nil
}

type accountSettingOut struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func getAccountSetting(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:GetAccountSetting", reg, "*"); err != nil {
		return nil, err
	}
	v, err := e.reg.AccountSetting(ctx, reg, in.Name)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	return accountSettingOut{Name: in.Name, Value: v}, nil
}

func putAccountSetting(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, nil)
	if err := e.authorize(ctx, c, "ecr:PutAccountSetting", reg, "*"); err != nil {
		return nil, err
	}
	if err := e.reg.PutAccountSetting(ctx, reg, in.Name, in.Value); err != nil {
		return nil, ecrError(err, nil)
	}
	return accountSettingOut{Name: in.Name, Value: in.Value}, nil
}
