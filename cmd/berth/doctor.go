package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/berth-registry/berth/internal/dockercfg"
	"github.com/berth-registry/berth/internal/doctor"
	"github.com/berth-registry/berth/internal/ecrlogin"
)

const doctorUsage = `Usage:
  berth doctor [--profile P] [--region R] [--registry HOST] [--repository NAME] [--docker-config DIR]

Explains why docker push or pull fails: who you are (STS), whether the
registry host matches your account and region, whether docker holds a
current login for the host, whether the repository exists, and whether you
may pull and push (by IAM's policy simulator, with the repository policy,
or by probes where the simulator does not answer) — each problem with the
command that fixes it. Exits 1 when a check fails. Works against Berth
(AWS_ENDPOINT_URL) and Amazon ECR.
`

func doctorCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("berth doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), doctorUsage, "\nFlags:\n"); fs.PrintDefaults() }
	profile := fs.String("profile", "", "AWS profile (default: AWS_PROFILE or the default chain)")
	region := fs.String("region", "", "AWS region (default: the profile's or AWS_REGION)")
	registry := fs.String("registry", "", "registry host docker pushes to (default: your account's, from get-authorization-token)")
	repository := fs.String("repository", "", "repository to check")
	dockerConfig := fs.String("docker-config", "", "docker config directory (default: $DOCKER_CONFIG or ~/.docker)")
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
	dir := *dockerConfig
	if dir == "" {
		if dir, err = dockercfg.Dir(getenv); err != nil {
			return err
		}
	}
	dc, err := dockercfg.Load(dir)
	if err != nil {
		return err
	}
	env := doctor.Env{
		STS:    sts.NewFromConfig(cfg),
		ECR:    ecr.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		Docker: dc,
		Probe:  probeV2,
		Now:    time.Now,
	}
	findings := doctor.Run(ctx, env, doctor.Options{Profile: *profile, Region: cfg.Region,
		Registry: dockercfg.NormalizeHost(*registry), Repository: *repository})
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	failed := 0
	for _, f := range findings {
		// The status is padded by hand so that it reads the same
		// whatever statuses the other lines have.
		fmt.Fprintf(tw, "%-4s  %s\t%s\n", f.Status, f.Check, f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(tw, "%-4s  %s\tfix: %s\n", "", "", f.Fix)
		}
		if f.Status == doctor.Fail {
			failed++
		}
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d problem(s) found", failed)
	}
	return nil
}

// probeV2 asks GET /v2/ with the login, over HTTPS, and over plain HTTP
// for the hosts docker allows it for or when HTTPS does not answer.
func probeV2(ctx context.Context, host, user, password string) (int, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var errs []error
	for _, scheme := range []string{"https", "http"} {
		if scheme == "https" && (strings.HasPrefix(host, "127.0.0.1") || strings.HasPrefix(host, "localhost")) {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+"/v2/", nil)
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth(user, password)
		resp, err := client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	return 0, errors.Join(errs...)
}
