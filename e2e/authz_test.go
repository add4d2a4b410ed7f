package e2e

// Authorization by IAM policy evaluation, end to end: aws-sdk-go-v2 on the
// API and go-containerregistry on the data plane, each logged in as the
// identity under test (GetAuthorizationToken called with its own
// credentials). Every refusal is checked for its exact code and message.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// azAccountB is the second account the cross-account tests create.
const azAccountB = "111111111111"

const (
	azFullAccessARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
	azPowerUserARN  = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
)

// azPullActions are what a pull needs, on the API and the data plane.
const azPullActions = `["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]`

func azRepoARN(account, repo string) string {
	return "arn:aws:ecr:" + testRegion + ":" + account + ":repository/" + repo
}

// azDeniedMsg is ECR's AccessDenied message.
func azDeniedMsg(principal, action, resource, reason string) string {
	return "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource + " " + reason
}

func azNoIdentityPolicy(action string) string {
	return "because no identity-based policy allows the " + action + " action"
}

func azNoResourcePolicy(action string) string {
	return "because no resource-based policy allows the " + action + " action"
}

const azResourceDeny = "with an explicit deny in a resource-based policy"

// startAuthzBerth starts a server for a test whose clients include
// go-containerregistry: its concurrent requests can leave connections
// dialled but never used, which the server's graceful shutdown waits 5
// seconds for (net/http treats a new connection as busy until then). The
// test closes them before the server stops.
func startAuthzBerth(t *testing.T, args ...string) *berth {
	t.Helper()
	b := startBerth(t, "", args...)
	t.Cleanup(func() { // runs before the server's Stop
		for _, rt := range []http.RoundTripper{remote.DefaultTransport, http.DefaultTransport} {
			if tr, ok := rt.(*http.Transport); ok {
				tr.CloseIdleConnections()
			}
		}
	})
	return b
}

// azCreateAccount makes account id with `berth admin create-account` and
// returns an SDK configuration signed with its root keys.
func azCreateAccount(t *testing.T, b *berth, id string) aws.Config {
	t.Helper()
	out, err := runAdmin(t, "create-account", "--data", b.DataDir, "--account-id", id, "--output", "json")
	if err != nil {
		t.Fatalf("create-account %s: %v", id, err)
	}
	var creds struct{ Account, AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.Account != id {
		t.Fatalf("create-account printed %q (%v)", out, err)
	}
	return b.awsConfig(testRegion, creds.AccessKeyID, creds.SecretAccessKey)
}

// azUser makes a user with an access key through c (any account's IAM) and
// returns an SDK configuration signed with the key.
func azUser(t *testing.T, b *berth, c *iam.Client, name string) aws.Config {
	t.Helper()
	ctx := withTimeout(t, 30*time.Second)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return b.awsConfig(testRegion, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
}

// azRepoWithImage creates repo in the default account as its root and
// pushes a random image tagged v1 to it.
func azRepoWithImage(t *testing.T, ctx context.Context, b *berth, repo string) (name.Repository, v1.Hash) {
	t.Helper()
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatalf("CreateRepository(%s): %v", repo, err)
	}
	ref := ggcrRepo(t, b, repo)
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref.Tag("v1"), img, ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("pushing %s as root: %v", repo, err)
	}
	d, _ := img.Digest()
	return ref, d
}

// azOpts are go-containerregistry options logged in with password.
func azOpts(ctx context.Context, password string, extra ...remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx), remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: password})}, extra...)
}

// azPull pulls ref:v1 completely (manifest, config and every layer) and
// checks it is the image want.
func azPull(ctx context.Context, ref name.Repository, want v1.Hash, password string) error {
	img, err := remote.Image(ref.Tag("v1"), azOpts(ctx, password)...)
	if err != nil {
		return err
	}
	if d, err := img.Digest(); err != nil || d != want {
		return fmt.Errorf("pulled %v (%v), want %v", d, err, want)
	}
	return validate.Image(img)
}

// azWantPull checks that password pulls ref:v1.
func azWantPull(t *testing.T, ctx context.Context, what string, ref name.Repository, want v1.Hash, password string) {
	t.Helper()
	if err := azPull(ctx, ref, want, password); err != nil {
		t.Errorf("%s: pull failed: %v", what, err)
	}
}

