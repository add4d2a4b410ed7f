package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// The OAuth 2.0 device authorization grant (RFC 8628) as Identity
// Center's OIDC service runs it: a client registers, starts an
// authorization and polls CreateToken with the device code while a person
// approves the user code in a browser; then it gets an access token and a
// refresh token, which it exchanges for new ones until the sign-in
// session ends.

const (
	// clientLifetime is how long a registration lasts, as in AWS.
	clientLifetime = 90 * 24 * time.Hour
	// deviceLifetime is how long a user code may be approved.
	deviceLifetime = 10 * time.Minute
	// pollInterval is the least number of seconds between polls.
	pollInterval = 1
	// Grant types CreateToken serves.
	GrantDeviceCode   = "urn:ietf:params:oauth:grant-type:device_code"
	GrantRefreshToken = "refresh_token"
)

// Client is a registered client, with its secret (shown once).
type Client struct {
	ID, Secret          string
	IssuedAt, ExpiresAt time.Time
}

// RegisterClient registers a public client.
func (s *Service) RegisterClient(ctx context.Context, name, clientType string, scopes []string) (*Client, error) {
	if clientType != "public" {
		return nil, errorf(ErrInvalidRequest, "Berth registers public clients only (clientType public)")
	}
	now := s.now().UTC().Truncate(time.Second)
	c := &Client{ID: randomToken(""), Secret: randomToken(""), IssuedAt: now, ExpiresAt: now.Add(clientLifetime)}
	err := s.store.CreateSSOClient(ctx, &meta.SSOClient{ClientID: c.ID, SecretHash: hashSecret(c.Secret), Name: name, Type: clientType,
		Scopes: scopes, CreatedAt: now, ExpiresAt: c.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("sso: register client: %w", err)
	}
	// Registrations are unauthenticated: expired ones must not pile up.
	s.sweep(ctx, now)
	return c, nil
}

// client is a registered client whose secret matches.
func (s *Service) client(ctx context.Context, id, secret string) (*meta.SSOClient, error) {
	c, err := s.store.GetSSOClient(ctx, id)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidClient, "Invalid client provided")
	}
	if err != nil {
		return nil, fmt.Errorf("sso: get client: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.SecretHash)) != 1 {
		return nil, errorf(ErrInvalidClient, "Invalid client provided")
	}
	if !s.now().Before(c.ExpiresAt) {
		return nil, errorf(ErrInvalidClient, "The client registration has expired; register the client again")
	}
	return c, nil
}

// DeviceAuthorization is a started authorization, as the client sees it.
type DeviceAuthorization struct {
	DeviceCode, UserCode                     string
	VerificationURI, VerificationURIComplete string
	ExpiresIn, Interval                      int
}

// userCodeAlphabet has no vowels (no words) and no look-alikes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode is eight letters in two groups, as AWS shows them.
func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		sb.WriteByte(userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return sb.String()
}

// NormalizeUserCode reads a user code as a person may type it.
func NormalizeUserCode(code string) string {
	code = strings.ToUpper(strings.Join(strings.Fields(code), ""))
	code = strings.ReplaceAll(code, "-", "")
	if len(code) == 8 {
		return code[:4] + "-" + code[4:]
	}
	return code
}

// VerificationURI is the page where a person approves a user code.
func (s *Service) VerificationURI() string {
	return strings.TrimRight(s.opts.PublicURL(), "/") + "/device"
}

// StartURL is the portal's start URL, which profiles name as
// sso_start_url.
func (s *Service) StartURL() string {
	return strings.TrimRight(s.opts.PublicURL(), "/") + "/start"
}

