package e2e

// ECR-style login on the data plane: clients present
// `Authorization: Basic base64("AWS:<password>")` with the password that
// GetAuthorizationToken issued, and everything else is refused the way ECR
// refuses it.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/authn"
)

// ecrExpiredMessage is what ECR answers to an expired login token.
const ecrExpiredMessage = "Your authorization token has expired. Reauthenticate and try again."

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// ecrChallenge is the WWW-Authenticate header ECR sends, for b over plain HTTP.
func ecrChallenge(b *berth) string {
	return `Basic realm="http://` + b.Host + `/",service="ecr.amazonaws.com"`
}

// flipChar replaces the character at i with another base64url character.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// getLoginPassword calls GetAuthorizationToken with cfg and returns the
// password for user AWS.
func getLoginPassword(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(withTimeout(t, 30*time.Second), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken (region %s): %v", cfg.Region, err)
	}
	if len(out.AuthorizationData) == 0 {
		t.Fatalf("GetAuthorizationToken (region %s) returned no authorization data", cfg.Region)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatalf("authorization token is not base64: %v", err)
	}
	user, pw, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" || pw == "" {
		t.Fatalf("authorization token decodes to %q, want AWS:<password>", raw)
	}
	return pw
}

// authResult is one answer of the data plane, with its OCI error if any.
type authResult struct {
	resp *http.Response
	body []byte
	code string
	msg  string
}

func dataPlaneRequest(t *testing.T, ctx context.Context, method, u, auth string) authResult {
	t.Helper()
	var hdr map[string]string
	if auth != "" {
		hdr = map[string]string{"Authorization": auth}
	}
	resp, body := doHTTP(t, ctx, nil, method, u, hdr, nil)
	r := authResult{resp: resp, body: body}
	var eb ociErrorBody
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 {
		r.code, r.msg = eb.Errors[0].Code, eb.Errors[0].Message
	}
	return r
}

// wantChallenge checks a 401 the way docker login needs it: the status,
// UNAUTHORIZED, and ECR's Basic challenge.
func wantChallenge(t *testing.T, b *berth, what string, r authResult) {
	t.Helper()
	if r.resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401: %s", what, r.resp.StatusCode, r.body)
	}
	if got := r.resp.Header.Get("WWW-Authenticate"); got != ecrChallenge(b) {
		t.Errorf("%s: WWW-Authenticate = %q, want %q", what, got, ecrChallenge(b))
	}
	if r.resp.Request.Method != http.MethodHead && r.code != "UNAUTHORIZED" {
		t.Errorf("%s: error code %q, want UNAUTHORIZED: %s", what, r.code, r.body)
	}
}

