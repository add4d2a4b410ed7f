package ecrapi

import (
	"context"
	"encoding/base64"

	"github.com/berth-registry/berth/internal/awsapi"
)

type getAuthorizationTokenIn struct {
	RegistryIDs []string `json:"registryIds"`
}

type authorizationData struct {
	AuthorizationToken string            `json:"authorizationToken"`
	ExpiresAt          *awsapi.EpochTime `json:"expiresAt"`
	ProxyEndpoint      string            `json:"proxyEndpoint"`
}

type getAuthorizationTokenOut struct {
	AuthorizationData []authorizationData `json:"authorizationData"`
}

// getAuthorizationToken issues a 12-hour login for the caller. As in ECR,
// the token works for every registry the caller may use in the region; the
// deprecated registryIds only choose which proxy endpoints are listed.
func (a *API) getAuthorizationToken(_ context.Context, c *awsapi.Call, in *getAuthorizationTokenIn) (*getAuthorizationTokenOut, error) {
	password, exp := a.tokens.Issue(c.Principal, c.Region)
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + password))
	accounts := in.RegistryIDs
	if len(accounts) == 0 {
		accounts = []string{c.Principal.Account}
	}
	out := &getAuthorizationTokenOut{}
	for _, acct := range accounts {
		out.AuthorizationData = append(out.AuthorizationData, authorizationData{
			AuthorizationToken: token,
			ExpiresAt:          awsapi.NewEpochTime(exp),
			ProxyEndpoint:      a.endpoint(acct, c.Region),
		})
	}
	return out, nil
}
