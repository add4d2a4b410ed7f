package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/meta"
)

// IAM over the query protocol: the subset ECR users drive with `aws iam`
// and Terraform. Every call acts in the caller's account.
//
// Where the wording comes from: real IAM and STS answers quoted in public
// issues — "The user with name X cannot be found." (ansible/ansible#45593),
// "The role with name X cannot be found." (jarpy/lambkin#3), "The role
// policy with name X cannot be found." (aws/aws-cli#6139), "User with name
// X already exists." (ucopacme/aws-orgs#12), "Role with name X already
// exists." (garnaat/kappa#17), "A policy called X already exists.
// Duplicate names are not allowed." (Aabyss-Team/awsKeyTools#13), the
// DeleteConflict texts (aws-controllers-k8s/community#2229,
// mozilla-services/userplex#17, aws/aws-sdk-java#2155,
// awslabs/aws-orbit-workbench#633, serverless/components#312), "Cannot
// exceed quota for AccessKeysPerUser: 2" (bartekj/aws-tools#29), "Policy X
// does not exist or is not attachable." (pulumi/pulumi#7419), "Policy X
// was not found." (a GetPolicy answer quoted in public test notes),
// "Syntax errors in policy." (99designs/iamy#74), "This policy contains
// invalid Json" (AWSCookbook/Security#2), "Must specify userName when
// calling with non-User credentials" (terraform-provider-aws), and STS's
// InvalidClientTokenId, ExpiredToken, AccessDenied and DurationSeconds
// texts (aws-azure-login#251, prowler-cloud/prowler#789,
// amzn/selling-partner-api-models#2523, kreuzwerker/awsu#27,
// 99designs/aws-vault#263). "The group with name X cannot be found.",
// "Group with name X already exists.", "The Access Key with id X cannot be
// found." and "Has prohibited field Resource" follow the same patterns as
// mocks of IAM (fog-aws, moto) word them.
//
// Where IAM's behaviour is not known Berth chooses, and says so at the
// spot: RemoveUserFromGroup for a user not in the group, GetPolicyVersion
// for a version other than v1, and the order of DeleteUser's checks.
//
// Versions. A managed policy has one version, v1, its default;
// CreatePolicyVersion and friends are not supported yet.
const iamXMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

var iamModel = sync.OnceValues(func() (*model.Model, error) { return model.Service("iam") })

// iamCall is one authenticated IAM call.
type iamCall struct {
	ctx       context.Context
	s         *Server
	db        meta.IAMStore
	p         *authn.Principal
	requestID string
	action    string
	form      url.Values
}

// iamOp answers one IAM action: it returns the <Action>Result element's
// value (a struct with its XMLName), or nil for actions without a result.
type iamOp func(c *iamCall) (any, error)

var (
	iamOpsMu sync.Mutex
	iamOps   = map[string]iamOp{}
)

// registerIAM adds an action; each file registers its own.
func registerIAM(name string, op iamOp) {
	iamOpsMu.Lock()
	defer iamOpsMu.Unlock()
	if _, dup := iamOps[name]; dup {
		panic("awsapi: IAM action registered twice: " + name)
	}
	iamOps[name] = op
}

// legacyQueryService names the service a query-protocol request is for:
// the service of its SigV4 credential scope, or, for a request with no
// readable scope, "iam" when Action is one of IAM's and "sts" otherwise.
func legacyQueryService(r *http.Request, form url.Values) string {
	if name := scopeService(r); name != "" {
		return name
	}
	if m, err := iamModel(); err == nil {
		if _, ok := m.Operation(form.Get("Action")); ok {
			return "iam"
		}
	}
	return "sts"
}

// validateQueryInput checks a query-protocol request against the model.
func validateQueryInput(m func() (*model.Model, error), action string, form url.Values) error {
	md, err := m()
	if err != nil {
		return err
	}
	if _, ok := md.Operation(action); !ok {
		return nil
	}
	err = md.ValidateInput(action, formInput(md, action, form))
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		return &Error{Code: "ValidationError", Message: ve.Message, Status: http.StatusBadRequest}
	}
	return err
}

type members[T any] = XMLList[T]
type xmlTime = XMLTime

func newXMLTime(t time.Time) *xmlTime { return NewXMLTime(t) }

