// Package server wires Berth together: storage, the domain, the front doors,
// middleware, listeners and graceful shutdown.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/changes"
	"github.com/berth-registry/berth/internal/config"
	"github.com/berth-registry/berth/internal/dbclock"
	"github.com/berth-registry/berth/internal/ecrapi"
	"github.com/berth-registry/berth/internal/ecrpublicapi"
	"github.com/berth-registry/berth/internal/events"
	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/iamapi"
	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/repocache"
	"github.com/berth-registry/berth/internal/metrics"
	"github.com/berth-registry/berth/internal/ocidist"
	"github.com/berth-registry/berth/internal/pullrate"
	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/scan"
	"github.com/berth-registry/berth/internal/secrets"
	"github.com/berth-registry/berth/internal/secretsapi"
	"github.com/berth-registry/berth/internal/sso"
	"github.com/berth-registry/berth/internal/ssoapi"
	"github.com/berth-registry/berth/internal/ssoweb"
	"github.com/berth-registry/berth/internal/stsapi"
	"github.com/berth-registry/berth/internal/vulndb"
	"github.com/berth-registry/berth/internal/vulndb/httpfetch"
)

// Server is a running Berth.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	meta     meta.Store
	blobs    blob.Store
	svc      *registry.Service
	root     authn.RootCredentials
	keys     *authn.Keys
	dir      *authn.Store
	tokens   *authn.Tokens
	handler  http.Handler
	listener net.Listener
	metrics  *metrics.Registry
	changes  *changes.Bus
	// jobs runs the outbox's jobs of this node (lifecycle previews, image
	// events, image scans).
	jobs *jobs.Runner
	// scans is image scanning, vulns the vulnerability data it matches
	// against.
	scans *scan.Service
	vulns *vulndb.DB
	// replication is image replication.
	replication *replicate.Service
	// pullThrough is the pull through cache.
	pullThrough *pullthrough.Service
	// clock is this node's reading of the database's clock.
	clock *dbclock.Clock
	// secrets is Secrets Manager's secrets (the pull-through cache's
	// upstream credentials), their values sealed with a key derived from
	// the login-token key.
	secrets *secrets.Service
	// pageKey signs the IAM Identity Center pages' CSRF tokens; derived
	// from the login-token key, so every node accepts every node's forms.
	pageKey []byte
}

