package doctor

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/dockercfg"
)

var now = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

type fakeSTS struct{ err error }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("111122223333"), Arn: aws.String("arn:aws:sts::111122223333:assumed-role/Dev/me")}, nil
}

type fakeECR struct {
	endpoint         string
	repoErr, pushErr error
	// policy is the repository's policy text, "" for none.
	policy string
}

func (f fakeECR) GetRepositoryPolicy(context.Context, *ecr.GetRepositoryPolicyInput, ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error) {
	if f.policy == "" {
		return nil, &ecrtypes.RepositoryPolicyNotFoundException{Message: aws.String("no policy")}
	}
	return &ecr.GetRepositoryPolicyOutput{PolicyText: aws.String(f.policy)}, nil
}

func (f fakeECR) GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{ProxyEndpoint: aws.String(f.endpoint)}}}, nil
}
func (f fakeECR) DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return &ecr.DescribeRepositoriesOutput{}, f.repoErr
}
func (f fakeECR) BatchGetImage(context.Context, *ecr.BatchGetImageInput, ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error) {
	return &ecr.BatchGetImageOutput{}, nil
}
func (f fakeECR) InitiateLayerUpload(context.Context, *ecr.InitiateLayerUploadInput, ...func(*ecr.Options)) (*ecr.InitiateLayerUploadOutput, error) {
	return &ecr.InitiateLayerUploadOutput{}, f.pushErr
}

// fakeIAM simulates: denied is refused (implicitly, or explicitly by the
// resource policy when one is given and it says "deny"), err refuses the
// call itself.
type fakeIAM struct {
	denied string
	err    error
}

func (f fakeIAM) SimulatePrincipalPolicy(_ context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if aws.ToString(in.PolicySourceArn) != "arn:aws:iam::111122223333:role/Dev" {
		return nil, fmt.Errorf("simulated for %s, want the role", aws.ToString(in.PolicySourceArn))
	}
	out := &iam.SimulatePrincipalPolicyOutput{}
	for _, a := range in.ActionNames {
		r := iamtypes.EvaluationResult{EvalActionName: aws.String(a), EvalDecision: iamtypes.PolicyEvaluationDecisionTypeAllowed}
		switch {
		case a == f.denied && strings.Contains(aws.ToString(in.ResourcePolicy), "Deny"):
			r.EvalDecision = iamtypes.PolicyEvaluationDecisionTypeExplicitDeny
			r.MatchedStatements = []iamtypes.Statement{{SourcePolicyId: aws.String("ResourcePolicy"), SourcePolicyType: iamtypes.PolicySourceTypeResource,
				StartPosition: &iamtypes.Position{Line: 3}, EndPosition: &iamtypes.Position{Line: 5}}}
		case a == f.denied:
			r.EvalDecision = iamtypes.PolicyEvaluationDecisionTypeImplicitDeny
		}
		out.EvaluationResults = append(out.EvaluationResults, r)
	}
	return out, nil
}

type fakeDocker struct {
	pw, helper string
}

func (f fakeDocker) Auth(string) (string, string, error) {
	if f.pw == "" {
		return "", "", dockercfg.ErrNoAuth
	}
	return "AWS", f.pw, nil
}
func (f fakeDocker) Helper(string) string { return f.helper }
func (f fakeDocker) Path() string         { return "config.json" }

func berthToken(exp time.Time) string {
	return "berth1." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"k":"AKIA","r":"us-east-1","e":%d}`, exp.Unix()))) + ".sig"
}

func ecrToken(exp time.Time) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"payload":"x","version":"2","expiration":%d}`, exp.Unix())))
}