// serveIAM answers an IAM call whose body has been read and parsed.
func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request, requestID string, body []byte, form url.Values) {
	p, _, aerr := s.authenticate(r, body, "iam")
	if aerr != nil {
		writeQueryError(w, queryAuthError(aerr), iamXMLNS, requestID)
		return
	}
	action := form.Get("Action")
	c := &iamCall{ctx: r.Context(), s: s, db: s.opts.IAM, p: p, requestID: requestID, action: action, form: form}
	op, known := iamOps[action]
	if !known || s.opts.IAM == nil {
		writeQueryError(w, unsupportedQueryAction(iamModel, "IAM", action), iamXMLNS, requestID)
		return
	}
	if err := validateQueryInput(iamModel, action, form); err != nil {
		writeQueryError(w, s.iamError(c, err), iamXMLNS, requestID)
		return
	}
	result, err := op(c)
	if err != nil {
		writeQueryError(w, s.iamError(c, err), iamXMLNS, requestID)
		return
	}
	if !strings.HasPrefix(action, "Get") && !strings.HasPrefix(action, "List") {
		s.invalidateDecisions()
	}
	writeQueryResult(w, iamXMLNS, action, requestID, result)
}

// invalidateDecisions tells an authorizer that caches decisions (the
// policy evaluator) that identities or policies changed.
func (s *Server) invalidateDecisions() {
	if inv, ok := s.opts.Authorizer.(interface{ Invalidate() }); ok {
		inv.Invalidate()
	}
}

// unsupportedQueryAction answers an Action Berth does not serve.
func unsupportedQueryAction(m func() (*model.Model, error), service, action string) *Error {
	if action == "" {
		return errorf("MissingAction", "the request names no Action")
	}
	if md, err := m(); err == nil {
		if _, ok := md.Operation(action); ok {
			return errorf("InvalidAction", fmt.Sprintf("Berth does not support the %s action %s yet", service, action))
		}
	}
	return errorf("InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", truncate(action, 100), apiVersion(m)))
}

func apiVersion(m func() (*model.Model, error)) string {
	if md, err := m(); err == nil {
		return md.Metadata.APIVersion
	}
	return ""
}