// New opens storage under the data directory and builds the handlers.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	blobs, err := OpenBlobs(ctx, cfg.Blobs, cfg.DataDir, S3Credentials{cfg.S3AccessKeyID, cfg.S3SecretAccessKey})
	if err != nil {
		return nil, err
	}
	db, err := OpenMeta(ctx, cfg.Meta, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// Every data-plane request looks its repository up by name.
	m := repocache.New(db, repocache.DefaultTTL)
	mreg := metrics.New()
	// Changes reach the caches that depend on them: the repository cache
	// here, the authorization decisions once routes makes the authorizer.
	bus := &changes.Bus{}
	bus.Subscribe(changes.Repositories, m.Invalidate)
	// Nodes sharing a database tell each other of changes through it.
	if r, ok := db.(interface{ Relay() changes.Relay }); ok {
		bus.Relay(ctx, r.Relay(), log)
	}
	// Leases (GC, lifecycle, jobs, upload locks) are measured by the
	// database's clock, as this node reads it.
	clock := dbclock.New(ctx, m, log)
	// Every push is looked at by scanning, which asks for a scan where the
	// repository's configuration says so.
	eventQueues := []string{scan.QueuePushes, replicate.QueueImageEvents}
	if cfg.ImageEvents != "off" {
		eventQueues = append(eventQueues, events.Queue)
	}
	// Scanning reads the registry domain, which tells it of pushes.
	var scans *scan.Service
	svc := registry.New(m, blobs, registry.Options{
		AutoCreateRepositories: cfg.AutoCreateRepositories,
		Logger:                 log,
		Metrics:                mreg,
		Changes:                bus,
		ImageEventQueues:       eventQueues,
		AfterPush:              func(ctx context.Context, ev registry.ImageEvent) { scans.AfterPush(ctx, ev) },
		RedirectBlobs:          cfg.BlobsRedirect,
		SharedStores:           sharedStores(cfg),
		LeaseClock:             clock.Now,
	})
	// The outbox's jobs: every node runs every queue; a job is claimed by
	// one node at a time, and taken over when its node dies.
	runner := jobs.New(m, jobs.Options{Logger: log, Now: clock.Now})
	svc.RegisterJobs(runner)
	// Scans spool files and syncs download zips in the node's scratch
	// directory.
	scratch := filepath.Join(cfg.DataDir, "scratch")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		m.Close()
		return nil, fmt.Errorf("create scratch directory: %w", err)
	}
	vulns := vulndb.New(m, vulndb.Options{Logger: log, Now: clock.Now, Fetcher: httpfetch.Fetcher{}, TempDir: scratch})
	var scanEventQueues []string
	if cfg.ImageEvents != "off" {
		scanEventQueues = []string{events.ScanQueue}
	}
	scans = scan.New(m, svc, blobs, vulns, scan.Options{
		Logger: log, Now: clock.Now, ScratchDir: scratch, EventQueues: scanEventQueues,
	})
	scans.RegisterJobs(runner)
	// Replication follows pushes with its own queue and copies images as
	// jobs any node runs.
	// Remote replication destinations and pull through cache upstreams read
	// their credentials from the server's Secrets Manager, set below.
	var srv *Server
	srvSecrets := func() *secrets.Service { return srv.secrets }
	repl := replicate.New(m, svc, replicate.Options{Logger: log, Now: clock.Now,
		Secrets: secretStrings{get: srvSecrets, notFound: replicate.ErrSecretNotFound}})
	repl.RegisterJobs(runner)
	// Every node runs the scheduled imports' queue: a node started without
	// --vulndb-sync still takes its turn at a job another node wrote.
	runner.Handle(vulndb.QueueSync, vulns.RunSyncJob, jobs.QueueOptions{MaxAttempts: 3})
	if cfg.ImageEvents == "log" {
		sink := events.LogSink{Log: log}
		runner.Handle(events.Queue, events.Handler(sink), jobs.QueueOptions{})
		runner.Handle(events.ScanQueue, events.ScanHandler(sink), jobs.QueueOptions{})
	}
	// The pull through cache: its imports are outbox jobs any node runs.
	refresh := cfg.PullThroughRefresh
	if refresh == 0 {
		refresh = time.Nanosecond // ask the upstream on every pull of a tag
	}
	ptc := pullthrough.New(m, svc, pullthrough.Options{
		Refresh: refresh, Logger: log, Metrics: mreg, Now: clock.Now, Notify: runner.Notify,
		Creator: svc,
		Secrets: secretStrings{get: srvSecrets, notFound: pullthrough.ErrSecretNotFound, decrypt: pullthrough.ErrSecretDecrypt},
	})
	ptc.RegisterJobs(runner)
	removed, err := svc.CleanStaging(ctx)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("clean staging: %w", err)
	}
	if removed > 0 {
		log.Info("removed staging files of uploads that no session owns", "count", removed)
	}
	s := &Server{cfg: cfg, log: log, meta: m, blobs: blobs, svc: svc, metrics: mreg, changes: bus, jobs: runner, clock: clock,
		scans: scans, vulns: vulns, replication: repl, pullThrough: ptc}
	srv = s
	if err := s.openIdentities(); err != nil {
		m.Close()
		return nil, err
	}
	return s, nil
}

// openIdentities loads the default account's root credentials and the
// login-token key, from the configuration or the data directory.
func (s *Server) openIdentities() error {
	if s.cfg.AccessKeyID != "" {
		s.root = authn.RootCredentials{Account: s.cfg.DefaultAccount, AccessKeyID: s.cfg.AccessKeyID, SecretAccessKey: s.cfg.SecretAccessKey}
		if err := s.root.Validate(); err != nil {
			return fmt.Errorf("root credentials: %w", err)
		}
	} else {
		root, created, err := authn.LoadOrCreateRoot(s.rootCredentialsPath(), s.cfg.DefaultAccount)
		if err != nil {
			return fmt.Errorf("root credentials: %w", err)
		}
		if root.Account != s.cfg.DefaultAccount {
			return fmt.Errorf("root credentials in the data directory belong to account %s, but --default-account is %s", root.Account, s.cfg.DefaultAccount)
		}
		s.root = root
		if created {
			// Now, not in the welcome: the start may yet fail (a port in
			// use), and a newcomer must not lose the first sight of them.
			printNewRoot(os.Stderr, root, s.rootCredentialsPath())
		}
	}
	var key []byte
	if s.cfg.TokenKey != "" {
		k, err := base64.StdEncoding.DecodeString(s.cfg.TokenKey)
		if err != nil {
			return fmt.Errorf("--token-key: not base64: %w", err)
		}
		key = k
	} else {
		k, err := authn.LoadOrCreateKey(filepath.Join(s.cfg.DataDir, "token-key"))
		if err != nil {
			return fmt.Errorf("login token key: %w", err)
		}
		key = k
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("berth sso pages"))
	s.pageKey = mac.Sum(nil)
	s.keys = authn.NewKeys(s.root)
	// The default account's root from the configuration, then every other
	// identity from the database, read afresh on each request.
	s.dir = authn.NewStore(s.meta, s.keys)
	tokens, err := authn.NewTokens(key, s.dir)
	if err != nil {
		return fmt.Errorf("--token-key: %w", err)
	}
	s.tokens = tokens
	// Every node derives the same value key from the same token key, so
	// any node decrypts what another encrypted (docs/secrets.md).
	sec, err := secrets.New(s.meta, secrets.Options{TokenKey: key, Logger: s.log, Now: s.clock.Now})
	if err != nil {
		return fmt.Errorf("--token-key: %w", err)
	}
	s.secrets = sec
	return nil
}

