// Package stsapi answers STS's API over the AWS query protocol:
// GetCallerIdentity, AssumeRole and AssumeRoleWithWebIdentity over the IAM
// domain's role sessions, and GetSessionToken. The front door (package
// awsapi) authenticates, validates against the model and decodes; no
// operation has checks of its own — every caller may ask who it is and
// for its own session credentials, and the role operations are decided
// by the domain, where the role's trust policy has the last word.
// AssumeRoleWithWebIdentity is unsigned, as in AWS: its token is its
// proof.
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
			awsapi.Op("AssumeRoleWithWebIdentity", awsapi.Anyone, a.assumeRoleWithWebIdentity).WithoutSignature(),
			awsapi.Op("GetSessionToken", awsapi.Anyone, a.getSessionToken),
		},
	}
}

// notServed are STS's operations Berth does not serve yet.
var notServed = []string{
	"AssumeRoleWithSAML",
	"AssumeRoot",
	"DecodeAuthorizationMessage",
	"GetAccessKeyInfo",
	"GetDelegatedAccessToken",
	"GetFederationToken",
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
	{Kind: iam.ErrInvalidIdentityToken, Code: "InvalidIdentityToken", Status: http.StatusBadRequest},
	{Kind: iam.ErrExpiredIdentityToken, Code: "ExpiredTokenException", Status: http.StatusBadRequest},
	{Kind: iam.ErrIDPCommunication, Code: "IDPCommunicationError", Status: http.StatusBadRequest},
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

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type credentials struct {
	AccessKeyID     string         `xml:"AccessKeyId"`
	SecretAccessKey string         `xml:"SecretAccessKey"`
	SessionToken    string         `xml:"SessionToken"`
	Expiration      awsapi.XMLTime `xml:"Expiration"`
}

func credentialsOf(s *iam.Session) credentials {
	return credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey,
		SessionToken: s.SessionToken, Expiration: awsapi.XMLTime(s.ExpiresAt)}
}

type assumeRoleOut struct {
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials     credentials     `xml:"Credentials"`
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
	return &assumeRoleOut{AssumedRoleUser: assumedRoleUser{AssumedRoleID: r.ID, Arn: r.ARN}, Credentials: credentialsOf(r.Session)}, nil
}

type webIdentityIn struct {
	RoleArn          string `json:"RoleArn"`
	RoleSessionName  string `json:"RoleSessionName"`
	WebIdentityToken string `json:"WebIdentityToken"`
	ProviderID       string `json:"ProviderId"`
	DurationSeconds  int    `json:"DurationSeconds"`
	Policy           string `json:"Policy"`
	PolicyArns       []struct {
		Arn string `json:"arn"`
	} `json:"PolicyArns"`
}

type webIdentityOut struct {
	Credentials                 credentials     `xml:"Credentials"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	Provider                    string          `xml:"Provider"`
	Audience                    string          `xml:"Audience"`
}

// assumeRoleWithWebIdentity exchanges an OIDC token for a role session.
func (a *API) assumeRoleWithWebIdentity(ctx context.Context, _ *awsapi.Call, in *webIdentityIn) (*webIdentityOut, error) {
	req := iam.WebIdentityRequest{RoleARN: in.RoleArn, SessionName: in.RoleSessionName, Token: in.WebIdentityToken,
		DurationSeconds: in.DurationSeconds, ProviderID: in.ProviderID, SessionPolicy: in.Policy}
	for _, p := range in.PolicyArns {
		req.SessionPolicyARNs = append(req.SessionPolicyARNs, p.Arn)
	}
	r, err := a.iam.AssumeRoleWithWebIdentity(ctx, req)
	if err != nil {
		return nil, err
	}
	return &webIdentityOut{
		Credentials:                 credentialsOf(r.Session),
		SubjectFromWebIdentityToken: r.Subject,
		AssumedRoleUser:             assumedRoleUser{AssumedRoleID: r.ID, Arn: r.ARN},
		Provider:                    r.Provider,
		Audience:                    r.Audience,
	}, nil
}

type sessionTokenIn struct {
	DurationSeconds int    `json:"DurationSeconds"`
	SerialNumber    string `json:"SerialNumber"`
	TokenCode       string `json:"TokenCode"`
}

type sessionTokenOut struct {
	Credentials credentials `xml:"Credentials"`
}

// getSessionToken makes session credentials for the caller. Berth has no
// MFA devices, so an MFA serial number is refused rather than ignored: a
// session said to be MFA-authenticated must be one.
func (a *API) getSessionToken(ctx context.Context, c *awsapi.Call, in *sessionTokenIn) (*sessionTokenOut, error) {
	if in.SerialNumber != "" || in.TokenCode != "" {
		return nil, &awsapi.Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: "Berth does not support MFA (SerialNumber, TokenCode) yet"}
	}
	s, err := a.iam.GetSessionToken(ctx, c.Principal, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	return &sessionTokenOut{Credentials: credentialsOf(s)}, nil
}
