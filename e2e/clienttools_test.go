package e2e

// The client tools as users run them: `berth login` writing the docker
// config that go-containerregistry then reads, and docker-credential-berth
// answering a credHelpers entry for a host alias. Both read an AWS profile
// from shared config files, as on a laptop.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var helperBuild struct {
	once sync.Once
	dir  string
	err  error
}

// credHelperDir is a directory holding a freshly built
// docker-credential-berth, to put on PATH.
func credHelperDir(t *testing.T) string {
	t.Helper()
	helperBuild.once.Do(func() {
		helperBuild.dir = filepath.Join(filepath.Dir(berthBin), "helper")
		out, err := exec.Command("go", "build", "-o", filepath.Join(helperBuild.dir, "docker-credential-berth"), "../cmd/docker-credential-berth").CombinedOutput()
		if err != nil {
			helperBuild.err = err
			helperBuild.dir = string(out)
		}
	})
	if helperBuild.err != nil {
		t.Fatalf("building docker-credential-berth: %v\n%s", helperBuild.err, helperBuild.dir)
	}
	return helperBuild.dir
}

// awsProfileHome writes a home directory whose ~/.aws defines profile dev
// (the root keys of b, and endpointURL if not "") and returns the
// environment that points the SDK at it and nowhere else.
func awsProfileHome(t *testing.T, endpointURL string) (home string, env []string) {
	return awsProfilesHome(t, endpointURL, map[string][2]string{"dev": {testAccessKeyID, testSecretAccessKey}})
}

// awsProfilesHome is awsProfileHome with the given profiles and keys.
func awsProfilesHome(t *testing.T, endpointURL string, profiles map[string][2]string) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	aws := filepath.Join(home, ".aws")
	os.MkdirAll(aws, 0o700)
	var conf, creds strings.Builder
	for name, keys := range profiles {
		conf.WriteString("[profile " + name + "]\nregion = " + testRegion + "\n")
		if endpointURL != "" {
			conf.WriteString("endpoint_url = " + endpointURL + "\n")
		}
		creds.WriteString("[" + name + "]\naws_access_key_id = " + keys[0] + "\naws_secret_access_key = " + keys[1] + "\n")
	}
	os.WriteFile(filepath.Join(aws, "config"), []byte(conf.String()), 0o600)
	os.WriteFile(filepath.Join(aws, "credentials"), []byte(creds.String()), 0o600)
	env = []string{
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(aws, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(aws, "credentials"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
	}
	return home, env
}

// cleanEnv is the process environment without anything that would choose
// an AWS identity, a docker config or a helper configuration.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "XDG_") || k == "DOCKER_CONFIG" || k == "HOME" || k == "BERTH_CREDENTIAL_HELPER_CONFIG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// setEnv replaces the test process's environment with env for the test,
// because go-containerregistry's keychain reads DOCKER_CONFIG and runs
// credential helpers with the process environment.
func setEnv(t *testing.T, env []string) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func pushRandom(ctx context.Context, ref string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	img, err := random.Image(512, 1)
	if err != nil {
		return err
	}
	return remote.Write(r, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(ggcrauthn.DefaultKeychain))
}

func TestBerthLoginThenPushWithDockerConfigOnly(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("login/app")}); err != nil {
		t.Fatal(err)
	}
	_, env := awsProfileHome(t, b.URL)
	dockerDir := t.TempDir()
	// Another tool's settings and another registry's login must survive.
	before := `{"auths": {"other.example": {"auth": "b3RoZXI6c2VjcmV0"}}, "psFormat": "table {{.ID}}"}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(before), 0o640); err != nil {
		t.Fatal(err)
	}
	env = append(cleanEnv(), append(env, "DOCKER_CONFIG="+dockerDir)...)
	setEnv(t, env)

	ref := b.Host + "/login/app:v1"
	if err := pushRandom(ctx, ref); err == nil {
		t.Fatal("push before berth login succeeded; the test would prove nothing")
	}

	cmd := exec.CommandContext(ctx, berthBin, "login", "--profile", "dev")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("berth login: %v\n%s", err, out)
	}
	t.Logf("berth login: %s", out)
	for _, want := range []string{"Logged in to " + b.Host, "registry " + testAccount, "until", filepath.Join(dockerDir, "config.json")} {
		if !strings.Contains(string(out), want) {
			t.Errorf("berth login printed %q, want it to mention %q", out, want)
		}
	}

	data, err := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths    map[string]map[string]string `json:"auths"`
		PsFormat string                       `json:"psFormat"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.PsFormat != "table {{.ID}}" || cfg.Auths["other.example"]["auth"] != "b3RoZXI6c2VjcmV0" || cfg.Auths[b.Host]["auth"] == "" {
		t.Errorf("docker config after login:\n%s", data)
	}
	if st, _ := os.Stat(filepath.Join(dockerDir, "config.json")); st.Mode().Perm() != 0o640 {
		t.Errorf("config.json mode %v, want the 0640 it had", st.Mode().Perm())
	}

	if err := pushRandom(ctx, ref); err != nil {
		t.Fatalf("push with the docker config berth login wrote: %v", err)
	}
	imgs, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("login/app")})
	if err != nil || len(imgs.ImageDetails) != 1 {
		t.Fatalf("describe-images after push: %v %+v", err, imgs)
	}
}

