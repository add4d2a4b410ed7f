package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func verifierAt(now time.Time) *Verifier {
	return &Verifier{
		Credentials: StaticCredentials{testKeyID: testSecret},
		Now:         func() time.Time { return now },
	}
}

// TestAWSTestSuite checks requests and signatures from AWS's published SigV4
// test suite (as carried by botocore) and the IAM example from AWS's
// documentation: ground truth independent of any SDK.
func TestAWSTestSuite(t *testing.T) {
	suiteDate := time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
	const suiteAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, "
	tests := []struct {
		name   string
		method string
		target string
		host   string
		header map[string]string
		body   string
		now    time.Time
		auth   string
	}{
		{
			name: "get-vanilla", method: "GET", target: "/", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT"}, now: suiteDate,
			auth: suiteAuth + "SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
		},
		{
			name: "get-vanilla-query-order-value", method: "GET", target: "/?foo=Zoo&foo=aha", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT"}, now: suiteDate,
			auth: suiteAuth + "SignedHeaders=date;host, Signature=be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09",
		},
		{
			name: "post-vanilla-query", method: "POST", target: "/?foo=bar", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT"}, now: suiteDate,
			auth: suiteAuth + "SignedHeaders=date;host, Signature=b6e3b79003ce0743a491606ba1035a804593b0efb1e20a11cba83f8c25a57a92",
		},
		{
			name: "post-header-key-case", method: "POST", target: "/", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT", "ZOO": "zoobar"}, now: suiteDate,
			auth: suiteAuth + "SignedHeaders=date;host;zoo, Signature=b7a95a52518abbca0964a999a880429ab734f35ebbf1235bd79a5de87756dc4a",
		},
		{
			name: "post-header-value-case", method: "POST", target: "/", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT", "zoo": "ZOOBAR"}, now: suiteDate,
			auth: suiteAuth + "SignedHeaders=date;host;zoo, Signature=273313af9d0c265c531e11db70bbd653f3ba074c1009239e8559d3987039cad7",
		},
		{
			name: "post-x-www-form-urlencoded", method: "POST", target: "/", host: "host.foo.com",
			header: map[string]string{"Date": "Mon, 09 Sep 2011 23:36:00 GMT", "Content-Type": "application/x-www-form-urlencoded"},
			body:   "foo=bar", now: suiteDate,
			auth: suiteAuth + "SignedHeaders=content-type;date;host, Signature=5a15b22cf462f047318703b92e6f4f38884e4a7ab7b1d6426ca46a8bd1c26cbc",
		},
		{
			name: "IAM ListUsers documentation example", method: "GET", target: "/?Action=ListUsers&Version=2010-05-08", host: "iam.amazonaws.com",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": "20150830T123600Z"},
			now:    time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			auth:   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			r.Host = tt.host
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			r.Header.Set("Authorization", tt.auth)
			res, err := verifierAt(tt.now).Verify(r, []byte(tt.body))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKeyID != testKeyID || !res.SignedAt.Equal(tt.now) {
				t.Errorf("Result = %+v", res)
			}
			// And the same request with the last signature digit changed fails.
			r.Header.Set("Authorization", flipLastHexDigit(tt.auth))
			if _, err := verifierAt(tt.now).Verify(r, []byte(tt.body)); codeOf(err) != CodeInvalidSignature {
				t.Errorf("tampered signature: err = %v", err)
			}
		})
	}
}

// server runs Verify on real requests arriving over HTTP, so the tests see
// what a handler sees (Host moved out of the headers, Content-Length in
// them, the path as it crossed the wire).
type server struct {
	*httptest.Server
	mu  sync.Mutex
	v   *Verifier
	res *Result
	err error
}

func newServer(t *testing.T) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.err = err
			return
		}
		s.res, s.err = s.v.Verify(r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) verify(t *testing.T, v *Verifier, req *http.Request) (*Result, error) {
	t.Helper()
	s.mu.Lock()
	s.v, s.res, s.err = v, nil, nil
	s.mu.Unlock()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("sending request: %v", err)
	}
	resp.Body.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.res, s.err
}

