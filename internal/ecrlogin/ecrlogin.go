// Package ecrlogin turns an AWS identity into a registry login, as `aws ecr
// get-login-password` does: the SDK's standard configuration chain, the
// account from STS, and ECR's GetAuthorizationToken. It works the same
// against Berth (with an endpoint override) and against Amazon ECR.
package ecrlogin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Options choose the identity and the registry.
type Options struct {
	// Profile is a profile of the shared AWS config files; "" means the
	// default chain (AWS_PROFILE, environment keys, SSO, web identity...).
	Profile string
	// Region overrides the profile's region.
	Region string
	// Endpoint overrides the endpoint of every service, like
	// AWS_ENDPOINT_URL; "" leaves the SDK's resolution alone.
	Endpoint string
}

// LoadConfig is the SDK configuration for opts: config.LoadDefaultConfig,
// so that AWS_ENDPOINT_URL, per-service endpoint settings, SSO sessions,
// web-identity and credential_process profiles all work as in the AWS CLI.
func LoadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(opts.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return aws.Config{}, fmt.Errorf("AWS profile %q is not in the AWS config files (~/.aws/config, ~/.aws/credentials or AWS_CONFIG_FILE): create it with `aws configure --profile %[1]s` or `aws configure sso --profile %[1]s`", opts.Profile)
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration%s: %w", profileWords(opts.Profile), err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region%s: pass --region or set AWS_REGION or the profile's region", profileWords(opts.Profile))
	}
	return cfg, nil
}

func profileWords(p string) string {
	if p == "" {
		return ""
	}
	return fmt.Sprintf(" of profile %q", p)
}

// TokenGetter is the part of the ECR client a login needs.
type TokenGetter interface {
	GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// CallerIdentifier is the part of the STS client a login needs.
type CallerIdentifier interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Login is a registry credential.
type Login struct {
	// Host is the registry host[:port], from the proxyEndpoint.
	Host          string
	ProxyEndpoint string
	Username      string // AWS
	Password      string
	ExpiresAt     time.Time
	// RegistryID is the account whose registry this is.
	RegistryID string
	// Caller is the identity's ARN when STS was asked, else "".
	Caller string
}

// Fetch logs in to registryID's registry; "" means the caller's own
// account, found with STS GetCallerIdentity as ecr_login scripts do.
func Fetch(ctx context.Context, ecrc TokenGetter, stsc CallerIdentifier, registryID string) (*Login, error) {
	var caller string
	if registryID == "" {
		id, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("finding your account (sts get-caller-identity): %w", Explain(err))
		}
		registryID = aws.ToString(id.Account)
		caller = aws.ToString(id.Arn)
	}
	out, err := ecrc.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{registryID}})
	if err != nil {
		return nil, fmt.Errorf("getting a login token for registry %s (ecr get-authorization-token): %w", registryID, Explain(err))
	}
	if len(out.AuthorizationData) == 0 {
		return nil, fmt.Errorf("ecr get-authorization-token for registry %s returned no authorization data", registryID)
	}
	ad := out.AuthorizationData[0]
	l, err := Decode(aws.ToString(ad.AuthorizationToken), aws.ToString(ad.ProxyEndpoint))
	if err != nil {
		return nil, err
	}
	l.ExpiresAt = aws.ToTime(ad.ExpiresAt)
	l.RegistryID = registryID
	l.Caller = caller
	return l, nil
}

// Decode splits an ECR authorization token (base64 "AWS:<password>") and
// takes the registry host from the proxy endpoint.
func Decode(token, proxyEndpoint string) (*Login, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("the authorization token is not base64: %w", err)
	}
	user, pw, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pw == "" {
		return nil, errors.New("the authorization token is not user:password")
	}
	host, err := HostOf(proxyEndpoint)
	if err != nil {
		return nil, err
	}
	return &Login{Host: host, ProxyEndpoint: proxyEndpoint, Username: user, Password: pw}, nil
}

// HostOf is the host[:port] of a proxy endpoint such as
// https://123456789012.dkr.ecr.us-east-1.amazonaws.com.
func HostOf(proxyEndpoint string) (string, error) {
	u, err := url.Parse(proxyEndpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the proxy endpoint %q is not a URL", proxyEndpoint)
	}
	return u.Host, nil
}

// Explain adds the one thing to do to the AWS errors people meet when
// logging in; other errors pass unchanged.
func Explain(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException":
		return fmt.Errorf("%w (the session has ended: for an SSO profile run `aws sso login --profile <profile>`, otherwise get new credentials)", err)
	case "InvalidClientTokenId", "UnrecognizedClientException":
		return fmt.Errorf("%w (the access key is unknown to this endpoint: check the profile's keys and AWS_ENDPOINT_URL)", err)
	case "SignatureDoesNotMatch":
		return fmt.Errorf("%w (the secret access key does not match the access key)", err)
	}
	return err
}