// Handler is the whole HTTP surface, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() (http.Handler, error) {
	// Decisions are cached for a short while; every change made through
	// this node drops the cache at once, and the time limit bounds how long
	// a change made on another node takes to be seen here.
	authorizer := authz.NewEvaluator(newPolicySource(iam.NewPolicyReader(s.meta), s.svc), 2*time.Second)
	oci := ocidist.New(s.svc, ocidist.Options{
		DefaultRegistry: registry.Key{Account: s.cfg.DefaultAccount, Region: s.cfg.DefaultRegion},
		Logger:          s.log,
		Tokens:          s.tokens,
		Authorizer:      authorizer,
		PullThrough:     s.pullThrough,
		PublicHost:      s.cfg.PublicRegistryHost,
		Public:          s.svc,
		RegistryTokens:  s.tokens,
		// Windows of the database's clock, so that nodes count together.
		PullLimiter: pullLimiter(pullrate.New(s.meta, s.cfg.PublicPullRate, s.cfg.PublicPullBurst, s.clock.Now)),
	})
	s.changes.Subscribe(changes.Policies, authorizer.Invalidate)
	ecrPublic := ecrpublicapi.New(ecrpublicapi.Options{Registry: s.svc, Tokens: s.tokens, Host: s.cfg.PublicRegistryHost, BaseURL: s.baseURL, Logger: s.log})
	ecr := ecrapi.New(ecrapi.Options{
		Registry:    s.svc,
		Scans:       s.scans,
		Replication: s.replication,
		PullThrough: s.pullThrough,
		Tokens:      s.tokens,
		Endpoint:    s.endpoint,
		Logger:      s.log,
	})
	// AssumeRole asks the authorizer about the caller's own policies; the
	// identity policies the authorizer reads come from the store directly
	// (iam.PolicyReader), so the two are built in this order.
	ids := iam.New(s.meta, iam.Options{Authorizer: authorizer, Changes: s.changes, Logger: s.log})
	// IAM Identity Center's permission sets become IAM roles, whose
	// sessions the portal hands out.
	identityCenter := sso.New(s.meta, ids, sso.Options{
		Account: s.cfg.DefaultAccount, PublicURL: s.baseURL, AccessTokenTTL: s.cfg.SSOAccessTokenTTL,
		SessionTTL: s.cfg.SSOSessionTTL, RoleSessionLimit: s.cfg.SSORoleSessionLimit, Logger: s.log, Now: s.clock.Now,
	})
	api, err := awsapi.New(awsapi.Options{
		Services: apiServices(ecr, ecrPublic,
			stsapi.New(ids), iamapi.New(ids), secretsapi.New(s.secrets), ssoapi.New(identityCenter)),
		Directory:  s.dir,
		Authorizer: authorizer,
		Logger:     s.log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /livez", s.serveLivez)
	mux.Handle("GET "+ecrapi.LayerDownloadPath+"{token}", ecr.LayerDownloadHandler())
	mux.Handle("GET "+ecrpublicapi.LogoPath+"{account}/{digest}", ecrPublic.LogoHandler())
	ssoweb.New(identityCenter, s.pageKey, s.log).Register(mux)
	if s.cfg.Metrics {
		// Unauthenticated, like /healthz: it names repositories (docs/lifecycle.md).
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
	// /v2/ bypasses the mux, which would clean (and redirect) paths that
	// the data plane must reject with an OCI error instead.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The public host's token endpoint is its data plane's too.
		if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") ||
			r.URL.Path == "/token" && ocidist.IsPublicHost(r.Host, s.cfg.PublicRegistryHost) {
			oci.ServeHTTP(w, r)
			return
		}
		// The sign-in page's form post would pass for a query-protocol call.
		if ssoweb.IsPage(r) {
			mux.ServeHTTP(w, r)
			return
		}
		// IAM Identity Center's OIDC and portal calls are REST: told apart
		// by method and path (POST /token, GET /federation/credentials, …).
		if awsapi.IsAPIRequest(r) || api.IsRESTRequest(r) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// pullLimiter keeps a nil *pullrate.Limiter (no limit) a nil interface.
func pullLimiter(l *pullrate.Limiter) ocidist.PullLimiter {
	if l == nil {
		return nil
	}
	return l
}

// apiServices are the AWS services the front door answers, one per
// embedded model (TestModelCoverage). STS comes before IAM: a query call
// with no signature to say which service it is for goes to the first
// whose model has its Action, else to the first of all, and STS is where
// such a call has always gone.
func apiServices(ecr *ecrapi.API, ecrPublic *ecrpublicapi.API, sts *stsapi.API, iam *iamapi.API, sm *secretsapi.API, identityCenter *ssoapi.API) []*awsapi.Service {
	return append([]*awsapi.Service{ecr.Service(), ecrPublic.Service(), sts.Service(), iam.Service(), sm.Service()}, identityCenter.Services()...)
}

// Listen binds the configured address; Addr then reports it.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	h, err := s.routes()
	if err != nil {
		ln.Close()
		return err
	}
	// The client's address is settled first, so that the log line and
	// every handler see the same one.
	s.handler = s.cfg.TrustedProxies.Middleware(withLogging(s.log, h))
	return nil
}

// baseURL is where clients reach this server.
func (s *Server) baseURL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// endpoint is the data-plane URL of a registry: the server's own address
// for the default registry, an ECR-style host under --registry-domain for
// the others (the Host header selects the registry).
func (s *Server) endpoint(account, region string) string {
	base := s.baseURL()
	if account == s.cfg.DefaultAccount && region == s.cfg.DefaultRegion {
		return base
	}
	scheme, hostport, _ := strings.Cut(base, "://")
	_, port, err := net.SplitHostPort(hostport)
	host := account + ".dkr.ecr." + region + "." + s.cfg.RegistryDomain
	if err == nil {
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve answers requests until ctx ends, then lets requests in flight finish
// (up to the shutdown timeout) and closes storage.
func (s *Server) Serve(ctx context.Context) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.cfg.Pprof != "" {
		if err := s.servePprof(ctx); err != nil {
			return fmt.Errorf("--pprof %s: %w", s.cfg.Pprof, err)
		}
	}
	janitorDone := make(chan struct{})
	jctx, stopJanitor := context.WithCancel(ctx)
	go func() {
		defer close(janitorDone)
		s.expireUploads(jctx)
	}()
	// Lifecycle policies and garbage collection (docs/lifecycle.md), and
	// the outbox's jobs.
	var loops sync.WaitGroup
	loops.Go(func() { s.svc.LifecycleLoop(jctx, s.cfg.LifecycleInterval) })
	loops.Go(func() { s.svc.GCLoop(jctx, s.cfg.GCInterval, s.cfg.GCGrace) })
	loops.Go(func() { s.jobs.Run(jctx) })
	loops.Go(func() { s.clock.Run(jctx, clockEvery) })
	loops.Go(func() { s.scans.ContinuousLoop(jctx, s.cfg.VulnDBCheckInterval) })
	if len(s.cfg.VulnDBSync) > 0 {
		loops.Go(func() {
			s.vulns.SyncLoop(jctx, vulndb.SyncOptions{Sources: s.cfg.VulnDBSync, Interval: s.cfg.VulnDBSyncInterval,
				Check: s.cfg.VulnDBCheckInterval, Enqueue: s.enqueueJobs})
		})
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- hs.ServeTLS(s.listener, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			errc <- hs.Serve(s.listener)
		}
	}()
	s.log.Info("berth is serving", "url", scheme+"://"+s.Addr(), "data", s.cfg.DataDir,
		"registry", s.cfg.DefaultAccount, "region", s.cfg.DefaultRegion, "auto_create_repositories", s.cfg.AutoCreateRepositories,
		"access_key_id", s.root.AccessKeyID)
	s.printWelcome()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			serveErr = fmt.Errorf("shutdown: %w", err)
			hs.Close()
		}
	}
	stopJanitor()
	<-janitorDone
	loops.Wait()
	s.svc.FlushPulls(context.Background())
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := s.meta.Close(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("close metadata store: %w", err)
	}
	return serveErr
}

// enqueueJobs writes jobs stamped by the database's clock and wakes this
// node's runner.
func (s *Server) enqueueJobs(ctx context.Context, js []meta.NewJob) error {
	if err := s.meta.EnqueueJobs(ctx, js, s.clock.Now()); err != nil {
		return err
	}
	s.jobs.Notify()
	return nil
}

// clockEvery is how often a node reads the database's clock again.
const clockEvery = 30 * time.Second

// expireUploads discards abandoned upload sessions now and then, until ctx
// ends.
func (s *Server) expireUploads(ctx context.Context) {
	every := min(s.cfg.UploadTTL/4, time.Hour)
	for {
		n, err := s.svc.ExpireUploads(ctx, s.cfg.UploadTTL)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("expire upload sessions", "err", err)
		case n > 0:
			s.log.Info("expired abandoned upload sessions", "count", n, "ttl", s.cfg.UploadTTL)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