func TestDataPlaneAuth(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	rand.Read(key)
	b := startBerth(t, "", "--token-key", base64.StdEncoding.EncodeToString(key))
	ctx := withTimeout(t, 2*time.Minute)

	// Passwords the test mints with the server's key, as the server would.
	tokens, err := authn.NewTokens(key, authn.NewKeys(authn.RootCredentials{Account: testAccount, AccessKeyID: testAccessKeyID, SecretAccessKey: testSecretAccessKey}))
	if err != nil {
		t.Fatal(err)
	}
	root := &authn.Principal{Account: testAccount, ARN: authn.RootARN(testAccount), UserID: testAccount, AccessKeyID: testAccessKeyID}
	minted, _ := tokens.Issue(root, testRegion)
	expiredRoot := *root
	expiredRoot.Expires = time.Now().Add(-time.Minute)
	expired, exp := tokens.Issue(&expiredRoot, testRegion)
	if !exp.Before(time.Now()) {
		t.Fatalf("the minted token expires at %v, which is not in the past", exp)
	}
	unknownKey, _ := tokens.Issue(&authn.Principal{Account: testAccount, AccessKeyID: "AKIAE2ENOSUCHKEY0001"}, testRegion)

	valid := b.Password(t)
	if !strings.Contains(valid, ".") {
		t.Fatalf("password %q has no signature part", valid)
	}
	sigAt := strings.LastIndexByte(valid, '.')
	payloadFlipped := flipChar(valid, sigAt/2)
	sigFlipped := flipChar(valid, sigAt+1+(len(valid)-sigAt-1)/2)
	euWest := getLoginPassword(t, b.awsConfig("eu-west-1", testAccessKeyID, testSecretAccessKey))

	const (
		ok     = 0 // the request is let through: the path decides the answer
		denied = http.StatusForbidden
		unauth = http.StatusUnauthorized
	)
	rows := []struct {
		name   string
		auth   string // "" sends no Authorization
		status int
		// msg, when set, is the exact message; words must all appear in it.
		msg   string
		words []string
	}{
		{name: "no Authorization", status: unauth, words: []string{"docker login"}},
		{name: "Bearer token", auth: "Bearer x", status: unauth},
		{name: "Basic not base64", auth: "Basic !!!not-base64!!!", status: unauth},
		{name: "Basic without a colon", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS")), status: unauth},
		{name: "user bob with a valid password", auth: basicAuth("bob", valid), status: unauth, words: []string{"bob"}},
		{name: "AWS with an empty password", auth: basicAuth("AWS", ""), status: unauth},
		{name: "AWS:garbage", auth: basicAuth("AWS", "garbage"), status: unauth},
		{name: "valid password with a payload character flipped", auth: basicAuth("AWS", payloadFlipped), status: unauth},
		{name: "valid password with a signature character flipped", auth: basicAuth("AWS", sigFlipped), status: unauth},
		{name: "valid password truncated", auth: basicAuth("AWS", valid[:len(valid)-1]), status: unauth},
		{name: "genuine token for an access key nobody owns", auth: basicAuth("AWS", unknownKey), status: unauth},
		{name: "expired token", auth: basicAuth("AWS", expired), status: denied, msg: ecrExpiredMessage},
		{name: "token for another region", auth: basicAuth("AWS", euWest), status: denied, words: []string{"eu-west-1", testRegion}},
		{name: "password from GetAuthorizationToken", auth: basicAuth("AWS", valid), status: ok},
		{name: "b.AuthHeader", auth: b.AuthHeader(t), status: ok},
		{name: "password minted with the server's key", auth: basicAuth("AWS", minted), status: ok},
	}

	// Each refusal holds on every route, before the route looks at the
	// repository (which does not exist, so a let-through request gets 404).
	paths := []struct {
		method, path string
		okStatus     int
		okCode       string
	}{
		{http.MethodGet, "/v2/", http.StatusOK, ""},
		{http.MethodGet, "/v2/auth/app/tags/list", http.StatusNotFound, "NAME_UNKNOWN"},
		{http.MethodHead, "/v2/auth/app/manifests/latest", http.StatusNotFound, ""},
		{http.MethodPost, "/v2/auth/app/blobs/uploads/", http.StatusNotFound, "NAME_UNKNOWN"},
		{http.MethodGet, "/v2/_catalog", http.StatusOK, ""},
	}

	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			for _, p := range paths {
				what := p.method + " " + p.path
				r := dataPlaneRequest(t, ctx, p.method, b.URL+p.path, row.auth)
				hasBody := p.method != http.MethodHead
				switch row.status {
				case ok:
					if r.resp.StatusCode != p.okStatus || (hasBody && r.code != p.okCode) {
						t.Errorf("%s: status %d code %q, want %d %q: %s", what, r.resp.StatusCode, r.code, p.okStatus, p.okCode, r.body)
					}
					if got := r.resp.Header.Get("WWW-Authenticate"); got != "" {
						t.Errorf("%s: an authenticated answer carries WWW-Authenticate %q", what, got)
					}
					continue
				case unauth:
					wantChallenge(t, b, what, r)
				case denied:
					if r.resp.StatusCode != http.StatusForbidden || (hasBody && r.code != "DENIED") {
						t.Errorf("%s: status %d code %q, want 403 DENIED: %s", what, r.resp.StatusCode, r.code, r.body)
					}
				}
				if !hasBody {
					continue
				}
				if row.msg != "" && r.msg != row.msg {
					t.Errorf("%s: message %q, want %q", what, r.msg, row.msg)
				}
				for _, w := range row.words {
					if !strings.Contains(r.msg, w) {
						t.Errorf("%s: message %q does not mention %q", what, r.msg, w)
					}
				}
			}
		})
	}

	t.Run("refused requests created nothing", func(t *testing.T) {
		r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/_catalog", b.AuthHeader(t))
		var cat struct{ Repositories []string }
		if r.resp.StatusCode != http.StatusOK || json.Unmarshal(r.body, &cat) != nil || len(cat.Repositories) != 0 {
			t.Errorf("catalog: status %d, body %s; want 200 and no repositories", r.resp.StatusCode, r.body)
		}
	})
}

// The password keeps working after a restart: the server keeps its token
// key in the data directory.
func TestDataPlaneLoginSurvivesRestart(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	pw := b.Password(t)
	if r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/", basicAuth("AWS", pw)); r.resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ before the restart: status %d: %s", r.resp.StatusCode, r.body)
	}
	b.Stop()
	b.Restart()
	if r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/", basicAuth("AWS", pw)); r.resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ after the restart with the password from before it: status %d: %s", r.resp.StatusCode, r.body)
	}
	// A fresh login after the restart works too.
	fresh := getLoginPassword(t, b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey))
	if r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/", basicAuth("AWS", fresh)); r.resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ after the restart with a fresh password: status %d: %s", r.resp.StatusCode, r.body)
	}
}