// azWantRefusal checks a data-plane refusal: status, OCI error code
// and exact message.
func azWantRefusal(t *testing.T, what string, err error, status int, code, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %d %s %q", what, status, code, msg)
		return
	}
	te := asTransportError(t, err)
	gotCode, gotMsg := "", ""
	if len(te.Errors) > 0 {
		gotCode, gotMsg = string(te.Errors[0].Code), te.Errors[0].Message
	}
	if te.StatusCode != status || gotCode != code || gotMsg != msg {
		t.Errorf("%s: got %d %s %q\nwant %d %s %q", what, te.StatusCode, gotCode, gotMsg, status, code, msg)
	}
}

// azWantDenied is azWantRefusal for an authorization refusal.
func azWantDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	azWantRefusal(t, what, err, http.StatusForbidden, "DENIED", msg)
}

// azExpectAPIError is wantAPIError that lets the test go on.
func azExpectAPIError(t *testing.T, what string, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %d %s %q", what, status, code, msg)
		return
	}
	gotCode, gotMsg := apiErrorCode(t, err)
	if gotStatus := apiErrorStatus(err); gotCode != code || gotStatus != status || gotMsg != msg {
		t.Errorf("%s: got %d %s %q; want %d %s %q", what, gotStatus, gotCode, gotMsg, status, code, msg)
	}
}

// azWantAPIDenied checks an ECR AccessDeniedException and its exact message.
func azWantAPIDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want AccessDeniedException %q", what, msg)
		return
	}
	code, got := apiErrorCode(t, err)
	if status := apiErrorStatus(err); code != "AccessDeniedException" || status != http.StatusBadRequest || got != msg {
		t.Errorf("%s: got %d %s %q\nwant 400 AccessDeniedException %q", what, status, code, got, msg)
	}
}

// azBatchGetImage is the API's pull of repo:v1 in registry account.
func azBatchGetImage(ctx context.Context, cfg aws.Config, account, repo string) error {
	out, err := ecr.NewFromConfig(cfg).BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId: aws.String(account), RepositoryName: aws.String(repo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}},
	})
	if err != nil {
		return err
	}
	if len(out.Images) != 1 || len(out.Failures) != 0 {
		return fmt.Errorf("BatchGetImage(%s) = %d images, failures %+v", repo, len(out.Images), out.Failures)
	}
	return nil
}

func azSetRepositoryPolicy(t *testing.T, ctx context.Context, c *ecr.Client, repo, text string) {
	t.Helper()
	if _, err := c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(repo), PolicyText: aws.String(text)}); err != nil {
		t.Fatalf("SetRepositoryPolicy(%s): %v", repo, err)
	}
}

// azExchange is one request an azRecorder saw go by, and its answer's status.
type azExchange struct {
	method, path string
	status       int // 0 when no answer came
	err          error
	// probe is a request go-containerregistry tries over HTTPS first (the
	// server speaks HTTP); cancelled is one given up by the client.
	probe, cancelled bool
}

// azRecorder is a RoundTripper that notes every request and its status.
type azRecorder struct {
	mu  sync.Mutex
	log []azExchange
}

func (r *azRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	e := azExchange{method: req.Method, path: req.URL.Path, err: err, probe: req.URL.Scheme == "https", cancelled: req.Context().Err() != nil}
	if err == nil {
		e.status = resp.StatusCode
	}
	r.mu.Lock()
	r.log = append(r.log, e)
	r.mu.Unlock()
	return resp, err
}

func (r *azRecorder) exchanges() []azExchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]azExchange(nil), r.log...)
}