// StartDeviceAuthorization starts a device flow for a client.
func (s *Service) StartDeviceAuthorization(ctx context.Context, clientID, clientSecret, startURL string) (*DeviceAuthorization, error) {
	if _, err := s.client(ctx, clientID, clientSecret); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	da := &DeviceAuthorization{DeviceCode: randomToken(""), VerificationURI: s.VerificationURI(),
		ExpiresIn: int(deviceLifetime / time.Second), Interval: pollInterval}
	for attempt := 0; ; attempt++ {
		da.UserCode = newUserCode()
		err := s.store.CreateDeviceAuthorization(ctx, &meta.SSODeviceAuthorization{DeviceCodeHash: hashSecret(da.DeviceCode), UserCode: da.UserCode,
			ClientID: clientID, StartURL: startURL, Interval: pollInterval, CreatedAt: now, ExpiresAt: now.Add(deviceLifetime)})
		if errors.Is(err, meta.ErrIAMExists) && attempt < 5 {
			continue // a user code in use: draw another
		}
		if err != nil {
			return nil, fmt.Errorf("sso: start device authorization: %w", err)
		}
		break
	}
	da.VerificationURIComplete = da.VerificationURI + "?user_code=" + url.QueryEscape(da.UserCode)
	return da, nil
}

// PendingDevice is a user code awaiting approval, for the page to show.
func (s *Service) PendingDevice(ctx context.Context, userCode string) (*meta.SSODeviceAuthorization, error) {
	d, err := s.store.GetDeviceAuthorizationByUserCode(ctx, NormalizeUserCode(userCode))
	if errors.Is(err, meta.ErrIAMNotFound) || (err == nil && (d.ApprovedBy != "" || !s.now().Before(d.ExpiresAt))) {
		return nil, errorf(ErrNotFound, "The code %s is not valid or has expired. Start the sign-in again.", userCode)
	}
	if err != nil {
		return nil, fmt.Errorf("sso: get device authorization: %w", err)
	}
	return d, nil
}

// ApproveDevice approves a user code for a user, by user name (berth admin
// sso approve; the web page calls it after checking the password).
func (s *Service) ApproveDevice(ctx context.Context, userCode, userName string) error {
	u, err := s.UserByName(ctx, userName)
	if err != nil {
		return err
	}
	code := NormalizeUserCode(userCode)
	err = s.store.ApproveDeviceAuthorization(ctx, code, u.UserID, s.now().UTC())
	if errors.Is(err, meta.ErrIAMNotFound) {
		return errorf(ErrNotFound, "The code %s is not valid or has expired. Start the sign-in again.", userCode)
	}
	if err != nil {
		return fmt.Errorf("sso: approve device authorization: %w", err)
	}
	s.log.InfoContext(ctx, "sso device authorization approved", "user", u.UserName, "user_code", code)
	return nil
}

// Tokens are what CreateToken answers.
type Tokens struct {
	AccessToken, RefreshToken string
	ExpiresIn                 int
}

// TokenRequest is CreateToken's input.
type TokenRequest struct {
	ClientID, ClientSecret, GrantType, DeviceCode, RefreshToken string
}

// CreateToken redeems an approved device code or a refresh token.
func (s *Service) CreateToken(ctx context.Context, req TokenRequest) (*Tokens, error) {
	if _, err := s.client(ctx, req.ClientID, req.ClientSecret); err != nil {
		return nil, err
	}
	switch req.GrantType {
	case GrantDeviceCode:
		return s.redeemDeviceCode(ctx, req)
	case GrantRefreshToken:
		return s.refresh(ctx, req)
	}
	return nil, errorf(ErrUnsupportedGrantType, "Unsupported grant type: %s", req.GrantType)
}

