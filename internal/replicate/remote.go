package replicate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

// A destination is remote — another Berth deployment, or any OCI
// registry — when the source registry's Secrets Manager holds a secret
// named SecretName(destination): its JSON value says where the registry is
// and how to log in (Remote). Without one, the destination is a registry
// of this deployment.

// Secrets reads a secret's value from the Secrets Manager of an account's
// region; a missing secret is ErrSecretNotFound.
type Secrets interface {
	SecretString(ctx context.Context, account, region, id string) (string, error)
}

// ErrSecretNotFound is what Secrets returns for a secret that does not
// exist.
var ErrSecretNotFound = errors.New("secret not found")

// SecretName is the name of the secret that makes destination d remote.
func SecretName(d rules.Destination) string {
	return "berth-replication/" + d.RegistryID + "/" + d.Region
}

// Remote is a secret's value: where a remote destination is and how to
// log in to it.
type Remote struct {
	// URL is the registry's base URL, https:// (or http:// for a registry
	// on a trusted network); its host serves /v2/.
	URL string `json:"url"`
	// Username and Password log in with Basic credentials (any OCI
	// registry; for Berth or ECR, AWS and a login password).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// AccessKeyID and SecretAccessKey log in to a Berth (or ECR) as ECR's
	// clients do: GetAuthorizationToken, at URL, in the destination's
	// region, before every copy, since a login password lasts 12 hours.
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// CACertificate, PEM, is trusted besides the system's roots: for a
	// destination whose certificate a private authority signed.
	CACertificate string `json:"caCertificate,omitempty"`
}

func (r *Remote) check() error {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("url %q is not an http(s) URL of a registry", r.URL)
	}
	if (r.AccessKeyID == "") != (r.SecretAccessKey == "") {
		return errors.New("accessKeyId and secretAccessKey go together")
	}
	if (r.Username == "") != (r.Password == "") {
		return errors.New("username and password go together")
	}
	return nil
}

// remote returns the remote registry destination d stands for in src's
// secrets, or nil when d is a registry of this deployment.
func (s *Service) remote(ctx context.Context, src meta.RegistryKey, d rules.Destination) (*Remote, error) {
	if s.opts.Secrets == nil {
		return nil, nil
	}
	text, err := s.opts.Secrets.SecretString(ctx, src.Account, src.Region, SecretName(d))
	if errors.Is(err, ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the secret %s: %w", SecretName(d), err)
	}
	var r Remote
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, fail(FailureDestinationRefused, err, "the secret %s is not the JSON of a remote destination ({\"url\", \"username\", \"password\"} or {\"url\", \"accessKeyId\", \"secretAccessKey\"}): %v", SecretName(d), err)
	}
	if err := r.check(); err != nil {
		return nil, fail(FailureDestinationRefused, err, "the secret %s: %v", SecretName(d), err)
	}
	return &r, nil
}

// remoteDest writes to a remote registry over the distribution API, with
// go-containerregistry: a blob the registry has is not sent again, one it
// does not have is streamed from the blob store.
type remoteDest struct {
	s    *Service
	src  meta.RegistryKey
	repo string // the source repository, whose name the replica keeps
	to   name.Repository
	opts []remote.Option
}

func (s *Service) remoteDestination(ctx context.Context, r *Remote, src meta.RegistryKey, repo string, d rules.Destination) (destination, error) {
	u, _ := url.Parse(r.URL)
	rt, err := s.remoteTransport(r, u)
	if err != nil {
		return nil, err
	}
	auth := ggcrauthn.Anonymous
	switch {
	case r.AccessKeyID != "":
		user, pass, err := ecrLogin(ctx, r, d.Region, rt)
		if err != nil {
			return nil, err
		}
		auth = &ggcrauthn.Basic{Username: user, Password: pass}
	case r.Username != "":
		auth = &ggcrauthn.Basic{Username: r.Username, Password: r.Password}
	}
	to, err := name.NewRepository(u.Host+"/"+repo, name.StrictValidation)
	if err != nil {
		return nil, fail(FailureDestinationRefused, err, "%s/%s is not a repository reference: %v", u.Host, repo, err)
	}
	return &remoteDest{s: s, src: src, repo: repo, to: to, opts: []remote.Option{
		remote.WithContext(ctx), remote.WithAuth(auth), remote.WithTransport(rt),
		// The outbox retries the whole copy with its own backoff.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
	}}, nil
}

