// Package sigv4 verifies AWS Signature Version 4 on incoming requests, in
// both the Authorization header form and the presigned query-string form,
// and reports failures with the codes and messages AWS uses so SDK clients
// see what they would see from AWS.
//
// It implements the signing process published by AWS (canonical request,
// string to sign, derived signing key) for non-S3 services: URI paths are
// normalised and each segment encoded once more on top of the path as sent.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	timeFormat      = "20060102T150405Z"
	dateFormat      = "20060102"
	unsignedPayload = "UNSIGNED-PAYLOAD"

	// DefaultMaxSkew is how far X-Amz-Date may be from the server clock.
	DefaultMaxSkew = 5 * time.Minute
	// maxExpires is the longest X-Amz-Expires AWS accepts (7 days), the
	// lifetime of a derived signing key.
	maxExpires = 604800
)

// ErrUnknownAccessKey is returned by a CredentialSource that has no secret
// for the access key id.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// CredentialSource looks up the secret for an access key id. It returns an
// error wrapping ErrUnknownAccessKey if there is none; any other error is
// treated as an internal failure.
type CredentialSource interface {
	SecretFor(ctx context.Context, accessKeyID string) (secret string, err error)
}

// StaticCredentials is a CredentialSource mapping access key ids to secrets.
type StaticCredentials map[string]string

// SecretFor implements CredentialSource.
func (s StaticCredentials) SecretFor(_ context.Context, accessKeyID string) (string, error) {
	if secret, ok := s[accessKeyID]; ok {
		return secret, nil
	}
	return "", ErrUnknownAccessKey
}

// Verifier checks SigV4 signatures. Credentials must be set. A Verifier is
// safe for concurrent use, and must not be copied after first use.
type Verifier struct {
	Credentials CredentialSource
	// Service and Region, when not empty, are the only values accepted in
	// the credential scope (e.g. "ecr" and "us-east-1").
	Service string
	Region  string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the allowed clock difference; zero means DefaultMaxSkew.
	MaxSkew time.Duration

	keys keyCache
}

// Result describes a request whose signature verified.
type Result struct {
	AccessKeyID string
	Region      string
	Service     string
	// SessionToken is X-Amz-Security-Token, if sent. Verify does not check
	// it: the caller must, for temporary credentials.
	SessionToken string
	SignedAt     time.Time
	Presigned    bool
	// UnsignedPayload reports that the client signed "UNSIGNED-PAYLOAD", so
	// the body is not covered by the signature; a caller may refuse that.
	UnsignedPayload bool
}

// Verify checks the signature of r, whose body the caller has already read
// into body. It returns an *Error for any problem with the request, and
// another error only if the credential lookup fails.
//
// The checks run in the order AWS runs them, so a request with several
// problems gets the same error it would get from AWS.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Result, error) {
	a, err := parseAuth(r)
	if err != nil {
		return nil, err
	}
	signedAt, err := a.signingTime()
	if err != nil {
		return nil, err
	}
	if err := v.checkTime(a, signedAt); err != nil {
		return nil, err
	}
	if !signsHost(a.signedHeaders) {
		return nil, hostNotSigned()
	}
	if a.algorithm != algorithm {
		return nil, unsupportedAlgorithm(a.algorithm)
	}
	s, ok := parseCredential(a.credential)
	if !ok {
		return nil, badCredential(a.credential)
	}
	if msg := v.scopeErrors(s, signedAt); msg != "" {
		return nil, invalid(msg)
	}

	secret, err := v.Credentials.SecretFor(r.Context(), s.accessKeyID)
	if errors.Is(err, ErrUnknownAccessKey) {
		return nil, unrecognizedClient()
	}
	if err != nil {
		return nil, fmt.Errorf("sigv4: looking up secret for access key %q: %w", s.accessKeyID, err)
	}

	// The claimed payload hash, when sent, is what the client signed; it is
	// checked against the body only once we know the claim is authentic.
	payloadHash := a.contentSHA256
	if payloadHash == "" {
		payloadHash = hashHex(body)
	}
	canonical := canonicalRequest(r, a, payloadHash)
	toSign := stringToSign(signedAt, s.scope, canonical)
	want := signature(v.keys.get(secret, s), toSign)
	if subtle.ConstantTimeCompare(want, []byte(a.signature)) != 1 {
		return nil, signatureMismatch(canonical, toSign)
	}
	if a.contentSHA256 != "" && a.contentSHA256 != unsignedPayload &&
		!strings.EqualFold(a.contentSHA256, hashHex(body)) {
		return nil, contentSHA256Mismatch()
	}

	return &Result{
		AccessKeyID:  s.accessKeyID,
		Region:       s.region,
		Service:      s.service,
		SessionToken: a.sessionToken,
		SignedAt:     signedAt,
		Presigned:    a.presigned,

		UnsignedPayload: a.contentSHA256 == unsignedPayload,
	}, nil
}

