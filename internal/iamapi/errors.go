package iamapi

import (
	"net/http"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/iam"
)

// errorTable words each of the IAM domain's error kinds as the IAM error
// an operation answers with, with the domain's message: the one place
// where they meet. Every kind the domain declares has a row
// (TestErrorTableCoversKinds).
var errorTable = []awsapi.ErrorRow{
	{Kind: iam.ErrNoSuchEntity, Code: "NoSuchEntity", Status: http.StatusNotFound},
	{Kind: iam.ErrEntityExists, Code: "EntityAlreadyExists", Status: http.StatusConflict},
	{Kind: iam.ErrDeleteConflict, Code: "DeleteConflict", Status: http.StatusConflict},
	{Kind: iam.ErrLimitExceeded, Code: "LimitExceeded", Status: http.StatusConflict},
	{Kind: iam.ErrMalformedPolicy, Code: "MalformedPolicyDocument", Status: http.StatusBadRequest},
	{Kind: iam.ErrInvalidInput, Code: "InvalidInput", Status: http.StatusBadRequest},
	{Kind: iam.ErrValidation, Code: "ValidationError", Status: http.StatusBadRequest},
	{Kind: iam.ErrAccessDenied, Code: "AccessDenied", Status: http.StatusForbidden},
	// STS's refusals of a web identity token never come from an IAM
	// operation; they have rows because every kind has one.
	{Kind: iam.ErrInvalidIdentityToken, Code: "InvalidInput", Status: http.StatusBadRequest},
	{Kind: iam.ErrExpiredIdentityToken, Code: "InvalidInput", Status: http.StatusBadRequest},
	{Kind: iam.ErrIDPCommunication, Code: "OpenIdIdpCommunicationError", Status: http.StatusBadRequest},
}

// domainError words an IAM domain error as IAM does; anything else is a
// server fault, for the front door to log and answer.
var domainError = awsapi.DomainErrors[*iam.Error](errorTable)