func TestRun(t *testing.T) {
	ecrHost := "111122223333.dkr.ecr.us-east-1.amazonaws.com"
	good := fakeECR{endpoint: "https://" + ecrHost}
	notFound := &ecrtypes.RepositoryNotFoundException{Message: aws.String("not found")}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}
	tests := []struct {
		name   string
		env    Env
		opts   Options
		check  string
		status Status
		want   []string
	}{
		{name: "expired SSO session", env: Env{STS: fakeSTS{err: &smithy.GenericAPIError{Code: "ExpiredToken", Message: "expired"}}},
			opts: Options{Profile: "dev"}, check: "who am I", status: Fail, want: []string{"aws sso login --profile dev"}},
		{name: "wrong region", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{pw: berthToken(now.Add(time.Hour))}},
			opts: Options{Region: "us-east-1", Registry: "111122223333.dkr.ecr.eu-west-1.amazonaws.com"}, check: "registry", status: Fail,
			want: []string{"region eu-west-1", "berth login --region eu-west-1"}},
		{name: "other account", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{pw: berthToken(now.Add(time.Hour))}},
			opts: Options{Region: "us-east-1", Registry: "444455556666.dkr.ecr.us-east-1.amazonaws.com"}, check: "registry", status: Warn,
			want: []string{"berth login --registry-id 444455556666"}},
		{name: "no login", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{}},
			opts: Options{Region: "us-east-1", Profile: "p"}, check: "docker credential", status: Fail,
			want: []string{"no basic auth credentials", "berth login --profile p"}},
		{name: "expired ECR login", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{pw: ecrToken(now.Add(-time.Minute))}},
			opts: Options{Region: "us-east-1"}, check: "docker credential", status: Fail,
			want: []string{"no basic auth credentials", "expired at 2030-01-01T11:59:00Z", "berth login"}},
		{name: "opaque login refused", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{pw: "opaque"},
			Probe: func(context.Context, string, string, string) (int, error) { return 401, nil }},
			opts: Options{Region: "us-east-1"}, check: "docker credential", status: Fail, want: []string{"HTTP 401"}},
		{name: "helper", env: Env{STS: fakeSTS{}, ECR: good, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1"}, check: "docker credential", status: OK, want: []string{"docker-credential-berth"}},
		{name: "missing repository", env: Env{STS: fakeSTS{}, ECR: fakeECR{endpoint: good.endpoint, repoErr: notFound}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "repository", status: Fail,
			want: []string{"repository does not exist", "with id '111122223333'", "aws ecr create-repository --repository-name app"}},
		{name: "push denied, simulator", env: Env{STS: fakeSTS{}, ECR: good, IAM: fakeIAM{denied: "ecr:InitiateLayerUpload"}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "push", status: Fail,
			want: []string{"not authorized to perform: ecr:InitiateLayerUpload", "policy simulator", "aws iam attach-role-policy --role-name Dev"}},
		{name: "push denied by the repository policy, simulator", env: Env{STS: fakeSTS{}, ECR: fakeECR{endpoint: good.endpoint, policy: `{"Statement":[{"Effect":"Deny"}]}`},
			IAM: fakeIAM{denied: "ecr:PutImage"}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "push", status: Fail,
			want: []string{"not authorized to perform: ecr:PutImage", "with an explicit deny in the repository policy (lines 3-5)",
				"IAM's policy simulator, with the repository policy", "aws ecr get-repository-policy --repository-name app"}},
		{name: "all allowed, simulator", env: Env{STS: fakeSTS{}, ECR: good, IAM: fakeIAM{}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "pull", status: OK,
			want: []string{"ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer allowed on", "(IAM's policy simulator)"}},
		{name: "simulator refused, probe", env: Env{STS: fakeSTS{}, ECR: fakeECR{endpoint: good.endpoint, pushErr: denied},
			IAM: fakeIAM{err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "push", status: Fail,
			want: []string{"not authorized to perform: ecr:InitiateLayerUpload", "tried ecr:InitiateLayerUpload; this identity may not call iam:SimulatePrincipalPolicy"}},
		{name: "push denied, probe", env: Env{STS: fakeSTS{}, ECR: fakeECR{endpoint: good.endpoint, pushErr: denied}, Docker: fakeDocker{helper: "berth"}},
			opts: Options{Region: "us-east-1", Repository: "app"}, check: "push", status: Fail,
			want: []string{"not authorized to perform: ecr:InitiateLayerUpload", "SimulatePrincipalPolicy not available"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.Now = func() time.Time { return now }
			fs := Run(context.Background(), tt.env, tt.opts)
			var f *Finding
			for i := range fs {
				if fs[i].Check == tt.check {
					f = &fs[i]
				}
			}
			if f == nil {
				t.Fatalf("no %q check in %+v", tt.check, fs)
			}
			if f.Status != tt.status {
				t.Errorf("status %s, want %s: %+v", f.Status, tt.status, f)
			}
			for _, w := range tt.want {
				if !strings.Contains(f.Detail+" | "+f.Fix, w) {
					t.Errorf("%+v lacks %q", f, w)
				}
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	exp := time.Unix(1893499200, 0).UTC()
	tests := []struct {
		pw string
		ok bool
	}{
		{berthToken(exp), true},
		{ecrToken(exp), true},
		{"berth1.!!.x", false},
		{"opaque", false},
		{base64.StdEncoding.EncodeToString([]byte(`{"payload":"x"}`)), false},
	}
	for _, tt := range tests {
		got, ok := TokenExpiry(tt.pw)
		if ok != tt.ok || (ok && !got.Equal(exp)) {
			t.Errorf("TokenExpiry(%q) = %v, %v", tt.pw, got, ok)
		}
	}
}

func TestParseECRHost(t *testing.T) {
	tests := []struct{ host, acct, region string }{
		{"111122223333.dkr.ecr.eu-west-1.amazonaws.com", "111122223333", "eu-west-1"},
		{"111122223333.dkr.ecr-fips.us-east-1.amazonaws.com", "111122223333", "us-east-1"},
		{"111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn", "111122223333", "cn-north-1"},
		{"registry.example.com", "", ""},
		{"127.0.0.1:5000", "", ""},
	}
	for _, tt := range tests {
		a, r, ok := ParseECRHost(tt.host)
		if a != tt.acct || r != tt.region || ok != (tt.acct != "") {
			t.Errorf("ParseECRHost(%s) = %s, %s, %v", tt.host, a, r, ok)
		}
	}
}
