// Package config builds Berth's configuration from flags and BERTH_*
// environment variables. A flag given on the command line wins over the
// environment, which wins over the default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/clientaddr"
	"github.com/berth-registry/berth/internal/storeurl"
)

// Config is everything `berth serve` needs.
type Config struct {
	Listen  string
	DataDir string
	// Meta and Blobs choose the stores by URL (package storeurl); "" is
	// the embedded default under DataDir.
	Meta  string
	Blobs string
	// BlobsRedirect answers blob GETs with a redirect to the blob store,
	// where it can make one (S3's presigned URLs).
	BlobsRedirect bool
	// S3AccessKeyID and S3SecretAccessKey are an s3:// blob store's static
	// keys (BERTH_S3_ACCESS_KEY_ID, BERTH_S3_SECRET_ACCESS_KEY); without
	// them the AWS SDK's default chain finds credentials.
	S3AccessKeyID          string
	S3SecretAccessKey      string
	TLSCert                string
	TLSKey                 string
	LogLevel               string
	LogFormat              string
	AutoCreateRepositories bool
	DefaultAccount         string
	DefaultRegion          string
	// PublicRegistryHost is the data-plane host of ECR Public registries.
	PublicRegistryHost string
	// PublicPullRate and PublicPullBurst limit anonymous pulls on the
	// public host per source address; a rate of 0 limits nothing.
	PublicPullRate  float64
	PublicPullBurst int
	// TrustedProxies are the load balancers and proxies whose
	// X-Forwarded-For names the client (package clientaddr).
	TrustedProxies  clientaddr.Trusted
	ShutdownTimeout time.Duration
	UploadTTL       time.Duration
	AccessKeyID     string
	SecretAccessKey string
	TokenKey        string
	PublicURL       string
	RegistryDomain  string
	// IAM Identity Center (docs/sso.md): how long an access token lasts,
	// how long a sign-in lasts with its refreshes, and an optional cap on
	// the role credentials the portal hands out.
	SSOAccessTokenTTL   time.Duration
	SSOSessionTTL       time.Duration
	SSORoleSessionLimit time.Duration
	// Lifecycle policies and garbage collection (docs/lifecycle.md).
	LifecycleInterval time.Duration
	GCInterval        time.Duration
	GCGrace           time.Duration
	Metrics           bool
	// ImageEvents is where ECR's image action events go: "log" or "off".
	ImageEvents string
	// Pprof is a loopback address for net/http/pprof; empty serves none.
	Pprof string
	// Vulnerability data (docs/scanning.md): VulnDBSync are sources
	// imported again every VulnDBSyncInterval; VulnDBCheckInterval is how
	// often a node looks whether the data changed (continuous scanning)
	// and whether a sync is due.
	VulnDBSync          []string
	VulnDBSyncInterval  time.Duration
	VulnDBCheckInterval time.Duration
	// PullThroughRefresh is how old a tag cached by a pull through cache
	// rule may be before a pull asks the upstream where it points now.
	PullThroughRefresh time.Duration
}

// sources is a repeatable flag; from the environment, its value is split
// at commas.
type sources struct{ list *[]string }

func (s sources) String() string {
	if s.list == nil {
		return ""
	}
	return strings.Join(*s.list, ",")
}

func (s sources) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s.list = append(*s.list, part)
		}
	}
	return nil
}

