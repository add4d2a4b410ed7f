package ocidist

// The public host (--public-registry-host) serves every account's ECR
// Public registry at <host>/<alias>/<name>, as public.ecr.aws does:
// anyone pulls with an anonymous bearer token from <host>/token; a push
// takes an `aws ecr-public get-login-password` login, sent as Basic
// AWS:<password> or traded at /token for a bearer token, and ecr-public:*
// permissions. See docs/ecr-public.md.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/registry"
)

// PublicService is the name public.ecr.aws's challenges give its token
// service; clients send it back to /token.
const PublicService = "public.ecr.aws"

// PublicRegistries resolves the alias of a public registry (a default
// b<account> or a custom one) to its account; an alias nobody holds is
// registry.ErrNameUnknown.
type PublicRegistries interface {
	PublicAccount(ctx context.Context, alias string) (string, error)
}

// RegistryTokens issues and checks the public host's bearer tokens and
// the ecr-public logins they are traded for.
type RegistryTokens interface {
	IssueRegistryToken(p *authn.Principal, scopes []authn.RegistryScope, notAfter time.Time) (string, time.Time)
	CheckRegistryToken(ctx context.Context, token string) (*authn.Principal, []authn.RegistryScope, error)
	CheckLogin(ctx context.Context, password string) (*authn.Principal, string, time.Time, error)
}

// PullLimiter limits anonymous pulls per source address. Allow counts one
// pull; when the source is over its limit it answers false and how long
// to wait.
type PullLimiter interface {
	Allow(ctx context.Context, source netip.Addr) (bool, time.Duration, error)
}

// IsPublicHost reports whether a request's Host names the public host,
// with or without a port.
func IsPublicHost(host, publicHost string) bool {
	if publicHost == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.EqualFold(strings.TrimSuffix(host, "."), strings.TrimSuffix(publicHost, "."))
}

// publicRepo is a request's repository on the public host: the registry's
// alias as the client wrote it, and the repository's name in the registry.
type publicRepo struct {
	alias string
}

type publicKey struct{}

func publicFrom(ctx context.Context) *publicRepo {
	p, _ := ctx.Value(publicKey{}).(*publicRepo)
	return p
}

// shownName is a repository's name as the client addressed it: with the
// registry's alias in front on the public host.
func shownName(ctx context.Context, name string) string {
	if p := publicFrom(ctx); p != nil {
		return p.alias + "/" + name
	}
	return name
}

// localName is the name in this registry of a repository the client named
// <alias>/<name>; "" when it names another registry's.
func (p *publicRepo) localName(shown string) string {
	name, ok := strings.CutPrefix(shown, p.alias+"/")
	if !ok {
		return ""
	}
	return name
}

// publicLoginHint is how to log in to the public host, as ECR Public's
// documentation says it.
func publicLoginHint(r *http.Request) string {
	return "aws ecr-public get-login-password --region us-east-1 | docker login --username AWS --password-stdin " + r.Host
}

// need is what a request does, as a token's scope names it.
func need(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "pull"
	case http.MethodDelete:
		return "delete"
	}
	return "push"
}

