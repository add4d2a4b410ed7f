// Package upstream is the client side of the OCI distribution API that the
// pull through cache needs: the /v2/ ping, manifests and blobs of one
// repository of another registry, behind Basic or bearer-token challenges
// (WWW-Authenticate: Bearer realm=…,service=…,scope=…), as Docker Hub,
// GHCR, Quay and CNCF Distribution answer them. It knows nothing of Berth's
// stores.
package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials log in to an upstream; empty ones are anonymous.
type Credentials struct {
	Username string
	Password string
}

func (c Credentials) empty() bool { return c.Username == "" && c.Password == "" }

// Registry is an upstream registry as one rule reaches it.
type Registry struct {
	// Base is the registry's root URL: scheme and host[:port].
	Base  *url.URL
	Creds Credentials
}

// ParseBase reads an upstream registry URL as a rule gives it: a bare
// host[:port] (HTTPS, as ECR's upstream URLs are), or an https:// or
// http:// URL with no path.
func ParseBase(raw string) (*url.URL, error) {
	s := strings.TrimSuffix(raw, "/")
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q: the scheme must be https or http", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: give the registry's host only, without a path, query or user", raw)
	}
	u.Path = ""
	return u, nil
}

// StatusError is an upstream's answer that was not a success.
type StatusError struct {
	Status int
	// Code and Message are the first OCI error of the body, if any.
	Code, Message string
	// RetryAfter is a 429's Retry-After, when it gave one.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("upstream answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" || e.Message != "" {
		msg += ": " + strings.TrimSpace(e.Code+" "+e.Message)
	}
	return msg
}

// NotFound reports whether err is the upstream saying the thing is not
// there (404, or a 401/403 naming a repository that does not exist, as
// Docker Hub answers for a name that was never pushed).
func NotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// RateLimited reports whether err is a 429.
func RateLimited(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusTooManyRequests
}

// Unauthorized reports whether err is a refused login.
func Unauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden)
}

// ManifestTypes are what a manifest request accepts.
var ManifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// Client talks to upstream registries. Its bearer tokens are kept in the
// process for their lifetime: a cache, never needed for correctness.
type Client struct {
	HTTP *http.Client
	// MaxManifestSize bounds a manifest's bytes; default 4 MiB.
	MaxManifestSize int64

	mu     sync.Mutex
	tokens map[string]token
}

type token struct {
	value   string
	expires time.Time
}

// New returns a Client whose requests wait at most timeout for an
// answer's headers (a blob's body then flows as long as it keeps coming).
func New(timeout time.Duration) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = timeout
	return &Client{HTTP: &http.Client{Transport: tr}}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Ping asks the registry's /v2/ with the credentials: nil when they are
