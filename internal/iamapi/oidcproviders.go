package iamapi

import (
	"context"
	"net/http"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// OpenID Connect providers: the issuers AssumeRoleWithWebIdentity trusts.

type oidcIn struct {
	Url                      string   `json:"Url"`
	ClientIDList             []string `json:"ClientIDList"`
	ThumbprintList           []string `json:"ThumbprintList"`
	OpenIDConnectProviderArn string   `json:"OpenIDConnectProviderArn"`
	ClientID                 string   `json:"ClientID"`
	Tags                     []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

// newProvider checks CreateOpenIDConnectProvider on the ARN the provider
// will have; a Url IAM refuses is refused by the domain after the check.
func newProvider(_ context.Context, c *awsapi.Call, in *oidcIn) ([]awsapi.Check, error) {
	account := c.Principal.Account
	arn := "arn:aws:iam::" + account + ":oidc-provider/*"
	if u, err := iam.ProviderURL(in.Url); err == nil {
		arn = iam.OIDCProviderARN(account, u)
	}
	return on(account, arn), nil
}

// onProvider checks the operation on OpenIDConnectProviderArn.
func onProvider(_ context.Context, c *awsapi.Call, in *oidcIn) ([]awsapi.Check, error) {
	return on(c.Principal.Account, in.OpenIDConnectProviderArn), nil
}

func allProviders(_ context.Context, c *awsapi.Call, _ *struct{}) ([]awsapi.Check, error) {
	return on(c.Principal.Account, "*"), nil
}

type createProviderOut struct {
	OpenIDConnectProviderArn string `xml:"OpenIDConnectProviderArn"`
}

func (a *API) createOpenIDConnectProvider(ctx context.Context, c *awsapi.Call, in *oidcIn) (*createProviderOut, error) {
	if len(in.Tags) > 0 {
		// Dropping them silently would lose what a policy may later test.
		return nil, &awsapi.Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: "Berth does not support Tags on OpenID Connect providers yet"}
	}
	p, err := a.iam.CreateOpenIDConnectProvider(ctx, c.Principal.Account, in.Url, in.ClientIDList, in.ThumbprintList)
	if err != nil {
		return nil, err
	}
	return &createProviderOut{OpenIDConnectProviderArn: p.ARN}, nil
}

type getProviderOut struct {
	Url            string                 `xml:"Url"`
	ClientIDList   awsapi.XMLList[string] `xml:"ClientIDList"`
	ThumbprintList awsapi.XMLList[string] `xml:"ThumbprintList"`
	CreateDate     *awsapi.XMLTime        `xml:"CreateDate,omitempty"`
}

func (a *API) getOpenIDConnectProvider(ctx context.Context, c *awsapi.Call, in *oidcIn) (*getProviderOut, error) {
	p, err := a.iam.GetOpenIDConnectProvider(ctx, c.Principal.Account, in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	return &getProviderOut{Url: p.URL, ClientIDList: awsapi.XMLList[string]{Member: p.ClientIDs},
		ThumbprintList: awsapi.XMLList[string]{Member: p.Thumbprints}, CreateDate: awsapi.NewXMLTime(p.CreatedAt)}, nil
}

type providerEntry struct {
	Arn string `xml:"Arn"`
}

type listProvidersOut struct {
	OpenIDConnectProviderList awsapi.XMLList[providerEntry] `xml:"OpenIDConnectProviderList"`
}

func (a *API) listOpenIDConnectProviders(ctx context.Context, c *awsapi.Call, _ *struct{}) (*listProvidersOut, error) {
	list, err := a.iam.ListOpenIDConnectProviders(ctx, c.Principal.Account)
	if err != nil {
		return nil, err
	}
	out := &listProvidersOut{}
	for _, p := range list {
		out.OpenIDConnectProviderList.Member = append(out.OpenIDConnectProviderList.Member, providerEntry{Arn: p.ARN})
	}
	return out, nil
}

func (a *API) deleteOpenIDConnectProvider(ctx context.Context, c *awsapi.Call, in *oidcIn) (*none, error) {
	return nil, a.iam.DeleteOpenIDConnectProvider(ctx, c.Principal.Account, in.OpenIDConnectProviderArn)
}

func (a *API) addClientID(ctx context.Context, c *awsapi.Call, in *oidcIn) (*none, error) {
	return nil, a.iam.AddClientIDToOpenIDConnectProvider(ctx, c.Principal.Account, in.OpenIDConnectProviderArn, in.ClientID)
}

func (a *API) removeClientID(ctx context.Context, c *awsapi.Call, in *oidcIn) (*none, error) {
	return nil, a.iam.RemoveClientIDFromOpenIDConnectProvider(ctx, c.Principal.Account, in.OpenIDConnectProviderArn, in.ClientID)
}

func (a *API) updateThumbprint(ctx context.Context, c *awsapi.Call, in *oidcIn) (*none, error) {
	return nil, a.iam.UpdateOpenIDConnectProviderThumbprint(ctx, c.Principal.Account, in.OpenIDConnectProviderArn, in.ThumbprintList)
}
