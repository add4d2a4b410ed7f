// Package doctor diagnoses why a docker push or pull to an ECR registry
// (Berth or Amazon's) fails, in the words of the three classic failures —
// "no basic auth credentials", "repository does not exist", "not
// authorized to perform ecr:InitiateLayerUpload" — and names for each
// problem the one command that fixes it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/ecrlogin"
)

// Status is a check's outcome.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "FAIL"
	Skip Status = "skip"
)

// Finding is one check's result.
type Finding struct {
	Check  string
	Status Status
	Detail string
	// Fix is the one command that fixes a problem.
	Fix string
}

// ECR is the part of the ECR client the checks use.
type ECR interface {
	ecrlogin.TokenGetter
	DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	BatchGetImage(context.Context, *ecr.BatchGetImageInput, ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
	InitiateLayerUpload(context.Context, *ecr.InitiateLayerUploadInput, ...func(*ecr.Options)) (*ecr.InitiateLayerUploadOutput, error)
	// GetRepositoryPolicy gives the simulator the repository's policy, so
	// that a repository policy that denies is found too.
	GetRepositoryPolicy(context.Context, *ecr.GetRepositoryPolicyInput, ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error)
}

// IAM is the part of the IAM client the checks use.
type IAM interface {
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// Credentials reads the docker client's login for a host.
type Credentials interface {
	// Auth is the stored user and password; errors.Is(err,
	// dockercfg.ErrNoAuth) when there is none.
	Auth(host string) (user, password string, err error)
	// Helper is the credential helper docker asks for host, or "".
	Helper(host string) string
	Path() string
}

// Prober asks the registry's /v2/ whether a login is accepted and returns
// the HTTP status.
type Prober func(ctx context.Context, host, user, password string) (int, error)

// Env is everything the checks talk to.
type Env struct {
	STS    ecrlogin.CallerIdentifier
	ECR    ECR
	IAM    IAM
	Docker Credentials
	Probe  Prober
	Now    func() time.Time
}

// Options say what to diagnose.
type Options struct {
	Profile    string
	Region     string
	Registry   string // host; "" for the caller's own registry
	Repository string
}

// Run performs the checks in order, stopping where later ones cannot mean
// anything (no identity, no registry).
func Run(ctx context.Context, env Env, o Options) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	prof := ""
	if o.Profile != "" {
		prof = " --profile " + o.Profile
	}

	// 1. Who am I.
	id, err := env.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fix := "aws configure" + prof
		if isCode(err, "ExpiredToken", "ExpiredTokenException") {
			fix = "aws sso login" + prof
		}
		add(Finding{Check: "who am I", Status: Fail, Detail: "sts get-caller-identity failed: " + err.Error(), Fix: fix})
		return out
	}
	account, arn := aws.ToString(id.Account), aws.ToString(id.Arn)
	add(Finding{Check: "who am I", Status: OK, Detail: fmt.Sprintf("%s (account %s, region %s)", arn, account, o.Region)})

	// 2. Which registry, and does it match the identity.
	tok, err := env.ECR.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(tok.AuthorizationData) == 0 {
		add(Finding{Check: "login token", Status: Fail,
			Detail: fmt.Sprintf("ecr get-authorization-token failed, so no docker login can work: %v", err),
			Fix:    policyFix(arn, "ecr:GetAuthorizationToken")})
		return out
	}
	ownHost, _ := ecrlogin.HostOf(aws.ToString(tok.AuthorizationData[0].ProxyEndpoint))
	host, registryID := o.Registry, account
	if host == "" {
		host = ownHost
	}
	if acct, region, ok := ParseECRHost(host); ok {
		registryID = acct
		switch {
		case region != o.Region:
			add(Finding{Check: "registry", Status: Fail,
				Detail: fmt.Sprintf("%s is in region %s but your profile uses %s: the login would be for the wrong registry", host, region, o.Region),
				Fix:    "berth login" + prof + " --region " + region})
		case acct != account:
			add(Finding{Check: "registry", Status: Warn,
				Detail: fmt.Sprintf("%s is account %s's registry and you are in account %s: pushes and pulls need that account's repository policy to allow you", host, acct, account),
				Fix:    "berth login" + prof + " --registry-id " + acct})
		default:
			add(Finding{Check: "registry", Status: OK, Detail: fmt.Sprintf("%s is your account's registry in %s", host, region)})
		}
	} else if host != ownHost {
		add(Finding{Check: "registry", Status: Warn,
			Detail: fmt.Sprintf("%s is not the host the login names (%s); fine if it is another name for the same Berth (a proxy, an alias)", host, ownHost)})
	} else {
		add(Finding{Check: "registry", Status: OK, Detail: fmt.Sprintf("%s serves registry %s", host, account)})
	}

	// 3. Does docker hold a working login for the host.
	add(checkCredential(ctx, env, host, prof))

	// 4. Does the repository exist.
	if o.Repository == "" {
		add(Finding{Check: "repository", Status: Skip, Detail: "no --repository given"})
		return out
	}
	_, err = env.ECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(registryID), RepositoryNames: []string{o.Repository}})
	var notFound *ecrtypes.RepositoryNotFoundException
	switch {
	case errors.As(err, &notFound):
		add(Finding{Check: "repository", Status: Fail,
			Detail: fmt.Sprintf("repository does not exist: name unknown: The repository with name '%s' does not exist in the registry with id '%s'", o.Repository, registryID),
			Fix:    "aws ecr create-repository --repository-name " + o.Repository + prof})
		return out
	case err != nil:
		add(Finding{Check: "repository", Status: Warn, Detail: "could not tell: ecr describe-repositories: " + err.Error()})
	default:
		add(Finding{Check: "repository", Status: OK, Detail: fmt.Sprintf("%s exists in registry %s", o.Repository, registryID)})
	}

	// 5. May this identity pull and push.
	out = append(out, checkPermissions(ctx, env, arn, o, registryID)...)
	return out
}