// publicChallenge asks for a bearer token from the public host's token
// endpoint, for scope (public.ecr.aws names "aws" on /v2/ itself) and,
// after a refused token, the reason (RFC 6750's error) and what to do:
// docker prints a challenge's error_description, not the error body,
// when the challenge names an error.
func publicChallenge(w http.ResponseWriter, r *http.Request, scope, reason, description string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := fmt.Sprintf(`Bearer realm="%s://%s/token",service="%s",scope="%s"`, scheme, r.Host, PublicService, scope)
	if reason != "" {
		c += `,error="` + reason + `"`
		if description != "" {
			c += `,error_description="` + quotedStringEscaper.Replace(description) + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", c)
}

// quotedStringEscaper makes text an HTTP quoted-string's content.
var quotedStringEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// refuse answers a refused public-host request: a challenge naming reason
// (none for a request without credentials) and err's message.
func refuse(w http.ResponseWriter, r *http.Request, scope, reason string, err *regError) *regError {
	publicChallenge(w, r, scope, reason, err.Message)
	return err
}

func challengeScope(rt route, action string) string {
	if rt.name == "" {
		return "aws"
	}
	actions := []string{"pull"}
	if action != "pull" {
		actions = []string{action, "pull"}
	}
	return authn.RegistryScope{Repository: rt.name, Actions: actions}.String()
}

// servePublic answers a /v2/ request on the public host.
func (h *handler) servePublic(w http.ResponseWriter, r *http.Request) {
	rt, err := parseRoute(r.URL.EscapedPath())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rt.kind == "catalog" {
		h.writeError(w, r, &regError{Status: http.StatusNotFound, Code: "UNSUPPORTED",
			Message: "the public host lists no catalog: list a public registry's repositories with aws ecr-public describe-repositories"})
		return
	}
	var alias, name string
	if rt.name != "" {
		var ok bool
		alias, name, ok = strings.Cut(rt.name, "/")
		if !ok || alias == "" {
			h.writeError(w, r, &regError{Status: http.StatusNotFound, Code: "NAME_UNKNOWN",
				Message: fmt.Sprintf("repositories on %s are named <registry alias>/<repository name>, and %q has no alias in front", r.Host, rt.name)})
			return
		}
		if err := registry.ValidateRepositoryName(name); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	act := need(r.Method)
	p, err := h.authenticatePublic(w, r, rt, act)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rt.kind == "base" {
		h.dispatch(w, r, rt, registry.Key{})
		return
	}
	acct, err := h.opts.Public.PublicAccount(r.Context(), alias)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	reg := registry.PublicRegistry(acct)
	local := route{kind: rt.kind, name: name, ref: rt.ref}
	if p == nil {
		if err := h.limitPull(w, r, rt); err != nil {
			h.writeError(w, r, err)
			return
		}
	} else if act != "pull" {
		// Pulls are anyone's; what changes a repository is authorized
		// with ECR Public's actions on its ARN.
		a := strings.Replace(action(local, r.Method), "ecr:", "ecr-public:", 1)
		if err := h.authorizeAction(r.Context(), r, p, a, local, reg); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	ctx := withPrincipal(r.Context(), p)
	ctx = context.WithValue(ctx, publicKey{}, &publicRepo{alias: alias})
	h.dispatch(w, r.WithContext(ctx), local, reg)
}

// authenticatePublic establishes a public host's caller: nil for an
// anonymous token, which may pull only; the login's identity for a
// logged-in token or Basic AWS:<password>.
func (h *handler) authenticatePublic(w http.ResponseWriter, r *http.Request, rt route, act string) (*authn.Principal, error) {
	ctx := r.Context()
	scope := challengeScope(rt, act)
	if user, password, ok := r.BasicAuth(); ok {
		if user != "AWS" {
			return nil, refuse(w, r, scope, "", unauthorized(fmt.Sprintf("the user name must be AWS, not %q: log in with %s", truncateName(user), publicLoginHint(r))))
		}
		p, _, err := h.checkPublicLogin(ctx, w, r, scope, password)
		return p, err
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		if act != "pull" {
			return nil, refuse(w, r, scope, "", pushNeedsLogin(r))
		}
		msg := "authentication required: anyone may pull, with a bearer token from " + r.Host + "/token (docker, crane and skopeo fetch one by themselves)"
		if r.Header.Get("Authorization") != "" {
			msg = "the Authorization header is neither a bearer token nor Basic credentials: " + msg
		}
		return nil, refuse(w, r, scope, "", unauthorized(msg))
	}
	p, scopes, err := h.opts.RegistryTokens.CheckRegistryToken(ctx, strings.TrimSpace(token))
	var inactive *authn.InactiveKeyError
	switch {
	case errors.Is(err, authn.ErrTokenExpired):
		return nil, refuse(w, r, scope, "invalid_token", unauthorized("Your authorization token has expired. Reauthenticate and try again."))
	case errors.As(err, &inactive):
		return nil, refuse(w, r, scope, "invalid_token", unauthorized(fmt.Sprintf(
			"The access key %s that logged in is Inactive: make it Active again, or log in with an active key: %s", inactive.AccessKeyID, publicLoginHint(r))))
	case errors.Is(err, authn.ErrInvalidToken):
		return nil, refuse(w, r, scope, "invalid_token", unauthorized("Your authorization token is invalid: ask "+r.Host+"/token for a new one"))
	case err != nil:
		return nil, err
	}
	if rt.name == "" {
		return p, nil
	}
	if !grants(scopes, rt.name, act) {
		if p == nil && act != "pull" {
			return nil, refuse(w, r, scope, "insufficient_scope", pushNeedsLogin(r))
		}
		return nil, refuse(w, r, scope, "insufficient_scope", unauthorized(
			fmt.Sprintf("the token does not grant %s on %s: ask %s/token for scope %s", act, rt.name, r.Host, scope)))
	}
	return p, nil
}

func unauthorized(msg string) *regError {
	return &regError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: msg}
}

// grants reports whether scopes allow act on repository; a delete is
// allowed by a push scope too, which is what docker asks for.
func grants(scopes []authn.RegistryScope, repository, act string) bool {
	return authn.Allows(scopes, repository, act) || act == "delete" && authn.Allows(scopes, repository, "push")
}

func pushNeedsLogin(r *http.Request) *regError {
	return unauthorized("Pushing to a public repository requires a login: " + publicLoginHint(r))
}

// checkPublicLogin checks an ecr-public login password; a refused one is
// answered with a challenge and what to do.
func (h *handler) checkPublicLogin(ctx context.Context, w http.ResponseWriter, r *http.Request, scope, password string) (*authn.Principal, time.Time, error) {
	p, region, exp, err := h.opts.RegistryTokens.CheckLogin(ctx, password)
	var inactive *authn.InactiveKeyError
	switch {
	case errors.Is(err, authn.ErrTokenExpired):
		return nil, exp, refuse(w, r, scope, "invalid_token", unauthorized("Your authorization token has expired. Reauthenticate and try again: "+publicLoginHint(r)))
	case errors.As(err, &inactive):
		return nil, exp, refuse(w, r, scope, "invalid_token", unauthorized(fmt.Sprintf(
			"The access key %s that issued this authorization token is Inactive: make it Active again, or log in with an active key: %s", inactive.AccessKeyID, publicLoginHint(r))))
	case errors.Is(err, authn.ErrInvalidToken):
		return nil, exp, refuse(w, r, scope, "invalid_token", unauthorized("Your authorization token is invalid: log in again with "+publicLoginHint(r)))
	case err != nil:
		return nil, exp, err
	}
	if region != registry.PublicRegion {
		return nil, exp, refuse(w, r, scope, "invalid_token", unauthorized(fmt.Sprintf(
			"Your authorization token is a login to the private registries of region %s (aws ecr get-login-password), not to ECR Public: log in with %s", region, publicLoginHint(r))))
	}
	return p, exp, nil
}

// limitPull counts an anonymous image pull (a manifest GET, what ECR
// Public and Docker Hub count) against its source's limit.
func (h *handler) limitPull(w http.ResponseWriter, r *http.Request, rt route) error {
	if h.opts.PullLimiter == nil || rt.kind != "manifest" || r.Method != http.MethodGet {
		return nil
	}
	ok, wait, err := h.opts.PullLimiter.Allow(r.Context(), SourceIP(r))
	if err != nil {
		return fmt.Errorf("count an anonymous pull: %w", err)
	}
	if ok {
		return nil
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	return &regError{Status: http.StatusTooManyRequests, Code: "TOOMANYREQUESTS",
		Message: "You have reached the rate limit of anonymous pulls from your address. Wait, or log in to pull without it: " + publicLoginHint(r)}
}

type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// serveToken is the public host's token endpoint, GET /token: an
// anonymous token that pulls the scopes asked for, or, given the Basic
// credentials of an ecr-public login (docker sends them after a docker
// login), a token that may push them too, as the policies allow.
func (h *handler) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeError(w, r, methodNotAllowed("GET"))
		return
	}
	var (
		p        *authn.Principal
		notAfter time.Time
	)
	q := r.URL.Query()
	if user, password, ok := r.BasicAuth(); ok {
		if user != "AWS" {
			h.writeError(w, r, unauthorized(fmt.Sprintf("the user name must be AWS, not %q: log in with %s", truncateName(user), publicLoginHint(r))))
			return
		}
		var err error
		p, notAfter, err = h.checkPublicLogin(r.Context(), w, r, "aws", password)
		if err != nil {
			w.Header().Del("WWW-Authenticate") // the token endpoint asks for no token
			h.writeError(w, r, err)
			return
		}
	}
	var scopes []authn.RegistryScope
	for _, s := range q["scope"] {
		// A scope parameter may hold several, space-separated.
		for _, one := range strings.Fields(s) {
			sc, ok := authn.ParseScope(one)
			if !ok {
				continue // registry:catalog:*, "aws": nothing to grant
			}
			var granted []string
			for _, a := range sc.Actions {
				// Anyone pulls; a login may ask for more, which each
				// request's authorization then decides.
				if a == "pull" || p != nil && (a == "push" || a == "delete" || a == "*") {
					granted = append(granted, a)
				}
			}
			if len(granted) > 0 {
				scopes = append(scopes, authn.RegistryScope{Repository: sc.Repository, Actions: granted})
			}
		}
	}
	token, exp := h.opts.RegistryTokens.IssueRegistryToken(p, scopes, notAfter)
	now := time.Now()
	body, _ := json.Marshal(tokenResponse{Token: token, AccessToken: token, ExpiresIn: int64(exp.Sub(now).Seconds()), IssuedAt: now.UTC().Format(time.RFC3339)})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}
