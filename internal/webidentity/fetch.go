package webidentity

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verifier verifies tokens against their issuers' keys, fetched over HTTPS
// and cached in this process. The cache is only a cache: every node
// fetches for itself, and a provider's registration (in the database)
// decides which issuers are asked at all.
type Verifier struct {
	// RootCAs are the roots an issuer's HTTPS certificate must chain to;
	// nil is the system's. A chain that does not reach one is still
	// trusted when one of its certificates has a thumbprint the provider
	// lists — as IAM does for issuers outside its CA library.
	RootCAs *x509.CertPool
	// TTL is how long fetched keys are used; 0 is an hour. Keys are
	// fetched again sooner when a token names a key id not among them.
	TTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*keySet
}

type keySet struct {
	keys    *jose.JSONWebKeySet
	fetched time.Time
	// failed is when the last fetch failed (zero after a success), and
	// failure why: for failedRetry after it, tokens are refused at once
	// rather than each waiting for an issuer that is down.
	failed  time.Time
	failure error
}

const (
	defaultTTL = time.Hour
	// refetchAfter limits fetches for unknown key ids: a stream of tokens
	// with made-up kids must not become a stream of requests to the issuer.
	refetchAfter = time.Minute
	// maxDocument bounds the discovery document and the JWKS.
	maxDocument  = 1 << 20
	fetchTimeout = 10 * time.Second
	// failedRetry is how long a failed fetch is remembered: anyone can
	// present a token naming a registered issuer, and a down issuer must
	// not cost a ten-second fetch per request.
	failedRetry = 10 * time.Second
)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks tok against iss, whose keys it fetches or reuses.
func (v *Verifier) Verify(ctx context.Context, tok *Token, iss Issuer) (*Claims, error) {
	now := v.now()
	keys, fresh, err := v.keys(ctx, iss, now, false)
	if err != nil {
		return nil, err
	}
	if kid := tok.KeyID(); kid != "" && len(keys.Key(kid)) == 0 && !fresh {
		// The issuer may have rotated its keys since they were fetched.
		if keys, _, err = v.keys(ctx, iss, now, true); err != nil {
			return nil, err
		}
	}
	return tok.check(keys, iss, now)
}

// keys are iss's keys from the cache, or fetched when missing, stale or
// (refresh) older than refetchAfter; fresh says they were just fetched.
func (v *Verifier) keys(ctx context.Context, iss Issuer, now time.Time, refresh bool) (*jose.JSONWebKeySet, bool, error) {
	ttl := v.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	v.mu.Lock()
	ks := v.cache[iss.URL]
	v.mu.Unlock()
	if ks != nil {
		age := now.Sub(ks.fetched)
		if ks.keys != nil && age < ttl && (!refresh || age < refetchAfter) {
			return ks.keys, false, nil
		}
		if !ks.failed.IsZero() && now.Sub(ks.failed) < failedRetry {
			if ks.keys != nil {
				return ks.keys, false, nil // the last good keys, until the issuer answers again
			}
			return nil, false, communicationError(ks.failure)
		}
	}
	keys, err := v.fetch(ctx, iss)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil {
		v.cache = map[string]*keySet{}
	}
	if err != nil {
		failed := &keySet{failed: now, failure: err}
		if ks != nil && ks.keys != nil && now.Sub(ks.fetched) < ttl {
			failed.keys, failed.fetched = ks.keys, ks.fetched
		}
		v.cache[iss.URL] = failed
		if failed.keys != nil {
			return failed.keys, false, nil
		}
		return nil, false, communicationError(err)
	}
	v.cache[iss.URL] = &keySet{keys: keys, fetched: now}
	return keys, true, nil
}

func communicationError(cause error) *Error {
	return &Error{Kind: ErrCommunication, Cause: cause,
		Message: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"}
}

// fetch reads the issuer's discovery document and then its JWKS.
func (v *Verifier) fetch(ctx context.Context, iss Issuer) (*jose.JSONWebKeySet, error) {
	client := v.client(iss.Thumbprints)
	defer client.CloseIdleConnections()
	var discovery struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, strings.TrimSuffix(iss.URL, "/")+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, err
	}
	if discovery.JWKSURI == "" {
		return nil, errors.New("the discovery document has no jwks_uri")
	}
	var keys jose.JSONWebKeySet
	if err := getJSON(ctx, client, discovery.JWKSURI, &keys); err != nil {
		return nil, err
	}
	return &keys, nil
}

func getJSON(ctx context.Context, client *http.Client, rawURL string, v any) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("%s: keys are fetched over https only", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", rawURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", rawURL, err)
	}
	if len(body) > maxDocument {
		return fmt.Errorf("%s is larger than %d bytes", rawURL, maxDocument)
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", rawURL, err)
	}
	return nil
}

// client is an HTTPS client that trusts RootCAs, or a certificate whose
// thumbprint is listed.
func (v *Verifier) client(thumbprints []string) *http.Client {
	roots := v.RootCAs
	tlsConfig := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The standard verification is made in VerifyConnection, with the
		// thumbprints as a second way to trust the chain.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, cs.ServerName, roots, thumbprints)
		},
	}
	return &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsConfig,
			TLSHandshakeTimeout: fetchTimeout, ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" || len(via) > 5 {
				return errors.New("redirected away from https")
			}
			return nil
		},
	}
}

// verifyChain accepts certs (leaf first) for host when they chain to
// roots, or else to one of them whose SHA-1 thumbprint is listed.
func verifyChain(certs []*x509.Certificate, host string, roots *x509.CertPool, thumbprints []string) error {
	if len(certs) == 0 {
		return errors.New("the issuer presented no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	opts := x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: intermediates}
	_, err := certs[0].Verify(opts)
	if err == nil {
		return nil
	}
	for _, c := range certs {
		if !slices.Contains(thumbprints, Thumbprint(c)) {
			continue
		}
		pinned := x509.NewCertPool()
		pinned.AddCert(c)
		opts.Roots = pinned
		if _, perr := certs[0].Verify(opts); perr == nil {
			return nil
		}
	}
	return err
}

// Thumbprint is a certificate's SHA-1 fingerprint as IAM lists it: 40
// lower-case hex digits.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}