// auth is the signature material of a request, from either form.
type auth struct {
	presigned     bool
	algorithm     string
	credential    string
	signedHeaders string
	signature     string
	date          string // X-Amz-Date, or the Date header when dateIsHTTP
	dateIsHTTP    bool
	expires       string // X-Amz-Expires; presigned only, optional
	sessionToken  string
	contentSHA256 string // X-Amz-Content-Sha256, if sent
}

func parseAuth(r *http.Request) (*auth, error) {
	header := r.Header.Get("Authorization")
	_, presigned := queryParam(r.URL.RawQuery, "X-Amz-Algorithm")
	switch {
	case header != "" && presigned:
		return nil, bothAuthForms()
	case presigned:
		return parseQueryAuth(r)
	case !strings.HasPrefix(strings.TrimSpace(header), "AWS4-"):
		// Other schemes (Basic, Bearer, SigV2) count as no token at all, as
		// they do at DynamoDB.
		return nil, missingAuthenticationToken()
	}
	return parseHeaderAuth(r, header)
}

// parseHeaderAuth parses
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// AWS separates the parameters by commas and/or whitespace.
func parseHeaderAuth(r *http.Request, header string) (*auth, error) {
	a := &auth{
		date:          r.Header.Get("X-Amz-Date"),
		sessionToken:  r.Header.Get("X-Amz-Security-Token"),
		contentSHA256: r.Header.Get("X-Amz-Content-Sha256"),
	}
	if a.date == "" {
		a.date, a.dateIsHTTP = r.Header.Get("Date"), true
	}

	var rest string
	a.algorithm, rest, _ = strings.Cut(strings.TrimSpace(header), " ")
	haveSignedHeaders := false
	for rest != "" {
		var token string
		if i := strings.IndexAny(rest, ", \t"); i >= 0 {
			token, rest = rest[:i], rest[i+1:]
		} else {
			token, rest = rest, ""
		}
		if token == "" {
			continue
		}
		key, value, ok := strings.Cut(token, "=")
		if !ok {
			return nil, notKeyValuePair(token, header)
		}
		switch key {
		case "Credential":
			a.credential = value
		case "SignedHeaders":
			a.signedHeaders, haveSignedHeaders = value, true
		case "Signature":
			a.signature = value
		}
	}

	var missing strings.Builder
	if a.credential == "" {
		missing.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if a.signature == "" {
		missing.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !haveSignedHeaders {
		missing.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if a.date == "" {
		missing.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if missing.Len() > 0 {
		return nil, incomplete(missing.String() + "Authorization=" + header)
	}
	return a, nil
}

func parseQueryAuth(r *http.Request) (*auth, error) {
	q := r.URL.RawQuery
	a := &auth{presigned: true}
	var missing strings.Builder
	for _, p := range []struct {
		name string
		dst  *string
	}{
		{"X-Amz-Algorithm", &a.algorithm},
		{"X-Amz-Credential", &a.credential},
		{"X-Amz-Signature", &a.signature},
		{"X-Amz-SignedHeaders", &a.signedHeaders},
		{"X-Amz-Date", &a.date},
	} {
		if *p.dst, _ = queryParam(q, p.name); *p.dst == "" {
			missing.WriteString("AWS query-string parameters must include '" + p.name + "'. ")
		}
	}
	if missing.Len() > 0 {
		return nil, incomplete(missing.String() + "Re-examine the query-string parameters.")
	}
	a.expires, _ = queryParam(q, "X-Amz-Expires")
	a.sessionToken, _ = queryParam(q, "X-Amz-Security-Token")
	// A presigned URL can carry the payload claim in the (signed) query.
	a.contentSHA256 = r.Header.Get("X-Amz-Content-Sha256")
	if a.contentSHA256 == "" {
		a.contentSHA256, _ = queryParam(q, "X-Amz-Content-Sha256")
	}
	return a, nil
}

func (a *auth) signingTime() (time.Time, error) {
	if a.dateIsHTTP {
		// Rejecting a bad Date header with the ISO-8601 text is Berth's choice.
		t, err := http.ParseTime(a.date)
		if err != nil {
			return time.Time{}, badDate(a.date)
		}
		return t.UTC(), nil
	}
	t, err := time.Parse(timeFormat, a.date)
	if err != nil || len(a.date) != len(timeFormat) {
		return time.Time{}, badDate(a.date)
	}
	return t, nil
}

func (v *Verifier) checkTime(a *auth, signedAt time.Time) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}

	if signedAt.After(t.Add(skew)) {
		return signatureNotYetCurrent(signedAt, t, skew)
	}
	if a.presigned && a.expires != "" {
		// A presigned URL lives for X-Amz-Expires, however old its date.
		n, err := strconv.ParseInt(a.expires, 10, 64)
		switch {
		case err != nil:
			return badExpires("X-Amz-Expires should be a number")
		case n < 0:
			return badExpires("X-Amz-Expires must be non-negative")
		case n > maxExpires:
			return badExpires("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
		case t.After(signedAt.Add(time.Duration(n) * time.Second)):
			return presignExpired()
		}
		return nil
	}
	if signedAt.Before(t.Add(-skew)) {
		return signatureExpired(signedAt, t, skew)
	}
	return nil
}

// signsHost reports whether the SignedHeaders list includes host, which
// binds the signature to the endpoint it was made for.
func signsHost(signedHeaders string) bool {
	for signedHeaders != "" {
		var name string
		name, signedHeaders, _ = strings.Cut(signedHeaders, ";")
		if strings.EqualFold(name, "host") {
			return true
		}
	}
	return false
}

// credentialScope is "AKID/20260101/us-east-1/ecr/aws4_request" taken apart.
type credentialScope struct {
	accessKeyID, date, region, service, terminator string
	scope                                          string // everything after the key id
}

func parseCredential(cred string) (credentialScope, bool) {
	// AWS ignores trailing slashes here.
	parts := strings.Split(strings.TrimRight(cred, "/"), "/")
	if len(parts) != 5 {
		return credentialScope{}, false
	}
	s := credentialScope{
		accessKeyID: parts[0],
		date:        parts[1],
		region:      parts[2],
		service:     parts[3],
		terminator:  parts[4],
	}
	s.scope = strings.TrimRight(cred, "/")[len(s.accessKeyID)+1:]
	return s, true
}

// scopeErrors returns AWS's combined message for every part of the scope
// that is wrong, or "".
func (v *Verifier) scopeErrors(s credentialScope, signedAt time.Time) string {
	var b strings.Builder
	if v.Region != "" && s.region != v.Region {
		b.WriteString("Credential should be scoped to a valid region. ")
	}
	if v.Service != "" && s.service != v.Service {
		b.WriteString("Credential should be scoped to correct service: '" + v.Service + "'. ")
	}
	if s.terminator != terminator {
		b.WriteString("Credential should be scoped with a valid terminator: 'aws4_request', not '" + s.terminator + "'. ")
	}
	var buf [len(dateFormat)]byte
	if want := signedAt.AppendFormat(buf[:0], dateFormat); s.date != string(want) {
		fmt.Fprintf(&b, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			s.date, want, signedAt.Format(timeFormat))
	}
	return b.String()
}

func stringToSign(signedAt time.Time, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := make([]byte, 0, len(algorithm)+len(timeFormat)+len(scope)+3+2*len(sum))
	b = append(b, algorithm+"\n"...)
	b = signedAt.AppendFormat(b, timeFormat)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// signature returns the lowercase hex HMAC of toSign under key.
func signature(key, toSign []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(toSign)
	return hex.AppendEncode(nil, m.Sum(nil))
}

// keyCache remembers derived signing keys: deriving one takes four HMACs,
// and a client signs with the same key all day.
type keyCache struct {
	mu sync.Mutex
	m  map[keyCacheID][]byte
}

type keyCacheID struct{ secret, date, region, service string }

// maxCachedKeys bounds the cache; a full cache is simply emptied, since
// keys change daily anyway.
const maxCachedKeys = 4096

func (c *keyCache) get(secret string, s credentialScope) []byte {
	id := keyCacheID{secret, s.date, s.region, s.service}
	c.mu.Lock()
	key, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return key
	}
	key = hmacSHA256([]byte("AWS4"+secret), s.date)
	key = hmacSHA256(key, s.region)
	key = hmacSHA256(key, s.service)
	key = hmacSHA256(key, terminator)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[keyCacheID][]byte)
	}
	c.m[id] = key
	c.mu.Unlock()
	return key
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