// accepted (or none are needed).
func (c *Client) Ping(ctx context.Context, reg Registry) error {
	resp, err := c.do(ctx, reg, http.MethodGet, "/v2/", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Manifest is a manifest as the upstream served it.
type Manifest struct {
	MediaType string
	// Digest is the upstream's Docker-Content-Digest (a HEAD's only
	// knowledge of it); the caller checks it against the bytes.
	Digest string
	Body   []byte
}

// HeadManifest asks where ref points, without the manifest's bytes.
func (c *Client) HeadManifest(ctx context.Context, reg Registry, repo, ref string) (*Manifest, error) {
	resp, err := c.do(ctx, reg, http.MethodHead, "/v2/"+repo+"/manifests/"+ref, "repository:"+repo+":pull",
		http.Header{"Accept": {strings.Join(ManifestTypes, ", ")}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return &Manifest{MediaType: mediaType(resp), Digest: resp.Header.Get("Docker-Content-Digest")}, nil
}

// GetManifest fetches a manifest by tag or digest.
func (c *Client) GetManifest(ctx context.Context, reg Registry, repo, ref string) (*Manifest, error) {
	resp, err := c.do(ctx, reg, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, "repository:"+repo+":pull",
		http.Header{"Accept": {strings.Join(ManifestTypes, ", ")}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := c.MaxManifestSize
	if limit <= 0 {
		limit = 4 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s of %s: %w", ref, repo, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("manifest %s of %s is larger than %d bytes", ref, repo, limit)
	}
	return &Manifest{MediaType: mediaType(resp), Digest: resp.Header.Get("Docker-Content-Digest"), Body: body}, nil
}

// GetBlob opens a blob; the caller closes it. size is -1 when the
// upstream did not say.
func (c *Client) GetBlob(ctx context.Context, reg Registry, repo, digest string) (io.ReadCloser, int64, error) {
	resp, err := c.do(ctx, reg, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, "repository:"+repo+":pull", nil)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// HeadBlob returns a blob's size.
func (c *Client) HeadBlob(ctx context.Context, reg Registry, repo, digest string) (int64, error) {
	resp, err := c.do(ctx, reg, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, "repository:"+repo+":pull", nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.ContentLength, nil
}

func mediaType(resp *http.Response) string {
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

// do sends a request, answering the registry's challenge once if it
// makes one: Basic with the credentials, or Bearer with a token fetched
// from the realm for scope. A success (2xx) is returned with its body
// open; anything else is a *StatusError.
func (c *Client) do(ctx context.Context, reg Registry, method, path, scope string, hdr http.Header) (*http.Response, error) {
	u := *reg.Base
	u.Path = path
	// Tokens are kept per credentials: a rule whose secret changed does
	// not go on with the old secret's token.
	sum := sha256.Sum256([]byte(reg.Creds.Username + "\x00" + reg.Creds.Password))
	key := reg.Base.Host + " " + scope + " " + hex.EncodeToString(sum[:8])
	send := func(auth string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.httpClient().Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
		}
		return resp, nil
	}
	auth := ""
	if t, ok := c.token(key); ok {
		auth = "Bearer " + t
	}
	resp, err := send(auth)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		ch := resp.Header.Get("WWW-Authenticate")
		drain(resp)
		scheme, params := parseChallenge(ch)
		switch scheme {
		case "basic":
			if reg.Creds.empty() {
				return nil, &StatusError{Status: http.StatusUnauthorized, Message: "the upstream asks for credentials and the rule has none"}
			}
			auth = "Basic " + basic(reg.Creds)
		case "bearer":
			if scope != "" && params["scope"] == "" {
				params["scope"] = scope
			}
			t, err := c.fetchToken(ctx, reg, params, key)
			if err != nil {
				return nil, err
			}
			auth = "Bearer " + t
		default:
			return nil, &StatusError{Status: http.StatusUnauthorized, Message: fmt.Sprintf("the upstream's challenge %q is neither Basic nor Bearer", ch)}
		}
		if resp, err = send(auth); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode/100 != 2 {
		defer drain(resp)
		return nil, statusError(resp)
	}
	return resp, nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func statusError(resp *http.Response) *StatusError {
	se := &StatusError{Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.RetryAfter = time.Duration(s) * time.Second
	}
	var body struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil && len(body.Errors) > 0 {
		se.Code, se.Message = body.Errors[0].Code, body.Errors[0].Message
	}
	return se
}

func basic(c Credentials) string {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(c.Username, c.Password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// fetchToken asks a Bearer challenge's realm for a token, with the
// credentials as Basic auth when there are any (the Docker token
// protocol, which Docker Hub, GHCR, Quay and Distribution speak).
func (c *Client) fetchToken(ctx context.Context, reg Registry, params map[string]string, key string) (string, error) {
	realm, err := url.Parse(params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") {
		return "", &StatusError{Status: http.StatusUnauthorized, Message: fmt.Sprintf("the upstream's token realm %q is not an http(s) URL", params["realm"])}
	}
	q := realm.Query()
	for _, k := range []string{"service", "scope"} {
		if v := params[k]; v != "" {
			q.Set(k, v)
		}
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", err
	}
	if !reg.Creds.empty() {
		req.SetBasicAuth(reg.Creds.Username, reg.Creds.Password)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("token from %s: %w", realm.Redacted(), err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		se := statusError(resp)
		if se.Status == http.StatusNotFound {
			se.Status = http.StatusUnauthorized // the realm, not the image, is missing
		}
		se.Message = strings.TrimSpace("token realm refused: " + se.Message)
		return "", se
	}
	var tr struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("token from %s: %w", realm.Redacted(), err)
	}
	t := tr.Token
	if t == "" {
		t = tr.AccessToken
	}
	if t == "" {
		return "", fmt.Errorf("token from %s: the answer holds no token", realm.Redacted())
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = 60 * time.Second // the token protocol's default
	}
	c.mu.Lock()
	if c.tokens == nil {
		c.tokens = map[string]token{}
	}
	if len(c.tokens) > 10000 {
		c.tokens = map[string]token{}
	}
	// Kept a little less than its life, so that it is not sent as it ends.
	c.tokens[key] = token{t, time.Now().Add(life * 9 / 10)}
	c.mu.Unlock()
	return t, nil
}

func (c *Client) token(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[key]
	if !ok || time.Now().After(t.expires) {
		return "", false
	}
	return t.value, true
}

// parseChallenge reads `Scheme k="v", k2=v2` into its lower-cased scheme
// and parameters.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				params[k] = v[1:]
				break
			}
			params[k] = v[1 : end+1]
			rest = strings.TrimLeft(strings.TrimSpace(v[end+2:]), ",")
		} else {
			val, after, _ := strings.Cut(v, ",")
			params[k] = strings.TrimSpace(val)
			rest = after
		}
		rest = strings.TrimSpace(rest)
	}
	return strings.ToLower(scheme), params
}
