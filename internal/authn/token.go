package authn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// TokenLifetime is how long an ECR login token works.
const TokenLifetime = 12 * time.Hour

const tokenPrefix = "berth1."

// Tokens issues and checks ECR login passwords. A password names the access
// key it was issued to and when it expires, and carries an HMAC under the
// server's key: it is opaque to clients, cannot be altered, survives a
// restart, and works on every node that shares the key. It never carries
// permissions: each request is authorized afresh.
type Tokens struct {
	key []byte
	dir Directory
	now func() time.Time
}

// NewTokens returns a token issuer and checker using key (at least 32
// bytes) and resolving identities through dir.
func NewTokens(key []byte, dir Directory) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("login token key must be at least 32 bytes")
	}
	return &Tokens{key: key, dir: dir, now: time.Now}, nil
}

type claims struct {
	AccessKeyID string `json:"k"`
	Region      string `json:"r"`
	Expires     int64  `json:"e"`
}

// Issue returns a password for p, valid in region for TokenLifetime or until
// p's temporary credentials expire, whichever comes first.
func (t *Tokens) Issue(p *Principal, region string) (string, time.Time) {
	exp := t.now().Add(TokenLifetime)
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires
	}
	exp = exp.Truncate(time.Second)
	payload, _ := json.Marshal(claims{AccessKeyID: p.AccessKeyID, Region: region, Expires: exp.Unix()})
	body := tokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(t.mac(body)), exp
}

func (t *Tokens) mac(body string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Check verifies a password and returns the identity it was issued to, as
// that identity stands now: a deleted or deactivated key stops its tokens.
func (t *Tokens) Check(ctx context.Context, password string) (*Principal, string, error) {
	c, err := t.verify(password)
	if err != nil {
		return nil, "", err
	}
	p, err := t.lookup(ctx, c.AccessKeyID)
	if err != nil {
		return nil, "", err
	}
	return p, c.Region, nil
}

// verify checks a password's signature and expiry and returns its claims.
func (t *Tokens) verify(password string) (claims, error) {
	i := strings.LastIndexByte(password, '.')
	if !strings.HasPrefix(password, tokenPrefix) || i <= len(tokenPrefix) {
		return claims{}, ErrInvalidToken
	}
	body, sigText := password[:i], password[i+1:]
	got, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || !hmac.Equal(got, t.mac(body)) {
		return claims{}, ErrInvalidToken
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(body[len(tokenPrefix):])
	if err != nil {
		return claims{}, ErrInvalidToken
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, ErrInvalidToken
	}
	if !t.now().Before(time.Unix(c.Expires, 0)) {
		return claims{}, ErrTokenExpired
	}
	return c, nil
}

// lookup finds the identity behind a token's access key as it stands now.
func (t *Tokens) lookup(ctx context.Context, accessKeyID string) (*Principal, error) {
	p, _, err := t.dir.Lookup(ctx, accessKeyID)
	if errors.Is(err, ErrInactiveAccessKey) {
		return nil, &InactiveKeyError{AccessKeyID: accessKeyID}
	}
	if errors.Is(err, ErrUnknownAccessKey) {
		return nil, fmt.Errorf("%w: its access key no longer exists", ErrInvalidToken)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// LoadOrCreateKey returns the token key stored at path, creating a random
// one (owner-only) on first use.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("token key file is damaged: it must hold at least 32 base64-encoded bytes")
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := randomBytes(32)
	if err := writeFileAtomic(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}
