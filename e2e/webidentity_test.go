package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-jose/go-jose/v4"

	"github.com/berth-registry/berth/internal/webidentity/oidctest"
)

// webIdentitySetup registers a local OIDC issuer with Berth — trusted
// through its certificate's thumbprint, since its self-signed certificate
// chains to no root — and a role that trusts the issuer's tokens for one
// repository's main branch, as a GitHub Actions recipe would.
func webIdentitySetup(t *testing.T, b *berth) (idp *oidctest.Issuer, providerARN, roleARN string) {
	t.Helper()
	ctx := withTimeout(t, time.Minute)
	idp = oidctest.New(t)
	root := b.IAM()
	p, err := root.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(idp.URL), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{idp.Thumbprint()}})
	if err != nil {
		t.Fatal(err)
	}
	providerARN = aws.ToString(p.OpenIDConnectProviderArn)
	if want := "arn:aws:iam::" + testAccount + ":oidc-provider/" + idp.HostPath(); providerARN != want {
		t.Fatalf("provider ARN %s, want %s", providerARN, want)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + idp.HostPath() + `:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"` + idp.HostPath() + `:sub":"repo:acme/app:ref:refs/heads/main"}}}]}`
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gha-push"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("gha-push"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	return idp, providerARN, "arn:aws:iam::" + testAccount + ":role/gha-push"
}

// anonymousSTS is an STS client with no credentials: the SDK sends
// AssumeRoleWithWebIdentity unsigned.
func anonymousSTS(b *berth) *sts.Client {
	cfg := b.awsConfig(testRegion, "x", "y")
	cfg.Credentials = aws.AnonymousCredentials{}
	return sts.NewFromConfig(cfg)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	idp, providerARN, roleARN := webIdentitySetup(t, b)
	client := anonymousSTS(b)
	assume := func(token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("gha-run-7"), WebIdentityToken: aws.String(token)})
	}
	main := oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"},
		Extra: map[string]any{"repository": "acme/app", "ref": "refs/heads/main"}}

	for _, ec := range []bool{false, true} {
		out, err := assume(idp.Sign(t, main, ec))
		if err != nil {
			t.Fatalf("AssumeRoleWithWebIdentity (ES256 %v): %v", ec, err)
		}
		if aws.ToString(out.SubjectFromWebIdentityToken) != main.Subject || aws.ToString(out.Audience) != "sts.amazonaws.com" ||
			aws.ToString(out.Provider) != providerARN ||
			aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+testAccount+":assumed-role/gha-push/gha-run-7" {
			t.Fatalf("AssumeRoleWithWebIdentity = %+v", out)
		}
		c := out.Credentials
		sessCfg := b.sessionConfig(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		if got, err := callerARN(t, sessCfg); err != nil || got != aws.ToString(out.AssumedRoleUser.Arn) {
			t.Fatalf("GetCallerIdentity with the session = %s, %v", got, err)
		}
		if _, err := ecr.NewFromConfig(sessCfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err != nil {
			t.Fatalf("DescribeRepositories with the web identity session: %v", err)
		}
	}

	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other := oidctest.New(t)
	refusals := []struct {
		what, token, code string
		status            int
		msg               string
	}{
		{"another branch's sub", idp.Sign(t, oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/dev", Audience: main.Audience}, false),
			"AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"a wrong audience", idp.Sign(t, oidctest.Claims{Subject: main.Subject, Audience: []string{"sts.amazon.com"}}, false),
			"InvalidIdentityToken", 400, "Incorrect token audience"},
		{"a forged signature", oidctest.SignWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: forger, KeyID: oidctest.RSAKeyID}}, idp.URL, main),
			"InvalidIdentityToken", 400, "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."},
		{"an unknown issuer", other.Sign(t, oidctest.Claims{Issuer: "https://token.example.invalid", Subject: main.Subject, Audience: main.Audience}, false),
			"InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://token.example.invalid"},
		{"not a token", "not-a-jwt", "InvalidIdentityToken", 400,
			"The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."},
	}
	for _, r := range refusals {
		_, err := assume(r.token)
		wantAPIError(t, "AssumeRoleWithWebIdentity with "+r.what, err, r.code, r.status, r.msg)
	}
	expired := main
	expired.Expiry = time.Now().Add(-10 * time.Minute)
	_, err = assume(idp.Sign(t, expired, false))
	wantAPIErrorCode(t, "AssumeRoleWithWebIdentity with an expired token", err, "ExpiredTokenException", 400)
	if _, msg := apiErrorCode(t, err); !strings.HasPrefix(msg, "Token expired: current date/time ") {
		t.Errorf("expired token message %q", msg)
	}

	// Deleting the provider ends the trust, whatever the role says.
	if _, err := b.IAM().DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = assume(idp.Sign(t, main, false))
	wantAPIError(t, "AssumeRoleWithWebIdentity after DeleteOpenIDConnectProvider", err, "InvalidIdentityToken", 400,
		"No OpenIDConnect provider found in your account for "+idp.URL)
}

