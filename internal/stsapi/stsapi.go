// Package stsapi answers STS's API over the AWS query protocol:
// GetCallerIdentity, and AssumeRole over the IAM domain's role sessions.
// The front door (package awsapi) authenticates, validates against the
// model and decodes; neither operation has checks of its own — every
// caller may ask who it is, and AssumeRole is decided by the domain, where
// the role's trust policy has the last word.
package stsapi

import (
	"context"
	"net/http"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// API is STS's operations over the IAM domain.
type API struct {
	iam *iam.Service
}

// New returns the STS API.
func New(svc *iam.Service) *API { return &API{iam: svc} }

// Service is STS's description for the front door.
func (a *API) Service() *awsapi.Service {
	return &awsapi.Service{
		Name:         "STS",
		Model:        "sts",
		ActionPrefix: "sts",
		FaultCode:    "ServerException",
		Errors:       domainError,
		NotServed:    notServed,
		Operations: []awsapi.Operation{
			awsapi.Op("GetCallerIdentity", awsapi.Anyone, getCallerIdentity),
			awsapi.Op("AssumeRole", awsapi.Anyone, a.assumeRole),
		},
	}
}

// notServed are STS's operations Berth does not serve yet.
var notServed = []string{
	"AssumeRoleWithSAML",
	"AssumeRoleWithWebIdentity",
	"AssumeRoot",
	"DecodeAuthorizationMessage",
	"GetAccessKeyInfo",
	"GetDelegatedAccessToken",
	"GetFederationToken",
	"GetSessionToken",
	"GetWebIdentityToken",
}

// errorTable words each of the IAM domain's error kinds as STS answers
// it, with the domain's message: the one place where they meet. Every kind
// has a row (TestErrorTableCoversKinds). AssumeRole meets only
// AccessDenied and ValidationError; STS has no words for the entity kinds,
// which keep IAM's code and status (STS is IAM's service behind another
// endpoint), and says ValidationError for what IAM calls InvalidInput.
var errorTable = []awsapi.ErrorRow{
	{Kind: iam.ErrAccessDenied, Code: "AccessDenied", Status: http.StatusForbidden},
	{Kind: iam.ErrValidation, Code: "ValidationError", Status: http.StatusBadRequest},
	{Kind: iam.ErrInvalidInput, Code: "ValidationError", Status: http.StatusBadRequest},
	{Kind: iam.ErrMalformedPolicy, Code: "MalformedPolicyDocument", Status: http.StatusBadRequest},
	{Kind: iam.ErrNoSuchEntity, Code: "NoSuchEntity", Status: http.StatusNotFound},
	{Kind: iam.ErrEntityExists, Code: "EntityAlreadyExists", Status: http.StatusConflict},
	{Kind: iam.ErrDeleteConflict, Code: "DeleteConflict", Status: http.StatusConflict},
	{Kind: iam.ErrLimitExceeded, Code: "LimitExceeded", Status: http.StatusConflict},
}

// domainError words an IAM domain error as STS does; anything else is a
// server fault, for the front door to log and answer.
var domainError = awsapi.DomainErrors[*iam.Error](errorTable)

type callerIdentityOut struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func getCallerIdentity(_ context.Context, c *awsapi.Call, _ *struct{}) (*callerIdentityOut, error) {
	p := c.Principal
	return &callerIdentityOut{Arn: p.ARN, UserID: p.UserID, Account: p.Account}, nil
}

type assumeRoleIn struct {
	RoleArn         string `json:"RoleArn"`
	RoleSessionName string `json:"RoleSessionName"`
	DurationSeconds int    `json:"DurationSeconds"`
	ExternalID      string `json:"ExternalId"`
	Policy          string `json:"Policy"`
	PolicyArns      []struct {
		Arn string `json:"arn"`
	} `json:"PolicyArns"`
}

type assumeRoleOut struct {
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	Credentials struct {
		AccessKeyID     string         `xml:"AccessKeyId"`
		SecretAccessKey string         `xml:"SecretAccessKey"`
		SessionToken    string         `xml:"SessionToken"`
		Expiration      awsapi.XMLTime `xml:"Expiration"`
	} `xml:"Credentials"`
}

// assumeRole makes temporary credentials for a role whose trust policy
// lets the caller in.
func (a *API) assumeRole(ctx context.Context, c *awsapi.Call, in *assumeRoleIn) (*assumeRoleOut, error) {
	req := iam.AssumeRoleRequest{RoleARN: in.RoleArn, SessionName: in.RoleSessionName,
		DurationSeconds: in.DurationSeconds, ExternalID: in.ExternalID, SessionPolicy: in.Policy}
	for _, p := range in.PolicyArns {
		req.SessionPolicyARNs = append(req.SessionPolicyARNs, p.Arn)
	}
	r, err := a.iam.AssumeRole(ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	var out assumeRoleOut
	out.AssumedRoleUser.AssumedRoleID = r.ID
	out.AssumedRoleUser.Arn = r.ARN
	out.Credentials.AccessKeyID = r.Session.AccessKeyID
	out.Credentials.SecretAccessKey = r.Session.SecretAccessKey
	out.Credentials.SessionToken = r.Session.SessionToken
	out.Credentials.Expiration = awsapi.XMLTime(r.Session.ExpiresAt)
	return &out, nil
}
