package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

const ecrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// ecrOp handles one ECR operation: it decodes its input from body and returns
// the output to encode.
type ecrOp func(ctx context.Context, e *ecrAPI, c *Call) (any, error)

var (
	ecrOpsMu sync.Mutex
	ecrOps   = map[string]ecrOp{}
)

// registerECR adds an operation; each operation's file registers its own,
// so operations are added without touching a shared table.
func registerECR(name string, op ecrOp) {
	ecrOpsMu.Lock()
	defer ecrOpsMu.Unlock()
	if _, dup := ecrOps[name]; dup {
		panic("awsapi: ECR operation registered twice: " + name)
	}
	ecrOps[name] = op
}

type ecrAPI struct {
	s   *Server
	reg *registry.Service
}

func newECR(s *Server) *ecrAPI {
	return &ecrAPI{s: s, reg: s.opts.Registry}
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, requestID, target string) {
	ctx := r.Context()
	op, ok := strings.CutPrefix(target, ecrTargetPrefix)
	if !ok {
		writeJSONError(w, errorf("UnknownOperationException", fmt.Sprintf("X-Amz-Target %q names no operation of a service Berth serves", truncate(target, 200))))
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, errorf("UnknownOperationException", "AWS JSON API calls are POST requests"))
		return
	}
	body, aerr := readBody(r)
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	p, region, aerr := s.authenticate(r, body, "ecr")
	if aerr != nil {
		writeJSONError(w, aerr)
		return
	}
	c := &Call{RequestID: requestID, Principal: p, Region: region, Operation: op, Body: body, Secure: r.TLS != nil}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.SourceIP = ap.Addr().Unmap()
	}
	handler, known := ecrOps[op]
	if !known {
		if ecrModelHasOperation(op) {
			writeJSONError(w, errorf("UnsupportedOperationException", fmt.Sprintf("Berth does not support the ECR operation %s yet", op)))
		} else {
			writeJSONError(w, errorf("UnknownOperationException", fmt.Sprintf("ECR has no operation %q", truncate(op, 100))))
		}
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		c.Body = []byte("{}")
	}
	if err := validateECRInput(op, c.Body); err != nil {
		writeJSONError(w, s.apiError(ctx, c, err))
		return
	}
	out, err := handler(ctx, s.ecr, c)
	if err != nil {
		writeJSONError(w, s.apiError(ctx, c, err))
		return
	}
	if out == nil {
		out = struct{}{}
	}
	resp, err := json.Marshal(out)
	if err != nil {
		writeJSONError(w, s.apiError(ctx, c, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

// decode reads an operation's input. Members the model does not define are
// ignored, as AWS ignores them.
func decode(c *Call, v any) error {
	if err := json.Unmarshal(c.Body, v); err != nil {
		return errorf("SerializationException", "the request body is not the JSON this operation takes: "+err.Error())
	}
	return nil
}

// registryFor resolves an optional registryId to the registry the call
// addresses: the caller's own account in the call's region by default.
func (e *ecrAPI) registryFor(c *Call, registryID *string) meta.RegistryKey {
	acct := c.Principal.Account
	if registryID != nil && *registryID != "" {
		acct = *registryID
	}
	return meta.RegistryKey{Account: acct, Region: c.Region}
}

// authorize asks whether the caller may perform action on a repository (or,
// with repo "*", on the registry).
func (e *ecrAPI) authorize(ctx context.Context, c *Call, action string, reg meta.RegistryKey, repo string) error {
	return e.authorizeTags(ctx, c, action, reg, repo, nil)
}

// authorizeResource asks about an action on a resource that is not a
// repository (GetAuthorizationToken's is "*").
func (e *ecrAPI) authorizeResource(ctx context.Context, c *Call, action, resource, account string) error {
	err := e.s.opts.Authorizer.Authorize(ctx, authz.Request{Principal: c.Principal, Action: action, Resource: resource, ResourceAccount: account,
		SourceIP: c.SourceIP, SecureTransport: c.Secure})
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return &Error{Code: "AccessDeniedException", Status: http.StatusBadRequest, Message: denied.Error()}
	}
	return err
}

// authorizeTags is authorize for a request that sets tags, which policies
// may condition on (aws:RequestTag, aws:TagKeys).
func (e *ecrAPI) authorizeTags(ctx context.Context, c *Call, action string, reg meta.RegistryKey, repo string, tags []ecrResourceTag) error {
	req := authz.Request{Principal: c.Principal, Action: action, Resource: authz.RepositoryARN(reg.Region, reg.Account, repo), ResourceAccount: reg.Account,
		SourceIP: c.SourceIP, SecureTransport: c.Secure}
	if len(tags) > 0 {
		req.RequestTags = make(map[string]string, len(tags))
		for _, t := range tags {
			req.RequestTags[t.Key] = t.Value
		}
	}
	err := e.s.opts.Authorizer.Authorize(ctx, req)
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return &Error{Code: "AccessDeniedException", Status: http.StatusBadRequest, Message: denied.Error()}
	}
	return err
}

// ecrError maps a domain error to the ECR exception an operation answers
// with. overrides name operation-specific exceptions for some kinds.
func ecrError(err error, overrides map[error]string) error {
	var de *registry.Error
	if !errors.As(err, &de) {
		return err
	}
	for kind, code := range overrides {
		if errors.Is(err, kind) {
			return errorf(code, de.Message)
		}
	}
	for _, t := range ecrErrorTable {
		if errors.Is(err, t.kind) {
			return errorf(t.code, de.Message)
		}
	}
	return errorf("InvalidParameterException", de.Message)
}

var ecrErrorTable = []struct {
	kind error
	code string
}{
	{registry.ErrNameUnknown, "RepositoryNotFoundException"},
	{registry.ErrNameInvalid, "InvalidParameterException"},
	{registry.ErrManifestUnknown, "ImageNotFoundException"},
	{registry.ErrBlobUnknown, "LayersNotFoundException"},
	{registry.ErrBlobUploadUnknown, "UploadNotFoundException"},
	{registry.ErrRangeInvalid, "InvalidLayerPartException"},
	{registry.ErrDigestInvalid, "InvalidLayerException"},
	{registry.ErrSizeInvalid, "InvalidLayerPartException"},
	{registry.ErrTooLarge, "LimitExceededException"},
	{registry.ErrManifestInvalid, "InvalidParameterException"},
	{registry.ErrManifestBlobUnknown, "LayersNotFoundException"},
	{registry.ErrManifestReferenced, "ImageReferencedByManifestListException"},
	{registry.ErrTagInvalid, "InvalidParameterException"},
	{registry.ErrTagImmutable, "ImageTagAlreadyExistsException"},
	{registry.ErrPaginationInvalid, "InvalidParameterException"},
	{registry.ErrRepositoryPolicyNotFound, "RepositoryPolicyNotFoundException"},
	{registry.ErrRegistryPolicyNotFound, "RegistryPolicyNotFoundException"},
	{registry.ErrPolicyInvalid, "InvalidParameterException"},
	{registry.ErrRepositoryExists, "RepositoryAlreadyExistsException"},
	{registry.ErrRepositoryNotEmpty, "RepositoryNotEmptyException"},
	{registry.ErrParameterInvalid, "InvalidParameterException"},
	{registry.ErrResourceTagInvalid, "InvalidTagParameterException"},
	{registry.ErrTooManyResourceTags, "TooManyTagsException"},
	{registry.ErrImageIDInvalid, "InvalidParameterException"},
	{registry.ErrImageExists, "ImageAlreadyExistsException"},
	{registry.ErrImageDigestMismatch, "ImageDigestDoesNotMatchException"},
	{registry.ErrReferencedImageUnknown, "ReferencedImagesNotFoundException"},
	{registry.ErrLayerInaccessible, "LayerInaccessibleException"},
}

// epochTime is a timestamp as the JSON protocol sends it: seconds since the
// epoch, with milliseconds.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func newEpoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
