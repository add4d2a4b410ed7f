package sigv4

import (
	"fmt"
	"net/http"
	"time"
)

// Error is a verification failure worded the way AWS words it, so the API
// front door can return it unchanged: Code is the AWS error code (the
// "__type" of an AWS JSON error body), Message its "message", Status the
// HTTP status.
//
// Any error Verify returns that is not an *Error is an internal failure (for
// example the CredentialSource failed) and should be answered as a 500.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

// AWS error codes Verify can return.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	// S3's codes, reused for the two checks the JSON services have no word for.
	CodeContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
	CodeAccessDenied          = "AccessDenied"
)

// Where the wording comes from. Unless noted otherwise at the function, the
// text is AWS's own, as quoted from real responses in public reports:
//   - DynamoDB's answers recorded by dynalite (mhart/dynalite index.js): the
//     order of the checks and the texts for both auth forms present, missing
//     Authorization parameters, missing query parameters, key=value pairs,
//     the date format, the algorithm, the 5-element credential, the scope
//     terminator and date, the unknown key, and the mismatch with its
//     canonical string and string to sign (also in aws/aws-sdk-js#168 for
//     Lambda and aws/aws-sdk-cpp#17 for Cognito);
//   - "Missing Authentication Token" with status 400: ECR itself
//     (jenkinsci/amazon-ecr-plugin#199);
//   - "Signature expired: ... (... - 5 min.)": many reports of AWS CLI
//     errors; "Signature not yet current: ... (... + 5 min.)": Elastic
//     Beanstalk, and ScyllaDB Alternator's tests run against DynamoDB;
//   - "Credential should be scoped to correct service: 'sagemaker'. " as an
//     HTTP 400 InvalidSignatureException from a JSON 1.1 service
//     (JuliaCloud/AWS.jl#334); "Credential should be scoped to a valid
//     region. " is today's form of the older "..., not 'us-east-1'. ";
//   - "'Host' or ':authority' must be a 'SignedHeader' in the AWS
//     Authorization." is today's form of DynamoDB's "'Host' must be ...".
// The JSON services answer all of these with 400.

func missingAuthenticationToken() *Error {
	return &Error{CodeMissingAuthenticationToken, "Missing Authentication Token", http.StatusBadRequest}
}

func incomplete(msg string) *Error {
	return &Error{CodeIncompleteSignature, msg, http.StatusBadRequest}
}

func invalid(msg string) *Error {
	return &Error{CodeInvalidSignature, msg, http.StatusBadRequest}
}

func bothAuthForms() *Error {
	return invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
}

func notKeyValuePair(token, header string) *Error {
	return incomplete(fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", token, header))
}

func badDate(got string) *Error {
	return incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", got))
}

func signatureExpired(signedAt, now time.Time, skew time.Duration) *Error {
	return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
		signedAt.Format(timeFormat), now.Add(-skew).Format(timeFormat), now.Format(timeFormat), skewString(skew)))
}

func signatureNotYetCurrent(signedAt, now time.Time, skew time.Duration) *Error {
	return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
		signedAt.Format(timeFormat), now.Add(skew).Format(timeFormat), now.Format(timeFormat), skewString(skew)))
}

// skewString renders the allowed skew as AWS does ("5 min"); AWS only ever
// shows whole minutes, so the "sec" form is Berth's choice.
func skewString(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d sec", d/time.Second)
}

// presignExpired is S3's answer to an expired presigned URL (the JSON
// services do not honour X-Amz-Expires at all, so there is no JSON wording).
func presignExpired() *Error {
	return &Error{CodeAccessDenied, "Request has expired", http.StatusForbidden}
}

// badExpires uses S3's texts for a bad X-Amz-Expires; the code is Berth's
// choice (S3 says AuthorizationQueryParametersError, unknown to JSON clients).
func badExpires(msg string) *Error { return incomplete(msg) }

func hostNotSigned() *Error {
	return invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
}

func unsupportedAlgorithm(alg string) *Error {
	return incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ", alg))
}

func badCredential(cred string) *Error {
	return incomplete(fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred))
}

func unrecognizedClient() *Error {
	return &Error{CodeUnrecognizedClient, "The security token included in the request is invalid.", http.StatusBadRequest}
}

// signatureMismatch includes the canonical request and string to sign, as
// AWS's JSON services (DynamoDB, Lambda, Cognito, ...) do: the client can
// diff them against its own to find its canonicalisation bug. Neither
// contains a secret.
func signatureMismatch(canonical, stringToSign []byte) *Error {
	return invalid("The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details." +
		"\n\nThe Canonical String for this request should have been\n'" + string(canonical) +
		"'\n\nThe String-to-Sign should have been\n'" + string(stringToSign) + "'\n")
}

// contentSHA256Mismatch is S3's answer when X-Amz-Content-Sha256 does not
// match the body; the JSON services have no equivalent check.
func contentSHA256Mismatch() *Error {
	return &Error{CodeContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest}
}