// TestAuthzReadOnlyUser: a user with AmazonEC2ContainerRegistryReadOnly
// pulls, and its push is refused at the first write, the blob upload's
// POST, after the reads before it were allowed.
func TestAuthzReadOnlyUser(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "ro/app"
	ref, digest := azRepoWithImage(t, ctx, b, repo)

	cfg := azUser(t, b, b.IAM(), "reader")
	userARN := "arn:aws:iam::" + testAccount + ":user/reader"
	if _, err := b.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	password := getLoginPassword(t, cfg)

	azWantPull(t, ctx, "read-only user", ref, digest, password)
	if tags, err := remote.List(ref, azOpts(ctx, password)...); err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Errorf("read-only user lists tags %q, %v; want [v1]", tags, err)
	}
	if err := azBatchGetImage(ctx, cfg, testAccount, repo); err != nil {
		t.Errorf("read-only user BatchGetImage: %v", err)
	}

	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := &azRecorder{}
	err = remote.Write(ref.Tag("v2"), img, azOpts(ctx, password, remote.WithTransport(rec))...)
	azWantDenied(t, "read-only user's push", err,
		azDeniedMsg(userARN, "ecr:InitiateLayerUpload", azRepoARN(testAccount, repo), azNoIdentityPolicy("ecr:InitiateLayerUpload")))

	// Which requests were refused: every refusal is the POST that starts a
	// blob upload; the reads before it (HEAD of the tag, HEAD of each blob)
	// were allowed and answered 404, and nothing was written.
	uploads := "/v2/" + repo + "/blobs/uploads/"
	var refused, headBlobs int
	for _, e := range rec.exchanges() {
		switch {
		case e.err != nil:
			// Requests in flight when the first refusal ended the push
			// are cancelled.
			if !e.probe && !e.cancelled {
				t.Errorf("%s %s: %v", e.method, e.path, e.err)
			}
		case e.status == http.StatusForbidden:
			refused++
			if e.method != http.MethodPost || e.path != uploads {
				t.Errorf("refused %s %s, want only POST %s refused", e.method, e.path, uploads)
			}
		case e.method == http.MethodHead && strings.HasPrefix(e.path, "/v2/"+repo+"/blobs/sha256:"):
			headBlobs++
			if e.status != http.StatusNotFound {
				t.Errorf("HEAD %s: %d, want 404 (allowed to ecr:BatchCheckLayerAvailability, blob absent)", e.path, e.status)
			}
		case e.method == http.MethodHead && e.path == "/v2/"+repo+"/manifests/v2":
			if e.status != http.StatusNotFound {
				t.Errorf("HEAD %s: %d, want 404 (allowed to ecr:BatchGetImage, tag absent)", e.path, e.status)
			}
		case e.method == http.MethodPatch || e.method == http.MethodPut:
			t.Errorf("the refused push went on to %s %s", e.method, e.path)
		}
	}
	if refused == 0 || headBlobs == 0 {
		t.Errorf("push requests %+v: want HEADs of blobs, then a refused POST %s", rec.exchanges(), uploads)
	}

	// The API refuses the same action alike, and the repository holds only v1.
	_, err = ecr.NewFromConfig(cfg).InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	azWantAPIDenied(t, "read-only user's InitiateLayerUpload", err,
		azDeniedMsg(userARN, "ecr:InitiateLayerUpload", azRepoARN(testAccount, repo), azNoIdentityPolicy("ecr:InitiateLayerUpload")))
	if tags, err := remote.List(ref, ggcrOpts(t, b, ctx)...); err != nil || len(tags) != 1 {
		t.Errorf("tags after the refused push = %q, %v; want [v1]", tags, err)
	}
}

// TestAuthzPowerUser: AmazonEC2ContainerRegistryPowerUser pushes and pulls
// but may not delete the repository (nor images, nor create repositories).
func TestAuthzPowerUser(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "pu/app"
	ref, _ := azRepoWithImage(t, ctx, b, repo)

	cfg := azUser(t, b, b.IAM(), "power")
	userARN := "arn:aws:iam::" + testAccount + ":user/power"
	if _, err := b.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("power"), PolicyArn: aws.String(azPowerUserARN)}); err != nil {
		t.Fatal(err)
	}
	password := getLoginPassword(t, cfg)

	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref.Tag("v2"), img, azOpts(ctx, password)...); err != nil {
		t.Fatalf("power user's push: %v", err)
	}
	got, err := remote.Image(ref.Tag("v2"), azOpts(ctx, password)...)
	if err != nil {
		t.Fatalf("power user's pull: %v", err)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("pulled image does not validate: %v", err)
	}
	if gd, _ := got.Digest(); gd != func() v1.Hash { d, _ := img.Digest(); return d }() {
		t.Errorf("pulled %v, pushed another image", gd)
	}

	c := ecr.NewFromConfig(cfg)
	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(repo), Force: true})
	azWantAPIDenied(t, "power user's DeleteRepository", err,
		azDeniedMsg(userARN, "ecr:DeleteRepository", azRepoARN(testAccount, repo), azNoIdentityPolicy("ecr:DeleteRepository")))
	_, err = c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("pu/other")})
	azWantAPIDenied(t, "power user's CreateRepository", err,
		azDeniedMsg(userARN, "ecr:CreateRepository", azRepoARN(testAccount, "pu/other"), azNoIdentityPolicy("ecr:CreateRepository")))
	err = remote.Delete(ref.Tag("v2"), azOpts(ctx, password)...)
	azWantDenied(t, "power user's manifest DELETE", err,
		azDeniedMsg(userARN, "ecr:BatchDeleteImage", azRepoARN(testAccount, repo), azNoIdentityPolicy("ecr:BatchDeleteImage")))

	// Still there, with both images.
	d, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	if err != nil || len(d.ImageDetails) != 2 {
		t.Errorf("DescribeImages after the refused deletes = %+v, %v; want 2 images", d, err)
	}
}

