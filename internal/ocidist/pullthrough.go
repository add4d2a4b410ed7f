package ocidist

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/authz/policy"
	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// PullThrough is the pull through cache, as the data plane asks it about
// pulls. Each method answers pullthrough.ErrNotCached when the pull is
// not the cache's to answer (no rule, or a blob already here).
type PullThrough interface {
	Manifest(ctx context.Context, reg registry.Key, name, ref string, allow pullthrough.Authorize) (*registry.Manifest, error)
	Blob(ctx context.Context, reg registry.Key, name string, d digest.Digest, head bool, allow pullthrough.Authorize, start func(size int64) io.Writer) error
}

// pullThroughErrors words the pull through cache's kinds on the data
// plane (every one: TestErrorTableCoversKinds). The rule kinds come from
// the API's operations only.
var pullThroughErrors = map[error]struct {
	status int
	code   string
}{
	pullthrough.ErrUpstreamUnavailable: {http.StatusBadGateway, "UNAVAILABLE"},
	pullthrough.ErrUpstreamRateLimited: {http.StatusTooManyRequests, "TOOMANYREQUESTS"},
	pullthrough.ErrUpstreamDenied:      {http.StatusBadGateway, "DENIED"},
	pullthrough.ErrSecretNotFound:      {http.StatusBadGateway, "UNAVAILABLE"},
	pullthrough.ErrSecretAccess:        {http.StatusBadGateway, "UNAVAILABLE"},
	pullthrough.ErrSecretDecrypt:       {http.StatusBadGateway, "UNAVAILABLE"},
	pullthrough.ErrInvalid:             {http.StatusBadRequest, "UNSUPPORTED"},
	pullthrough.ErrRuleExists:          {http.StatusConflict, "UNSUPPORTED"},
	pullthrough.ErrRuleNotFound:        {http.StatusNotFound, "UNSUPPORTED"},
	pullthrough.ErrLimit:               {http.StatusBadRequest, "UNSUPPORTED"},
	pullthrough.ErrUnsupportedUpstream: {http.StatusBadRequest, "UNSUPPORTED"},
}

// pullThroughAllow authorizes the cache's extra actions for the puller,
// as ECR does: made for the pull through cache feature, so the registry
// policy counts as well as the identity's and the repository's policies.
func (h *handler) pullThroughAllow(r *http.Request, p *authn.Principal, reg registry.Key, name string) pullthrough.Authorize {
	return func(ctx context.Context, action string) error {
		err := h.opts.Authorizer.Authorize(ctx, authz.Request{Principal: p, Action: action,
			Resource: authz.RepositoryARN(reg.Region, reg.Account, name), ResourceAccount: reg.Account,
			SourceIP: SourceIP(r), SecureTransport: r.TLS != nil, Feature: policy.PullThroughCache})
		var denied *authz.DeniedError
		if errors.As(err, &denied) {
			return &regError{Status: http.StatusForbidden, Code: "DENIED", Message: denied.Error() + " (a pull through cache fetch needs it)"}
		}
		return err
	}
}

// pullThroughManifest asks the cache for a manifest; ok is false when the
// pull is not the cache's.
func (h *handler) pullThroughManifest(r *http.Request, reg registry.Key, name, ref string) (*registry.Manifest, bool, error) {
	if h.opts.PullThrough == nil {
		return nil, false, nil
	}
	ctx := r.Context()
	m, err := h.opts.PullThrough.Manifest(ctx, reg, name, ref, h.pullThroughAllow(r, principalFrom(ctx), reg, name))
	if errors.Is(err, pullthrough.ErrNotCached) {
		return nil, false, nil
	}
	return m, true, err
}

// pullThroughBlob streams a blob through the cache; ok is false when the
// pull is not the cache's.
func (h *handler) pullThroughBlob(w http.ResponseWriter, r *http.Request, reg registry.Key, name string, d digest.Digest) bool {
	if h.opts.PullThrough == nil {
		return false
	}
	ctx := r.Context()
	head := r.Method == http.MethodHead
	started := false
	start := func(size int64) io.Writer {
		started = true
		hd := w.Header()
		hd.Set("Content-Type", "application/octet-stream")
		hd.Set("Docker-Content-Digest", d.String())
		hd.Set("ETag", `"`+d.String()+`"`)
		if size >= 0 {
			hd.Set("Content-Length", itoa(size))
		}
		w.WriteHeader(http.StatusOK)
		if head {
			return io.Discard
		}
		return w
	}
	err := h.opts.PullThrough.Blob(ctx, reg, name, d, head, h.pullThroughAllow(r, principalFrom(ctx), reg, name), start)
	switch {
	case errors.Is(err, pullthrough.ErrNotCached):
		return false
	case err == nil:
		return true
	case started:
		// The status line is out: cutting the connection is the only way
		// left to tell the client that the body is not whole.
		h.log.ErrorContext(ctx, "pull through blob failed while streaming", "repository", name, "digest", d, "err", err)
		panic(http.ErrAbortHandler)
	}
	h.writeError(w, r, err)
	return true
}