func TestOpenIDConnectProviders(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	root := b.IAM()
	const thumb = "6938FD4D98BAB03FAADB97B34396831E3780AEA1"
	p, err := root.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{thumb}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(p.OpenIDConnectProviderArn)
	_, err = root.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com")})
	wantAPIError(t, "CreateOpenIDConnectProvider again", err, "EntityAlreadyExists", 409, "Provider with url https://token.actions.githubusercontent.com already exists.")
	if _, err := root.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("berth")}); err != nil {
		t.Fatal(err)
	}
	got, err := root.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Url) != "token.actions.githubusercontent.com" || !slices.Equal(got.ClientIDList, []string{"sts.amazonaws.com", "berth"}) ||
		!slices.Equal(got.ThumbprintList, []string{strings.ToLower(thumb)}) || got.CreateDate == nil {
		t.Fatalf("GetOpenIDConnectProvider = %+v", got)
	}
	list, err := root.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 1 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != arn {
		t.Fatalf("ListOpenIDConnectProviders = %+v, %v", list, err)
	}
	if _, err := root.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = root.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	wantAPIError(t, "GetOpenIDConnectProvider after delete", err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+arn)
	_, err = root.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://insecure.example")})
	wantAPIErrorCode(t, "CreateOpenIDConnectProvider(http://)", err, "InvalidInput", 400)
}

func TestGetSessionToken(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	k := createUserWithKey(t, b, "laptop")
	if _, err := b.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("laptop"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	user := sts.NewFromConfig(b.awsConfig(testRegion, k[0], k[1]))
	before := time.Now()
	out, err := user.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if d := aws.ToTime(c.Expiration).Sub(before); d < 12*time.Hour-time.Minute || d > 12*time.Hour+time.Minute {
		t.Errorf("default session lasts %v, want 12h", d)
	}
	sessCfg := b.sessionConfig(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if got, err := callerARN(t, sessCfg); err != nil || got != "arn:aws:iam::"+testAccount+":user/laptop" {
		t.Fatalf("GetCallerIdentity with the session = %s, %v", got, err)
	}
	if _, err := ecr.NewFromConfig(sessCfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatalf("DescribeRepositories with the user's session: %v", err)
	}
	_, err = ecr.NewFromConfig(sessCfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("not-allowed")})
	wantAPIErrorCode(t, "CreateRepository with a read-only user's session", err, "AccessDeniedException", 400)
	_, err = sts.NewFromConfig(sessCfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantAPIError(t, "GetSessionToken with session credentials", err, "AccessDenied", 403, "Cannot call GetSessionToken with session credentials")
	_, err = user.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)})
	wantAPIErrorCode(t, "GetSessionToken(129601s)", err, "ValidationError", 400)

	// The root's sessions last at most an hour, however long asked for.
	rootOut, err := b.STS().GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToTime(rootOut.Credentials.Expiration).Sub(before); d > time.Hour+time.Minute {
		t.Errorf("root session lasts %v, want at most 1h", d)
	}
}

// TestAssumeRoleWithWebIdentityCLI drives the exchange with the real aws
// CLI: its unsigned request, botocore's parsing of the answer, and its
// error output for a refused token.
func TestAssumeRoleWithWebIdentityCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	b := startBerth(t, "")
	idp, _, roleARN := webIdentitySetup(t, b)
	// A home of its own: the CLI caches assumed-role credentials under
	// ~/.aws/cli/cache by role and session name, which would hand this
	// run another Berth's session.
	home := t.TempDir()
	run := func(token string) ([]byte, error) {
		cmd := exec.Command("aws", "--endpoint-url", b.URL, "--region", testRegion, "--output", "json",
			"sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "cli", "--web-identity-token", token)
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
		// No credentials at all: the CLI signs nothing for this operation.
		cmd.Env = append(env, "HOME="+home, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
		return cmd.CombinedOutput()
	}
	out, err := run(idp.Sign(t, oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"}}, false))
	if err != nil {
		t.Fatalf("aws sts assume-role-with-web-identity: %v\n%s", err, out)
	}
	var v struct {
		Credentials                                     struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		SubjectFromWebIdentityToken, Audience, Provider string
	}
	if err := json.Unmarshal(out, &v); err != nil || !strings.HasPrefix(v.Credentials.AccessKeyId, "ASIA") ||
		v.SubjectFromWebIdentityToken != "repo:acme/app:ref:refs/heads/main" {
		t.Fatalf("CLI output %s (%v)", out, err)
	}

	// The CI recipe: the token in a file, and the CLI's own web identity
	// credential provider doing the exchange before calling ECR.
	tokenFile := filepath.Join(t.TempDir(), "oidc")
	if err := os.WriteFile(tokenFile, []byte(idp.Sign(t, oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"}}, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("aws", "--region", testRegion, "--output", "json", "ecr", "describe-repositories")
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	cmd.Env = append(env, "HOME="+home, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL="+b.URL, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile, "AWS_ROLE_ARN="+roleARN, "AWS_ROLE_SESSION_NAME=ci")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "repositories") {
		t.Fatalf("aws ecr describe-repositories with AWS_WEB_IDENTITY_TOKEN_FILE: %v\n%s", err, out)
	}

	out, err = run(idp.Sign(t, oidctest.Claims{Subject: "repo:evil/app:ref:refs/heads/main", Audience: []string{"sts.amazonaws.com"}}, false))
	if err == nil || !strings.Contains(string(out), "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity") {
		t.Fatalf("CLI with a wrong sub: %v\n%s", err, out)
	}
}
