// Package webidentity verifies the OpenID Connect ID tokens that STS
// AssumeRoleWithWebIdentity exchanges for role sessions: the signature
// against the issuer's published keys (its JWKS, found through OIDC
// discovery over HTTPS and cached per node), the issuer, the audience and
// the token's times. It knows nothing of roles, stores or HTTP requests to
// Berth; the IAM domain asks it about one token for one registered
// provider and words its refusals as STS does.
package webidentity

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The kinds of refusal, each an STS exception.
var (
	// ErrInvalidToken: malformed, forged, for another issuer or audience
	// (InvalidIdentityToken).
	ErrInvalidToken = errors.New("invalid identity token")
	// ErrExpired: genuine but past its exp (ExpiredTokenException).
	ErrExpired = errors.New("expired identity token")
	// ErrCommunication: the issuer's keys could not be fetched
	// (IDPCommunicationError).
	ErrCommunication = errors.New("identity provider unreachable")
)

// Error is a refusal: a kind above and the message STS answers with.
type Error struct {
	Kind    error
	Message string
	// Cause is what went wrong underneath, for the log; never answered.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}
func (e *Error) Unwrap() error { return e.Kind }

// invalidToken is the InvalidIdentityTokenException's own description in
// STS's model, said when AWS's specific wording is not on record.
func invalidToken(cause error) *Error {
	return &Error{Kind: ErrInvalidToken, Cause: cause,
		Message: "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."}
}

// Algorithms are the signature algorithms accepted: RSA and ECDSA, as
// the CI systems and Kubernetes sign with. "none" and HMAC never are.
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
}

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = time.Minute

// Issuer is a registered provider, as a token is checked against it.
type Issuer struct {
	// URL is the issuer with its scheme: https://host[/path]. The token's
	// iss must be exactly this (a trailing slash aside).
	URL string
	// ClientIDs are the audiences accepted.
	ClientIDs []string
	// Thumbprints are SHA-1 fingerprints (hex) of certificates trusted
	// for the issuer's HTTPS when its chain does not reach a trusted root.
	Thumbprints []string
}

// Claims are what a verified token says.
type Claims struct {
	Issuer  string
	Subject string
	// Audience is the token's audience that matched one of the provider's
	// client ids.
	Audience string
	Expiry   time.Time
	// All is every claim, for condition keys beyond sub and aud.
	All map[string]any
}

// Token is a parsed, not yet verified, token.
type Token struct {
	jwt *jwt.JSONWebToken
	// Issuer is the iss claim, unverified: which provider to verify with.
	Issuer string
}

// Parse reads a compact JWS token signed with one of Algorithms, and its
// unverified issuer.
func Parse(raw string) (*Token, error) {
	t, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return nil, invalidToken(err)
	}
	var c jwt.Claims
	if err := t.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, invalidToken(err)
	}
	if c.Issuer == "" {
		return nil, &Error{Kind: ErrInvalidToken, Message: "Missing a required claim: iss"}
	}
	return &Token{jwt: t, Issuer: c.Issuer}, nil
}

// KeyID is the kid of the token's signature header, "" when none.
func (t *Token) KeyID() string { return t.jwt.Headers[0].KeyID }

// check verifies the token with keys (the issuer's JWKS) at now: the
// signature, then the times, the issuer and the audience.
func (t *Token) check(keys *jose.JSONWebKeySet, iss Issuer, now time.Time) (*Claims, error) {
	candidates := keys.Keys
	if kid := t.KeyID(); kid != "" {
		candidates = keys.Key(kid)
	}
	var (
		std jwt.Claims
		all map[string]any
		err = errors.New("no key of the issuer's JWKS matches the token")
	)
	verified := false
	for _, k := range candidates {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if err = t.jwt.Claims(k.Key, &std, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalidToken(err)
	}
	err = std.ValidateWithLeeway(jwt.Expected{Time: now}, Leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		// AWS's wording, run-together "date/time" and all.
		return nil, &Error{Kind: ErrExpired, Message: fmt.Sprintf(
			"Token expired: current date/time %d must be before the expiration date/time%d", now.Unix(), std.Expiry.Time().Unix())}
	case err != nil:
		return nil, invalidToken(err)
	}
	if strings.TrimSuffix(std.Issuer, "/") != strings.TrimSuffix(iss.URL, "/") {
		return nil, invalidToken(fmt.Errorf("iss %q is not %q", std.Issuer, iss.URL))
	}
	if std.Expiry == nil {
		return nil, &Error{Kind: ErrInvalidToken, Message: "Missing a required claim: exp"}
	}
	if len(std.Audience) == 0 {
		return nil, &Error{Kind: ErrInvalidToken, Message: "Missing a required claim: aud"}
	}
	aud := ""
	for _, a := range std.Audience {
		if slices.Contains(iss.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return nil, &Error{Kind: ErrInvalidToken, Message: "Incorrect token audience"}
	}
	return &Claims{Issuer: std.Issuer, Subject: std.Subject, Audience: aud, Expiry: std.Expiry.Time(), All: all}, nil
}