// TestBerthLoginPipe checks that --pipe hands the password to `docker login
// --password-stdin` and nothing to the command line, with a stand-in docker
// that records what it was given.
func TestBerthLoginPipe(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	_, env := awsProfileHome(t, b.URL)
	bin := t.TempDir()
	record := filepath.Join(bin, "record")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$*\" >" + record + "\ncat >>" + record + "\necho 'Login Succeeded'\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	dockerDir := t.TempDir()
	cmd := exec.CommandContext(ctx, berthBin, "login", "--profile", "dev", "--pipe", "--docker-config", dockerDir)
	cmd.Env = append(cleanEnv(), append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("berth login --pipe: %v\n%s", err, out)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	args, password, _ := strings.Cut(string(got), "\n")
	if want := "--config " + dockerDir + " login --username AWS --password-stdin " + b.Host; args != want {
		t.Errorf("docker ran with %q, want %q", args, want)
	}
	if !strings.HasPrefix(password, "berth1.") || strings.Contains(args, password) {
		t.Errorf("password on stdin %q", password)
	}
	if !strings.Contains(string(out), "credential in docker login") {
		t.Errorf("berth login --pipe printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(dockerDir, "config.json")); err == nil {
		t.Error("--pipe wrote the docker config itself")
	}
}

func TestCredentialHelperForHostAlias(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("helper/app")}); err != nil {
		t.Fatal(err)
	}
	// localhost:<port> is a name Berth's proxyEndpoint never gives: a
	// custom hostname in miniature.
	_, port, _ := strings.Cut(b.Host, ":")
	alias := "localhost:" + port
	home, env := awsProfileHome(t, "")
	helperCfg := filepath.Join(home, "helper.json")
	os.WriteFile(helperCfg, []byte(`{"registries": {"`+alias+`": {"profile": "dev", "endpoint": "`+b.URL+`"}}}`), 0o600)
	dockerDir := t.TempDir()
	os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"credHelpers": {"`+alias+`": "berth", "`+b.Host+`": "berth"}}`), 0o600)
	env = append(cleanEnv(), append(env,
		"DOCKER_CONFIG="+dockerDir,
		"BERTH_CREDENTIAL_HELPER_CONFIG="+helperCfg,
		"PATH="+credHelperDir(t)+string(os.PathListSeparator)+os.Getenv("PATH"))...)
	setEnv(t, env)

	if err := pushRandom(ctx, alias+"/helper/app:v1"); err != nil {
		t.Fatalf("push through the credential helper: %v", err)
	}
	imgs, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("helper/app")})
	if err != nil || len(imgs.ImageDetails) != 1 {
		t.Fatalf("describe-images after push: %v %+v", err, imgs)
	}
	cached, _ := filepath.Glob(filepath.Join(home, ".cache", "berth", "credential-helper", "*.json"))
	if len(cached) != 1 {
		t.Errorf("cached logins %v, want one", cached)
	}

	// The other name of the same server is routed to the helper but not
	// configured in it: docker's not-found answer, and words for a person.
	get := exec.CommandContext(ctx, "docker-credential-berth", "get")
	get.Stdin = strings.NewReader(b.Host + "\n")
	var stdout, stderr strings.Builder
	get.Stdout, get.Stderr = &stdout, &stderr
	if err := get.Run(); err == nil {
		t.Fatalf("get for an unconfigured host succeeded: %s", stdout.String())
	}
	if strings.TrimSpace(stdout.String()) != "credentials not found in native keychain" ||
		!strings.Contains(stderr.String(), "registry host "+b.Host+" is not configured in "+helperCfg) {
		t.Errorf("unconfigured host: stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// A profile that cannot log in names the profile and the reason.
	os.WriteFile(helperCfg, []byte(`{"registries": {"`+alias+`": {"profile": "nosuch", "endpoint": "`+b.URL+`"}}}`), 0o600)
	get = exec.CommandContext(ctx, "docker-credential-berth", "get")
	get.Stdin = strings.NewReader(alias)
	stdout.Reset()
	stderr.Reset()
	get.Stdout, get.Stderr = &stdout, &stderr
	if err := get.Run(); err == nil {
		t.Fatalf("get with a missing profile succeeded: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), `AWS profile "nosuch" is not in the AWS config files`) {
		t.Errorf("missing profile: stderr %q", stderr.String())
	}
}
