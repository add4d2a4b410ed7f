package ecrpublicapi

import (
	"context"
	"encoding/base64"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

// authorizationTokenChecks: ECR Public's login takes
// ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken, both on
// "*", as AWS documents.
func authorizationTokenChecks(_ context.Context, c *awsapi.Call, _ *struct{}) ([]awsapi.Check, error) {
	if err := inRegion(c); err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	return []awsapi.Check{
		{Resource: "*", Account: acct},
		{Action: "sts:GetServiceBearerToken", Resource: "*", Account: acct},
	}, nil
}

type authorizationData struct {
	AuthorizationToken string            `json:"authorizationToken"`
	ExpiresAt          *awsapi.EpochTime `json:"expiresAt"`
}

type getAuthorizationTokenOut struct {
	AuthorizationData authorizationData `json:"authorizationData"`
}

// getAuthorizationToken issues a 12-hour login bound to the public
// registries (the token's region is registry.PublicRegion): it does not
// open a private registry's host, nor a private login the public one.
func (a *API) getAuthorizationToken(_ context.Context, c *awsapi.Call, _ *struct{}) (*getAuthorizationTokenOut, error) {
	password, exp := a.tokens.Issue(c.Principal, registry.PublicRegion)
	return &getAuthorizationTokenOut{authorizationData{
		AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		ExpiresAt:          awsapi.NewEpochTime(exp),
	}}, nil
}

type registryAlias struct {
	Name                 string `json:"name"`
	Status               string `json:"status"`
	PrimaryRegistryAlias bool   `json:"primaryRegistryAlias"`
	DefaultRegistryAlias bool   `json:"defaultRegistryAlias"`
}

type registryOut struct {
	RegistryID  string          `json:"registryId"`
	RegistryArn string          `json:"registryArn"`
	RegistryURI string          `json:"registryUri"`
	Verified    bool            `json:"verified"`
	Aliases     []registryAlias `json:"aliases"`
}

type describeRegistriesIn struct {
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

type describeRegistriesOut struct {
	Registries []registryOut `json:"registries"`
}

// describeRegistries lists the caller's one public registry with its
// aliases: the custom one (set with berth admin public-alias), which is
// then the primary one its URIs use, and the default one.
func (a *API) describeRegistries(ctx context.Context, c *awsapi.Call, in *describeRegistriesIn) (*describeRegistriesOut, error) {
	if in.NextToken != nil {
		return nil, invalidParameter("Invalid parameter at 'nextToken': the token is not one that DescribeRegistries returned")
	}
	reg := registryOf(c, nil)
	custom, def, err := a.reg.PublicAliases(ctx, reg.Account)
	if err != nil {
		return nil, err
	}
	primary := def
	aliases := []registryAlias{}
	if custom != "" {
		primary = custom
		aliases = append(aliases, registryAlias{Name: custom, Status: "ACTIVE", PrimaryRegistryAlias: true})
	}
	aliases = append(aliases, registryAlias{Name: def, Status: "ACTIVE", PrimaryRegistryAlias: custom == "", DefaultRegistryAlias: true})
	return &describeRegistriesOut{[]registryOut{{
		RegistryID:  reg.Account,
		RegistryArn: "arn:aws:ecr-public::" + reg.Account + ":registry/" + reg.Account,
		RegistryURI: a.host + "/" + primary,
		Aliases:     aliases,
	}}}, nil
}

type registryCatalogData struct {
	DisplayName string `json:"displayName,omitempty"`
}

type registryCatalogDataResult struct {
	RegistryCatalogData registryCatalogData `json:"registryCatalogData"`
}

func (a *API) getRegistryCatalogData(ctx context.Context, c *awsapi.Call, _ *struct{}) (*registryCatalogDataResult, error) {
	name, err := a.reg.RegistryDisplayName(ctx, registryOf(c, nil))
	if err != nil {
		return nil, err
	}
	return &registryCatalogDataResult{registryCatalogData{name}}, nil
}

type putRegistryCatalogDataIn struct {
	DisplayName *string `json:"displayName"`
}

// putRegistryCatalogData sets the display name; a request without one
// leaves it as it is.
func (a *API) putRegistryCatalogData(ctx context.Context, c *awsapi.Call, in *putRegistryCatalogDataIn) (*registryCatalogDataResult, error) {
	reg := registryOf(c, nil)
	if in.DisplayName != nil {
		if err := a.reg.PutRegistryDisplayName(ctx, reg, *in.DisplayName); err != nil {
			return nil, err
		}
	}
	return a.getRegistryCatalogData(ctx, c, nil)
}
