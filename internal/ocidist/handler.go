// Package ocidist serves the OCI distribution API (/v2/) over the registry
// domain: routing, request parsing, streaming and error bodies.
package ocidist

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/registry"
)

// Options configure the handler.
type Options struct {
	// DefaultRegistry serves requests whose Host does not name a registry
	// in ECR's form.
	DefaultRegistry registry.Key
	Logger          *slog.Logger
	// Tokens checks the ECR login passwords clients send as Basic AWS:<password>.
	Tokens TokenChecker
	// Authorizer decides each request's ECR action.
	Authorizer authz.Authorizer
	// PullThrough is the pull through cache; nil serves no rules.
	PullThrough PullThrough
	// PublicHost is the public registries' host (--public-registry-host):
	// a request whose Host names it addresses a public registry, and no
	// other request ever does. "" serves no public host.
	PublicHost string
	// Public resolves the public registries' aliases.
	Public PublicRegistries
	// RegistryTokens are the public host's bearer tokens.
	RegistryTokens RegistryTokens
	// PullLimiter limits anonymous pulls per source; nil limits none.
	PullLimiter PullLimiter
}

type handler struct {
	svc  *registry.Service
	opts Options
	log  *slog.Logger
}

// New returns the /v2/ handler.
func New(svc *registry.Service, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &handler{svc: svc, opts: opts, log: opts.Logger}
}

// route is a parsed /v2/ path.
type route struct {
	kind string // base, catalog, tags, manifest, blob, uploads, upload, referrers
	name string
	ref  string // tag, digest or upload id
}

const maxPathLength = 2048

// parseRoute splits a /v2/ path into its repository name and operation. The
// name may itself contain slashes, so the operation is read from the end.
func parseRoute(escaped string) (route, error) {
	if len(escaped) > maxPathLength {
		return route{}, &regError{Status: http.StatusRequestURITooLong, Code: "NAME_INVALID", Message: "request path is longer than " + strconv.Itoa(maxPathLength) + " bytes"}
	}
	if strings.Contains(escaped, "%") {
		return route{}, &regError{Status: http.StatusBadRequest, Code: "NAME_INVALID", Message: "percent-encoded characters are not allowed in repository names, tags or digests"}
	}
	if escaped == "/v2" || escaped == "/v2/" {
		return route{kind: "base"}, nil
	}
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		return route{}, notFound()
	}
	if rest == "_catalog" {
		return route{kind: "catalog"}, nil
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i != n-1) {
			return route{}, &regError{Status: http.StatusBadRequest, Code: "NAME_INVALID", Message: "empty, '.' and '..' path segments are not allowed"}
		}
	}
	name := func(k int) string { return strings.Join(segs[:n-k], "/") }
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		return route{kind: "tags", name: name(2)}, nil
	case n >= 3 && segs[n-2] == "blobs" && segs[n-1] == "uploads":
		return route{kind: "uploads", name: name(2)}, nil
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		if segs[n-1] == "" {
			return route{kind: "uploads", name: name(3)}, nil
		}
		return route{kind: "upload", name: name(3), ref: segs[n-1]}, nil
	case n >= 3 && segs[n-2] == "manifests":
		return route{kind: "manifest", name: name(2), ref: segs[n-1]}, nil
	case n >= 3 && segs[n-2] == "blobs":
		return route{kind: "blob", name: name(2), ref: segs[n-1]}, nil
	case n >= 3 && segs[n-2] == "referrers":
		return route{kind: "referrers", name: name(2), ref: segs[n-1]}, nil
	}
	return route{}, notFound()
}

func notFound() *regError {
	return &regError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such endpoint in the OCI distribution API"}
}

func methodNotAllowed(allowed string) *regError {
	return &regError{Status: http.StatusMethodNotAllowed, Code: "UNSUPPORTED", Message: "method not allowed here; allowed: " + allowed, Allow: allowed}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if IsPublicHost(r.Host, h.opts.PublicHost) {
		if r.URL.Path == "/token" {
			h.serveToken(w, r)
			return
		}
		h.servePublic(w, r)
		return
	}
	rt, err := parseRoute(r.URL.EscapedPath())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rt.name != "" {
		if err := registry.ValidateRepositoryName(rt.name); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	reg := h.registryFor(r)
	p, err := h.authenticate(w, r, reg)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.authorize(r.Context(), r, p, rt, reg); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.createOnPush(r.Context(), r, p, rt, reg); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.dispatch(w, r.WithContext(withPrincipal(r.Context(), p)), rt, reg)
}

// dispatch runs an authorized request's operation.
func (h *handler) dispatch(w http.ResponseWriter, r *http.Request, rt route, reg registry.Key) {
	switch rt.kind {
	case "base":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.writeError(w, r, methodNotAllowed("GET, HEAD"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		if r.Method == http.MethodGet {
			w.Write([]byte("{}"))
		}
	case "catalog":
		h.catalog(w, r, reg)
	case "tags":
		h.tags(w, r, reg, rt.name)
	case "manifest":
		h.manifest(w, r, reg, rt.name, rt.ref)
	case "blob":
		h.blob(w, r, reg, rt.name, rt.ref)
	case "uploads":
		h.startUpload(w, r, reg, rt.name)
	case "upload":
		h.upload(w, r, reg, rt.name, rt.ref)
	case "referrers":
		h.referrers(w, r, reg, rt.name, rt.ref)
	}
}

// ECR's data-plane host: <account>.dkr.ecr.<region>.<domain>.
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.`)

// registryFor picks the registry a request addresses from its Host.
func (h *handler) registryFor(r *http.Request) registry.Key {
	// The public registries' pseudo-region is no region: they are reached
	// on the public host only, never through a private registry's.
	if m := ecrHostRE.FindStringSubmatch(r.Host); m != nil && m[2] != registry.PublicRegion {
		return registry.Key{Account: m[1], Region: m[2]}
	}
	return h.opts.DefaultRegistry
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *authn.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) *authn.Principal {
	p, _ := ctx.Value(principalKey{}).(*authn.Principal)
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