func checkCredential(ctx context.Context, env Env, host, prof string) Finding {
	f := Finding{Check: "docker credential"}
	if h := env.Docker.Helper(host); h != "" {
		f.Status = OK
		f.Detail = fmt.Sprintf("docker asks docker-credential-%s for %s (%s)", h, host, env.Docker.Path())
		if h != "berth" && h != "ecr-login" {
			f.Status = Warn
			f.Detail += "; that helper must hold a current ECR login, or docker answers \"no basic auth credentials\""
			f.Fix = "berth login" + prof + " --pipe"
		}
		return f
	}
	user, pw, err := env.Docker.Auth(host)
	if err != nil {
		f.Status = Fail
		f.Detail = fmt.Sprintf("no basic auth credentials: %s has no login for %s (%v)", env.Docker.Path(), host, err)
		f.Fix = "berth login" + prof
		return f
	}
	if user != "AWS" {
		f.Status = Warn
		f.Detail = fmt.Sprintf("the login for %s is for user %q, not AWS: not an ECR login", host, user)
		f.Fix = "berth login" + prof
		return f
	}
	if exp, ok := TokenExpiry(pw); ok {
		if !env.Now().Before(exp) {
			f.Status = Fail
			f.Detail = fmt.Sprintf("no basic auth credentials: the login for %s in %s expired at %s (ECR logins last 12 hours)", host, env.Docker.Path(), exp.Format(time.RFC3339))
			f.Fix = "berth login" + prof
			return f
		}
		f.Status = OK
		f.Detail = fmt.Sprintf("login for %s in %s, valid until %s", host, env.Docker.Path(), exp.Format(time.RFC3339))
		return f
	}
	status, err := env.Probe(ctx, host, user, pw)
	switch {
	case err != nil:
		f.Status = Warn
		f.Detail = fmt.Sprintf("could not reach https or http://%s/v2/: %v", host, err)
	case status == 401 || status == 403:
		f.Status = Fail
		f.Detail = fmt.Sprintf("no basic auth credentials: %s refuses the login in %s (HTTP %d: expired or for another registry)", host, env.Docker.Path(), status)
		f.Fix = "berth login" + prof
	default:
		f.Status = OK
		f.Detail = fmt.Sprintf("login for %s in %s accepted by /v2/ (HTTP %d)", host, env.Docker.Path(), status)
	}
	return f
}

var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.`)

// ParseECRHost reads the account and region from an ECR-shaped host
// (<account>.dkr.ecr.<region>.<domain>).
func ParseECRHost(host string) (account, region string, ok bool) {
	m := ecrHostRE.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
