package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
)

type replicationConfiguration struct {
	// Rules is always present, if empty: the model requires it.
	Rules []replicationRule `json:"rules"`
}

type replicationRule struct {
	Destinations      []replicationDestination `json:"destinations"`
	RepositoryFilters []repositoryFilter       `json:"repositoryFilters,omitempty"`
}

type replicationDestination struct {
	Region     string `json:"region"`
	RegistryID string `json:"registryId"`
}

type repositoryFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type describeRegistryOut struct {
	RegistryID               string                   `json:"registryId"`
	ReplicationConfiguration replicationConfiguration `json:"replicationConfiguration"`
}

// describeRegistry describes the caller's registry in the call's region.
// Berth does not replicate yet, so the replication configuration has no
// rules, as for an ECR registry that never set one.
func (a *API) describeRegistry(_ context.Context, c *awsapi.Call, _ *struct{}) (*describeRegistryOut, error) {
	reg := registryOf(c, nil)
	return &describeRegistryOut{reg.Account, replicationConfiguration{Rules: []replicationRule{}}}, nil
}

type accountSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (a *API) getAccountSetting(ctx context.Context, c *awsapi.Call, in *accountSetting) (*accountSetting, error) {
	v, err := a.reg.AccountSetting(ctx, registryOf(c, nil), in.Name)
	if err != nil {
		return nil, err
	}
	return &accountSetting{Name: in.Name, Value: v}, nil
}

func (a *API) putAccountSetting(ctx context.Context, c *awsapi.Call, in *accountSetting) (*accountSetting, error) {
	if err := a.reg.PutAccountSetting(ctx, registryOf(c, nil), in.Name, in.Value); err != nil {
		return nil, err
	}
	return &accountSetting{Name: in.Name, Value: in.Value}, nil
}
