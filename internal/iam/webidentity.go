package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/webidentity"
)

// AssumeRoleWithWebIdentity: an OIDC ID token, verified against a provider
// registered in the role's account, exchanged for a role session when the
// role's trust policy allows sts:AssumeRoleWithWebIdentity for
// {"Federated": <provider ARN>} under its conditions on <URL>:sub and
// <URL>:aud. The caller is not signed in; the token is its identity.

// TokenVerifier verifies a parsed token against a provider's issuer
// (webidentity.Verifier).
type TokenVerifier interface {
	Verify(ctx context.Context, tok *webidentity.Token, iss webidentity.Issuer) (*webidentity.Claims, error)
}

// WebIdentityRequest is what AssumeRoleWithWebIdentity asks for.
type WebIdentityRequest struct {
	RoleARN, SessionName, Token string
	// DurationSeconds is how long the credentials last; 0 is an hour.
	DurationSeconds int
	// ProviderID is for OAuth 2.0 providers (Amazon, Facebook), which
	// Berth does not serve; refused when set.
	ProviderID string
	// Session policies are refused, as for AssumeRole.
	SessionPolicy     string
	SessionPolicyARNs []string
}

// WebIdentityRole is a role session made from a web identity.
type WebIdentityRole struct {
	AssumedRole
	// Subject is the token's sub; Audience its aud that the provider
	// accepted; Provider the provider's ARN.
	Subject, Audience, Provider string
}

// AssumeRoleWithWebIdentity makes temporary credentials for a role whose
// trust policy lets the token's identity in.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, req WebIdentityRequest) (*WebIdentityRole, error) {
	if req.SessionPolicy != "" || len(req.SessionPolicyARNs) > 0 {
		return nil, notSupported("session policies (Policy, PolicyArns)")
	}
	if req.ProviderID != "" {
		return nil, notSupported("OAuth 2.0 providers (ProviderId); register an OpenID Connect provider instead")
	}
	tok, err := webidentity.Parse(req.Token)
	if err != nil {
		return nil, fromWebIdentity(err)
	}
	denied := errorf(ErrAccessDenied, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	role, err := s.roleOf(ctx, req.RoleARN)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, denied
	}
	u, err := ProviderURL(tok.Issuer)
	if err != nil {
		return nil, errorf(ErrInvalidIdentityToken, "No OpenIDConnect provider found in your account for %s", tok.Issuer)
	}
	providerARN := OIDCProviderARN(role.Account, u)
	provider, err := s.store.GetOIDCProvider(ctx, providerARN)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, errorf(ErrInvalidIdentityToken, "No OpenIDConnect provider found in your account for %s", tok.Issuer)
	}
	if err != nil {
		return nil, fmt.Errorf("iam: get oidc provider %s: %w", providerARN, err)
	}
	claims, err := s.webID.Verify(ctx, tok, webidentity.Issuer{
		URL: "https://" + provider.URL, ClientIDs: provider.ClientIDs, Thumbprints: provider.Thumbprints})
	if err != nil {
		var we *webidentity.Error
		if errors.As(err, &we) && we.Cause != nil {
			s.log.InfoContext(ctx, "web identity token refused", "provider", providerARN, "err", we.Cause)
		}
		return nil, fromWebIdentity(err)
	}

	now := s.now()
	conditionKeys := webIdentityConditionKeys(provider.URL, claims)
	conditionKeys["sts:RoleSessionName"] = []string{req.SessionName}
	if !webTrustAllows(role.AssumeRolePolicy, providerARN, req.RoleARN, role.Account, now, conditionKeys) {
		return nil, denied
	}
	duration := req.DurationSeconds
	if duration == 0 {
		duration = defaultSessionDuration
	}
	if duration > role.MaxSessionDuration {
		return nil, durationOverRoleMax()
	}
	ar, err := s.newRoleSession(ctx, role, req.SessionName, providerARN, now, duration)
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, denied // deleted or replaced meanwhile
	}
	if err != nil {
		return nil, err
	}
	return &WebIdentityRole{AssumedRole: *ar, Subject: claims.Subject, Audience: claims.Audience, Provider: providerARN}, nil
}

// webIdentityConditionKeys are the trust policy's keys from a verified
// token: <URL>:sub, <URL>:aud (the audience the provider accepted) and
// <URL>:amr when the token has it.
func webIdentityConditionKeys(url string, c *webidentity.Claims) map[string][]string {
	keys := map[string][]string{
		url + ":sub": {c.Subject},
		url + ":aud": {c.Audience},
	}
	switch amr := c.All["amr"].(type) {
	case string:
		keys[url+":amr"] = []string{amr}
	case []any:
		for _, v := range amr {
			if s, ok := v.(string); ok {
				keys[url+":amr"] = append(keys[url+":amr"], s)
			}
		}
	}
	return keys
}

// fromWebIdentity words the verifier's refusals as STS does.
func fromWebIdentity(err error) error {
	var we *webidentity.Error
	if !errors.As(err, &we) {
		return fmt.Errorf("iam: verify web identity token: %w", err)
	}
	kind := ErrInvalidIdentityToken
	switch {
	case errors.Is(err, webidentity.ErrExpired):
		kind = ErrExpiredIdentityToken
	case errors.Is(err, webidentity.ErrCommunication):
		kind = ErrIDPCommunication
	}
	return &Error{Kind: kind, Message: we.Message}
}

// newRoleSession stores a session of role for source (the caller's ARN,
// or the provider's) lasting duration seconds from now.
func (s *Service) newRoleSession(ctx context.Context, role *Entity, sessionName, source string, now time.Time, duration int) (*AssumedRole, error) {
	rs := &Session{
		AccessKeyID: authn.NewID(authn.SessionKeyPrefix, 16), SecretAccessKey: authn.NewSecretAccessKey(),
		SessionToken: authn.NewSessionToken(), Account: role.Account,
		RoleName: role.Name, RolePath: role.Path, RoleID: role.ID, SessionName: sessionName, SourceARN: source,
		CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(time.Duration(duration) * time.Second).Truncate(time.Second),
	}
	if err := s.store.CreateRoleSession(ctx, rs); err != nil {
		return nil, fmt.Errorf("iam: create a session of role %s: %w", role.Name, err)
	}
	s.deleteExpiredSessions(ctx, now)
	return &AssumedRole{
		Session: rs,
		ID:      role.ID + ":" + sessionName,
		ARN:     authn.AssumedRoleARN(role.Account, role.Name, sessionName),
	}, nil
}

// deleteExpiredSessions keeps the session table short; a failure is only
// logged, the next session tries again. A session changes no
// authorization decision (its credentials are new), so no cache is told.
func (s *Service) deleteExpiredSessions(ctx context.Context, now time.Time) {
	if _, err := s.store.DeleteRoleSessionsExpiredBefore(ctx, now.Add(-keepExpiredSessions)); err != nil {
		s.log.WarnContext(ctx, "delete expired role sessions", "err", err)
	}
}