// A password is bound to the key of the server that issued it: another data
// directory has another key. Servers that share --token-key share logins.
func TestDataPlaneLoginIsPerServer(t *testing.T) {
	t.Parallel()
	ctx := withTimeout(t, 2*time.Minute)
	one, two := startBerth(t, ""), startBerth(t, "")
	for _, tc := range []struct {
		name     string
		issuer   *berth
		verifier *berth
		want     int
	}{
		{"own password on one", one, one, http.StatusOK},
		{"own password on two", two, two, http.StatusOK},
		{"one's password on two", one, two, http.StatusUnauthorized},
		{"two's password on one", two, one, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dataPlaneRequest(t, ctx, http.MethodGet, tc.verifier.URL+"/v2/", tc.issuer.AuthHeader(t))
			if tc.want == http.StatusUnauthorized {
				wantChallenge(t, tc.verifier, "GET /v2/", r)
			} else if r.resp.StatusCode != tc.want {
				t.Errorf("GET /v2/: status %d, want %d: %s", r.resp.StatusCode, tc.want, r.body)
			}
		})
	}

	t.Run("shared --token-key", func(t *testing.T) {
		key := make([]byte, 32)
		rand.Read(key)
		k := base64.StdEncoding.EncodeToString(key)
		a, c := startBerth(t, "", "--token-key", k), startBerth(t, "", "--token-key", k)
		r := dataPlaneRequest(t, ctx, http.MethodGet, c.URL+"/v2/", a.AuthHeader(t))
		if r.resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v2/ on a node sharing the token key, with the other node's password: status %d: %s", r.resp.StatusCode, r.body)
		}
		r = dataPlaneRequest(t, ctx, http.MethodGet, one.URL+"/v2/", a.AuthHeader(t))
		wantChallenge(t, one, "GET /v2/ on a server with another key", r)
	})
}

// What docker, crane and friends see: go-containerregistry without a login,
// or with a wrong one, gets a 401 it can show; with the login it works.
func TestDataPlaneAuthGGCR(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 2*time.Minute)
	repo, err := name.NewRepository(b.Host+"/auth/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}

	wantUnauthorized := func(t *testing.T, what string, err error) {
		t.Helper()
		te := asTransportError(t, err)
		if te.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401 (error: %v)", what, te.StatusCode, err)
		}
		if len(te.Errors) > 0 && string(te.Errors[0].Code) != "UNAUTHORIZED" {
			t.Errorf("%s: error code %q, want UNAUTHORIZED (error: %v)", what, te.Errors[0].Code, err)
		}
	}

	t.Run("push without a login", func(t *testing.T) {
		err := remote.Write(repo.Tag("v1"), img, remote.WithContext(ctx))
		wantUnauthorized(t, "remote.Write without a login", err)
	})
	t.Run("push with a wrong password", func(t *testing.T) {
		err := remote.Write(repo.Tag("v1"), img, remote.WithContext(ctx), remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: "garbage"}))
		wantUnauthorized(t, "remote.Write with AWS:garbage", err)
	})
	t.Run("refused pushes created nothing", func(t *testing.T) {
		reg, _ := name.NewRegistry(b.Host, name.Insecure)
		repos, err := remote.Catalog(ctx, reg, ggcrOpts(t, b, ctx)...)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 0 {
			t.Errorf("catalog after refused pushes = %q, want empty", repos)
		}
	})
	t.Run("push and pull with the login", func(t *testing.T) {
		if err := remote.Write(repo.Tag("v1"), img, ggcrOpts(t, b, ctx)...); err != nil {
			t.Fatalf("remote.Write with the login: %v\nserver log:\n%s", err, tail(b.Log(), 30))
		}
		got, err := remote.Image(repo.Tag("v1"), ggcrOpts(t, b, ctx)...)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := img.Digest()
		if d, _ := got.Digest(); d != want {
			t.Errorf("pulled digest %v, want %v", d, want)
		}
		tags, err := remote.List(repo, ggcrOpts(t, b, ctx)...)
		if err != nil || !slices.Equal(tags, []string{"v1"}) {
			t.Errorf("remote.List = %q (%v), want [v1]", tags, err)
		}
	})
	t.Run("pull without a login", func(t *testing.T) {
		_, err := remote.Image(repo.Tag("v1"), remote.WithContext(ctx))
		wantUnauthorized(t, "remote.Image without a login", err)
		_, err = remote.Head(repo.Tag("v1"), remote.WithContext(ctx))
		wantUnauthorized(t, "remote.Head without a login", err)
	})
}
