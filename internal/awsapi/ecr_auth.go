package awsapi

import (
	"context"
	"encoding/base64"
)

func init() {
	registerECR("GetAuthorizationToken", getAuthorizationToken)
}

type authorizationData struct {
	AuthorizationToken string     `json:"authorizationToken"`
	ExpiresAt          *epochTime `json:"expiresAt"`
	ProxyEndpoint      string     `json:"proxyEndpoint"`
}

// getAuthorizationToken issues a 12-hour login for the caller. As in ECR,
// the token works for every registry the caller may use in the region; the
// deprecated registryIds only choose which proxy endpoints are listed.
func getAuthorizationToken(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := e.authorizeResource(ctx, c, "ecr:GetAuthorizationToken", "*", c.Principal.Account); err != nil {
		return nil, err
	}
	password, exp := e.s.opts.Tokens.Issue(c.Principal, c.Region)
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + password))
	accounts := in.RegistryIDs
	if len(accounts) == 0 {
		accounts = []string{c.Principal.Account}
	}
	var out struct {
		AuthorizationData []authorizationData `json:"authorizationData"`
	}
	for _, acct := range accounts {
		out.AuthorizationData = append(out.AuthorizationData, authorizationData{
			AuthorizationToken: token,
			ExpiresAt:          newEpoch(exp),
			ProxyEndpoint:      e.s.opts.Endpoint(acct, c.Region),
		})
	}
	return out, nil
}
