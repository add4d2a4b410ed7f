package ocidist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/clientaddr"
	"github.com/berth-registry/berth/internal/registry"
)

// TokenChecker verifies ECR login passwords.
type TokenChecker interface {
	Check(ctx context.Context, password string) (*authn.Principal, string, error)
}

// action is the ECR action a data-plane request performs, as ECR maps them.
func action(rt route, method string) string {
	switch rt.kind {
	case "catalog":
		return "ecr:DescribeRepositories"
	case "tags":
		return "ecr:ListImages"
	case "manifest", "referrers":
		switch method {
		case http.MethodPut:
			return "ecr:PutImage"
		case http.MethodDelete:
			return "ecr:BatchDeleteImage"
		}
		return "ecr:BatchGetImage"
	case "blob":
		switch method {
		case http.MethodHead:
			return "ecr:BatchCheckLayerAvailability"
		case http.MethodDelete:
			return "ecr:BatchDeleteImage"
		}
		return "ecr:GetDownloadUrlForLayer"
	case "uploads":
		return "ecr:InitiateLayerUpload"
	case "upload":
		switch method {
		case http.MethodPatch:
			return "ecr:UploadLayerPart"
		case http.MethodPut:
			return "ecr:CompleteLayerUpload"
		}
		return "ecr:InitiateLayerUpload"
	}
	return ""
}

func (h *handler) challenge(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="%s://%s/",service="ecr.amazonaws.com"`, scheme, r.Host))
}

func (h *handler) loginHint(r *http.Request, reg registry.Key) string {
	return fmt.Sprintf("aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s", reg.Region, r.Host)
}

// authenticate establishes the caller from Basic AWS:<password>.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request, reg registry.Key) (*authn.Principal, error) {
	user, password, ok := r.BasicAuth()
	if !ok {
		h.challenge(w, r)
		msg := "authentication required: log in with " + h.loginHint(r, reg)
		if r.Header.Get("Authorization") != "" {
			msg = "the Authorization header is not Basic credentials: log in with " + h.loginHint(r, reg)
		}
		return nil, &regError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: msg}
	}
	if user != "AWS" {
		h.challenge(w, r)
		return nil, &regError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: fmt.Sprintf("the user name must be AWS, not %q: log in with %s", truncateName(user), h.loginHint(r, reg))}
	}
	p, region, err := h.opts.Tokens.Check(r.Context(), password)
	var inactive *authn.InactiveKeyError
	switch {
	case errors.Is(err, authn.ErrTokenExpired):
		return nil, &regError{Status: http.StatusForbidden, Code: "DENIED", Message: "Your authorization token has expired. Reauthenticate and try again."}
	case errors.As(err, &inactive):
		// A new login with the same key fails too; say what does help.
		h.challenge(w, r)
		return nil, &regError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: fmt.Sprintf(
			"The access key %s that issued this authorization token is Inactive: make it Active again with aws iam update-access-key --access-key-id %[1]s --status Active, or log in with an active key: %s",
			inactive.AccessKeyID, h.loginHint(r, reg))}
	case errors.Is(err, authn.ErrInvalidToken):
		h.challenge(w, r)
		return nil, &regError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Your authorization token is invalid: log in again with " + h.loginHint(r, reg)}
	case err != nil:
		return nil, err
	}
	if region != reg.Region {
		return nil, &regError{Status: http.StatusForbidden, Code: "DENIED", Message: fmt.Sprintf("Your authorization token is for region %s, not for this registry's region %s: log in with %s", region, reg.Region, h.loginHint(r, reg))}
	}
	return p, nil
}

// authorize asks whether p may perform the request's action.
func (h *handler) authorize(ctx context.Context, r *http.Request, p *authn.Principal, rt route, reg registry.Key) error {
	return h.authorizeAction(ctx, r, p, action(rt, r.Method), rt, reg)
}

func (h *handler) authorizeAction(ctx context.Context, r *http.Request, p *authn.Principal, act string, rt route, reg registry.Key) error {
	return h.authorizeTagged(ctx, r, p, act, rt, reg, nil)
}

// authorizeTagged is authorizeAction for a request that sets resource tags
// (aws:RequestTag, aws:TagKeys).
func (h *handler) authorizeTagged(ctx context.Context, r *http.Request, p *authn.Principal, act string, rt route, reg registry.Key, tags map[string]string) error {
	if act == "" {
		return nil
	}
	resource := authz.RepositoryARN(reg.Region, reg.Account, rt.name)
	if rt.kind == "catalog" {
		resource = authz.RepositoryARN(reg.Region, reg.Account, "*")
	}
	err := h.opts.Authorizer.Authorize(ctx, authz.Request{Principal: p, Action: act, Resource: resource, ResourceAccount: reg.Account,
		SourceIP: SourceIP(r), SecureTransport: r.TLS != nil, RequestTags: tags})
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return &regError{Status: http.StatusForbidden, Code: "DENIED", Message: denied.Error()}
	}
	return err
}

// createOnPush creates the repository a push addresses from the registry's
// CREATE_ON_PUSH creation template, when the repository does not exist and
// a template governs its name. As in ECR, the pusher must then be allowed
// ecr:CreateRepository on the repository, and ecr:TagResource as well when
// the template gives it resource tags; both see the tags as the request's
// (aws:RequestTag), as CreateRepository with tags does. A push that starts
// with a blob upload (or a mount) creates it there, one that starts with
// its manifest (every blob already mounted) there.
func (h *handler) createOnPush(ctx context.Context, r *http.Request, p *authn.Principal, rt route, reg registry.Key) error {
	pushes := rt.kind == "uploads" && r.Method == http.MethodPost || rt.kind == "manifest" && r.Method == http.MethodPut
	if !pushes {
		return nil
	}
	_, err := h.svc.CreateOnPush(ctx, reg, rt.name, func(tags []registry.ResourceTag) error {
		var reqTags map[string]string
		if len(tags) > 0 {
			reqTags = make(map[string]string, len(tags))
			for _, t := range tags {
				reqTags[t.Key] = t.Value
			}
		}
		if err := h.authorizeTagged(ctx, r, p, "ecr:CreateRepository", rt, reg, reqTags); err != nil {
			return err
		}
		if len(tags) > 0 {
			return h.authorizeTagged(ctx, r, p, "ecr:TagResource", rt, reg, reqTags)
		}
		return nil
	})
	return err
}

// authorizeMountSource checks read access to the repository a blob is
// mounted from, as ECR requires.
func (h *handler) authorizeMountSource(ctx context.Context, r *http.Request, p *authn.Principal, reg registry.Key, from string) error {
	return h.authorizeAction(ctx, r, p, "ecr:GetDownloadUrlForLayer", route{kind: "blob", name: from}, reg)
}

// SourceIP is the address a request came from, for aws:SourceIp and the
// public pull limit: the client behind a trusted proxy (package
// clientaddr).
func SourceIP(r *http.Request) netip.Addr { return clientaddr.From(r) }

func truncateName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