func (s *Service) redeemDeviceCode(ctx context.Context, req TokenRequest) (*Tokens, error) {
	if req.DeviceCode == "" {
		return nil, errorf(ErrInvalidRequest, "deviceCode is required for grant type %s", GrantDeviceCode)
	}
	now := s.now().UTC()
	hash := hashSecret(req.DeviceCode)
	prev, err := s.store.PollDeviceAuthorization(ctx, hash, now)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidGrant, "Invalid device code provided")
	}
	if err != nil {
		return nil, fmt.Errorf("sso: poll device authorization: %w", err)
	}
	switch {
	case prev.ClientID != req.ClientID:
		return nil, errorf(ErrInvalidGrant, "Invalid device code provided")
	case !now.Before(prev.ExpiresAt):
		return nil, errorf(ErrExpiredToken, "The device code has expired; start the sign-in again")
	case prev.ApprovedBy == "":
		if !prev.LastPolledAt.IsZero() && now.Sub(prev.LastPolledAt) < time.Duration(prev.Interval)*time.Second {
			return nil, errorf(ErrSlowDown, "Polling faster than every %d seconds", prev.Interval)
		}
		return nil, errorf(ErrAuthorizationPending, "Authorization is pending: approve the code %s at %s", prev.UserCode, s.VerificationURI())
	}
	inst, err := s.Instance(ctx)
	if err != nil {
		return nil, err
	}
	toks, rows := s.newTokens(req.ClientID, inst.IdentityStoreID, prev.ApprovedBy, now, now.Add(s.opts.SessionTTL))
	err = s.store.RedeemDeviceAuthorization(ctx, hash, rows...)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidGrant, "Invalid device code provided") // redeemed meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("sso: redeem device code: %w", err)
	}
	return toks, nil
}

// newTokens makes an access token and a refresh token for a sign-in
// session that ends at sessionEnd; the access token never outlives it.
func (s *Service) newTokens(clientID, storeID, userID string, now, sessionEnd time.Time) (*Tokens, []*meta.SSOToken) {
	access, refresh := randomToken("aoa"), randomToken("aor")
	accessEnd := now.Add(s.opts.AccessTokenTTL)
	if accessEnd.After(sessionEnd) {
		accessEnd = sessionEnd
	}
	rows := []*meta.SSOToken{
		{TokenHash: hashSecret(access), Kind: meta.SSOAccessToken, ClientID: clientID, IdentityStoreID: storeID, UserID: userID, CreatedAt: now, ExpiresAt: accessEnd},
		{TokenHash: hashSecret(refresh), Kind: meta.SSORefreshToken, ClientID: clientID, IdentityStoreID: storeID, UserID: userID, CreatedAt: now, ExpiresAt: sessionEnd},
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: max(1, int(accessEnd.Sub(now).Round(time.Second)/time.Second))}, rows
}

// refresh exchanges a refresh token for new tokens. The refresh token is
// used once; its successor keeps the session's end, so refreshing never
// makes a sign-in outlast its session.
func (s *Service) refresh(ctx context.Context, req TokenRequest) (*Tokens, error) {
	if req.RefreshToken == "" {
		return nil, errorf(ErrInvalidRequest, "refreshToken is required for grant type %s", GrantRefreshToken)
	}
	hash := hashSecret(req.RefreshToken)
	old, err := s.store.GetSSOToken(ctx, hash)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidGrant, "Invalid refresh token provided")
	}
	if err != nil {
		return nil, fmt.Errorf("sso: get refresh token: %w", err)
	}
	now := s.now().UTC()
	switch {
	case old.Kind != meta.SSORefreshToken || old.ClientID != req.ClientID:
		return nil, errorf(ErrInvalidGrant, "Invalid refresh token provided")
	case !now.Before(old.ExpiresAt):
		return nil, errorf(ErrInvalidGrant, "The sign-in session has ended; sign in again")
	}
	if _, err := s.store.GetSSOUser(ctx, old.IdentityStoreID, old.UserID); err != nil {
		return nil, errorf(ErrInvalidGrant, "Invalid refresh token provided")
	}
	toks, rows := s.newTokens(req.ClientID, old.IdentityStoreID, old.UserID, now, old.ExpiresAt)
	err = s.store.RedeemSSOToken(ctx, hash, rows...)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidGrant, "Invalid refresh token provided") // used meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("sso: redeem refresh token: %w", err)
	}
	s.sweep(ctx, now)
	return toks, nil
}

// sweep deletes what expired a day ago (device codes, tokens, client
// registrations); a failure is only logged.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	if _, err := s.store.DeleteSSOExpiredBefore(ctx, now.Add(-24*time.Hour)); err != nil {
		s.log.WarnContext(ctx, "delete expired sso tokens", "err", err)
	}
}