// policyURLEncode encodes a policy document as IAM returns them: URL
// encoding per RFC 3986, which leaves only letters, digits and -._~ as
// they are. Clients (the AWS CLI, Terraform) decode it.
func policyURLEncode(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// IAM's error codes and statuses.
func noSuchEntity(msg string) *Error {
	return &Error{Code: "NoSuchEntity", Message: msg, Status: http.StatusNotFound}
}

func entityAlreadyExists(msg string) *Error {
	return &Error{Code: "EntityAlreadyExists", Message: msg, Status: http.StatusConflict}
}

func deleteConflict(msg string) *Error {
	return &Error{Code: "DeleteConflict", Message: msg, Status: http.StatusConflict}
}

func limitExceeded(msg string) *Error {
	return &Error{Code: "LimitExceeded", Message: msg, Status: http.StatusConflict}
}

func malformedPolicy(msg string) *Error {
	return &Error{Code: "MalformedPolicyDocument", Message: msg, Status: http.StatusBadRequest}
}

func iamValidation(msg string) *Error {
	return &Error{Code: "ValidationError", Message: msg, Status: http.StatusBadRequest}
}

func invalidInput(msg string) *Error {
	return &Error{Code: "InvalidInput", Message: msg, Status: http.StatusBadRequest}
}

// iamError turns a handler error into IAM's answer, logging server faults.
func (s *Server) iamError(c *iamCall, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ie *meta.IAMError
	if errors.As(err, &ie) {
		if e := iamStoreError(ie); e != nil {
			return e
		}
	}
	s.log.ErrorContext(c.ctx, "iam call failed", "request_id", c.requestID, "action", c.action, "err", err)
	return &Error{Code: "ServiceFailure", Status: http.StatusInternalServerError,
		Message: "internal server error (request id " + c.requestID + "); the server log has the cause"}
}

// iamStoreError words the store's refusals as IAM does.
func iamStoreError(ie *meta.IAMError) *Error {
	switch {
	case errors.Is(ie, meta.ErrIAMNotFound):
		switch ie.What {
		case string(meta.IAMUser), string(meta.IAMGroup), string(meta.IAMRole):
			return noSuchEntity(fmt.Sprintf("The %s with name %s cannot be found.", ie.What, ie.Name))
		case "user policy", "group policy", "role policy":
			return noSuchEntity(fmt.Sprintf("The %s with name %s cannot be found.", ie.What, ie.Name))
		case meta.IAMWhatAccessKey:
			return noSuchEntity(fmt.Sprintf("The Access Key with id %s cannot be found.", ie.Name))
		case meta.IAMWhatPolicy, meta.IAMWhatAttachment:
			return noSuchEntity(fmt.Sprintf("Policy %s was not found.", ie.Name))
		}
	case errors.Is(ie, meta.ErrIAMExists):
		switch ie.What {
		case string(meta.IAMUser):
			return entityAlreadyExists(fmt.Sprintf("User with name %s already exists.", ie.Name))
		case string(meta.IAMGroup):
			return entityAlreadyExists(fmt.Sprintf("Group with name %s already exists.", ie.Name))
		case string(meta.IAMRole):
			return entityAlreadyExists(fmt.Sprintf("Role with name %s already exists.", ie.Name))
		case meta.IAMWhatPolicy:
			return entityAlreadyExists(fmt.Sprintf("A policy called %s already exists. Duplicate names are not allowed.", ie.Name))
		}
	case errors.Is(ie, meta.ErrIAMConflict):
		switch ie.BlockedBy {
		case meta.IAMBlockedByAccessKeys:
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		case meta.IAMBlockedByInlinePolicies:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		case meta.IAMBlockedByAttachedPolicies:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		case meta.IAMBlockedByGroups, meta.IAMBlockedByMembers:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		case meta.IAMBlockedByAttachments:
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
	case errors.Is(ie, meta.ErrIAMLimit):
		if ie.What == meta.IAMWhatAccessKey {
			return limitExceeded(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", meta.MaxAccessKeysPerUser))
		}
	}
	return nil
}

// authorize asks whether the caller may perform iam:<action> on resource,
// an ARN of its own account: the hook through which IAM's own policies
// (iam:CreateUser, …) will be enforced.
func (c *iamCall) authorize(resource string) error {
	return c.authorizeAction("iam:"+c.action, resource, c.p.Account)
}

func (c *iamCall) authorizeAction(action, resource, resourceAccount string) error {
	req := authz.Request{Principal: c.p, Action: action, Resource: resource, ResourceAccount: resourceAccount, ResourceName: iamResourceName(resource)}
	err := c.s.opts.Authorizer.Authorize(c.ctx, req)
	var denied *authz.DeniedError
	if errors.As(err, &denied) {
		return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: denied.Error()}
	}
	return err
}

// iamARN is the ARN of an IAM resource of the caller's account:
// iamARN("user", "/", "bob") is arn:aws:iam::<account>:user/bob.
func (c *iamCall) iamARN(kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + c.p.Account + ":" + kind + path + name
}

// str is a form value; "" when absent.
func (c *iamCall) str(name string) string { return c.form.Get(name) }

// path is the Path parameter, "/" by default.
func (c *iamCall) path() string {
	if p := c.form.Get("Path"); p != "" {
		return p
	}
	return "/"
}

// page reads Marker and MaxItems (IAM's default 100).
func (c *iamCall) page() meta.IAMListQuery {
	q := meta.IAMListQuery{After: c.form.Get("Marker"), Limit: 100, PathPrefix: c.form.Get("PathPrefix")}
	if n, err := strconv.Atoi(c.form.Get("MaxItems")); err == nil && n > 0 {
		q.Limit = n
	}
	return q
}

// pageOf cuts a list fetched with one item more than the page holds:
// it returns how many to keep, whether there is more, and the marker that
// continues after the last one kept.
func pageOf(n, limit int, nameAt func(i int) string) (keep int, truncated bool, marker string) {
	if limit <= 0 || n <= limit {
		return n, false, ""
	}
	return limit, true, nameAt(limit - 1)
}

// fetchQuery is q with room for one item more, to tell whether the page is
// the last.
func fetchQuery(q meta.IAMListQuery) meta.IAMListQuery {
	if q.Limit > 0 {
		q.Limit++
	}
	return q
}

// nonUserCredentials refuses an action that, without a UserName, acts on
// the caller as a user when the caller is a role session.
var nonUserCredentials = iamValidation("Must specify userName when calling with non-User credentials")

// targetUser is the user an access-key action addresses: UserName, or the
// caller when it is a user; "" addresses the caller's root.
func (c *iamCall) targetUser() (string, error) {
	if name := c.str("UserName"); name != "" {
		return name, nil
	}
	switch c.p.Kind {
	case authn.KindUser:
		return c.p.UserName, nil
	case authn.KindAssumedRole:
		return "", nonUserCredentials
	}
	return "", nil
}

// timeResolution is how precisely IAM reports creation times.
const timeResolution = time.Second

// entityARN is the ARN of an existing user, group or role, with its path,
// for authorization; for one that does not exist, the ARN it would have at
// path "/", so that a caller refused learns nothing of what exists.
func (c *iamCall) entityARN(kind meta.IAMKind, name string) string {
	if e, err := c.db.GetIAMEntity(c.ctx, c.p.Account, kind, name); err == nil {
		return c.iamARN(string(kind), e.Path, e.Name)
	}
	return c.iamARN(string(kind), "/", name)
}

// iamResourceName is how IAM's denials name users, groups and roles: "user
// bob" rather than the ARN. Other resources keep their ARN.
func iamResourceName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":iam::")
	if !ok {
		return ""
	}
	_, res, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	kind, pathName, ok := strings.Cut(res, "/")
	if !ok || (kind != "user" && kind != "group" && kind != "role") {
		return ""
	}
	name := pathName[strings.LastIndexByte(pathName, '/')+1:]
	return kind + " " + name
}
