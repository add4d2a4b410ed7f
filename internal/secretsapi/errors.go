package secretsapi

import (
	"net/http"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/secrets"
)

// errorTable words each of the secrets domain's error kinds as the
// Secrets Manager exception an operation answers with, with the domain's
// message. Every kind the domain declares has a row
// (TestErrorTableCoversKinds). Secrets Manager answers all of them with
// HTTP 400.
var errorTable = []awsapi.ErrorRow{
	{Kind: secrets.ErrNotFound, Code: "ResourceNotFoundException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrExists, Code: "ResourceExistsException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrInvalidRequest, Code: "InvalidRequestException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrInvalidParameter, Code: "InvalidParameterException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrValidation, Code: "ValidationException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrInvalidNextToken, Code: "InvalidNextTokenException", Status: http.StatusBadRequest},
	{Kind: secrets.ErrDecryption, Code: "DecryptionFailure", Status: http.StatusBadRequest},
	{Kind: secrets.ErrLimitExceeded, Code: "LimitExceededException", Status: http.StatusBadRequest},
}

// domainError words a secrets domain error as Secrets Manager does;
// anything else is a server fault, for the front door to log and answer.
var domainError = awsapi.DomainErrors[*secrets.Error](errorTable)
