package ssoapi

import (
	"context"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/sso"
)

// SSO OIDC: the device authorization flow.

type registerClientIn struct {
	ClientName string   `json:"clientName"`
	ClientType string   `json:"clientType"`
	Scopes     []string `json:"scopes"`
	GrantTypes []string `json:"grantTypes"`
}

func (a *API) registerClient(ctx context.Context, _ *awsapi.Call, in *registerClientIn) (any, error) {
	c, err := a.sso.RegisterClient(ctx, in.ClientName, in.ClientType, in.Scopes)
	if err != nil {
		return nil, err
	}
	return map[string]any{"clientId": c.ID, "clientSecret": c.Secret,
		"clientIdIssuedAt": c.IssuedAt.Unix(), "clientSecretExpiresAt": c.ExpiresAt.Unix()}, nil
}

type startDeviceIn struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	StartURL     string `json:"startUrl"`
}

func (a *API) startDeviceAuthorization(ctx context.Context, _ *awsapi.Call, in *startDeviceIn) (any, error) {
	d, err := a.sso.StartDeviceAuthorization(ctx, in.ClientID, in.ClientSecret, in.StartURL)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deviceCode": d.DeviceCode, "userCode": d.UserCode, "verificationUri": d.VerificationURI,
		"verificationUriComplete": d.VerificationURIComplete, "expiresIn": d.ExpiresIn, "interval": d.Interval}, nil
}

type createTokenIn struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	GrantType    string `json:"grantType"`
	DeviceCode   string `json:"deviceCode"`
	RefreshToken string `json:"refreshToken"`
	Code         string `json:"code"`
}

func (a *API) createToken(ctx context.Context, _ *awsapi.Call, in *createTokenIn) (any, error) {
	t, err := a.sso.CreateToken(ctx, sso.TokenRequest{ClientID: in.ClientID, ClientSecret: in.ClientSecret, GrantType: in.GrantType,
		DeviceCode: in.DeviceCode, RefreshToken: in.RefreshToken})
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessToken": t.AccessToken, "tokenType": "Bearer", "expiresIn": t.ExpiresIn, "refreshToken": t.RefreshToken}, nil
}
