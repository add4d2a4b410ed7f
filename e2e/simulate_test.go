package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// TestSimulatePrincipalPolicyWithCLI asks IAM's policy simulator through
// the real aws CLI and boto3 (botocore parses Berth's XML) for allowed,
// implicitDeny and explicitDeny, and checks that each decision is the one
// the server enforces on a real call.
func TestSimulatePrincipalPolicyWithCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("sim/app")}); err != nil {
		t.Fatal(err)
	}
	dev := createUserWithKey(t, b, "sim-dev")
	if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sim-dev"), PolicyName: aws.String("ecr"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Sid":"pull","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:DescribeRepositories"],"Resource":"*"},
			{"Sid":"NoDelete","Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	repo := "arn:aws:ecr:" + testRegion + ":" + testAccount + ":repository/sim/app"
	source := "arn:aws:iam::" + testAccount + ":user/sim-dev"
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") }),
		"AWS_ACCESS_KEY_ID="+testAccessKeyID, "AWS_SECRET_ACCESS_KEY="+testSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_DEFAULT_REGION="+testRegion)

	cmd := exec.CommandContext(ctx, "aws", "--endpoint-url", b.URL, "--output", "json", "iam", "simulate-principal-policy",
		"--policy-source-arn", source, "--action-names", "ecr:BatchGetImage", "ecr:PutImage", "ecr:DeleteRepository", "--resource-arns", repo)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws iam simulate-principal-policy: %v\n%s", err, out)
	}
	var cli struct {
		EvaluationResults []struct {
			EvalActionName, EvalResourceName, EvalDecision string
			MatchedStatements                              []struct{ SourcePolicyId, SourcePolicyType string }
			ResourceSpecificResults                        []struct{ EvalResourceName, EvalResourceDecision string }
		}
	}
	if err := json.Unmarshal(out, &cli); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]string{"ecr:BatchGetImage": "allowed", "ecr:PutImage": "implicitDeny", "ecr:DeleteRepository": "explicitDeny"}
	if len(cli.EvaluationResults) != len(want) {
		t.Fatalf("results: %s", out)
	}
	for _, r := range cli.EvaluationResults {
		if r.EvalDecision != want[r.EvalActionName] || r.EvalResourceName != repo {
			t.Errorf("%s on %s: %s, want %s", r.EvalActionName, r.EvalResourceName, r.EvalDecision, want[r.EvalActionName])
		}
		if len(r.ResourceSpecificResults) != 1 || r.ResourceSpecificResults[0].EvalResourceDecision != r.EvalDecision {
			t.Errorf("%s: ResourceSpecificResults %+v", r.EvalActionName, r.ResourceSpecificResults)
		}
		if r.EvalDecision != "implicitDeny" && (len(r.MatchedStatements) != 1 || r.MatchedStatements[0].SourcePolicyId != "ecr" || r.MatchedStatements[0].SourcePolicyType != "user") {
			t.Errorf("%s: MatchedStatements %+v", r.EvalActionName, r.MatchedStatements)
		}
	}

	// Enforcement agrees: the same user, the real calls.
	as := ecr.NewFromConfig(b.awsConfig(testRegion, dev[0], dev[1]))
	_, err = as.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("sim/app"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("none")}}})
	if isAccessDenied(err) {
		t.Errorf("BatchGetImage, simulated allowed: %v", err)
	}
	_, err = as.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("sim/app"), ImageManifest: aws.String("{}"), ImageTag: aws.String("x")})
	if !isAccessDenied(err) || !strings.Contains(err.Error(), "because no identity-based policy allows the ecr:PutImage action") {
		t.Errorf("PutImage, simulated implicitDeny: %v", err)
	}
	_, err = as.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("sim/app")})
	if !isAccessDenied(err) || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Errorf("DeleteRepository, simulated explicitDeny: %v", err)
	}

	// A repository policy given inline, and an unknown user, through boto3.
	if _, err := exec.LookPath("python3"); err != nil {
		return
	}
	script := `
import boto3, botocore, json, sys
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name=sys.argv[2])
deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}]})
r = iam.simulate_principal_policy(PolicySourceArn=sys.argv[3], ActionNames=["ecr:BatchGetImage"], ResourceArns=[sys.argv[4]], ResourcePolicy=deny)
e = r["EvaluationResults"][0]
print(e["EvalDecision"], e["MatchedStatements"][0]["SourcePolicyType"])
try:
    iam.simulate_principal_policy(PolicySourceArn=sys.argv[3] + "-ghost", ActionNames=["ecr:BatchGetImage"])
except botocore.exceptions.ClientError as err:
    print(err.response["Error"]["Code"], err.response["Error"]["Message"])
`
	cmd = exec.CommandContext(ctx, "python3", "-c", script, b.URL, testRegion, source, repo)
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if strings.Contains(string(out), "No module named 'boto3'") {
		t.Log("boto3 is not installed")
		return
	}
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	if got, want := string(out), "explicitDeny resource\nNoSuchEntity The user with name sim-dev-ghost cannot be found.\n"; got != want {
		t.Errorf("boto3 printed %q, want %q", got, want)
	}
}

// isAccessDenied reports whether err is ECR's refusal.
func isAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"
}
