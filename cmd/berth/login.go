package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/berth-registry/berth/internal/dockercfg"
	"github.com/berth-registry/berth/internal/ecrlogin"
)

const loginUsage = `Usage:
  berth login [--profile P] [--region R] [--registry-id ACCOUNT] [--docker-config DIR] [--pipe]

Logs the docker client in to a registry, as
  aws ecr get-login-password | docker login --username AWS --password-stdin HOST
does, without a docker daemon: the credential goes into the docker config
($DOCKER_CONFIG/config.json, else ~/.docker/config.json), where docker,
podman, crane, helm and go-containerregistry read it. With --pipe it runs
docker login instead (for a credsStore such as the desktop keychain).

The AWS identity comes from the SDK's standard chain: --profile or
AWS_PROFILE, environment keys, SSO and web-identity profiles. The endpoint
comes from AWS_ENDPOINT_URL (or the profile's endpoint_url): set it to
Berth's URL; leave it unset for Amazon ECR. The registry host is the
proxyEndpoint GetAuthorizationToken returns.
`

// login runs `berth login`.
func login(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("berth login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), loginUsage, "\nFlags:\n"); fs.PrintDefaults() }
	profile := fs.String("profile", "", "AWS profile (default: AWS_PROFILE or the default chain)")
	region := fs.String("region", "", "AWS region (default: the profile's or AWS_REGION)")
	registryID := fs.String("registry-id", "", "account whose registry to log in to (default: yours, from sts get-caller-identity)")
	dockerConfig := fs.String("docker-config", "", "docker config directory (default: $DOCKER_CONFIG or ~/.docker)")
	pipe := fs.Bool("pipe", false, "run `docker login --password-stdin` instead of writing the docker config")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := ecrlogin.LoadConfig(ctx, ecrlogin.Options{Profile: *profile, Region: *region})
	if err != nil {
		return err
	}
	l, err := ecrlogin.Fetch(ctx, ecr.NewFromConfig(cfg), sts.NewFromConfig(cfg), *registryID)
	if err != nil {
		return err
	}
	var where string
	if *pipe {
		if err := dockerLogin(ctx, l, *dockerConfig, stderr); err != nil {
			return err
		}
		where = "docker login"
	} else {
		dir := *dockerConfig
		if dir == "" {
			if dir, err = dockercfg.Dir(getenv); err != nil {
				return err
			}
		}
		f, err := dockercfg.Load(dir)
		if err != nil {
			return err
		}
		if err := f.SetAuth(l.Host, l.Username, l.Password); err != nil {
			return err
		}
		if err := f.Save(); err != nil {
			return err
		}
		where = f.Path()
		if h := f.Helper(l.Host); h != "" {
			// docker asks the helper first and never reads auths for this host.
			fmt.Fprintf(stderr, "berth login: warning: %s sends %s to the credential helper docker-credential-%s, so docker will not use this login; use --pipe, or remove that entry\n", f.Path(), l.Host, h)
		}
	}
	who := ""
	if l.Caller != "" {
		who = " as " + l.Caller
	}
	fmt.Fprintf(stdout, "Logged in to %s (registry %s, region %s)%s until %s; credential in %s\n",
		l.Host, l.RegistryID, cfg.Region, who, l.ExpiresAt.Local().Format(time.RFC1123), where)
	return nil
}

// dockerLogin hands the password to `docker login --password-stdin`, so
// that docker stores it wherever it is configured to (credsStore).
func dockerLogin(ctx context.Context, l *ecrlogin.Login, dockerConfig string, stderr io.Writer) error {
	args := []string{"login", "--username", l.Username, "--password-stdin", l.Host}
	if dockerConfig != "" {
		args = append([]string{"--config", dockerConfig}, args...)
	}
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = strings.NewReader(l.Password)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker login %s: %w: %s", l.Host, err, strings.TrimSpace(out.String()))
	}
	return nil
}
