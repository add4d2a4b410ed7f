package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	ssooidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/chromedp"
)

// adminCall is a signed JSON 1.1 call to an Identity Center admin API
// (sso-admin, identitystore), whose SDK modules Berth does not otherwise
// need; the answer is decoded into out.
func (b *berth) adminCall(t *testing.T, signingName, target string, in, out any) {
	t.Helper()
	status, raw := b.signedJSON(t, aws.Credentials{AccessKeyID: testAccessKeyID, SecretAccessKey: testSecretAccessKey}, signingName, target, in)
	if status != 200 {
		t.Fatalf("%s: %d %s", target, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v: %s", target, err, raw)
		}
	}
}

// signedJSON sends a JSON 1.1 call signed with creds, and answers the
// status and body.
func (b *berth) signedJSON(t *testing.T, creds aws.Credentials, signingName, target string, in any) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", b.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), signingName, testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// TestSSOAdminAuthorization: the admin APIs are authorized as sso: and
// identitystore: actions, like any other: an IAM user may call what its
// policies allow, and is refused the rest in IAM's words.
func TestSSOAdminAuthorization(t *testing.T) {
	b := startBerth(t, "", "--default-account", testAccount)
	ctx := withTimeout(t, time.Minute)
	root := b.IAM()
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sso:ListInstances","Resource":"*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("sso"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	ops := aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
	status, body := b.signedJSON(t, ops, "sso", "SWBExternalService.ListInstances", map[string]any{})
	if status != 200 {
		t.Fatalf("ListInstances, allowed: %d %s", status, body)
	}
	var inst struct {
		Instances []struct{ InstanceArn string }
	}
	json.Unmarshal(body, &inst)
	status, body = b.signedJSON(t, ops, "sso", "SWBExternalService.CreatePermissionSet", map[string]any{"InstanceArn": inst.Instances[0].InstanceArn, "Name": "Admin"})
	if want := "is not authorized to perform: sso:CreatePermissionSet on resource: " + inst.Instances[0].InstanceArn; status != 400 ||
		!strings.Contains(string(body), `"__type":"AccessDeniedException"`) || !strings.Contains(string(body), want) {
		t.Errorf("CreatePermissionSet, not allowed: %d %s; want AccessDeniedException with %q", status, body, want)
	}
}

// ssoSetup makes user alice with a password and the ECR power user
// permission set assigned in the test account, as an admin would.
func ssoSetup(t *testing.T, b *berth) {
	t.Helper()
	var inst struct {
		Instances []struct{ InstanceArn, IdentityStoreId string }
	}
	b.adminCall(t, "sso", "SWBExternalService.ListInstances", map[string]any{}, &inst)
	instARN, storeID := inst.Instances[0].InstanceArn, inst.Instances[0].IdentityStoreId
	var user struct{ UserId string }
	b.adminCall(t, "identitystore", "AWSIdentityStore.CreateUser", map[string]any{"IdentityStoreId": storeID, "UserName": "alice", "DisplayName": "Alice"}, &user)
	var ps struct {
		PermissionSet struct{ PermissionSetArn string }
	}
	b.adminCall(t, "sso", "SWBExternalService.CreatePermissionSet", map[string]any{"InstanceArn": instARN, "Name": "EcrPower"}, &ps)
	psARN := ps.PermissionSet.PermissionSetArn
	b.adminCall(t, "sso", "SWBExternalService.AttachManagedPolicyToPermissionSet", map[string]any{"InstanceArn": instARN, "PermissionSetArn": psARN,
		"ManagedPolicyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"}, nil)
	b.adminCall(t, "sso", "SWBExternalService.CreateAccountAssignment", map[string]any{"InstanceArn": instARN, "PermissionSetArn": psARN,
		"TargetId": testAccount, "TargetType": "AWS_ACCOUNT", "PrincipalType": "USER", "PrincipalId": user.UserId}, nil)
	cmd := exec.Command(berthBin, "admin", "sso", "set-password", "--data", b.DataDir, "--default-account", testAccount, "--user", "alice", "--password-stdin")
	cmd.Stdin = strings.NewReader("correct horse battery\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("berth admin sso set-password: %v\n%s", err, out)
	}
}

// chromium starts headless Chromium for the test, or fails it with how to
// install it (skips under -short).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if testing.Short() {
			t.Skip("chromium is not installed (-short)")
		}
		t.Fatal("the sign-in page's test needs Chromium: apt-get install chromium (scripts/test installs it when run as root)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// TestSSOSignInPage signs the CLI's device flow in through the real page in
// a real browser: a wrong password is refused without saying whether the
// user exists, the right one approves the code, and the client's next
// poll gets tokens that open role credentials of the permission set.
func TestSSOSignInPage(t *testing.T) {
	ctx := chromium(t)
	b := startBerth(t, "", "--default-account", testAccount)
	ssoSetup(t, b)

	cfg := b.awsConfig(testRegion, "x", "y")
	cfg.Credentials = aws.AnonymousCredentials{}
	oidc := ssooidc.NewFromConfig(cfg)
	actx := withTimeout(t, time.Minute)
	reg, err := oidc.RegisterClient(actx, &ssooidc.RegisterClientInput{ClientName: aws.String("e2e"), ClientType: aws.String("public")})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := oidc.StartDeviceAuthorization(actx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String(b.URL + "/start")})
	if err != nil {
		t.Fatal(err)
	}
	createToken := func() (*ssooidc.CreateTokenOutput, error) {
		return oidc.CreateToken(actx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: dev.DeviceCode})
	}
	var pending *ssooidctypes.AuthorizationPendingException
	if _, err := createToken(); !errors.As(err, &pending) {
		t.Fatalf("CreateToken before approval: %v, want AuthorizationPendingException", err)
	}

	// A wrong password: the page says so, in words that do not tell
	// whether the user exists, and the client is still pending.
	err = chromedp.Do(ctx,
		chromedp.Navigate(aws.ToString(dev.VerificationUriComplete)),
		chromedp.WaitVisible("#user_code"),
	)
	if err != nil {
		t.Fatalf("open the page: %v", err)
	}
	prefilled, err := chromedp.Run(ctx, chromedp.Value("#user_code"))
	if err != nil {
		t.Fatal(err)
	}
	if prefilled != aws.ToString(dev.UserCode) {
		t.Errorf("the page prefilled %q, want the user code %q", prefilled, aws.ToString(dev.UserCode))
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#username", "alice"),
		chromedp.SendKeys("#password", "not the password"),
		chromedp.Click("#approve"),
		chromedp.WaitVisible("#error"),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	errorText, err := chromedp.Run(ctx, chromedp.Text("#error"))
	if err != nil {
		t.Fatal(err)
	}
	if errorText != "Incorrect user name or password." {
		t.Errorf("wrong password shows %q", errorText)
	}
	if _, err := createToken(); !errors.As(err, &pending) {
		t.Fatalf("CreateToken after a refused sign-in: %v, want AuthorizationPendingException", err)
	}

	// The right password approves the code; the page confirms it. The
	// refusal kept the code and the name, and left the password empty.
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#approve"),
		chromedp.WaitVisible("#approved"),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	approvedText, err := chromedp.Run(ctx, chromedp.Text("#approved"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(approvedText, aws.ToString(dev.UserCode)) || !strings.Contains(approvedText, "alice") {
		t.Errorf("confirmation says %q", approvedText)
	}

	// The interval must pass between polls.
	time.Sleep(1100 * time.Millisecond)
	tok, err := createToken()
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	portal := sso.NewFromConfig(cfg)
	rc, err := portal.GetRoleCredentials(actx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(testAccount), RoleName: aws.String("EcrPower")})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.RoleCredentials
	id, err := sts.NewFromConfig(b.sessionConfig(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))).
		GetCallerIdentity(actx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(id.Arn); !strings.HasPrefix(arn, "arn:aws:sts::"+testAccount+":assumed-role/AWSReservedSSO_EcrPower_") || !strings.HasSuffix(arn, "/alice") {
		t.Errorf("caller %s, want an AWSReservedSSO_EcrPower_… session of alice", arn)
	}
}
