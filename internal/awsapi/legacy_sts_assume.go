package awsapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/meta"
)

var stsModel = sync.OnceValues(func() (*model.Model, error) { return model.Service("sts") })

// roleARNRE is an IAM role's ARN: account, path and name.
var roleARNRE = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)$`)

const (
	// defaultSessionDuration is DurationSeconds unless given.
	defaultSessionDuration = 3600
	// chainedSessionLimit caps sessions made with a session's credentials.
	chainedSessionLimit = 3600
	// keepExpiredSessions is how long an expired session is kept, so that
	// its credentials are refused as expired rather than unknown.
	keepExpiredSessions = 24 * time.Hour
)

// assumeRole answers STS AssumeRole: temporary credentials for a role whose
// trust policy lets the caller in. Sessions are stored, so they work on
// every node sharing the database.
func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, requestID string, p *authn.Principal, form url.Values) {
	out, err := s.assumeRoleCall(r, p, form)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			s.log.ErrorContext(r.Context(), "assume role failed", "request_id", requestID, "err", err)
			ae = internalError("ServerException", requestID)
		}
		writeQueryError(w, ae, stsXMLNS, requestID)
		return
	}
	writeQueryResult(w, stsXMLNS, "AssumeRole", requestID, out)
}

type assumeRoleResult struct {
	XMLName         xml.Name `xml:"AssumeRoleResult"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	Credentials struct {
		AccessKeyID     string  `xml:"AccessKeyId"`
		SecretAccessKey string  `xml:"SecretAccessKey"`
		SessionToken    string  `xml:"SessionToken"`
		Expiration      xmlTime `xml:"Expiration"`
	} `xml:"Credentials"`
}

func (s *Server) assumeRoleCall(r *http.Request, p *authn.Principal, form url.Values) (*assumeRoleResult, error) {
	ctx := r.Context()
	db := s.opts.IAM
	if db == nil {
		return nil, unsupportedQueryAction(stsModel, "STS", "AssumeRole")
	}
	if err := validateQueryInput(stsModel, "AssumeRole", form); err != nil {
		return nil, err
	}
	// Session policies narrow a session; granting without them would give
	// more than asked for.
	if form.Get("Policy") != "" || hasPrefixKey(form, "PolicyArns.member.") {
		return nil, iamValidation("Berth does not support session policies (Policy, PolicyArns) yet")
	}
	roleARN, sessionName := form.Get("RoleArn"), form.Get("RoleSessionName")
	if p.Kind == authn.KindRoot || p.Kind == "" {
		return nil, &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Roles may not be assumed by root accounts."}
	}
	denied := &Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, roleARN)}

	// As in AWS, a role that does not exist is refused like one that does
	// not trust the caller.
	m := roleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, denied
	}
	role, err := db.GetIAMEntity(ctx, m[1], meta.IAMRole, m[3])
	if errors.Is(err, meta.ErrIAMNotFound) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	if authn.RoleARN(role.Account, role.Path, role.Name) != roleARN {
		return nil, denied
	}

	// The identity-based side, decided in the caller's own account by the
	// authorizer; the trust policy is the resource-based side.
	identityAllows := true
	err = s.opts.Authorizer.Authorize(ctx, authz.Request{Principal: p, Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: p.Account})
	var d *authz.DeniedError
	switch {
	case errors.As(err, &d):
		identityAllows = false
		// AWS says why when the caller's own policies are the reason.
		denied.Message += " " + d.Reason
	case err != nil:
		return nil, err
	}
	now := s.opts.Now()
	conditionKeys := map[string][]string{"sts:RoleSessionName": {sessionName}}
	if id := form.Get("ExternalId"); id != "" {
		conditionKeys["sts:ExternalId"] = []string{id}
	}
	if !trustAllows(role.AssumeRolePolicy, p, roleARN, role.Account, identityAllows, now, conditionKeys) {
		return nil, denied
	}

	duration := defaultSessionDuration
	if v := form.Get("DurationSeconds"); v != "" {
		duration, _ = strconv.Atoi(v) // the model checked it: 900 to 43200
	}
	if p.Kind == authn.KindAssumedRole && duration > chainedSessionLimit {
		return nil, iamValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duration > role.MaxSessionDuration {
		return nil, iamValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	rs := &meta.IAMSession{
		AccessKeyID: authn.NewID(authn.SessionKeyPrefix, 16), SecretAccessKey: authn.NewSecretAccessKey(),
		SessionToken: authn.NewSessionToken(), Account: role.Account,
		RoleName: role.Name, RolePath: role.Path, RoleID: role.ID, SessionName: sessionName, SourceARN: p.ARN,
		CreatedAt: now.UTC(), ExpiresAt: now.UTC().Add(time.Duration(duration) * time.Second).Truncate(time.Second),
	}
	if err := db.CreateRoleSession(ctx, rs); err != nil {
		if errors.Is(err, meta.ErrIAMNotFound) {
			return nil, denied // deleted or replaced meanwhile
		}
		return nil, err
	}
	if _, err := db.DeleteRoleSessionsExpiredBefore(ctx, now.Add(-keepExpiredSessions)); err != nil {
		s.log.WarnContext(ctx, "delete expired role sessions", "err", err)
	}

	var out assumeRoleResult
	out.AssumedRoleUser.AssumedRoleID = role.ID + ":" + sessionName
	out.AssumedRoleUser.Arn = authn.AssumedRoleARN(role.Account, role.Name, sessionName)
	out.Credentials.AccessKeyID = rs.AccessKeyID
	out.Credentials.SecretAccessKey = rs.SecretAccessKey
	out.Credentials.SessionToken = rs.SessionToken
	out.Credentials.Expiration = xmlTime(rs.ExpiresAt)
	return &out, nil
}