// spec describes a request to sign with aws-sdk-go-v2.
type spec struct {
	service, region string
	method          string
	path, rawPath   string // URL.Path and, where the encoding matters, URL.RawPath
	query           string // URL.RawQuery
	host            string // Host header, if not the server's address
	header          http.Header
	body            string
	payload         string // X-Amz-Content-Sha256 to send: "", "hash" or "UNSIGNED-PAYLOAD"
	token           string
	keyID           string // default testKeyID
	secret          string // default testSecret
	presign         bool
	expires         string // X-Amz-Expires, presigned only
}

func (sp spec) withDefaults() spec {
	if sp.service == "" {
		sp.service = "ecr"
	}
	if sp.region == "" {
		sp.region = "us-east-1"
	}
	if sp.method == "" {
		sp.method = "POST"
	}
	if sp.keyID == "" {
		sp.keyID = testKeyID
	}
	if sp.secret == "" {
		sp.secret = testSecret
	}
	return sp
}

// ecrCall is an ECR JSON 1.1 API call as the SDKs send it.
func ecrCall(op, body string) spec {
	return spec{
		path: "/",
		header: http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {"AmazonEC2ContainerRegistry_V20150921." + op},
		},
		body: body,
	}
}

// signedRequest builds the request sp describes against base and signs it
// with aws-sdk-go-v2 at the given time.
func signedRequest(t testing.TB, base string, sp spec, at time.Time) *http.Request {
	t.Helper()
	sp = sp.withDefaults()
	req, err := http.NewRequest(sp.method, base, bytes.NewReader([]byte(sp.body)))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = sp.path, sp.rawPath, sp.query
	if sp.host != "" {
		req.Host = sp.host
	}
	for k, vs := range sp.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	payloadHash := sha256Hex(sp.body)
	switch sp.payload {
	case "hash":
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	case unsignedPayload:
		payloadHash = unsignedPayload
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	creds := aws.Credentials{AccessKeyID: sp.keyID, SecretAccessKey: sp.secret, SessionToken: sp.token}
	signer := v4.NewSigner()
	if !sp.presign {
		if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, sp.service, sp.region, at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	if sp.expires != "" {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", sp.expires)
		req.URL.RawQuery = q.Encode()
	}
	signed, _, err := signer.PresignHTTP(context.Background(), creds, req, payloadHash, sp.service, sp.region, at)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL, err = url.Parse(signed); err != nil {
		t.Fatal(err)
	}
	return req
}

// flipLastHexDigit changes the last character of a signature to another
// hex digit.
func flipLastHexDigit(s string) string {
	if strings.HasSuffix(s, "0") {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func codeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestVerifySDKSigned(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name   string
		spec   spec
		now    time.Time // default t0
		tamper func(*http.Request)
	}{
		{name: "ecr GetAuthorizationToken", spec: ecrCall("GetAuthorizationToken", "{}")},
		{name: "ecr empty body", spec: ecrCall("DescribeRegistry", "")},
		{name: "ecr with session token", spec: func() spec {
			sp := ecrCall("DescribeRepositories", `{"repositoryNames":["team/app"]}`)
			sp.token = "FwoGZXIvYXdzEJr//////////wEaDOr+token/with=chars"
			return sp
		}()},
		{name: "Host header differs from the address dialled", spec: func() spec {
			sp := ecrCall("ListImages", `{"repositoryName":"app"}`)
			sp.host, sp.region = "api.ecr.eu-west-1.amazonaws.com", "eu-west-1"
			return sp
		}()},
		{name: "clock skew inside the window", spec: ecrCall("GetAuthorizationToken", "{}"), now: t0.Add(4 * time.Minute)},
		{name: "unsigned extra header is ignored", spec: ecrCall("GetAuthorizationToken", "{}"),
			tamper: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "Authorization parameters separated by commas only", spec: ecrCall("GetAuthorizationToken", "{}"),
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","))
			}},
		{name: "odd query values and repeated keys", spec: spec{
			service: "execute-api", region: "ap-southeast-2", method: "GET", path: "/things",
			query: "b=x%20y&a=2&a=10&a=1&tilde=~me&plus=a+b&enc=%2F%3D%26%3F&emoji=%F0%9F%90%B3&empty=&flag&K=upper",
		}},
		{name: "repeated key with values out of order", spec: spec{method: "GET", path: "/", query: "k=b&k=a&k=c&k=a"}},
		{name: "path with spaces and unicode", spec: spec{method: "GET", path: "/v2/my repo/café/blobs"}},
		{name: "path with encoded slash and space", spec: spec{method: "GET", path: "/a/b/c d", rawPath: "/a/b%2Fc%20d"}},
		{name: "path with reserved characters", spec: spec{method: "GET", path: "/x/!$'()*,;=:@+"}},
		{name: "path with trailing slash", spec: spec{method: "GET", path: "/a/b/"}},
		{name: "empty path", spec: spec{method: "GET", path: ""}},
		{name: "header values with runs of spaces and repeats", spec: spec{method: "GET", path: "/", header: http.Header{
			"X-Amz-Meta":  {"  a   b  ", "c"},
			"X-Custom":    {"x,   y"},
			"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="},
		}}},
		{name: "JSON PUT with X-Amz-Content-Sha256", spec: spec{
			service: "execute-api", region: "eu-central-1", method: "PUT", path: "/items/1",
			header: http.Header{"Content-Type": {"application/json"}}, body: `{"name":"x","tags":["a","b"]}`, payload: "hash",
		}},
		{name: "UNSIGNED-PAYLOAD sent as header", spec: spec{
			method: "POST", path: "/upload", body: "anything at all", payload: unsignedPayload,
		}},
		{name: "STS form POST", spec: spec{
			service: "sts", region: "us-west-2", method: "POST", path: "/",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
			body:   "Action=GetCallerIdentity&Version=2011-06-15",
		}},
		{name: "presigned GET used after the skew window, within X-Amz-Expires", spec: spec{
			method: "GET", path: "/v2/app/blobs/sha256:abc", query: "digest=sha256%3Aabc", presign: true, expires: "900",
		}, now: t0.Add(10 * time.Minute)},
		{name: "presigned GET with session token", spec: spec{
			method: "GET", path: "/p", presign: true, expires: "60", token: "session/token+==",
		}},
		{name: "presigned GET without X-Amz-Expires", spec: spec{method: "GET", path: "/p", presign: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedRequest(t, srv.URL, tt.spec, t0)
			if tt.tamper != nil {
				tt.tamper(req)
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			res, err := srv.verify(t, verifierAt(now), req)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			sp := tt.spec.withDefaults()
			want := Result{
				AccessKeyID: testKeyID, Region: sp.region, Service: sp.service,
				SessionToken: sp.token, SignedAt: t0, Presigned: sp.presign,
				UnsignedPayload: sp.payload == unsignedPayload,
			}
			if *res != want {
				t.Errorf("Result = %+v, want %+v", *res, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	srv := newServer(t)
	ecr := ecrCall("GetAuthorizationToken", "{}")
	presigned := spec{method: "GET", path: "/v2/app/blobs/x", presign: true, expires: "300"}
	replaceAuth := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}
	setBody := func(body string) func(*http.Request) {
		return func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
		}
	}
	const mismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

	tests := []struct {
		name     string
		spec     spec
		now      time.Time                // default t0
		verifier func(*Verifier)          // adjusts the verifier
		tamper   func(*http.Request)      // applied after signing
		code     string                   // expected Error.Code
		msg      string                   // expected Error.Message, exactly; "" skips
		prefix   string                   // expected Error.Message prefix; "" skips
		status   int                      // expected Error.Status; 0 means 400
		check    func(*testing.T, *Error) // further checks
	}{
		// Tampering after signing.
		{name: "method changed", spec: ecr, tamper: func(r *http.Request) { r.Method = "PUT" },
			code: CodeInvalidSignature, prefix: mismatch + "\n\nThe Canonical String for this request should have been\n'PUT\n/\n"},
		{name: "path changed", spec: spec{method: "GET", path: "/a"}, tamper: func(r *http.Request) { r.URL.Path = "/b" },
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "path encoding changed", spec: spec{method: "GET", path: "/a b"}, tamper: func(r *http.Request) { r.URL.Path = "/a+b" },
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "query parameter added", spec: spec{method: "GET", path: "/", query: "a=1"},
			tamper: func(r *http.Request) { r.URL.RawQuery += "&b=2" }, code: CodeInvalidSignature, prefix: mismatch},
		{name: "query value changed", spec: spec{method: "GET", path: "/", query: "a=1&a=2"},
			tamper: func(r *http.Request) { r.URL.RawQuery = "a=1&a=3" }, code: CodeInvalidSignature, prefix: mismatch},
		{name: "signed header changed", spec: ecr,
			tamper: func(r *http.Request) {
				r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
			},
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "Host changed", spec: ecr, tamper: func(r *http.Request) { r.Host = "evil.example" },
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "body changed, no X-Amz-Content-Sha256", spec: ecr, tamper: setBody("[]"),
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "body changed, X-Amz-Content-Sha256 kept", spec: func() spec { sp := ecr; sp.payload = "hash"; return sp }(),
			tamper: setBody("[]"), code: CodeContentSHA256Mismatch,
			msg: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "UNSIGNED-PAYLOAD signed but header not sent", spec: func() spec { sp := ecr; sp.payload = unsignedPayload; return sp }(),
			tamper: func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, code: CodeInvalidSignature, prefix: mismatch},
		{name: "signature changed", spec: ecr, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", flipLastHexDigit(r.Header.Get("Authorization")))
		}, code: CodeInvalidSignature, prefix: mismatch},
		{name: "signature in upper case", spec: ecr, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, code: CodeInvalidSignature, prefix: mismatch},
		{name: "wrong secret", spec: func() spec { sp := ecr; sp.secret = "not-the-secret"; return sp }(),
			code: CodeInvalidSignature, prefix: mismatch},
		{name: "presigned query changed", spec: presigned,
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=300", "X-Amz-Expires=600", 1)
			},
			code: CodeInvalidSignature, prefix: mismatch},

		// Identity and time.
		{name: "unknown access key", spec: func() spec { sp := ecr; sp.keyID = "AKIDUNKNOWN"; return sp }(),
			code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid."},
		{name: "signed too long ago", spec: ecr, now: t0.Add(10 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T001000Z - 5 min.)"},
		{name: "signed in the future", spec: ecr, now: t0.Add(-10 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature not yet current: 20260101T000000Z is still later than 20251231T235500Z (20251231T235000Z + 5 min.)"},
		{name: "custom skew", spec: ecr, now: t0.Add(90 * time.Second), verifier: func(v *Verifier) { v.MaxSkew = time.Minute },
			code: CodeInvalidSignature, msg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000030Z (20260101T000130Z - 1 min.)"},
		{name: "presigned URL expired", spec: presigned, now: t0.Add(5*time.Minute + time.Second),
			code: CodeAccessDenied, msg: "Request has expired", status: http.StatusForbidden},
		{name: "presigned URL from the future", spec: presigned, now: t0.Add(-6 * time.Minute), code: CodeInvalidSignature,
			prefix: "Signature not yet current: "},
		{name: "presigned without X-Amz-Expires, too old", spec: spec{method: "GET", path: "/", presign: true},
			now: t0.Add(6 * time.Minute), code: CodeInvalidSignature, prefix: "Signature expired: "},
		{name: "X-Amz-Expires over a week", spec: func() spec { sp := presigned; sp.expires = "604801"; return sp }(),
			code: CodeIncompleteSignature,
			msg:  "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{name: "X-Amz-Expires not a number", spec: func() spec { sp := presigned; sp.expires = "soon"; return sp }(),
			code: CodeIncompleteSignature, msg: "X-Amz-Expires should be a number"},

		// Credential scope.
		{name: "wrong terminator", spec: ecr, tamper: replaceAuth("/aws4_request", "/aws5_request"), code: CodeInvalidSignature,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "},
		{name: "scope date differs from X-Amz-Date", spec: ecr, tamper: replaceAuth("/20260101/", "/20251231/"), code: CodeInvalidSignature,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000000Z'."},
		{name: "wrong service", spec: func() spec { sp := ecr; sp.service = "s3"; return sp }(),
			verifier: func(v *Verifier) { v.Service = "ecr" },
			code:     CodeInvalidSignature, msg: "Credential should be scoped to correct service: 'ecr'. "},
		{name: "wrong region", spec: func() spec { sp := ecr; sp.region = "eu-west-1"; return sp }(),
			verifier: func(v *Verifier) { v.Region = "us-east-1" },
			code:     CodeInvalidSignature, msg: "Credential should be scoped to a valid region. "},
		{name: "several scope errors at once", spec: func() spec { sp := ecr; sp.region = "eu-west-1"; return sp }(),
			verifier: func(v *Verifier) { v.Region, v.Service = "us-east-1", "sqs" },
			tamper:   replaceAuth("/aws4_request", "/x"), code: CodeInvalidSignature,
			msg: "Credential should be scoped to a valid region. Credential should be scoped to correct service: 'sqs'. " +
				"Credential should be scoped with a valid terminator: 'aws4_request', not 'x'. "},
		{name: "credential with four elements", spec: ecr, tamper: replaceAuth("/ecr/aws4_request", "/aws4_request"),
			code: CodeIncompleteSignature,
			msg:  "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20260101/us-east-1/aws4_request'"},

		// Malformed or missing authentication.
		{name: "no authentication", spec: ecr, tamper: func(r *http.Request) { r.Header.Del("Authorization") },
			code: CodeMissingAuthenticationToken, msg: "Missing Authentication Token"},
		{name: "bearer token", spec: ecr, tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") },
			code: CodeMissingAuthenticationToken, msg: "Missing Authentication Token"},
		{name: "missing Signature and SignedHeaders", spec: ecr, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecr/aws4_request")
		}, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecr/aws4_request"},
		{name: "nothing but the algorithm, no date", spec: ecr, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256")
			r.Header.Del("X-Amz-Date")
		}, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"},
		{name: "space inside the credential", spec: ecr, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00")
		}, code: CodeIncompleteSignature,
			msg: "'/20260101/us-east-1/ecr/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: " +
				"'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE /20260101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00'."},
		{name: "date not in basic format", spec: ecr, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-01-01T00:00:00Z") },
			code: CodeIncompleteSignature,
			msg:  "Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "host not signed", spec: ecr, tamper: replaceAuth(";host;", ";"), code: CodeInvalidSignature,
			msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "unsupported algorithm", spec: ecr, tamper: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
			code: CodeIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "},
		{name: "both header and query authentication", spec: presigned,
			tamper: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") },
			code:   CodeInvalidSignature, msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{name: "presigned without credential and date", spec: presigned, tamper: func(r *http.Request) {
			q := r.URL.Query()
			q.Del("X-Amz-Credential")
			q.Del("X-Amz-Date")
			r.URL.RawQuery = q.Encode()
		}, code: CodeIncompleteSignature,
			msg: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Date'. " +
				"Re-examine the query-string parameters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedRequest(t, srv.URL, tt.spec, t0)
			if tt.tamper != nil {
				tt.tamper(req)
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			v := verifierAt(now)
			if tt.verifier != nil {
				tt.verifier(v)
			}
			res, err := srv.verify(t, v, req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify = %+v, %v; want *Error %s", res, err, tt.code)
			}
			if res != nil {
				t.Errorf("Result = %+v alongside error", res)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %s, want %s (message %q)", e.Code, tt.code, e.Message)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("Message = %q\nwant      %q", e.Message, tt.msg)
			}
			if !strings.HasPrefix(e.Message, tt.prefix) {
				t.Errorf("Message = %q\nwant prefix %q", e.Message, tt.prefix)
			}
			wantStatus := tt.status
			if wantStatus == 0 {
				wantStatus = http.StatusBadRequest
			}
			if e.Status != wantStatus {
				t.Errorf("Status = %d, want %d", e.Status, wantStatus)
			}
		})
	}
}

// The mismatch message shows the canonical request and string to sign, as
// AWS does, so a client can find its mistake; check they are the real ones.
func TestMismatchMessageShowsCanonicalRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/a%20b/?z=1&a=%7E", nil)
	r.Host = "example.com"
	r.Header.Set("X-Amz-Date", "20260101T000000Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	_, err := verifierAt(t0).Verify(r, nil)
	canonical := "GET\n/a%2520b/\na=~&z=1\nhost:example.com\nx-amz-date:20260101T000000Z\n\nhost;x-amz-date\n" + sha256Hex("")
	toSign := "AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/ecr/aws4_request\n" + sha256Hex(canonical)
	want := "\n\nThe Canonical String for this request should have been\n'" + canonical +
		"'\n\nThe String-to-Sign should have been\n'" + toSign + "'\n"
	var e *Error
	if !errors.As(err, &e) || !strings.HasSuffix(e.Message, want) {
		t.Fatalf("err = %v\nwant message ending %q", err, want)
	}
}

func TestCredentialSourceFailure(t *testing.T) {
	boom := errors.New("database down")
	r := signedRequest(t, "http://example.com", ecrCall("GetAuthorizationToken", "{}"), t0)
	v := verifierAt(t0)
	v.Credentials = credFunc(func(context.Context, string) (string, error) { return "", boom })
	_, err := v.Verify(r, []byte("{}"))
	if !errors.Is(err, boom) || codeOf(err) != "" {
		t.Fatalf("err = %v, want a wrapped internal error", err)
	}
	// A source may wrap ErrUnknownAccessKey with its own context.
	v.Credentials = credFunc(func(_ context.Context, id string) (string, error) {
		return "", errors.Join(ErrUnknownAccessKey, errors.New("no row for "+id))
	})
	if _, err := v.Verify(r, []byte("{}")); codeOf(err) != CodeUnrecognizedClient {
		t.Fatalf("err = %v, want %s", err, CodeUnrecognizedClient)
	}
}

// The signing-key cache must neither outlive a secret rotation nor race.
func TestVerifyConcurrentAndRotatedSecret(t *testing.T) {
	creds := StaticCredentials{testKeyID: testSecret}
	v := &Verifier{Credentials: creds, Now: func() time.Time { return t0 }}
	body := []byte("{}")
	var reqs []*http.Request
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		sp := ecrCall("GetAuthorizationToken", "{}")
		sp.region = region
		reqs = append(reqs, signedRequest(t, "http://example.com", sp, t0))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		r := reqs[i%len(reqs)]
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(r, body); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	r := signedRequest(t, "http://example.com", ecrCall("GetAuthorizationToken", "{}"), t0)
	creds[testKeyID] = "rotated-secret"
	if _, err := v.Verify(r, body); codeOf(err) != CodeInvalidSignature {
		t.Fatalf("after rotation: err = %v, want %s", err, CodeInvalidSignature)
	}
}

type credFunc func(context.Context, string) (string, error)

func (f credFunc) SecretFor(ctx context.Context, id string) (string, error) { return f(ctx, id) }

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "/"},
		{"/", "/"},
		{"/ecr", "/ecr"},
		{"/a%20b/caf%C3%A9", "/a%2520b/caf%25C3%25A9"},
		{"/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
		{"/x/!$'()*+,;=:@", "/x/%21%24%27%28%29%2A%2B%2C%3B%3D%3A%40"},
		// Dot segments and empty segments go, as in AWS's test suite
		// (get-relative, get-slash, get-slashes, get-slash-dot-slash, ...).
		{"/example/..", "/"},
		{"/example1/example2/../..", "/"},
		{"/example/../..", "/"},
		{"/./", "/"},
		{"//", "/"},
		{"//example//", "/example/"},
		{"/a/./b/../c/", "/a/c/"},
		{"/a/.", "/a"},
		{"/.well-known/x", "/.well-known/x"},
	}
	for _, tt := range tests {
		if got := string(appendCanonicalURI(nil, tt.path)); got != tt.want {
			t.Errorf("canonical URI of %q = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"foo=Zoo&foo=aha", "foo=Zoo&foo=aha"},
		{"a+b=c+d&e=%20", "a%20b=c%20d&e=%20"},
		{"t=~&u=%7e", "t=~&u=~"},
		{"flag&x=", "flag=&x="},
		{"a=1&&b=2", "a=1&b=2"},
		{"k=%2F%3d%26", "k=%2F%3D%26"},
		{"k=caf%C3%A9", "k=caf%C3%A9"},
		{"B=1&a=1", "B=1&a=1"},
		{"bad=%zz", "bad=%25zz"},
	}
	for _, tt := range tests {
		if got := string(appendCanonicalQuery(nil, tt.raw, false)); got != tt.want {
			t.Errorf("canonical query of %q = %q, want %q", tt.raw, got, tt.want)
		}
	}
	if got := string(appendCanonicalQuery(nil, "X-Amz-Signature=ab&b=1", true)); got != "b=1" {
		t.Errorf("presigned query kept the signature: %q", got)
	}
}

func BenchmarkVerify(b *testing.B) {
	sp := ecrCall("GetAuthorizationToken", `{"registryIds":["123456789012"]}`)
	sp.token = "session-token"
	r := signedRequest(b, "http://api.ecr.us-east-1.amazonaws.com", sp, t0)
	body := []byte(sp.body)
	v := verifierAt(t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
