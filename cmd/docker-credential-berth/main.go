// Command docker-credential-berth is a docker credential helper that logs
// in to any registry host (Berth, Amazon ECR, a custom domain or a proxy in
// front of either) with the AWS profile configured for that host.
//
// Configure docker with {"credHelpers": {"registry.example.com": "berth"}}
// and map the host to a profile in ~/.config/berth/credential-helper.json
// (or $BERTH_CREDENTIAL_HELPER_CONFIG):
//
//	{"registries": {"registry.example.com": {"profile": "dev",
//	    "region": "us-east-1", "registryId": "111122223333",
//	    "endpoint": "https://registry.example.com"}}}
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/berth-registry/berth/internal/credhelper"
	"github.com/berth-registry/berth/internal/ecrlogin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: docker-credential-berth get|store|erase|list|version (docker runs it; see Berth's docs/client-tools.md)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	// Docker waits for the helper with no deadline of its own.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	code := run(ctx, os.Args[1])
	cancel()
	stop()
	os.Exit(code)
}

func run(ctx context.Context, action string) int {
	fail := func(err error) int {
		fmt.Println(err)
		fmt.Fprintln(os.Stderr, "docker-credential-berth:", err)
		return 1
	}
	path, err := credhelper.ConfigPath(os.Getenv)
	if err != nil {
		return fail(err)
	}
	cfg, err := credhelper.LoadConfig(path)
	if err != nil {
		return fail(err)
	}
	cacheDir, err := credhelper.CacheDir(os.Getenv)
	if err != nil {
		return fail(err)
	}
	h := &credhelper.Helper{
		Config: cfg,
		Cache:  credhelper.Cache{Dir: cacheDir},
		Fetch:  fetch,
		Getenv: os.Getenv,
		Now:    time.Now,
	}
	return h.Run(ctx, action, os.Stdin, os.Stdout, os.Stderr)
}

func fetch(ctx context.Context, _ string, e credhelper.Entry) (*ecrlogin.Login, error) {
	cfg, err := ecrlogin.LoadConfig(ctx, ecrlogin.Options{Profile: e.Profile, Region: e.Region, Endpoint: e.Endpoint})
	if err != nil {
		return nil, err
	}
	return ecrlogin.Fetch(ctx, ecr.NewFromConfig(cfg), sts.NewFromConfig(cfg), e.RegistryID)
}
