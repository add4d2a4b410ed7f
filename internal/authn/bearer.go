package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RegistryTokenLifetime is how long a bearer token of the public data
// plane's token flow works: short, as public.ecr.aws's are, since clients
// ask /token again whenever theirs expires.
const RegistryTokenLifetime = 15 * time.Minute

// PurposeRegistryToken seals the public host's bearer tokens.
const PurposeRegistryToken = "registry-token"

// RegistryScope is one repository's access in a bearer token: the name as
// the client addressed it (<alias>/<name>) and the granted actions (pull,
// push, delete).
type RegistryScope struct {
	Repository string   `json:"n"`
	Actions    []string `json:"a"`
}

// Allows reports whether the scope grants action on repository.
func Allows(scopes []RegistryScope, repository, action string) bool {
	for _, s := range scopes {
		if s.Repository == repository && (slices.Contains(s.Actions, action) || slices.Contains(s.Actions, "*")) {
			return true
		}
	}
	return false
}

type registryClaims struct {
	// AccessKeyID is the key of the login the token was issued for; ""
	// is an anonymous token, which may pull only.
	AccessKeyID string          `json:"k,omitempty"`
	Scopes      []RegistryScope `json:"s"`
}

// IssueRegistryToken returns a bearer token for p (nil: anonymous) with
// scopes, valid for RegistryTokenLifetime and never past notAfter (the
// login's own expiry; zero for none). Like every sealed value it is
// accepted by each node sharing the token key, and names its identity
// rather than carrying permissions beyond the scopes: a logged-in token's
// requests are authorized afresh.
func (t *Tokens) IssueRegistryToken(p *Principal, scopes []RegistryScope, notAfter time.Time) (string, time.Time) {
	exp := t.now().Add(RegistryTokenLifetime)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter
	}
	c := registryClaims{Scopes: scopes}
	if c.Scopes == nil {
		c.Scopes = []RegistryScope{}
	}
	if p != nil {
		c.AccessKeyID = p.AccessKeyID
	}
	payload, _ := json.Marshal(c) // strings only: always marshals
	return t.Seal(PurposeRegistryToken, string(payload), exp), exp
}

// CheckRegistryToken verifies a bearer token and returns its identity, as
// that identity stands now (nil for an anonymous token), and its scopes.
// A forged or altered token is ErrInvalidToken, an old one
// ErrTokenExpired; a login whose key was deleted or deactivated since
// fails as Check fails.
func (t *Tokens) CheckRegistryToken(ctx context.Context, token string) (*Principal, []RegistryScope, error) {
	payload, err := t.Open(PurposeRegistryToken, token)
	switch {
	case errors.Is(err, ErrSignatureExpired):
		return nil, nil, ErrTokenExpired
	case err != nil:
		return nil, nil, ErrInvalidToken
	}
	var c registryClaims
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		return nil, nil, ErrInvalidToken
	}
	if c.AccessKeyID == "" {
		return nil, c.Scopes, nil
	}
	p, err := t.lookup(ctx, c.AccessKeyID)
	if err != nil {
		return nil, nil, err
	}
	return p, c.Scopes, nil
}

// CheckLogin is Check that also tells when the login expires, for the
// bearer tokens issued on its strength.
func (t *Tokens) CheckLogin(ctx context.Context, password string) (*Principal, string, time.Time, error) {
	c, err := t.verify(password)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	p, err := t.lookup(ctx, c.AccessKeyID)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return p, c.Region, time.Unix(c.Expires, 0), nil
}

// ParseScope reads a token request's scope parameter,
// repository:<name>:<action>[,<action>…]; ok is false for other scopes
// (registry:catalog:*, public.ecr.aws's "aws").
func ParseScope(s string) (RegistryScope, bool) {
	rest, ok := strings.CutPrefix(s, "repository:")
	if !ok {
		return RegistryScope{}, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return RegistryScope{}, false
	}
	var actions []string
	for _, a := range strings.Split(rest[i+1:], ",") {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(actions, a) {
			actions = append(actions, a)
		}
	}
	return RegistryScope{Repository: rest[:i], Actions: actions}, true
}

// String is the scope as a challenge names it.
func (s RegistryScope) String() string {
	return fmt.Sprintf("repository:%s:%s", s.Repository, strings.Join(s.Actions, ","))
}