// TestAuthzCrossAccountRole: a role of account B, assumed by B's user,
// pulls from account A's repositories only where both its own policy and
// the repository's policy allow it. Every change takes effect at the next
// request: policy writes drop the evaluator's cached decisions.
func TestAuthzCrossAccountRole(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	x, xDigest := azRepoWithImage(t, ctx, b, "shared/x")
	y, yDigest := azRepoWithImage(t, ctx, b, "private/y")

	rootB := azCreateAccount(t, b, azAccountB)
	iamB := iam.NewFromConfig(rootB)
	roleARN := "arn:aws:iam::" + azAccountB + ":role/puller"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + azAccountB + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("puller"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	rolePolicy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":` + azPullActions + `,"Resource":"arn:aws:ecr:*:` + testAccount + `:repository/*"},` +
		`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	putRolePolicy := func() {
		t.Helper()
		if _, err := iamB.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("puller"), PolicyName: aws.String("pull-from-a"), PolicyDocument: aws.String(rolePolicy)}); err != nil {
			t.Fatal(err)
		}
	}
	putRolePolicy()
	devCfg := azUser(t, b, iamB, "dev")
	if _, err := iamB.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("assume-puller"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	as, err := sts.NewFromConfig(devCfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ci-1")})
	if err != nil {
		t.Fatalf("dev assumes puller: %v", err)
	}
	sessionARN := "arn:aws:sts::" + azAccountB + ":assumed-role/puller/ci-1"
	if got := aws.ToString(as.AssumedRoleUser.Arn); got != sessionARN {
		t.Fatalf("AssumedRoleUser.Arn = %s, want %s", got, sessionARN)
	}
	sess := b.sessionConfig(aws.ToString(as.Credentials.AccessKeyId), aws.ToString(as.Credentials.SecretAccessKey), aws.ToString(as.Credentials.SessionToken))
	// The login is B's (the session's); the registry addressed is A's, the
	// default one that the plain address selects.
	password := getLoginPassword(t, sess)

	rootA := b.ECR()
	azSetRepositoryPolicy(t, ctx, rootA, "shared/x", `{"Version":"2012-10-17","Statement":[{"Sid":"BPullers","Effect":"Allow",`+
		`"Principal":{"AWS":"`+roleARN+`"},"Action":`+azPullActions+`}]}`)

	// Both sides allow X; nothing on A's side allows Y.
	azWantPull(t, ctx, "session pulls X (both policies allow)", x, xDigest, password)
	if err := azBatchGetImage(ctx, sess, testAccount, "shared/x"); err != nil {
		t.Errorf("session's BatchGetImage on X: %v", err)
	}
	err = azPull(ctx, y, yDigest, password)
	azWantDenied(t, "session pulls Y (no repository policy)", err,
		azDeniedMsg(sessionARN, "ecr:BatchGetImage", azRepoARN(testAccount, "private/y"), azNoResourcePolicy("ecr:BatchGetImage")))
	err = azBatchGetImage(ctx, sess, testAccount, "private/y")
	azWantAPIDenied(t, "session's BatchGetImage on Y", err,
		azDeniedMsg(sessionARN, "ecr:BatchGetImage", azRepoARN(testAccount, "private/y"), azNoResourcePolicy("ecr:BatchGetImage")))
	// X's policy names the role, not its account: B's root is not let in.
	err = azBatchGetImage(ctx, rootB, testAccount, "shared/x")
	azWantAPIDenied(t, "B's root BatchGetImage on X", err,
		azDeniedMsg("arn:aws:iam::"+azAccountB+":root", "ecr:BatchGetImage", azRepoARN(testAccount, "shared/x"), azNoResourcePolicy("ecr:BatchGetImage")))

	// Without the role's own policy, X is refused too, at once.
	if _, err := iamB.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("puller"), PolicyName: aws.String("pull-from-a")}); err != nil {
		t.Fatal(err)
	}
	err = azPull(ctx, x, xDigest, password)
	azWantDenied(t, "session pulls X after its role's policy was deleted", err,
		azDeniedMsg(sessionARN, "ecr:BatchGetImage", azRepoARN(testAccount, "shared/x"), azNoIdentityPolicy("ecr:BatchGetImage")))
	err = azBatchGetImage(ctx, sess, testAccount, "shared/x")
	azWantAPIDenied(t, "session's BatchGetImage on X after its role's policy was deleted", err,
		azDeniedMsg(sessionARN, "ecr:BatchGetImage", azRepoARN(testAccount, "shared/x"), azNoIdentityPolicy("ecr:BatchGetImage")))
	// The blob GET is authorized on its own, as ecr:GetDownloadUrlForLayer.
	layers, _ := func() ([]v1.Layer, error) {
		img, err := remote.Image(x.Tag("v1"), ggcrOpts(t, b, ctx)...)
		if err != nil {
			return nil, err
		}
		return img.Layers()
	}()
	if len(layers) == 0 {
		t.Fatal("X's image has no layers")
	}
	ld, _ := layers[0].Digest()
	r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/shared/x/blobs/"+ld.String(), basicAuth("AWS", password))
	if want := azDeniedMsg(sessionARN, "ecr:GetDownloadUrlForLayer", azRepoARN(testAccount, "shared/x"), azNoIdentityPolicy("ecr:GetDownloadUrlForLayer")); r.resp.StatusCode != http.StatusForbidden || r.code != "DENIED" || r.msg != want {
		t.Errorf("GET blob of X without the role's policy: %d %s %q\nwant 403 DENIED %q", r.resp.StatusCode, r.code, r.msg, want)
	}

	// Put back, X pulls again; without X's repository policy it does not.
	putRolePolicy()
	azWantPull(t, ctx, "session pulls X after its role's policy was restored", x, xDigest, password)
	if _, err := rootA.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared/x")}); err != nil {
		t.Fatal(err)
	}
	err = azPull(ctx, x, xDigest, password)
	azWantDenied(t, "session pulls X after its repository policy was deleted", err,
		azDeniedMsg(sessionARN, "ecr:BatchGetImage", azRepoARN(testAccount, "shared/x"), azNoResourcePolicy("ecr:BatchGetImage")))
}

// TestAuthzExplicitDenyInRepositoryPolicy: a Deny in a repository policy
// beats an Allow in the caller's identity policy, on the API and the data
// plane, and only for what it names.
func TestAuthzExplicitDenyInRepositoryPolicy(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "locked/app"
	ref, digest := azRepoWithImage(t, ctx, b, repo)

	cfg := azUser(t, b, b.IAM(), "dev")
	userARN := "arn:aws:iam::" + testAccount + ":user/dev"
	if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("all-ecr"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	password := getLoginPassword(t, cfg)
	// Allowed before the policy (and the decision cached).
	azWantPull(t, ctx, "dev before the deny", ref, digest, password)
	if err := azBatchGetImage(ctx, cfg, testAccount, repo); err != nil {
		t.Fatalf("dev's BatchGetImage before the deny: %v", err)
	}
	img, _ := remote.Image(ref.Tag("v1"), ggcrOpts(t, b, ctx)...)
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers of v1: %d, %v", len(layers), err)
	}
	ld, _ := layers[0].Digest()

	azSetRepositoryPolicy(t, ctx, b.ECR(), repo, `{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"NoPullForDev","Effect":"Deny","Principal":{"AWS":"`+userARN+`"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},`+
		`{"Sid":"AccountPulls","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+testAccount+`:root"},"Action":`+azPullActions+`}]}`)

	msg := azDeniedMsg(userARN, "ecr:BatchGetImage", azRepoARN(testAccount, repo), azResourceDeny)
	err = azPull(ctx, ref, digest, password)
	azWantDenied(t, "dev pulls after the deny", err, msg)
	err = azBatchGetImage(ctx, cfg, testAccount, repo)
	azWantAPIDenied(t, "dev's BatchGetImage after the deny", err, msg)
	r := dataPlaneRequest(t, ctx, http.MethodGet, b.URL+"/v2/"+repo+"/blobs/"+ld.String(), basicAuth("AWS", password))
	if want := azDeniedMsg(userARN, "ecr:GetDownloadUrlForLayer", azRepoARN(testAccount, repo), azResourceDeny); r.resp.StatusCode != http.StatusForbidden || r.code != "DENIED" || r.msg != want {
		t.Errorf("dev's GET blob after the deny: %d %s %q\nwant 403 DENIED %q", r.resp.StatusCode, r.code, r.msg, want)
	}
	// What the deny does not name stays allowed.
	if _, err := ecr.NewFromConfig(cfg).DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Errorf("dev's DescribeImages (not denied): %v", err)
	}
	r = dataPlaneRequest(t, ctx, http.MethodHead, b.URL+"/v2/"+repo+"/blobs/"+ld.String(), basicAuth("AWS", password))
	if r.resp.StatusCode != http.StatusOK {
		t.Errorf("dev's HEAD blob (ecr:BatchCheckLayerAvailability, not denied): %d", r.resp.StatusCode)
	}
	// Another user with the same identity policy is not denied.
	otherCfg := azUser(t, b, b.IAM(), "other")
	if _, err := b.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("other"), PolicyArn: aws.String(azFullAccessARN)}); err != nil {
		t.Fatal(err)
	}
	azWantPull(t, ctx, "another user after the deny", ref, digest, getLoginPassword(t, otherCfg))

	// Without the policy, dev pulls again.
	if _, err := b.ECR().DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	azWantPull(t, ctx, "dev after the deny was removed", ref, digest, password)
}

// TestAuthzRevokedCredentials: a deactivated key, a deleted user and an
// expired session are refused on the API as AWS refuses them, and a client
// that logged in with them is refused at its next data-plane request.
func TestAuthzRevokedCredentials(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "rev/app"
	ref, digest := azRepoWithImage(t, ctx, b, repo)
	root := b.IAM()
	invalidLogin := "Your authorization token is invalid: log in again with aws ecr get-login-password --region " + testRegion +
		" | docker login --username AWS --password-stdin " + b.Host
	const expiredSecurityToken = "The security token included in the request is expired"

	t.Run("deactivated key and deleted user", func(t *testing.T) {
		cfg := azUser(t, b, root, "leaver")
		akid, _ := cfg.Credentials.Retrieve(ctx)
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("leaver"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
			t.Fatal(err)
		}
		password := getLoginPassword(t, cfg)
		azWantPull(t, ctx, "leaver logged in", ref, digest, password)

		setStatus := func(status string) {
			t.Helper()
			if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("leaver"), AccessKeyId: aws.String(akid.AccessKeyID), Status: iamtypes.StatusType(status)}); err != nil {
				t.Fatal(err)
			}
		}
		setStatus("Inactive")
		_, err := ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		wantAPIError(t, "DescribeRepositories with a deactivated key", err, "UnrecognizedClientException", 400, invalidToken)
		_, err = ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		wantAPIError(t, "GetAuthorizationToken with a deactivated key", err, "UnrecognizedClientException", 400, invalidToken)
		_, err = callerARN(t, cfg)
		wantAPIError(t, "GetCallerIdentity with a deactivated key", err, "InvalidClientTokenId", 403, invalidToken)
		err = azPull(ctx, ref, digest, password)
		inactiveLogin := "The access key " + akid.AccessKeyID + " that issued this authorization token is Inactive: make it Active again with aws iam update-access-key --access-key-id " +
			akid.AccessKeyID + " --status Active, or log in with an active key: aws ecr get-login-password --region " + testRegion +
			" | docker login --username AWS --password-stdin " + b.Host
		azWantRefusal(t, "pull with the login of a deactivated key", err, http.StatusUnauthorized, "UNAUTHORIZED", inactiveLogin)

		setStatus("Active")
		azWantPull(t, ctx, "leaver after reactivating", ref, digest, password)

		// Deleting the user (its key, its policy, then itself).
		if _, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("leaver"), AccessKeyId: aws.String(akid.AccessKeyID)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("leaver"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("leaver")}); err != nil {
			t.Fatal(err)
		}
		_, err = ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		wantAPIError(t, "DescribeRepositories as a deleted user", err, "UnrecognizedClientException", 400, invalidToken)
		_, err = callerARN(t, cfg)
		wantAPIError(t, "GetCallerIdentity as a deleted user", err, "InvalidClientTokenId", 403, invalidToken)
		err = azPull(ctx, ref, digest, password)
		azWantRefusal(t, "pull with a deleted user's login", err, http.StatusUnauthorized, "UNAUTHORIZED", invalidLogin)

		// A user of the same name made again has new keys: the old login
		// stays refused.
		again := azUser(t, b, root, "leaver")
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("leaver"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
			t.Fatal(err)
		}
		err = azPull(ctx, ref, digest, password)
		azWantRefusal(t, "pull with the login of the user's previous incarnation", err, http.StatusUnauthorized, "UNAUTHORIZED", invalidLogin)
		azWantPull(t, ctx, "the user made again, logged in afresh", ref, digest, getLoginPassword(t, again))
	})

	// A session lasts at least 900 seconds, so the test makes it expire by
	// moving its expiry, in the database the server reads on every request,
	// into the past: what the server sees is a session past its end. (The
	// clock comparison itself is unit-tested in internal/authn, with an
	// injected clock: TestStoreLookup, TestSessionLoginToken.)
	t.Run("expired session", func(t *testing.T) {
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:root"},"Action":"sts:AssumeRole"}]}`
		if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("temp"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("temp"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
			t.Fatal(err)
		}
		// The root user may not assume roles: a user whose policy allows it does.
		runner := azUser(t, b, root, "runner")
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("runner"), PolicyName: aws.String("assume-temp"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::` + testAccount + `:role/temp"}]}`)}); err != nil {
			t.Fatal(err)
		}
		as, err := sts.NewFromConfig(runner).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + testAccount + ":role/temp"), RoleSessionName: aws.String("short-lived"), DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatal(err)
		}
		akid := aws.ToString(as.Credentials.AccessKeyId)
		sess := b.sessionConfig(akid, aws.ToString(as.Credentials.SecretAccessKey), aws.ToString(as.Credentials.SessionToken))
		password := getLoginPassword(t, sess)
		azWantPull(t, ctx, "session before expiry", ref, digest, password)

		azExpireSession(t, b.DataDir, akid, time.Now().Add(-time.Second))
		_, err = callerARN(t, sess)
		// STS, a query service, answers ExpiredToken with 403 (as it answers
		// InvalidClientTokenId); the JSON services say ExpiredTokenException
		// with 400.
		azExpectAPIError(t, "GetCallerIdentity with an expired session", err, "ExpiredToken", 403, expiredSecurityToken)
		_, err = ecr.NewFromConfig(sess).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		wantAPIError(t, "DescribeRepositories with an expired session", err, "ExpiredTokenException", 400, expiredSecurityToken)
		_, err = ecr.NewFromConfig(sess).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		wantAPIError(t, "GetAuthorizationToken with an expired session", err, "ExpiredTokenException", 400, expiredSecurityToken)
		err = azPull(ctx, ref, digest, password)
		azWantRefusal(t, "pull with an expired session's login", err, http.StatusForbidden, "DENIED", ecrExpiredMessage)
	})
}

// azExpireSession sets the expiry of the role session with access key akid
// in the server's database.
func azExpireSession(t *testing.T, dataDir, akid string, at time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dataDir, "berth.db"))+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE iam_sessions SET expires_at = ? WHERE id = ?`, at.UnixNano(), akid)
	if err != nil {
		t.Fatalf("expiring session %s: %v", akid, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("expiring session %s: %d rows updated, want 1", akid, n)
	}
}

// TestAuthzSourceIPCondition: a repository policy granting a cross-account
// pull on a condition on aws:SourceIp holds only for requests from the
// range it names. The tests reach the server from 127.0.0.1.
func TestAuthzSourceIPCondition(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "cond/app"
	ref, digest := azRepoWithImage(t, ctx, b, repo)
	rootB := azCreateAccount(t, b, azAccountB)
	rootBARN := "arn:aws:iam::" + azAccountB + ":root"
	password := getLoginPassword(t, rootB)

	policyFrom := func(cidr string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"BFromOffice","Effect":"Allow","Principal":{"AWS":"` + rootBARN + `"},` +
			`"Action":` + azPullActions + `,"Condition":{"IpAddress":{"aws:SourceIp":"` + cidr + `"}}}]}`
	}
	msg := azDeniedMsg(rootBARN, "ecr:BatchGetImage", azRepoARN(testAccount, repo), azNoResourcePolicy("ecr:BatchGetImage"))

	// No policy: refused.
	azWantDenied(t, "B pulls without a repository policy", azPull(ctx, ref, digest, password), msg)

	azSetRepositoryPolicy(t, ctx, b.ECR(), repo, policyFrom("10.0.0.0/8"))
	azWantDenied(t, "B pulls from 127.0.0.1, policy for 10.0.0.0/8", azPull(ctx, ref, digest, password), msg)
	azWantAPIDenied(t, "B's BatchGetImage from 127.0.0.1, policy for 10.0.0.0/8", azBatchGetImage(ctx, rootB, testAccount, repo), msg)

	azSetRepositoryPolicy(t, ctx, b.ECR(), repo, policyFrom("127.0.0.0/8"))
	azWantPull(t, ctx, "B pulls from 127.0.0.1, policy for 127.0.0.0/8", ref, digest, password)
	if err := azBatchGetImage(ctx, rootB, testAccount, repo); err != nil {
		t.Errorf("B's BatchGetImage from 127.0.0.1, policy for 127.0.0.0/8: %v", err)
	}

	// And back: the narrower policy takes effect at once.
	azSetRepositoryPolicy(t, ctx, b.ECR(), repo, policyFrom("10.0.0.0/8"))
	azWantDenied(t, "B pulls from 127.0.0.1, policy for 10.0.0.0/8 again", azPull(ctx, ref, digest, password), msg)
}

// TestAuthzResourceTagCondition: an identity policy conditioned on the
// repository's tags follows TagResource and UntagResource at the next
// request.
func TestAuthzResourceTagCondition(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	const repo = "tags/app"
	ref, digest := azRepoWithImage(t, ctx, b, repo)
	arn := azRepoARN(testAccount, repo)

	cfg := azUser(t, b, b.IAM(), "blue")
	userARN := "arn:aws:iam::" + testAccount + ":user/blue"
	if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("blue"), PolicyName: aws.String("blue-repos"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":` + azPullActions + `,"Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"blue"}}},` +
			`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	password := getLoginPassword(t, cfg)
	msg := azDeniedMsg(userARN, "ecr:BatchGetImage", arn, azNoIdentityPolicy("ecr:BatchGetImage"))
	root := b.ECR()
	tag := func(v string) {
		t.Helper()
		if _, err := root.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(arn), Tags: []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String(v)}}}); err != nil {
			t.Fatal(err)
		}
	}

	azWantDenied(t, "pull from an untagged repository", azPull(ctx, ref, digest, password), msg)
	tag("blue")
	azWantPull(t, ctx, "pull once tagged team=blue", ref, digest, password)
	if err := azBatchGetImage(ctx, cfg, testAccount, repo); err != nil {
		t.Errorf("BatchGetImage once tagged team=blue: %v", err)
	}
	tag("red")
	azWantDenied(t, "pull once retagged team=red", azPull(ctx, ref, digest, password), msg)
	azWantAPIDenied(t, "BatchGetImage once retagged team=red", azBatchGetImage(ctx, cfg, testAccount, repo), msg)
	tag("blue")
	azWantPull(t, ctx, "pull once tagged team=blue again", ref, digest, password)
	if _, err := root.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	azWantDenied(t, "pull once untagged", azPull(ctx, ref, digest, password), msg)
}
