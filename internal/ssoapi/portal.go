package ssoapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
)

// The access portal: what an access token opens.

type portalIn struct {
	AccessToken string `json:"accessToken"`
	AccountID   string `json:"accountId"`
	RoleName    string `json:"roleName"`
	MaxResults  int    `json:"maxResults"`
	NextToken   string `json:"nextToken"`
}

// portalPage is a page of a portal list, in the portal's words.
func portalPage[T any](items []T, key func(T) string, in *portalIn, name string) (map[string]any, error) {
	items, next, ok := page(items, key, in.MaxResults, in.NextToken)
	if !ok {
		return nil, awsapi.Errorf("InvalidRequestException", "nextToken is not one this operation answered")
	}
	out := map[string]any{name: items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (a *API) getRoleCredentials(ctx context.Context, _ *awsapi.Call, in *portalIn) (any, error) {
	rc, err := a.sso.RoleCredentials(ctx, in.AccessToken, in.AccountID, in.RoleName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"roleCredentials": map[string]any{"accessKeyId": rc.AccessKeyID, "secretAccessKey": rc.SecretAccessKey,
		"sessionToken": rc.SessionToken, "expiration": rc.Expiration.UnixMilli()}}, nil
}

type accountOut struct {
	AccountID   string `json:"accountId"`
	AccountName string `json:"accountName"`
}

func (a *API) listAccounts(ctx context.Context, _ *awsapi.Call, in *portalIn) (any, error) {
	accounts, err := a.sso.Accounts(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	out := []accountOut{}
	for _, id := range accounts {
		// Berth's accounts have no names; the id is the name.
		out = append(out, accountOut{AccountID: id, AccountName: id})
	}
	return portalPage(out, func(a accountOut) string { return a.AccountID }, in, "accountList")
}

type roleOut struct {
	RoleName  string `json:"roleName"`
	AccountID string `json:"accountId"`
}

func (a *API) listAccountRoles(ctx context.Context, _ *awsapi.Call, in *portalIn) (any, error) {
	roles, err := a.sso.AccountRoles(ctx, in.AccessToken, in.AccountID)
	if err != nil {
		return nil, err
	}
	out := []roleOut{}
	for _, r := range roles {
		out = append(out, roleOut{RoleName: r, AccountID: in.AccountID})
	}
	return portalPage(out, func(r roleOut) string { return r.RoleName }, in, "roleList")
}

func (a *API) logout(ctx context.Context, _ *awsapi.Call, in *portalIn) (any, error) {
	return nil, a.sso.Logout(ctx, in.AccessToken)
}