// remoteTransport trusts the secret's CA besides the system's, and keeps
// the scheme the secret's URL names: go-containerregistry speaks plain
// HTTP to loopback and private addresses of its own accord.
func (s *Service) remoteTransport(r *Remote, u *url.URL) (http.RoundTripper, error) {
	base := s.opts.Transport
	if r.CACertificate != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(r.CACertificate)) {
			return nil, fail(FailureDestinationRefused, nil, "the caCertificate of the destination's secret holds no PEM certificate")
		}
		t, ok := base.(*http.Transport)
		if !ok {
			t = http.DefaultTransport.(*http.Transport)
		}
		t = t.Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		base = t
	}
	return &schemeTransport{scheme: u.Scheme, host: u.Host, base: base}, nil
}

type schemeTransport struct {
	scheme, host string
	base         http.RoundTripper
}

func (t *schemeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == t.host && r.URL.Scheme != t.scheme {
		r = r.Clone(r.Context())
		r.URL.Scheme = t.scheme
	}
	return t.base.RoundTrip(r)
}

// ecrLogin gets a login password from a Berth or ECR, as `aws ecr
// get-login-password` does.
func ecrLogin(ctx context.Context, r *Remote, region string, rt http.RoundTripper) (string, string, error) {
	client := ecr.New(ecr.Options{
		Region:       region,
		BaseEndpoint: aws.String(strings.TrimSuffix(r.URL, "/")),
		Credentials:  credentials.NewStaticCredentialsProvider(r.AccessKeyID, r.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: rt},
	})
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return "", "", remoteFailure(fmt.Errorf("log in to %s: %w", r.URL, err))
	}
	if len(out.AuthorizationData) == 0 {
		return "", "", fail(FailureDestinationRefused, nil, "log in to %s: GetAuthorizationToken returned no token", r.URL)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	user, pass, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok {
		return "", "", fail(FailureDestinationRefused, err, "log in to %s: the authorization token is not base64 of user:password", r.URL)
	}
	return user, pass, nil
}

func (d *remoteDest) putBlob(ctx context.Context, b descriptor) error {
	h, err := v1.NewHash(b.Digest)
	if err != nil {
		return fail(FailureSourceUnreadable, err, "blob digest %q: %v", b.Digest, err)
	}
	l := &blobLayer{ctx: ctx, d: d, digest: h, size: b.Size, mediaType: types.MediaType(b.MediaType)}
	if err := remote.WriteLayer(d.to, l, d.opts...); err != nil {
		return remoteFailure(fmt.Errorf("send blob %s to %s: %w", b.Digest, d.to, err))
	}
	return nil
}

func (d *remoteDest) putManifest(ctx context.Context, m *meta.Manifest, tags []string) error {
	raw := rawManifest{body: m.Content, mediaType: types.MediaType(m.MediaType)}
	refs := []name.Reference{d.to.Digest(m.Digest)}
	for _, t := range tags {
		refs = append(refs, d.to.Tag(t))
	}
	for _, ref := range refs {
		if err := remote.Put(ref, raw, d.opts...); err != nil {
			return remoteFailure(fmt.Errorf("put manifest %s to %s: %w", m.Digest, ref, err))
		}
	}
	return nil
}

// remoteFailure classifies an error of a remote registry: one it answered
// is a refusal, one it could not answer (down, unreachable, failing) is
// unreachable.
func remoteFailure(err error) *failure {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode < 500 {
		return fail(FailureDestinationRefused, err, "%v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() > 0 && re.HTTPStatusCode() < 500 {
		return fail(FailureDestinationRefused, err, "%v", err)
	}
	return fail(FailureDestinationUnreachable, err, "%v", err)
}

type rawManifest struct {
	body      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// blobLayer is a blob of the source repository as go-containerregistry
// uploads it: its bytes streamed from the blob store when asked for.
type blobLayer struct {
	ctx       context.Context
	d         *remoteDest
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
}

func (l *blobLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *blobLayer) Size() (int64, error)                { return l.size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *blobLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, errors.New("replication copies blobs as they are: no diff ID")
}
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("replication copies blobs as they are: not uncompressed")
}
func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	rc, _, err := l.d.s.reg.OpenBlob(l.ctx, l.d.src, l.d.repo, digest.Digest(l.digest.String()))
	if err != nil {
		return nil, fail(FailureSourceUnreadable, err, "open blob %s: %v", l.digest, err)
	}
	return rc, nil
}
