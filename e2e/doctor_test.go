package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestDoctorClassicFailures runs the built `berth doctor` into each of the
// three classic push failures and checks that it names the cause in
// docker's words and the command that fixes it.
func TestDoctorClassicFailures(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("doctor/app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("doctor/frozen")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ECR().SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("doctor/frozen"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"frozen","Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}]}`)}); err != nil {
		t.Fatal(err)
	}
	reader := createUserWithKey(t, b, "reader")
	if _, err := b.IAM().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")}); err != nil {
		t.Fatal(err)
	}
	_, env := awsProfilesHome(t, b.URL, map[string][2]string{"dev": {testAccessKeyID, testSecretAccessKey}, "reader": reader})
	env = append(cleanEnv(), append(env, "DOCKER_CONFIG="+t.TempDir())...)

	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, berthBin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatalf("berth %v: %v", args, err)
			}
			code = ee.ExitCode()
		}
		return string(out), code
	}

	simulateSelf := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`
	steps := []struct {
		name     string
		login    string // profile to berth login with first, or ""
		policy   string // an inline policy given to the reader first, or ""
		args     []string
		wantCode int
		want     []string
	}{
		{name: "no login", args: []string{"--profile", "dev", "--repository", "doctor/app"}, wantCode: 1, want: []string{
			"FAIL  docker credential  no basic auth credentials", "fix: berth login --profile dev"}},
		{name: "repository does not exist", login: "dev", args: []string{"--profile", "dev", "--repository", "doctor/missing"}, wantCode: 1, want: []string{
			"repository does not exist: name unknown: The repository with name 'doctor/missing' does not exist in the registry with id '000000000000'",
			"fix: aws ecr create-repository --repository-name doctor/missing --profile dev"}},
		{name: "not authorized to push, probed", login: "reader", args: []string{"--profile", "reader", "--repository", "doctor/app"}, wantCode: 1, want: []string{
			"ok    pull", "FAIL  push",
			"arn:aws:iam::000000000000:user/reader is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:000000000000:repository/doctor/app (tried ecr:InitiateLayerUpload; this identity may not call iam:SimulatePrincipalPolicy)",
			"fix: aws iam attach-user-policy --user-name reader --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"}},
		// As in AWS, simulating one's own policies takes
		// iam:SimulatePrincipalPolicy on oneself.
		{name: "not authorized to push, simulated", policy: simulateSelf, args: []string{"--profile", "reader", "--repository", "doctor/app"}, wantCode: 1, want: []string{
			"ok    pull", "FAIL  push",
			"arn:aws:iam::000000000000:user/reader is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:000000000000:repository/doctor/app (IAM's policy simulator)",
			"fix: aws iam attach-user-policy --user-name reader --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"}},
		{name: "all well", login: "dev", args: []string{"--profile", "dev", "--repository", "doctor/app", "--registry", b.Host}, want: []string{
			"ok    who am I", "ok    docker credential  login for " + b.Host, "valid until", "ok    repository", "ok    pull", "ok    push",
			"ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage allowed on arn:aws:ecr:us-east-1:000000000000:repository/doctor/app (IAM's policy simulator)"}},
		{name: "a repository policy denies", login: "dev", args: []string{"--profile", "dev", "--repository", "doctor/frozen"}, wantCode: 1, want: []string{
			"ok    pull", "FAIL  push",
			"arn:aws:iam::000000000000:root is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:000000000000:repository/doctor/frozen with an explicit deny in the repository policy (line 1) (IAM's policy simulator, with the repository policy)",
			"fix: aws ecr get-repository-policy --repository-name doctor/frozen --profile dev"}},
	}
	for _, s := range steps {
		if s.policy != "" {
			if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("simulate-self"),
				PolicyDocument: aws.String(s.policy)}); err != nil {
				t.Fatal(err)
			}
		}
		if s.login != "" {
			if out, code := run("login", "--profile", s.login); code != 0 {
				t.Fatalf("%s: berth login: %s", s.name, out)
			}
		}
		out, code := run(append([]string{"doctor"}, s.args...)...)
		t.Logf("%s: berth doctor %v:\n%s", s.name, s.args, out)
		if code != s.wantCode {
			t.Errorf("%s: exit %d, want %d", s.name, code, s.wantCode)
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q", s.name, w)
			}
		}
	}
}