// envName is the environment variable for a flag: --data-dir → BERTH_DATA_DIR.
func envName(flagName string) string {
	return "BERTH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads the serve flags in args, falling back to the environment.
// -h and --help return flag.ErrHelp; the flag set prints nothing, so the
// caller prints an error once and the usage (Usage) where it belongs.
func Parse(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	fs := flagSet(c)
	set := map[string]bool{}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, c.validate()
}

// flagSet defines berth serve's flags on c. It prints nothing itself.
func flagSet(c *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("berth serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:5000", "address to listen on (host:port)")
	fs.StringVar(&c.DataDir, "data", "./berth-data", "directory for the embedded database and blobs, and the node's local files")
	fs.StringVar(&c.Meta, "meta", "", "metadata store: sqlite:PATH or postgres://user:pass@host:port/db?sslmode=… (default sqlite:<data>/berth.db)")
	fs.StringVar(&c.S3AccessKeyID, "s3-access-key-id", "", "access key id of an s3:// blob store; prefer BERTH_S3_ACCESS_KEY_ID (default: the AWS SDK's credential chain)")
	fs.StringVar(&c.S3SecretAccessKey, "s3-secret-access-key", "", "secret access key of an s3:// blob store; prefer BERTH_S3_SECRET_ACCESS_KEY")
	fs.BoolVar(&c.BlobsRedirect, "blobs-redirect", false, "answer blob downloads with a 307 to a presigned URL of the blob store, as ECR does, where the store can make one (s3); otherwise stream them")
	fs.StringVar(&c.Blobs, "blobs", "", "blob store: file:PATH or s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path-style=true (default file:<data>/blobs)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.AutoCreateRepositories, "auto-create-repositories", false, "create a repository on its first push (ECR never does; for local development)")
	fs.StringVar(&c.DefaultAccount, "default-account", "000000000000", "12-digit account id of the default registry")
	fs.StringVar(&c.DefaultRegion, "default-region", "us-east-1", "region of the default registry")
	fs.StringVar(&c.AccessKeyID, "access-key-id", "", "access key id of the default account's root identity (default: generated once and kept in the data directory)")
	fs.StringVar(&c.SecretAccessKey, "secret-access-key", "", "secret access key of the default account's root identity; prefer the environment variable")
	fs.StringVar(&c.TokenKey, "token-key", "", "base64 key (32+ bytes) that signs login tokens; nodes sharing one database share it (default: generated once and kept in the data directory)")
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL clients reach Berth at, used in proxyEndpoint and repositoryUri (default: from --listen)")
	fs.StringVar(&c.PublicRegistryHost, "public-registry-host", "public.ecr.localhost", "host name of the ECR Public registries (public.ecr.aws's role): repositories are <host>/<alias>/<name> (docs/ecr-public.md)")
	fs.Float64Var(&c.PublicPullRate, "public-pull-rate", 0, "anonymous image pulls (manifest GETs) a second each source address may make on the public registry host, counted together by every node; 0 limits nothing")
	fs.IntVar(&c.PublicPullBurst, "public-pull-burst", 0, "anonymous image pulls a source may make at once within --public-pull-rate (default: the rate rounded up)")
	fs.Func("trusted-proxies", "comma-separated addresses and CIDR prefixes of the load balancers or proxies in front of Berth: from them, X-Forwarded-For names the client that aws:SourceIp and --public-pull-rate see (default: none; the header is ignored)", func(v string) error {
		t, err := clientaddr.ParseTrusted(v)
		if err != nil {
			return err
		}
		c.TrustedProxies = append(c.TrustedProxies, t...)
		return nil
	})
	fs.StringVar(&c.RegistryDomain, "registry-domain", "localhost", "domain of ECR-style registry hosts <account>.dkr.ecr.<region>.<domain> for registries other than the default")
	fs.DurationVar(&c.UploadTTL, "upload-ttl", 24*time.Hour, "how long an upload session may make no progress before it is discarded")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long requests in flight may take to finish on SIGTERM/SIGINT")
	fs.DurationVar(&c.LifecycleInterval, "lifecycle-interval", time.Hour, "how often every repository's lifecycle policy runs")
	fs.DurationVar(&c.GCInterval, "gc-interval", time.Hour, "how often garbage collection runs")
	fs.DurationVar(&c.SSOAccessTokenTTL, "sso-access-token-ttl", time.Hour, "how long an IAM Identity Center access token lasts before the CLI refreshes it")
	fs.DurationVar(&c.SSOSessionTTL, "sso-session-ttl", 8*time.Hour, "how long an IAM Identity Center sign-in lasts, refreshes included")
	fs.DurationVar(&c.SSORoleSessionLimit, "sso-role-session-limit", 0, "cap on the role credentials IAM Identity Center hands out (0: the permission set's session duration)")
	fs.DurationVar(&c.GCGrace, "gc-grace", 24*time.Hour, "how long garbage collection keeps blobs no image references (a push must send its manifest within it)")
	fs.StringVar(&c.ImageEvents, "image-events", "log", "where ECR's events go (image actions: push, delete; image scans): log (the server log, at info) or off")
	fs.BoolVar(&c.Metrics, "metrics", true, "serve Prometheus metrics at GET /metrics, without authentication (they name repositories)")
	fs.Var(sources{&c.VulnDBSync}, "vulndb-sync", "vulnerability data source to import again every --vulndb-sync-interval, as berth vulndb import takes it (an http(s) URL of an OSV all.zip, or a path); repeat or separate with commas for several")
	fs.DurationVar(&c.VulnDBSyncInterval, "vulndb-sync-interval", 24*time.Hour, "how old the newest vulnerability data import may grow before --vulndb-sync imports again")
	fs.DurationVar(&c.VulnDBCheckInterval, "vulndb-check-interval", time.Minute, "how often a node looks whether the vulnerability data changed (continuous scanning then rescans) and whether a --vulndb-sync is due")
	fs.DurationVar(&c.PullThroughRefresh, "pull-through-refresh", 15*time.Minute, "how old a tag cached through a pull through cache rule may be before a pull asks the upstream whether it moved (a digest is never asked again)")
	fs.StringVar(&c.Pprof, "pprof", "", "serve net/http/pprof on this separate loopback address, e.g. 127.0.0.1:6060, for profiling (off by default)")
	return fs
}

// Usage writes berth serve's flags and their defaults to w.
func Usage(w io.Writer) {
	fs := flagSet(&Config{})
	fs.SetOutput(w)
	fmt.Fprint(w, "Usage: berth serve [flags]\n\nA flag not given is read from the environment: --data from BERTH_DATA, --default-region from BERTH_DEFAULT_REGION.\n\nFlags:\n")
	fs.PrintDefaults()
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

func (c *Config) validate() error {
	var errs []error
	if !accountRE.MatchString(c.DefaultAccount) {
		errs = append(errs, fmt.Errorf("--default-account %q: an account id is 12 digits", c.DefaultAccount))
	}
	if !regionRE.MatchString(c.DefaultRegion) {
		errs = append(errs, fmt.Errorf("--default-region %q: not a region name like us-east-1", c.DefaultRegion))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: use text or json", c.LogFormat))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		errs = append(errs, errors.New("BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY go together"))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("--public-url %q: give a URL like https://registry.example.com", c.PublicURL))
	}
	if c.PublicPullRate < 0 || c.PublicPullBurst < 0 {
		errs = append(errs, fmt.Errorf("--public-pull-rate %v and --public-pull-burst %d must not be negative (a rate of 0 limits nothing)", c.PublicPullRate, c.PublicPullBurst))
	}
	if c.PublicRegistryHost == "" || strings.ContainsAny(c.PublicRegistryHost, "/: ") {
		errs = append(errs, fmt.Errorf("--public-registry-host %q: give a host name without port or path, like public.ecr.localhost", c.PublicRegistryHost))
	}
	if c.UploadTTL < time.Second {
		errs = append(errs, fmt.Errorf("--upload-ttl %v: at least 1s", c.UploadTTL))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--lifecycle-interval", c.LifecycleInterval}, {"--gc-interval", c.GCInterval}, {"--gc-grace", c.GCGrace},
		{"--vulndb-sync-interval", c.VulnDBSyncInterval}, {"--sso-access-token-ttl", c.SSOAccessTokenTTL}, {"--sso-session-ttl", c.SSOSessionTTL}} {
		if d.v < time.Second {
			errs = append(errs, fmt.Errorf("%s %v: at least 1s", d.flag, d.v))
		}
	}
	if c.PullThroughRefresh < 0 {
		errs = append(errs, fmt.Errorf("--pull-through-refresh %v: must not be negative (0 asks the upstream on every pull of a tag)", c.PullThroughRefresh))
	}
	if c.VulnDBCheckInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--vulndb-check-interval %v: at least 100ms", c.VulnDBCheckInterval))
	}
	if c.Pprof != "" {
		if host, _, err := net.SplitHostPort(c.Pprof); err != nil {
			errs = append(errs, fmt.Errorf("--pprof %q: %w", c.Pprof, err))
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("--pprof %q: the profiler is unauthenticated; give a loopback address like 127.0.0.1:6060", c.Pprof))
		}
	}
	if (c.S3AccessKeyID == "") != (c.S3SecretAccessKey == "") {
		errs = append(errs, errors.New("BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY go together"))
	}
	if c.ImageEvents != "log" && c.ImageEvents != "off" {
		errs = append(errs, fmt.Errorf("--image-events %q: use log or off", c.ImageEvents))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data must name a directory"))
	}
	if _, err := storeurl.ParseMeta(c.Meta, c.DataDir); err != nil {
		errs = append(errs, err)
	}
	if _, err := storeurl.ParseBlobs(c.Blobs, c.DataDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Level is the slog level of LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Logger builds the process logger.
func (c *Config) Logger() *slog.Logger {
	lvl, _ := c.Level()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
