package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

type replicationConfigurationIn struct {
	ReplicationConfiguration rules.Config `json:"replicationConfiguration"`
}

type replicationConfigurationOut struct {
	ReplicationConfiguration rules.Config `json:"replicationConfiguration"`
}

type describeRegistryOut struct {
	RegistryID               string       `json:"registryId"`
	ReplicationConfiguration rules.Config `json:"replicationConfiguration"`
}

// describeRegistry describes the caller's registry in the call's region:
// its replication configuration, with no rules when it never put one.
func (a *API) describeRegistry(ctx context.Context, c *awsapi.Call, _ *struct{}) (*describeRegistryOut, error) {
	reg := registryOf(c, nil)
	out := &describeRegistryOut{RegistryID: reg.Account, ReplicationConfiguration: rules.Config{Rules: []rules.Rule{}}}
	if a.replication == nil {
		return out, nil
	}
	cfg, err := a.replication.Configuration(ctx, reg)
	if err != nil {
		return nil, err
	}
	out.ReplicationConfiguration = cfg
	return out, nil
}

// putReplicationConfiguration replaces the replication configuration of
// the caller's registry in the call's region.
func (a *API) putReplicationConfiguration(ctx context.Context, c *awsapi.Call, in *replicationConfigurationIn) (*replicationConfigurationOut, error) {
	cfg, err := a.replication.PutConfiguration(ctx, registryOf(c, nil), in.ReplicationConfiguration)
	if err != nil {
		return nil, err
	}
	return &replicationConfigurationOut{cfg}, nil
}

type describeImageReplicationStatusIn struct {
	repoRef
	ImageID imageIdentifier `json:"imageId"`
}

type imageReplicationStatus struct {
	Region      string `json:"region"`
	RegistryID  string `json:"registryId"`
	Status      string `json:"status"`
	FailureCode string `json:"failureCode,omitempty"`
}

type describeImageReplicationStatusOut struct {
	RepositoryName      string                   `json:"repositoryName"`
	ImageID             imageIdentifier          `json:"imageId"`
	ReplicationStatuses []imageReplicationStatus `json:"replicationStatuses"`
}

// describeImageReplicationStatus answers where an image was replicated
// to. The model's ImageReplicationStatus has a failureCode and no reason;
// Berth's failureCode is a code, a colon and the reason in words
// (docs/replication.md).
func (a *API) describeImageReplicationStatus(ctx context.Context, c *awsapi.Call, in *describeImageReplicationStatusIn) (*describeImageReplicationStatusOut, error) {
	dg, sts, err := a.replication.Statuses(ctx, in.registry(c), in.RepositoryName, in.ImageID.domain())
	if err != nil {
		return nil, err
	}
	out := &describeImageReplicationStatusOut{RepositoryName: in.RepositoryName,
		ImageID: imageIdentifier{ImageDigest: dg, ImageTag: in.ImageID.ImageTag}, ReplicationStatuses: []imageReplicationStatus{}}
	for _, st := range sts {
		s := imageReplicationStatus{Region: st.Destination.Region, RegistryID: st.Destination.Account, Status: string(st.State)}
		// Only a FAILED status carries a failure.
		s.FailureCode = st.Failure
		out.ReplicationStatuses = append(out.ReplicationStatuses, s)
	}
	return out, nil
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
